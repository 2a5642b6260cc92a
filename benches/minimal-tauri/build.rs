//! Generates the baseline app's Tauri context.
fn main() {
    tauri_build::build()
}
