//! `lanyard login --no-browser | --device | --paste`: signing in with a browser on another
//! machine (over SSH). The core runs the flow; this prints its prompts on stderr (stdout stays
//! the status, or the JSON with `--json`) and feeds stdin's lines to paste-back.

use std::sync::Arc;
use std::time::Duration;

use lanyard::protocol::oidc::{Browser, PasteReader, Prompt, Remote, RemoteFlow};

/// The remote flow the flags ask for, if any: `--device` and `--paste` force one and imply
/// `--no-browser`, which alone means "the device flow when the IdP offers it, else paste-back".
pub fn flow(no_browser: bool, device: bool, paste: bool) -> Option<RemoteFlow> {
    match (no_browser, device, paste) {
        (_, true, _) => Some(RemoteFlow::Device),
        (_, _, true) => Some(RemoteFlow::PasteBack),
        (true, false, false) => Some(RemoteFlow::Auto),
        (false, false, false) => None,
    }
}

pub fn browser(flow: RemoteFlow) -> Browser {
    let pasted = match flow {
        RemoteFlow::Device => PasteReader::none(),
        RemoteFlow::Auto | RemoteFlow::PasteBack => stdin_lines(),
    };
    Browser::Remote(Remote {
        flow,
        show: Arc::new(show),
        pasted,
    })
}

/// Stdin's lines, read on a plain thread: a read blocked on a terminal cannot be cancelled,
/// and tokio's stdin would hold the runtime's shutdown until the person pressed Enter. The
/// thread ends with the process.
fn stdin_lines() -> PasteReader {
    let (tx, reader) = PasteReader::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    reader
}

fn show(prompt: &Prompt<'_>) {
    match prompt {
        Prompt::DeviceCode {
            verification_uri,
            verification_uri_complete: Some(complete),
            user_code,
            expires_in,
        } => eprintln!(
            "To sign in, open this address in a browser on any device:\n\n  {complete}\n\n\
             and check that it shows the code  {user_code}\n\
             (or open {verification_uri} and enter the code).\n\
             The code expires in {}. Waiting for you to approve it…",
            human(*expires_in)
        ),
        Prompt::DeviceCode {
            verification_uri,
            verification_uri_complete: None,
            user_code,
            expires_in,
        } => eprintln!(
            "To sign in, open {verification_uri} in a browser on any device and enter the code:\n\n  {user_code}\n\n\
             The code expires in {}. Waiting for you to approve it…",
            human(*expires_in)
        ),
        Prompt::OpenAndPaste { url } => eprintln!(
            "Open this address in a browser on any device and sign in:\n\n  {url}\n\n\
             Afterwards the browser cannot load a 127.0.0.1 address; that is expected.\n\
             Copy the whole address from its address bar, paste it here and press Enter:"
        ),
        Prompt::PasteAgain { why } => eprintln!("{why}\nPaste the address and press Enter:"),
    }
}

/// "10 min", "90 s".
fn human(d: Duration) -> String {
    match d.as_secs() {
        s if s >= 120 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_pick_the_flow() {
        assert_eq!(flow(false, false, false), None);
        assert_eq!(flow(true, false, false), Some(RemoteFlow::Auto));
        assert_eq!(flow(false, true, false), Some(RemoteFlow::Device));
        assert_eq!(flow(true, false, true), Some(RemoteFlow::PasteBack));
        assert_eq!(human(Duration::from_secs(600)), "10 min");
        assert_eq!(human(Duration::from_secs(90)), "90 s");
    }
}
