//! "Is the owning application running?" Writing a store while its owner runs risks the owner
//! writing its in-memory copy back over our change (claude-code #80422 shows concurrent
//! writers losing data). The question goes to a per-OS process table behind one trait —
//! `sysinfo` where it supports the OS (Linux, macOS, Windows, FreeBSD), an honest "can't tell"
//! elsewhere — and tests inject their own answer.

use std::sync::Arc;

use super::ClientApp;

/// This machine's processes, as far as the guard needs them.
pub trait ProcessTable: Send + Sync + std::fmt::Debug {
    /// Each other process's command line (argv; just the name where argv can't be read).
    fn command_lines(&self) -> Vec<Vec<String>>;
    /// Whether `pid` is alive; `None` when this platform can't tell.
    fn alive(&self, pid: u32) -> Option<bool>;
}

#[derive(Debug, Clone, Default)]
pub enum ProcessProbe {
    /// Look at the processes of this machine.
    #[default]
    System,
    /// Tests: exactly these applications are running.
    Fixed(Vec<ClientApp>),
    /// A given process table (tests, or a platform of the host's choosing).
    Table(Arc<dyn ProcessTable>),
}

impl ProcessProbe {
    pub fn is_running(&self, app: ClientApp) -> bool {
        let wanted = names(app);
        match self {
            Self::Fixed(apps) => apps.contains(&app),
            Self::System => any_matches(&system::Table, wanted),
            Self::Table(table) => any_matches(table.as_ref(), wanted),
        }
    }

    /// Whether `pid` (from a lock file) is alive; when the platform can't tell, yes, to stay
    /// careful (a live owner's file must not be edited).
    pub(crate) fn pid_alive(&self, pid: u64) -> bool {
        let Ok(pid) = u32::try_from(pid) else {
            return false; // no OS hands out such a pid
        };
        let answer = match self {
            Self::Fixed(_) | Self::System => system::Table.alive(pid),
            Self::Table(table) => table.alive(pid),
        };
        answer.unwrap_or(true)
    }
}

fn any_matches(table: &dyn ProcessTable, wanted: &[&str]) -> bool {
    table
        .command_lines()
        .iter()
        .any(|argv| command_matches(argv, wanted))
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

fn command_matches(argv: &[String], wanted: &[&str]) -> bool {
    let base = |arg: &String| {
        arg.rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .trim_end_matches(".exe")
            .trim_end_matches(".js")
            .to_string()
    };
    let mut args = argv.iter();
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

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "windows",
    target_os = "freebsd"
))]
mod system {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

    /// The OS's process table through `sysinfo` (procfs, sysctl or the Windows API).
    #[derive(Debug)]
    pub(super) struct Table;

    impl super::ProcessTable for Table {
        fn command_lines(&self) -> Vec<Vec<String>> {
            let Ok(mut sys) = System::new() else {
                return Vec::new(); // the table can't be read: no owner is seen running
            };
            let kind = ProcessRefreshKind::nothing().with_cmd(UpdateKind::Always);
            sys.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
            let me = sysinfo::get_current_pid().ok();
            sys.processes()
                .iter()
                .filter(|(pid, _)| Some(**pid) != me)
                .map(|(_, p)| {
                    let argv: Vec<String> = p
                        .cmd()
                        .iter()
                        .map(|a| a.to_string_lossy().into_owned())
                        .collect();
                    if argv.is_empty() {
                        vec![p.name().to_string_lossy().into_owned()]
                    } else {
                        argv
                    }
                })
                .collect()
        }

        fn alive(&self, pid: u32) -> Option<bool> {
            let mut sys = System::new().ok()?;
            let pid = Pid::from_u32(pid);
            sys.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                true,
                ProcessRefreshKind::nothing(),
            );
            Some(sys.process(pid).is_some())
        }
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "windows",
    target_os = "freebsd"
)))]
mod system {
    /// A platform `sysinfo` doesn't support: no process is seen, and liveness is unknown.
    #[derive(Debug)]
    pub(super) struct Table;

    impl super::ProcessTable for Table {
        fn command_lines(&self) -> Vec<Vec<String>> {
            Vec::new()
        }

        fn alive(&self, _pid: u32) -> Option<bool> {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn matches_binaries_and_node_scripts_by_basename() {
        let claude = names(ClientApp::ClaudeCode);
        assert!(command_matches(
            &argv(&["/usr/bin/claude", "--resume"]),
            claude
        ));
        assert!(command_matches(
            &argv(&["node", "/usr/lib/node_modules/.bin/gemini"]),
            names(ClientApp::Gemini)
        ));
        assert!(command_matches(
            &argv(&["C:\\Program Files\\Code\\code.exe"]),
            names(ClientApp::VsCode)
        ));
        assert!(!command_matches(&argv(&["/usr/bin/vim", "claude"]), claude));
        assert!(!command_matches(&argv(&["/bin/claude-helper"]), claude));
        assert!(ProcessProbe::Fixed(vec![ClientApp::Codex]).is_running(ClientApp::Codex));
        assert!(!ProcessProbe::Fixed(vec![]).is_running(ClientApp::Codex));
    }

    /// The real table: a process started under an application's name is seen, and is no
    /// longer seen once it has exited; its pid is alive, then not.
    #[cfg(unix)]
    #[test]
    fn the_system_table_sees_a_real_process_come_and_go() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("goosed");
        std::fs::copy("/bin/sleep", &fake).unwrap();
        let probe = ProcessProbe::System;
        assert!(
            !probe.is_running(ClientApp::Goose),
            "no goosed before the test starts one"
        );
        let mut child = std::process::Command::new(&fake).arg("30").spawn().unwrap();
        let pid = u64::from(child.id());
        assert!(probe.is_running(ClientApp::Goose), "goosed is running");
        assert!(probe.pid_alive(pid));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!probe.is_running(ClientApp::Goose), "goosed has exited");
        assert!(!probe.pid_alive(pid));
    }
}
