//! The Details and Diagnostics views' commands: timelines, the doctor report, the readiness
//! check and the support bundle. Every payload is built from traces and decoded claims, never
//! from a raw token.

use serde::Serialize;
use tauri::State;

use lanyard::diagnose::{doctor, readiness};

use crate::app_state::AppState;
use crate::blocking;
use crate::dto::{AppError, ErrorCode};

/// Reads a trace file: on the blocking pool (see `blocking`).
#[tauri::command]
pub async fn get_timeline(
    state: State<'_, AppState>,
    name: String,
) -> Result<lanyard::diagnose::Timeline, AppError> {
    let engine = state.engine()?;
    blocking::run(move || Ok(doctor::timeline_for(&engine, &name)?)).await
}

#[tauri::command]
pub async fn get_diagnostics(state: State<'_, AppState>) -> Result<doctor::DoctorReport, AppError> {
    let engine = state.engine()?;
    let opts = doctor::DoctorOptions {
        readiness: false,
        verify_signatures: true,
    };
    Ok(doctor::doctor_with(&engine, &opts).await)
}

#[tauri::command]
pub async fn run_readiness(
    state: State<'_, AppState>,
    connector_id: String,
) -> Result<readiness::ReadinessReport, AppError> {
    let engine = state.engine()?;
    let connector = engine
        .policy()
        .connectors
        .iter()
        .find(|c| c.id == connector_id)
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::UnknownConnector,
                format!("No connector \"{connector_id}\"."),
            )
        })?;
    // Only this connector's own token, and only to its own server: the audience check mints
    // a worthless token of its own rather than send another vendor's.
    let own = engine.access_token(&connector.id)?;
    let http = lanyard::http::Http::new(lanyard::clock::system());
    Ok(readiness::check(&http, &connector.mcp_url, own.as_ref()).await)
}

/// What `save_support_bundle` answers: where the file went and the incident id to quote.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "SupportBundle"))]
#[serde(rename_all = "camelCase")]
pub struct SavedBundle {
    pub path: String,
    pub incident_id: String,
}

/// Writes the support bundle to the Downloads folder (else the state folder).
#[tauri::command]
pub async fn save_support_bundle(state: State<'_, AppState>) -> Result<SavedBundle, AppError> {
    let engine = state.engine()?;
    let opts = doctor::DoctorOptions {
        readiness: false,
        verify_signatures: true,
    };
    let report = doctor::doctor_with(&engine, &opts).await;
    let fallback = engine.state_dir().root().to_path_buf();
    let incident_id = report.incident_id.clone();
    let path = blocking::run(move || {
        let dir = crate::app_state::save_folder(fallback);
        let path = dir.join(format!("lanyard-support-{}.json", report.incident_id));
        lanyard::diagnose::write_bundle(&report, &path).map_err(|e| {
            AppError::new(
                ErrorCode::Internal,
                format!("Could not write the support bundle: {e}"),
            )
        })?;
        Ok(path)
    })
    .await?;
    Ok(SavedBundle {
        path: path.display().to_string(),
        incident_id,
    })
}
