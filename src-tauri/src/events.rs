//! Forwards the engine's status changes to the window (event `status-changed`), the tray, and
//! notifications; schedules the session-lapse warning.

use std::sync::Arc;

use chrono::{Duration, Utc};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};
use tauri_plugin_notification::NotificationExt;

use lanyard::Lanyard;

use crate::notify;

pub const STATUS_CHANGED: &str = "status-changed";
pub const SIGN_IN_PROGRESS: &str = "sign-in-progress";

/// Where a sign-in is (event `sign-in-progress`). The host sends `waiting_for_browser` as it
/// starts, then `done` or `failed` once the sign-in and every connector's resolution end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SignInPhase {
    WaitingForBrowser,
    Done,
    Failed,
}

/// One `sign-in-progress` event.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SignInProgress {
    pub phase: SignInPhase,
    /// Why it failed, in words for people (`failed` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub message: Option<String>,
}

impl SignInProgress {
    pub fn phase(phase: SignInPhase) -> Self {
        Self {
            phase,
            message: None,
        }
    }

    pub fn failed(message: &str) -> Self {
        Self {
            phase: SignInPhase::Failed,
            message: Some(message.to_string()),
        }
    }
}

/// The status as the state file has it now, read on the blocking pool: this loop shares the
/// async runtime with the renewals.
async fn read_status(engine: &Arc<Lanyard>) -> Option<lanyard::view::status::StatusView> {
    let engine = Arc::clone(engine);
    crate::blocking::run(move || Ok(engine.status()?))
        .await
        .ok()
}

/// Runs for the app's lifetime.
pub async fn forward<R: Runtime>(app: AppHandle<R>, engine: Arc<Lanyard>, warn_minutes: i64) {
    let mut rx = engine.subscribe();
    let lead = Duration::minutes(warn_minutes);
    let mut prev = read_status(&engine).await;
    let mut warned_for = None;
    if let Some(s) = &prev {
        crate::tray::update(&app, s, lead);
    }
    loop {
        let warn_at = prev
            .as_ref()
            .and_then(|s| notify::session_warning_at(s, lead));
        let sleep = warn_at
            .filter(|at| warned_for != Some(*at))
            .map(|at| (at - Utc::now()).to_std().unwrap_or_default())
            .unwrap_or(std::time::Duration::from_secs(3600));
        tokio::select! {
            msg = rx.recv() => {
                if matches!(msg, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                    return;
                }
                // Read the state as it is now rather than the snapshot in the message: a
                // message delivered late must never take the window back to an older state.
                let Some(status) = read_status(&engine).await else { continue };
                let _ = app.emit(STATUS_CHANGED, &status);
                crate::tray::update(&app, &status, lead);
                if let Some(p) = &prev {
                    for n in notify::dropped(p, &status) {
                        show(&app, &n);
                    }
                }
                // Compared with what comes next as settled: a connector in flight keeps its
                // state, so granted → pending → denied still reads as a drop.
                prev = Some(match &prev {
                    Some(p) => notify::settled(p, &status),
                    None => status,
                });
            }
            _ = tokio::time::sleep(sleep) => {
                if let (Some(s), Some(at)) = (&prev, warn_at)
                    && warned_for != Some(at)
                {
                    show(&app, &notify::session_notice(s, Utc::now(), &chrono::Local));
                    warned_for = Some(at);
                }
            }
        }
    }
}

fn show<R: Runtime>(app: &AppHandle<R>, n: &notify::Notice) {
    if let Err(e) = app
        .notification()
        .builder()
        .title(&n.title)
        .body(&n.body)
        .show()
    {
        tracing::warn!("notification failed: {e}");
    }
}
