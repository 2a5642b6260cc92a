//! The Admin pilot page's commands: the policy check, the what-if grant matrix for a list of
//! test users (progress per user as `pilot-progress` events; Skip and Cancel), and saving the
//! pilot report. Thin: each calls `lanyard::pilot` and returns its view types, which hold no
//! secret by construction.

use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime, State};

use lanyard::pilot::report::{self, PolicyCheckSection, ReportInputs};
use lanyard::pilot::{
    Expectations, Matrix, MatrixControl, MatrixOptions, MatrixProgress, ProfileStore, profile,
};
use lanyard::protocol::oidc::Browser;

use crate::app_state::AppState;
use crate::blocking;
use crate::dto::{AppError, ErrorCode};

pub const PILOT_PROGRESS: &str = "pilot-progress";

/// The run in progress (to Skip or Cancel it) and the last finished matrix (for the report).
#[derive(Default)]
pub struct PilotState {
    running: Mutex<Option<MatrixControl>>,
    last: Mutex<Option<Matrix>>,
}

#[tauri::command]
pub async fn pilot_policy_check(
    state: State<'_, AppState>,
) -> Result<PolicyCheckSection, AppError> {
    // Static and live, as `lanyard policy check` does: the admin is about to pilot this policy.
    let engine = state.engine()?;
    Ok(report::policy_check(&engine, true).await)
}

/// Signs in each user in a throw-away profile and resolves every connector; `expected` is the
/// text of an expected-grants file (JSON or CSV), compared cell by cell.
#[tauri::command]
pub async fn run_pilot_matrix<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    pilot: State<'_, PilotState>,
    users: Vec<String>,
    expected: Option<String>,
) -> Result<Matrix, AppError> {
    let engine = state.engine()?;
    let (users, expected) = inputs(&users, expected.as_deref())?;
    let control = MatrixControl::default();
    {
        let mut running = pilot.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.is_some() {
            return Err(AppError::new(
                ErrorCode::SignInInProgress,
                "A pilot run is already in progress.",
            ));
        }
        *running = Some(control.clone());
    }
    let opts = MatrixOptions {
        users,
        browser: browser(),
        sign_in_timeout: Duration::from_secs(300),
        store: ProfileStore::OsKeyring,
        parent: None,
        device_key: profile::admin_device_key(&engine),
        http_timeout: None,
    };
    let emit = move |p: &MatrixProgress| {
        let _ = app.emit(PILOT_PROGRESS, p);
    };
    let mut matrix = lanyard::pilot::run_matrix(engine.policy(), &opts, &control, &emit).await;
    pilot
        .running
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(e) = &expected {
        matrix.compare(e);
    }
    *pilot.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(matrix.clone());
    Ok(matrix)
}

/// The users without blanks (at least one), and the expected grants parsed if given.
fn inputs(
    users: &[String],
    expected: Option<&str>,
) -> Result<(Vec<String>, Option<Expectations>), AppError> {
    let users: Vec<String> = users
        .iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    if users.is_empty() {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            "List at least one test user.",
        ));
    }
    let expected = match expected.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => Some(
            Expectations::parse(text, "the expected grants")
                .map_err(|e| AppError::new(ErrorCode::InvalidInput, e.to_string()))?,
        ),
        None => None,
    };
    Ok((users, expected))
}

/// Ends the current user's sign-in; their row says "not signed in" and the run goes on.
// sync: only signals the running matrix through a mutex; nothing to wait for.
#[tauri::command]
pub fn skip_pilot_user(pilot: State<'_, PilotState>) {
    if let Some(c) = pilot
        .running
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
    {
        c.skip_current();
    }
}

// sync: only signals the running matrix through a mutex; nothing to wait for.
#[tauri::command]
pub fn cancel_pilot_matrix(pilot: State<'_, PilotState>) {
    if let Some(c) = pilot
        .running
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
    {
        c.cancel();
    }
}

/// What `save_pilot_report` answers: where the report went.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SavedReport {
    pub path: String,
}

/// Writes the pilot report (with the last matrix) to the Downloads folder, else the state folder.
#[tauri::command]
pub async fn save_pilot_report(
    state: State<'_, AppState>,
    pilot: State<'_, PilotState>,
) -> Result<SavedReport, AppError> {
    let engine = state.engine()?;
    let matrix = pilot.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let inputs = ReportInputs {
        matrix,
        policy_check: None,
        legacy_home: crate::app_state::legacy_home(),
        readiness: true,
    };
    let r = report::gather(&engine, inputs).await;
    let fallback = engine.state_dir().root().to_path_buf();
    let path = blocking::run(move || {
        let dir = crate::app_state::save_folder(fallback);
        let stamp = r.generated_at.format("%Y%m%d-%H%M%S");
        let path = dir.join(format!("lanyard-pilot-report-{stamp}.html"));
        report::write(&r, &path, None).map_err(|e| {
            AppError::new(
                ErrorCode::Internal,
                format!("Could not write the pilot report: {e}"),
            )
        })?;
        Ok(path)
    })
    .await?;
    Ok(SavedReport {
        path: path.display().to_string(),
    })
}

/// As for the person's own sign-in: `LANYARD_BROWSER_COMMAND` (tests, headless), else the
/// system browser.
fn browser() -> Browser {
    match std::env::var("LANYARD_BROWSER_COMMAND") {
        Ok(cmd) if !cmd.trim().is_empty() => Browser::Command(cmd),
        _ => Browser::System,
    }
}
