//! What the engine's public methods can fail with, each with a stable code and a hint.

use crate::policy::PolicyError;
use crate::protocol::oidc::LoginError;
use crate::store::StoreError;
use crate::store::state::StateError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Login(#[from] LoginError),
    #[error("not signed in: run `lanyard login`")]
    NotSignedIn,
    #[error("no connector \"{0}\" in the policy")]
    UnknownConnector(String),
    #[error("this device's key is unusable: {0}")]
    DeviceKey(String),
}

impl EngineError {
    /// A stable code the UI and scripts branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Policy(_) => "policy_invalid",
            Self::State(_) => "state_unavailable",
            Self::Store(_) => "keyring_unavailable",
            Self::Login(e) => e.code(),
            Self::NotSignedIn => "not_signed_in",
            Self::UnknownConnector(_) => "unknown_connector",
            Self::DeviceKey(_) => "device_key",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            Self::Policy(_) => "Ask your IT admin to check Lanyard's policy file.".into(),
            Self::State(_) => "Check that Lanyard's data folder is writable.".into(),
            Self::Store(_) => "Unlock or start your system keyring, then try again.".into(),
            Self::Login(e) => e.hint(),
            Self::NotSignedIn => "Sign in first.".into(),
            Self::UnknownConnector(_) => "Use an id listed by `lanyard status`.".into(),
            Self::DeviceKey(_) => {
                "Delete the device key with `lanyard logout` and register a new one.".into()
            }
        }
    }
}

/// What `logout` did, for the person who asked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogoutReport {
    /// `Some(true)`: the IdP revoked the refresh token; `Some(false)`: the IdP has no
    /// revocation endpoint; `None`: there was no refresh token, or revocation failed.
    pub revoked_at_idp: Option<bool>,
    pub revocation_error: Option<String>,
    pub forgotten_connectors: usize,
}
