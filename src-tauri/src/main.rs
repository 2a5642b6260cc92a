//! The Lanyard desktop app's entry point; everything lives in the library so tests can build
//! the same app on Tauri's mock runtime.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Before anything else runs: it may replace this process (see `web_process`).
    lanyard_app::web_process::exec_without_jit();
    lanyard_app::run();
}
