//! The window's web process runs JavaScriptCore without its JIT compilers.
//!
//! The window's script is one small Svelte page that re-renders a handful of rows; the JIT buys
//! it nothing measurable, yet its code pools and compiler pages cost the web process about
//! 9 MiB of PSS (measured 2026-12-03, signed in to the lab: 221 vs 230 MiB for the app and its
//! WebKit processes, window shown; first painted status and idle CPU unchanged; see
//! docs/benchmarks.md, "Memory with the window shown").
//!
//! WebKitGTK has no API for it: JavaScriptCore reads `JSC_useJIT` from the web process's
//! environment, which that process inherits from the app when WebKit spawns it. Setting a
//! variable in a running process is unsound once threads exist (and `unsafe` is forbidden
//! here), so the app instead executes itself again, first thing in `main`, with the variable
//! added: same pid, same arguments, nothing started yet. A value already in the environment is
//! respected (`JSC_useJIT=1` brings the JIT back, e.g. to compare), which also ends the loop.

/// The variable JavaScriptCore reads, and the value that turns its JIT tiers off.
pub const JIT_VAR: &str = "JSC_useJIT";
pub const JIT_OFF: &str = "0";

/// On Linux, replaces this process with itself plus `JSC_useJIT=0` unless the variable is
/// already set; returns only when there is nothing to do or the exec failed (then the app runs
/// on as it is, with the JIT: a bigger window, nothing broken). Elsewhere the system webview is
/// not WebKitGTK and this does nothing.
pub fn exec_without_jit() {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os(JIT_VAR).is_some() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut again = std::process::Command::new(exe);
        if let Some(arg0) = args.next() {
            again.arg0(arg0);
        }
        // `exec` only returns on failure; the error is dropped because logging is not set up
        // yet and the fallback (run with the JIT) is harmless.
        let _failed = again.args(args).env(JIT_VAR, JIT_OFF).exec();
    }
}
