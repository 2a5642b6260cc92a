//! Sign-in when the person's browser is on another machine (an SSH session): which flow to
//! use, and what the host must show them at each step.
//!
//! Two flows, both ending in the same verified `SessionTokens` as the loopback flow:
//! - the OAuth device authorization grant (RFC 8628, `device`), when the IdP advertises a
//!   `device_authorization_endpoint`: the person opens a short URL anywhere and approves a code;
//! - paste-back (`paste`), which works with any IdP: the person opens the authorization URL
//!   elsewhere and pastes back the address their browser ends on. The loopback listener stays
//!   up too, so a browser that can reach this machine (a forwarded port) still works.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};

use super::error::LoginError;

/// Which remote flow the host asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteFlow {
    /// The device flow when the IdP advertises it, else paste-back.
    Auto,
    /// The device flow; `LoginError::DeviceUnsupported` when the IdP does not offer it.
    Device,
    /// Paste-back, even when the IdP offers the device flow.
    PasteBack,
}

/// What the person must be shown. The host renders it (the CLI prints to stderr).
#[derive(Debug)]
pub enum Prompt<'a> {
    /// Device flow: open a verification URL on any device and approve `user_code`. The user
    /// code is meant to be shown (it is useless without the person's own sign-in); the device
    /// code, which is the secret, never leaves the core.
    DeviceCode {
        verification_uri: &'a str,
        /// The URL with the code already filled in (RFC 8628 §3.3.1), when the IdP sends one.
        verification_uri_complete: Option<&'a str>,
        user_code: &'a str,
        expires_in: Duration,
    },
    /// Paste-back: open `url` in a browser anywhere, sign in, then paste the address the
    /// browser ends on (its loopback redirect cannot load there).
    OpenAndPaste { url: &'a str },
    /// Paste-back: a pasted line was not the address Lanyard waits for; still waiting.
    PasteAgain { why: &'a str },
}

/// Shows a `Prompt` to the person.
pub type Show = Arc<dyn Fn(&Prompt<'_>) + Send + Sync>;

/// Everything a remote sign-in needs from the host.
#[derive(Clone)]
pub struct Remote {
    pub flow: RemoteFlow,
    pub show: Show,
    /// Where pasted addresses come from (the CLI feeds it stdin's lines). Read only by
    /// paste-back; a device-flow host can pass `PasteReader::none()`.
    pub pasted: PasteReader,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("flow", &self.flow)
            .finish_non_exhaustive()
    }
}

/// Lines the person pastes, fed by the host (the CLI reads stdin on a thread of its own, so
/// nothing here blocks). When the sender is dropped, paste-back simply stops reading; the
/// loopback listener, the timeout and cancel still apply.
#[derive(Clone)]
pub struct PasteReader(pub(crate) Arc<Mutex<mpsc::Receiver<String>>>);

impl PasteReader {
    /// A reader and the sender the host feeds one pasted line at a time.
    pub fn channel() -> (mpsc::Sender<String>, PasteReader) {
        let (tx, rx) = mpsc::channel(8);
        (tx, PasteReader(Arc::new(Mutex::new(rx))))
    }

    /// A reader that never yields a line (device-flow-only hosts).
    pub fn none() -> PasteReader {
        Self::channel().1
    }
}

/// The device authorization endpoint to use, when this sign-in runs the device flow: the host
/// asked for a remote sign-in, and the flow it asked for and what the IdP advertises agree.
pub(crate) fn device_endpoint<'a>(
    remote: Option<&Remote>,
    advertised: Option<&'a url::Url>,
) -> Result<Option<&'a url::Url>, LoginError> {
    let Some(remote) = remote else {
        return Ok(None);
    };
    match (remote.flow, advertised) {
        (RemoteFlow::Device, None) => Err(LoginError::DeviceUnsupported),
        (RemoteFlow::PasteBack, _) | (RemoteFlow::Auto, None) => Ok(None),
        (RemoteFlow::Device | RemoteFlow::Auto, Some(url)) => Ok(Some(url)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_when_asked_or_advertised_paste_back_otherwise() {
        let url = url::Url::parse("https://idp.example/device").unwrap();
        let remote = |flow| Remote {
            flow,
            show: Arc::new(|_: &Prompt<'_>| {}),
            pasted: PasteReader::none(),
        };
        let pick = |flow, advertised| device_endpoint(Some(&remote(flow)), advertised);
        assert_eq!(pick(RemoteFlow::Auto, Some(&url)).unwrap(), Some(&url));
        assert_eq!(pick(RemoteFlow::Auto, None).unwrap(), None);
        assert_eq!(pick(RemoteFlow::Device, Some(&url)).unwrap(), Some(&url));
        assert!(matches!(
            pick(RemoteFlow::Device, None),
            Err(LoginError::DeviceUnsupported)
        ));
        assert_eq!(pick(RemoteFlow::PasteBack, Some(&url)).unwrap(), None);
        assert_eq!(pick(RemoteFlow::PasteBack, None).unwrap(), None);
        assert_eq!(
            device_endpoint(None, Some(&url)).unwrap(),
            None,
            "a local browser"
        );
    }
}
