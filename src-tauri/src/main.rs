//! The Lanyard desktop app's entry point; everything lives in the library so tests can build
//! the same app on Tauri's mock runtime.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Before anything else runs, while this is the only thread (see `web_process`).
    lanyard_app::web_process::turn_off_jit();
    lanyard_app::run();
}
