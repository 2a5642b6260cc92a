//! The window's commands. Each one takes the app state, calls one engine method and maps the
//! result to a view or an `AppError`: `StatusView` is the only data that crosses, and it holds
//! no secret by construction.

use std::time::Duration;

use tauri::{AppHandle, Emitter, Runtime, State};

use lanyard::protocol::oidc::{Browser, SignInOptions};
use lanyard::view::status::StatusView;

use crate::app_state::AppState;
use crate::autostart::ManagerExt;
use crate::blocking;
use crate::dto::{AppError, ErrorCode, Settings};
use crate::events::{SIGN_IN_PROGRESS, SignInPhase, SignInProgress};

/// Reads the state file: on the blocking pool (see `blocking`).
#[tauri::command]
pub async fn get_status(state: State<'_, AppState>) -> Result<StatusView, AppError> {
    let engine = state.engine()?;
    blocking::run(move || Ok(engine.status()?)).await
}

#[tauri::command]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<StatusView, AppError> {
    let engine = state.engine()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    {
        let mut slot = state
            .sign_in_cancel
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(|s| !s.is_closed()) {
            return Err(AppError::new(
                ErrorCode::SignInInProgress,
                "A sign-in is already in progress.",
            ));
        }
        *slot = Some(tx);
    }
    // Tests and headless set-ups drive the browser with a command (product.md contract).
    let browser = match std::env::var("LANYARD_BROWSER_COMMAND") {
        Ok(cmd) if !cmd.trim().is_empty() => Browser::Command(cmd),
        _ => Browser::System,
    };
    let _ = app.emit(
        SIGN_IN_PROGRESS,
        SignInProgress::phase(SignInPhase::WaitingForBrowser),
    );
    let result = engine
        .sign_in(SignInOptions {
            browser,
            timeout: Duration::from_secs(300),
            cancel: Some(rx),
            login_hint: None,
            prompt: None,
        })
        .await;
    state
        .sign_in_cancel
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    match result {
        Ok(status) => {
            let _ = app.emit(SIGN_IN_PROGRESS, SignInProgress::phase(SignInPhase::Done));
            Ok(status)
        }
        Err(e) => {
            let err = AppError::from(&e);
            let _ = app.emit(SIGN_IN_PROGRESS, SignInProgress::failed(&err.message));
            Err(err)
        }
    }
}

// sync: only sets a flag and writes one log line; nothing to wait for.
/// The window painted its first status (start-up time, `startup.rs`).
#[tauri::command]
pub fn status_painted() {
    crate::startup::status_painted();
}

// sync: only takes a channel out of a mutex; nothing to wait for.
#[tauri::command]
pub fn cancel_sign_in(state: State<'_, AppState>) {
    if let Some(tx) = state
        .sign_in_cancel
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        let _ = tx.send(());
    }
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<StatusView, AppError> {
    let engine = state.engine()?;
    engine.logout().await?;
    blocking::run(move || Ok(engine.status()?)).await
}

#[tauri::command]
pub async fn refresh(
    state: State<'_, AppState>,
    connector_id: Option<String>,
) -> Result<StatusView, AppError> {
    Ok(state.engine()?.refresh(connector_id.as_deref()).await?)
}

/// Looks for the autostart entry on disk: on the blocking pool.
#[tauri::command]
pub async fn get_settings<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Settings, AppError> {
    let engine = state.engine().ok();
    let session_warning_minutes = state.session_warning_minutes;
    blocking::run(move || {
        Ok(Settings {
            autostart: app.autolaunch().is_enabled().unwrap_or(false),
            session_warning_minutes,
            policy_path: engine
                .as_ref()
                .map(|e| e.policy().source.display().to_string()),
            pilot_machine: engine.is_some_and(|e| e.policy().pilot_machine),
        })
    })
    .await
}

/// Writes or removes the autostart entry: on the blocking pool.
#[tauri::command]
pub async fn set_autostart<R: Runtime>(app: AppHandle<R>, enabled: bool) -> Result<bool, AppError> {
    blocking::run(move || {
        let launcher = app.autolaunch();
        let result = if enabled {
            launcher.enable()
        } else {
            launcher.disable()
        };
        result.map_err(|e| {
            AppError::new(
                ErrorCode::Internal,
                format!("Could not change start-at-login: {e}"),
            )
        })?;
        Ok(launcher.is_enabled().unwrap_or(enabled))
    })
    .await
}
