//! Generates Tauri's context and the permission set of the app's own commands, so the
//! capability file can allow exactly these commands and nothing else.
fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "get_status",
            "status_painted",
            "sign_in",
            "cancel_sign_in",
            "sign_out",
            "refresh",
            "get_settings",
            "set_autostart",
            "get_timeline",
            "get_diagnostics",
            "run_readiness",
            "save_support_bundle",
            "list_legacy",
            "disconnect_legacy",
            "pilot_policy_check",
            "run_pilot_matrix",
            "skip_pilot_user",
            "cancel_pilot_matrix",
            "save_pilot_report",
        ]),
    ))
    .expect("tauri build script");
}
