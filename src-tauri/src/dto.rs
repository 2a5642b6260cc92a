//! What crosses IPC besides `StatusView`: errors as a closed code the UI branches on plus a
//! message for people, and the app's settings. Nothing here can hold a `Secret`.

use serde::Serialize;

use lanyard::EngineError;

/// The closed set of error codes the UI knows how to present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The policy file is missing or invalid: only an admin can fix it.
    PolicyInvalid,
    /// The OS keyring can't be reached.
    KeyringUnavailable,
    NotSignedIn,
    /// The person cancelled sign-in: not an error to show.
    Cancelled,
    /// Sign-in timed out or was refused by the IdP.
    SignInFailed,
    SignInInProgress,
    UnknownConnector,
    /// Input the person typed is unusable (the pilot's users or expected grants).
    InvalidInput,
    Internal,
}

/// What every failed command rejects with.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// The core's precise code (e.g. `issuer_mismatch`), for support; empty when the app
    /// itself refused.
    pub detail: &'static str,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            detail: "",
        }
    }
}

impl From<&EngineError> for AppError {
    fn from(e: &EngineError) -> Self {
        let code = match e {
            EngineError::Policy(_) => ErrorCode::PolicyInvalid,
            EngineError::Store(_) => ErrorCode::KeyringUnavailable,
            EngineError::NotSignedIn => ErrorCode::NotSignedIn,
            EngineError::Login(l) if l.code() == "cancelled" => ErrorCode::Cancelled,
            EngineError::Login(_) => ErrorCode::SignInFailed,
            EngineError::UnknownConnector(_) => ErrorCode::UnknownConnector,
            EngineError::State(_) | EngineError::DeviceKey(_) => ErrorCode::Internal,
        };
        Self {
            code,
            message: format!("{e}. {}", e.hint()),
            detail: e.code(),
        }
    }
}

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> Self {
        Self::from(&e)
    }
}

/// The app's settings (command `get_settings`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Settings {
    pub autostart: bool,
    /// Minutes before the IdP session lapses at which the user is warned.
    pub session_warning_minutes: i64,
    pub policy_path: Option<String>,
    /// The policy marks this as the admin's pilot machine: the window opens on Admin pilot.
    pub pilot_machine: bool,
}
