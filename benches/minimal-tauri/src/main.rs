//! The smallest Tauri 2 app: one window showing a static page; the benchmark baseline.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(e) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("minimal-tauri could not start: {e}");
        std::process::exit(1);
    }
}
