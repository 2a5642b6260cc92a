//! The Legacy connections section's commands: list what other MCP clients left on this
//! machine, and disconnect (one entry, or every entry zero-touch covers). Entries and receipts
//! carry no token by construction.

use std::sync::Arc;

use tauri::{AppHandle, Manager, Runtime, State};

use lanyard::legacy::{DisconnectOptions, Receipt, ScanReport};

use crate::app_state::{AppState, legacy_home};
use crate::blocking;
use crate::dto::AppError;
use crate::legacy_count::LegacyCountCache;

/// Scans every MCP client's files under the home folder: on the blocking pool (see
/// `blocking`), never on the thread that paints the window.
#[tauri::command]
pub async fn list_legacy(state: State<'_, AppState>) -> Result<ScanReport, AppError> {
    let engine = state.engine()?;
    blocking::run(move || Ok(engine.legacy_context(legacy_home()).scan())).await
}

/// `ids`: the entries to disconnect; `covered`: every entry zero-touch covers instead.
/// The window asks for confirmation first, listing what will happen.
#[tauri::command]
pub async fn disconnect_legacy<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    ids: Option<Vec<String>>,
    covered: Option<bool>,
) -> Result<Vec<Receipt>, AppError> {
    let engine = state.engine()?;
    let covered = covered.unwrap_or(false);
    let scanner = Arc::clone(&engine);
    let (ctx, ids) = blocking::run(move || {
        let ctx = scanner.legacy_context(legacy_home());
        let ids = if covered {
            lanyard::legacy::covered_ids(&ctx.scan())
        } else {
            ids.unwrap_or_default()
        };
        Ok((ctx, ids))
    })
    .await?;
    // The person clicked Disconnect: if the owning app is running, the receipt says so and
    // nothing is touched (no `force` from the window).
    let receipts = lanyard::legacy::disconnect(
        &ids,
        DisconnectOptions {
            dry_run: false,
            force: false,
        },
        &ctx,
    )
    .await;
    // A revocation that failed is queued; the renewal loop retries it when it is due.
    engine.reschedule();
    // The tray's legacy count is now out of date: rescan and redraw.
    app.state::<Arc<LegacyCountCache>>().invalidate();
    crate::tray::redraw(&app);
    Ok(receipts)
}
