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
        let session_warning_minutes = std::env::var("LANYARD_SESSION_WARNING_MINUTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(15);
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
