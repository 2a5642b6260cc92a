//! Renders `tray_model::TrayModel` into the system tray and routes menu clicks.

use chrono::{Duration, Utc};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use lanyard::view::status::StatusView;

use crate::app_state::AppState;
use crate::tray_model::{self, MenuEntry, TrayIcon};

const TRAY_ID: &str = "lanyard";

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

/// Counts legacy connections for the menu (a quick scan of the home folder's client files).
fn legacy_count<R: Runtime>(app: &AppHandle<R>) -> tray_model::LegacyCount {
    let Ok(engine) = app.state::<AppState>().engine() else {
        return Default::default();
    };
    let report = engine.legacy_context(crate::legacy::home()).scan();
    tray_model::LegacyCount {
        total: report.entries.len(),
        covered: report.entries.iter().filter(|e| e.covered_by_ema).count(),
    }
}

pub fn create<R: Runtime>(
    app: &AppHandle<R>,
    status: &StatusView,
    lead: Duration,
) -> tauri::Result<()> {
    let model = tray_model::build(status, legacy_count(app), Utc::now(), lead);
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(model.icon))
        .tooltip(&model.tooltip)
        .menu(&menu(app, &model.menu)?)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .build(app)?;
    Ok(())
}

pub fn update<R: Runtime>(app: &AppHandle<R>, status: &StatusView, lead: Duration) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let model = tray_model::build(status, legacy_count(app), Utc::now(), lead);
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
