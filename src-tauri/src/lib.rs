//! Lanyard's desktop app: a thin Tauri host over the core. `run_app` takes the builder so
//! tests can pass Tauri's mock runtime.

pub mod app_state;
pub mod autostart;
pub mod blocking;
pub mod commands;
pub mod dto;
pub mod events;
pub mod legacy;
pub mod legacy_count;
pub mod notify;
pub mod pilot;
pub mod startup;
pub mod support;
pub mod tray;
pub mod tray_model;
#[cfg(test)]
mod typescript;
pub mod web_process;

use std::sync::Arc;

use tauri::{Manager, Runtime};

use app_state::AppState;

/// Adds the app's commands and state to a builder (real or mock).
pub fn configure<R: Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    builder
        .manage(state)
        .manage(pilot::PilotState::default())
        .manage(Arc::new(legacy_count::LegacyCountCache::default()))
        .invoke_handler(tauri::generate_handler![
            commands::get_status,
            commands::status_painted,
            commands::sign_in,
            commands::cancel_sign_in,
            commands::sign_out,
            commands::refresh,
            commands::get_settings,
            commands::set_autostart,
            support::get_timeline,
            support::get_diagnostics,
            support::run_readiness,
            support::save_support_bundle,
            legacy::list_legacy,
            legacy::disconnect_legacy,
            pilot::pilot_policy_check,
            pilot::run_pilot_matrix,
            pilot::skip_pilot_user,
            pilot::cancel_pilot_matrix,
            pilot::save_pilot_report,
        ])
}

/// Shows the window, building it again when it was closed (see `keep_running_in_tray`).
pub fn show_main_window<R: Runtime>(app: &tauri::AppHandle<R>) {
    let window = app.get_webview_window(MAIN_WINDOW).or_else(|| {
        let config = app
            .config()
            .app
            .windows
            .iter()
            .find(|w| w.label == MAIN_WINDOW)?;
        tauri::WebviewWindowBuilder::from_config(app, config)
            .and_then(|builder| builder.build())
            .inspect_err(|e| tracing::warn!("could not open the window again: {e}"))
            .ok()
    });
    if let Some(w) = window {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// The window's label in tauri.conf.json.
pub const MAIN_WINDOW: &str = "main";

/// A tray app: closing the window closes the window, webview and all (its WebKit processes
/// and their memory go with it; Open builds it again), but not the app, whose renewals go on
/// in the tray until Quit. Without a tray (no policy, so nothing to open it again from),
/// closing the window quits.
fn keep_running_in_tray<R: Runtime>(app: &tauri::AppHandle<R>, event: &tauri::RunEvent) {
    if let tauri::RunEvent::ExitRequested {
        code: None, api, ..
    } = event
        && app.tray_by_id(tray::TRAY_ID).is_some()
    {
        api.prevent_exit();
    }
}

/// SIGTERM (the session ending, `systemctl stop`, `kill`) and SIGINT quit like the tray's
/// Quit: through the event loop, so the renewal loop stops and the exit code is 0.
fn quit_on_signal<R: Runtime>(app: tauri::AppHandle<R>) {
    #[cfg(unix)]
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("could not listen for SIGTERM/SIGINT");
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        app.exit(0);
    });
    #[cfg(not(unix))]
    let _ = app;
}

pub fn run() {
    startup::mark_start();
    lanyard::diagnose::logs::init_for_host("warn");

    let builder = tauri::Builder::default()
        // Must be first: a second launch focuses the running app instead of starting twice.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_main_window(app)
        }))
        .plugin(tauri_plugin_notification::init());
    // Linux: the app writes its own XDG autostart entry (see `autostart`).
    #[cfg(not(target_os = "linux"))]
    let builder = builder.plugin(tauri_plugin_autostart::init(
        tauri_plugin_autostart::MacosLauncher::LaunchAgent,
        None,
    ));
    let app = configure(builder, AppState::from_env())
        .setup(|app| {
            let handle = app.handle().clone();
            quit_on_signal(handle.clone());
            let state = app.state::<AppState>();
            let lead = chrono::Duration::minutes(state.session_warning_minutes);
            if let Ok(engine) = state.engine() {
                let status = engine.status().ok();
                if let Some(s) = &status {
                    tray::create(&handle, s, lead)?;
                }
                let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
                // Dropping the sender on exit stops the renewal loop.
                app.manage(stop_tx);
                tauri::async_runtime::spawn(Arc::clone(&engine).run(stop_rx));
                tauri::async_runtime::spawn(events::forward(
                    handle,
                    engine,
                    state.session_warning_minutes,
                ));
            }
            Ok(())
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|app, event| keep_running_in_tray(app, &event)),
        Err(e) => {
            eprintln!("Lanyard could not start: {e}");
            std::process::exit(1);
        }
    }
}
