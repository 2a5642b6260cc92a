//! The Legacy connections section's commands: list what other MCP clients left on this
//! machine, and disconnect (one entry, or every entry zero-touch covers). Entries and receipts
//! carry no token by construction.

use tauri::State;

use lanyard::legacy::{DisconnectOptions, Receipt, ScanReport};

use crate::app_state::AppState;
use crate::dto::AppError;

/// The folder whose MCP clients are scanned: `LANYARD_LEGACY_HOME` (tests, demo), else `HOME`.
pub fn home() -> std::path::PathBuf {
    std::env::var_os("LANYARD_LEGACY_HOME")
        .or_else(|| std::env::var_os("HOME"))
        .map(std::path::PathBuf::from)
        .unwrap_or_default()
}

#[tauri::command]
pub fn list_legacy(state: State<'_, AppState>) -> Result<ScanReport, AppError> {
    Ok(state.engine()?.legacy_context(home()).scan())
}

/// `ids`: the entries to disconnect; `covered`: every entry zero-touch covers instead.
/// The window asks for confirmation first, listing what will happen.
#[tauri::command]
pub async fn disconnect_legacy(
    state: State<'_, AppState>,
    ids: Option<Vec<String>>,
    covered: Option<bool>,
) -> Result<Vec<Receipt>, AppError> {
    let ctx = state.engine()?.legacy_context(home());
    let ids = if covered.unwrap_or(false) {
        lanyard::legacy::covered_ids(&ctx.scan())
    } else {
        ids.unwrap_or_default()
    };
    // The person clicked Disconnect: if the owning app is running, the receipt says so and
    // nothing is touched (no `force` from the window).
    Ok(lanyard::legacy::disconnect(
        &ids,
        DisconnectOptions {
            dry_run: false,
            force: false,
        },
        &ctx,
    )
    .await)
}
