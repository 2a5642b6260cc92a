//! The app's managed state: the engine (or why it could not start), and the handle to cancel
//! a sign-in in progress.

use std::sync::{Arc, Mutex};

use lanyard::{Lanyard, Options};

use crate::dto::AppError;

pub struct AppState {
    engine: Result<Arc<Lanyard>, AppError>,
    pub sign_in_cancel: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    pub session_warning_minutes: i64,
}

impl AppState {
    /// Opens the engine from the same environment as the CLI (`LANYARD_POLICY`,
    /// `LANYARD_STATE_DIR`). A broken policy doesn't stop the app: the window explains it.
    pub fn from_env() -> Self {
        let engine = Lanyard::open(Options::default())
            .map(Arc::new)
            .map_err(AppError::from);
        if let Err(e) = &engine {
            tracing::warn!(code = e.detail, "engine unavailable: {}", e.message);
        }
        Self::with_engine(engine)
    }

    pub fn with_engine(engine: Result<Arc<Lanyard>, AppError>) -> Self {
        let session_warning_minutes = warning_minutes(
            std::env::var("LANYARD_SESSION_WARNING_MINUTES")
                .ok()
                .as_deref(),
        );
        Self {
            engine,
            sign_in_cancel: Mutex::new(None),
            session_warning_minutes,
        }
    }

    pub fn engine(&self) -> Result<Arc<Lanyard>, AppError> {
        self.engine.clone()
    }
}

/// The folder whose MCP clients are scanned for legacy tokens: `LANYARD_LEGACY_HOME` (tests,
/// demo), else `HOME`.
pub fn legacy_home() -> std::path::PathBuf {
    std::env::var_os("LANYARD_LEGACY_HOME")
        .or_else(|| std::env::var_os("HOME"))
        .map(std::path::PathBuf::from)
        .unwrap_or_default()
}

/// Where the window saves what a person hands to support or to their admin (support bundle,
/// pilot report): `LANYARD_BUNDLE_DIR` (tests), else `~/Downloads`, else `fallback` (the state
/// folder) when neither exists. Reads the disk: call it on the blocking pool.
pub fn save_folder(fallback: std::path::PathBuf) -> std::path::PathBuf {
    std::env::var_os("LANYARD_BUNDLE_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join("Downloads")))
        .filter(|d| d.is_dir())
        .unwrap_or(fallback)
}

/// Minutes before the session ends to warn, from the setting's text: 0 to one week. Anything
/// else (unparsable, negative, or so large the date arithmetic would overflow and panic at
/// start) means the default, 15.
pub fn warning_minutes(raw: Option<&str>) -> i64 {
    raw.and_then(|v| v.trim().parse().ok())
        .filter(|m| (0..=7 * 24 * 60).contains(m))
        .unwrap_or(15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_setting_out_of_range_is_the_default_not_a_panic() {
        assert_eq!(warning_minutes(None), 15);
        assert_eq!(warning_minutes(Some("30")), 30);
        for bad in ["-5", "soon", "9223372036854775807", "153722867280912931"] {
            let m = warning_minutes(Some(bad));
            assert_eq!(m, 15, "{bad}");
            // What the app does with it at start must not panic.
            let _ = chrono::Duration::minutes(m);
        }
    }
}
