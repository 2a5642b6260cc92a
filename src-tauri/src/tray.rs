//! Renders `tray_model::TrayModel` into the system tray and routes menu clicks.

use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, Utc};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use lanyard::view::status::StatusView;

use crate::app_state::AppState;
use crate::legacy_count::LegacyCountCache;
use crate::tray_model::{self, MenuEntry, TrayIcon};

pub const TRAY_ID: &str = "lanyard";

fn icon(kind: TrayIcon) -> Image<'static> {
    let bytes: &'static [u8] = match kind {
        TrayIcon::SignedOut => include_bytes!("../../icons/tray-signed-out.png"),
        TrayIcon::AllGood => include_bytes!("../../icons/tray-ok.png"),
        TrayIcon::NeedsAttention => include_bytes!("../../icons/tray-attention.png"),
        TrayIcon::SessionEndingSoon => include_bytes!("../../icons/tray-ending.png"),
    };
    // The icons are compiled in and known-good PNGs.
    Image::from_bytes(bytes).expect("bundled tray icon is a valid PNG")
}

fn menu<R: Runtime>(app: &AppHandle<R>, entries: &[MenuEntry]) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    for (i, entry) in entries.iter().enumerate() {
        match entry {
            MenuEntry::Label(text) => menu.append(&MenuItem::with_id(
                app,
                format!("label-{i}"),
                text,
                false,
                None::<&str>,
            )?)?,
            MenuEntry::Action { id, label } => {
                menu.append(&MenuItem::with_id(app, *id, label, true, None::<&str>)?)?
            }
            MenuEntry::Separator => menu.append(&PredefinedMenuItem::separator(app)?)?,
        }
    }
    Ok(menu)
}

/// The legacy count the menu shows: the cached one (see `legacy_count`). When it is stale, a
/// rescan runs on the blocking pool and redraws the tray if the number changed.
fn legacy_count<R: Runtime>(app: &AppHandle<R>, lead: Duration) -> tray_model::LegacyCount {
    let cache = app.state::<Arc<LegacyCountCache>>();
    let (count, claim) = cache.current(Instant::now());
    if let (Some(claim), Ok(engine)) = (claim, app.state::<AppState>().engine()) {
        let app = app.clone();
        tauri::async_runtime::spawn_blocking(move || {
            let report = engine
                .legacy_context(crate::app_state::legacy_home())
                .scan();
            let count = tray_model::LegacyCount {
                total: report.entries.len(),
                covered: report.entries.iter().filter(|e| e.covered_by_ema).count(),
            };
            if claim.finish(count, Instant::now())
                && let Ok(status) = engine.status()
            {
                update(&app, &status, lead);
            }
        });
    }
    count
}

pub fn create<R: Runtime>(
    app: &AppHandle<R>,
    status: &StatusView,
    lead: Duration,
) -> tauri::Result<()> {
    let model = tray_model::build(status, legacy_count(app, lead), Utc::now(), lead);
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(model.icon))
        .tooltip(&model.tooltip)
        .menu(&menu(app, &model.menu)?)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .build(app)?;
    Ok(())
}

/// Redraws the tray from the state file (read on the blocking pool), e.g. after the legacy
/// count was invalidated.
pub fn redraw<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let lead = Duration::minutes(state.session_warning_minutes);
    if let Ok(engine) = state.engine() {
        let app = app.clone();
        tauri::async_runtime::spawn_blocking(move || {
            if let Ok(status) = engine.status() {
                update(&app, &status, lead);
            }
        });
    }
}

pub fn update<R: Runtime>(app: &AppHandle<R>, status: &StatusView, lead: Duration) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let model = tray_model::build(status, legacy_count(app, lead), Utc::now(), lead);
    let _ = tray.set_icon(Some(icon(model.icon)));
    let _ = tray.set_tooltip(Some(&model.tooltip));
    if let Ok(m) = menu(app, &model.menu) {
        let _ = tray.set_menu(Some(m));
    }
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, id: &str) {
    match id {
        tray_model::OPEN | tray_model::SIGN_IN | tray_model::LEGACY => {
            crate::show_main_window(app);
        }
        tray_model::REFRESH => {
            if let Ok(engine) = app.state::<AppState>().engine() {
                tauri::async_runtime::spawn(async move {
                    let _ = engine.refresh(None).await;
                });
            }
        }
        tray_model::SIGN_OUT => {
            if let Ok(engine) = app.state::<AppState>().engine() {
                tauri::async_runtime::spawn(async move {
                    let _ = engine.logout().await;
                });
            }
        }
        tray_model::QUIT => app.exit(0),
        _ => {}
    }
}
