//! `lanyard status --json` version 1 (product.md contract): the one view every host renders.
//!
//! Built only from the state file, never from the keyring or the network, so it is instant
//! and needs no unlock. Every type here is `Serialize` and holds no `Secret` — by construction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::view::connector::{ConnectorError, ConnectorState};

pub const STATUS_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StatusView {
    #[cfg_attr(test, ts(type = "1"))]
    pub version: u32,
    pub session: SessionView,
    pub connectors: Vec<ConnectorView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    SignedIn,
    SignedOut,
    Expired,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SessionView {
    pub state: SessionState,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub email: Option<String>,
    /// When the IdP session (the ID token, or the refresh token if it is what renews) ends.
    /// RFC 3339.
    #[cfg_attr(test, ts(type = "string | null"))]
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether Lanyard can renew it without the user: it holds an IdP refresh token, and
    /// renewing is not failing right now (an IdP outage makes it `false` until a retry works).
    pub renewable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ConnectorView {
    pub id: String,
    pub name: String,
    pub mcp_url: String,
    pub state: ConnectorState,
    /// RFC 3339; null means unknown (opaque token without expires_in), shown as such.
    #[cfg_attr(test, ts(type = "string | null"))]
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    pub tools: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub error: Option<ConnectorError>,
}

impl ConnectorView {
    /// The state's words (`ConnectorState::label`), except where the cause changes what the
    /// person should think: a keyring that refuses to save is not the network (issue 10).
    pub fn label(&self) -> &'static str {
        let keyring = self
            .error
            .as_ref()
            .is_some_and(|e| e.code == "keyring_unavailable");
        match self.state {
            ConnectorState::Unreachable if keyring => "Keyring locked or unavailable; retrying",
            state => state.label(),
        }
    }
}

impl StatusView {
    /// The CLI's exit-code contract: 0 fine, 3 sign-in needed, 4 a connector needs attention.
    pub fn exit_code(&self) -> i32 {
        if self.session.state != SessionState::SignedIn {
            return 3;
        }
        if self.connectors.iter().any(|c| c.state.needs_attention()) {
            return 4;
        }
        0
    }
}
