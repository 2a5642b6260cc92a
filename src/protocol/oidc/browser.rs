//! How the authorization URL reaches a browser: the system browser, a command the host names
//! (`--browser-command`, `LANYARD_BROWSER_COMMAND`; tests use `curl -fsSL`), or handed to the
//! host to print for a headless session, or — when the browser is on another machine — the
//! device flow or paste-back (`Remote`, see `remote`).
//!
//! `Command` is split on whitespace, with no quoting rules: `"curl -fsSL"` works, a program
//! path containing spaces does not (wrap it in a script). The URL is appended as one argument,
//! never through a shell, so its `&` and `?` cannot be interpreted.

use std::process::Stdio;
use std::sync::Arc;

use tokio::io::AsyncReadExt;
use tokio::task::JoinHandle;

use super::error::LoginError;
use super::remote::{Prompt, Remote};

#[derive(Clone)]
pub enum Browser {
    /// The desktop's default browser (`open::that_detached`).
    System,
    /// Run `CMD <url>`.
    Command(String),
    /// Headless: the host prints the URL (or drives it, in tests).
    Print(Arc<dyn Fn(&str) + Send + Sync>),
    /// The browser is on another machine: the device flow or paste-back.
    Remote(Remote),
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::System => f.write_str("System"),
            Self::Command(c) => f.debug_tuple("Command").field(c).finish(),
            Self::Print(_) => f.write_str("Print(..)"),
            Self::Remote(r) => f.debug_tuple("Remote").field(r).finish(),
        }
    }
}

impl Browser {
    /// The remote sign-in settings, when the browser is on another machine.
    pub(crate) fn remote(&self) -> Option<&Remote> {
        match self {
            Self::Remote(r) => Some(r),
            _ => None,
        }
    }
}

/// A launched browser command, watched so a command that fails (curl's HTTP error, a typo'd
/// program) ends the sign-in at once instead of waiting for the timeout.
pub(crate) struct Launched(Option<JoinHandle<Option<String>>>);

impl Launched {
    /// Resolves with a description if the command exited unsuccessfully; otherwise never.
    pub async fn failed(self) -> String {
        if let Some(handle) = self.0
            && let Ok(Some(why)) = handle.await
        {
            return why;
        }
        std::future::pending().await
    }
}

/// Hands `url` to the browser. The loopback listener must already be bound.
pub(crate) fn launch(browser: &Browser, url: &str) -> Result<Launched, LoginError> {
    match browser {
        Browser::System => {
            open::that_detached(url).map_err(|e| LoginError::Browser(e.to_string()))?;
            Ok(Launched(None))
        }
        Browser::Print(print) => {
            print(url);
            Ok(Launched(None))
        }
        Browser::Remote(remote) => {
            (remote.show)(&Prompt::OpenAndPaste { url });
            Ok(Launched(None))
        }
        Browser::Command(command) => spawn(command, url).map(|h| Launched(Some(h))),
    }
}

fn spawn(command: &str, url: &str) -> Result<JoinHandle<Option<String>>, LoginError> {
    let mut words = command.split_whitespace();
    let program = words
        .next()
        .ok_or_else(|| LoginError::Browser("the browser command is empty".into()))?;
    let mut child = tokio::process::Command::new(program)
        .args(words)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(false)
        .spawn()
        .map_err(|e| LoginError::Browser(format!("cannot run `{program}`: {e}")))?;
    let program = program.to_string();
    Ok(tokio::spawn(async move {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr).await;
        }
        match child.wait().await {
            Ok(status) if status.success() => None,
            Ok(status) => {
                // The last line is the useful one (curl: "(22) The requested URL returned error").
                let last = stderr
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                let last: String = crate::trace::scrub(last).chars().take(200).collect();
                Some(format!(
                    "`{program}` exited with {status}{}",
                    if last.is_empty() {
                        String::new()
                    } else {
                        format!(": {last}")
                    }
                ))
            }
            Err(e) => Some(format!("`{program}` could not be waited for: {e}")),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &std::path::Path, body: &str) -> std::path::PathBuf {
        let path = dir.join("browser.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[tokio::test]
    async fn command_gets_the_url_as_one_extra_argument() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("args");
        let sh = script(
            dir.path(),
            &format!(
                "for a in \"$@\"; do printf '%s\\n' \"$a\" >> {}; done",
                out.display()
            ),
        );
        let url = "http://127.0.0.1:1/authorize?a=1&scope=openid email&state=x y";
        let launched = launch(
            &Browser::Command(format!("{} --flag  two", sh.display())),
            url,
        )
        .unwrap();
        let handle = launched.0.unwrap();
        assert_eq!(
            handle.await.unwrap(),
            None,
            "a successful command is not a failure"
        );
        let args = std::fs::read_to_string(&out).unwrap();
        assert_eq!(args.lines().collect::<Vec<_>>(), ["--flag", "two", url]);
    }

    #[tokio::test]
    async fn failing_command_reports_its_last_stderr_line() {
        let dir = tempfile::tempdir().unwrap();
        let sh = script(
            dir.path(),
            "echo noise >&2; echo 'curl: (22) returned error: 400' >&2; exit 22",
        );
        let why = launch(&Browser::Command(sh.display().to_string()), "http://x/")
            .unwrap()
            .failed()
            .await;
        assert!(why.contains("(22) returned error: 400"), "{why}");
        assert!(matches!(
            launch(&Browser::Command("  ".into()), "u"),
            Err(LoginError::Browser(_))
        ));
        assert!(matches!(
            launch(
                &Browser::Command("/nonexistent/lanyard-browser".into()),
                "u"
            ),
            Err(LoginError::Browser(_))
        ));
    }

    #[test]
    fn print_hands_over_the_url() {
        let seen = Arc::new(std::sync::Mutex::new(String::new()));
        let s = seen.clone();
        let b = Browser::Print(Arc::new(move |u: &str| *s.lock().unwrap() = u.to_string()));
        assert_eq!(format!("{b:?}"), "Print(..)");
        launch(&b, "http://127.0.0.1/x").unwrap();
        assert_eq!(*seen.lock().unwrap(), "http://127.0.0.1/x");
    }
}
