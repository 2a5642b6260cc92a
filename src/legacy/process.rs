//! "Is the owning application running?": a look at /proc for its process names, injectable so
//! tests decide the answer. Writing a store while its owner runs risks the owner writing its
//! in-memory copy back over our change (claude-code #80422 shows concurrent writers losing data).

use std::path::Path;

use super::ClientApp;

#[derive(Debug, Clone, Default)]
pub enum ProcessProbe {
    /// Look at the processes of this machine (Linux /proc; elsewhere: assume not running).
    #[default]
    System,
    /// Tests: exactly these applications are running.
    Fixed(Vec<ClientApp>),
}

impl ProcessProbe {
    pub fn is_running(&self, app: ClientApp) -> bool {
        match self {
            Self::Fixed(apps) => apps.contains(&app),
            Self::System => system_running(app, Path::new("/proc")),
        }
    }
}

/// Executable names (argv[0] or, for node scripts, argv[1]) that belong to `app`.
fn names(app: ClientApp) -> &'static [&'static str] {
    match app {
        ClientApp::McpRemote => &["mcp-remote"],
        ClientApp::ClaudeCode => &["claude"],
        ClientApp::Codex => &["codex"],
        ClientApp::Gemini => &["gemini"],
        ClientApp::Goose => &["goose", "goosed"],
        ClientApp::InspectorV2 => &["mcp-inspector", "inspector"],
        ClientApp::VsCode => &["code", "code-insiders"],
    }
}

fn system_running(app: ClientApp, proc_root: &Path) -> bool {
    let me = std::process::id().to_string();
    let wanted = names(app);
    std::fs::read_dir(proc_root)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let pid = e.file_name().to_string_lossy().into_owned();
            if pid == me || !pid.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else {
                return false;
            };
            cmdline_matches(&cmdline, wanted)
        })
}

fn cmdline_matches(cmdline: &[u8], wanted: &[&str]) -> bool {
    let base = |arg: &[u8]| {
        let s = String::from_utf8_lossy(arg).into_owned();
        s.rsplit('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".js")
            .to_string()
    };
    let mut args = cmdline.split(|b| *b == 0);
    let Some(argv0) = args.next().map(base) else {
        return false;
    };
    if wanted.contains(&argv0.as_str()) {
        return true;
    }
    // Node CLIs run as `node /path/to/gemini`: look at the script only behind a runtime.
    ["node", "bun", "deno"].contains(&argv0.as_str())
        && args
            .next()
            .map(base)
            .is_some_and(|s| wanted.contains(&s.as_str()))
}

/// Whether `pid` (from a lock file) is alive; unknown platforms say yes, to stay careful.
pub(crate) fn pid_alive(pid: u64) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_binaries_and_node_scripts_by_basename() {
        assert!(cmdline_matches(
            b"/usr/bin/claude\0--resume",
            names(ClientApp::ClaudeCode)
        ));
        assert!(cmdline_matches(
            b"node\0/usr/lib/node_modules/.bin/gemini\0",
            names(ClientApp::Gemini)
        ));
        assert!(!cmdline_matches(
            b"/usr/bin/vim\0claude",
            names(ClientApp::ClaudeCode)
        ));
        assert!(!cmdline_matches(
            b"/bin/claude-helper",
            names(ClientApp::ClaudeCode)
        ));
        assert!(ProcessProbe::Fixed(vec![ClientApp::Codex]).is_running(ClientApp::Codex));
        assert!(!ProcessProbe::Fixed(vec![]).is_running(ClientApp::Codex));
    }
}
