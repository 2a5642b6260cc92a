//! The window's web process runs JavaScriptCore without its JIT compilers.
//!
//! The window's script is one small Svelte page that re-renders a handful of rows; the JIT buys
//! it nothing measurable, yet its code pools and compiler pages cost the web process about
//! 9 MiB of PSS (measured 2026-12-03, signed in to the lab: 221 vs 230 MiB for the app and its
//! WebKit processes, window shown; first painted status and idle CPU unchanged; see
//! docs/benchmarks.md, "Memory with the window shown").
//!
//! WebKitGTK has no API for it: JavaScriptCore reads `JSC_useJIT` from the web process's
//! environment, which that process inherits from the app when WebKit spawns it. So the app adds
//! the variable to its own environment first thing in `main`. A value already set is respected
//! (`JSC_useJIT=1` brings the JIT back, e.g. to compare).
//!
//! Why `set_var` and its one `unsafe` block (the only one in the workspace; this crate denies
//! unsafe code where the others forbid it, see Cargo.toml): the first version executed the app
//! again with the variable added, which needs no `unsafe`, but loading the GTK and WebKit
//! libraries twice made every launch about 60 ms slower (a second launch that hands over to
//! the running app: 146–186 ms against 88–127 ms, measured alternately).

/// On Linux, sets `JSC_useJIT=0` in this process's environment unless the variable is already
/// set, so every WebKit web process the app starts inherits it. Elsewhere the system webview is
/// not WebKitGTK and this does nothing.
///
/// Must be called first thing in `main`, before anything that could start a thread.
#[allow(unsafe_code)]
pub fn turn_off_jit() {
    // The variable JavaScriptCore reads; "0" turns its JIT tiers off.
    #[cfg(target_os = "linux")]
    const JIT_VAR: &str = "JSC_useJIT";
    #[cfg(target_os = "linux")]
    if std::env::var_os(JIT_VAR).is_none() {
        // SAFETY: `set_var` is unsound only while another thread may read or write the
        // environment. `main` calls this before anything else, so before Tauri, GTK, tokio or
        // the logger exist and before any thread is started; the Rust runtime starts none of
        // its own before `main`.
        unsafe { std::env::set_var(JIT_VAR, "0") };
    }
}
