//! The connector state vocabulary shared by core, CLI, tray and window (product.md), and the
//! outcome of resolving one connector.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConnectorState {
    Granted,
    Denied,
    NeedsSignIn,
    Unsupported,
    Misconfigured,
    Unreachable,
    Pending,
}

impl ConnectorState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::Denied => "denied",
            Self::NeedsSignIn => "needs_sign_in",
            Self::Unsupported => "unsupported",
            Self::Misconfigured => "misconfigured",
            Self::Unreachable => "unreachable",
            Self::Pending => "pending",
        }
    }

    /// What the person sees for this state: product.md's words, the one source for the CLI,
    /// the tray and the window (which gets them generated into
    /// `ui/src/lib/backend/status.generated.ts`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Granted => "Granted",
            Self::Denied => "Not granted by your organisation",
            Self::NeedsSignIn => "Sign in",
            Self::Unsupported => "Not available zero-touch",
            Self::Misconfigured => "Set-up problem: tell your IT admin",
            Self::Unreachable => "Can't reach the server; retrying",
            Self::Pending => "Checking…",
        }
    }

    /// The same state in one or two words, for a compact row where the name and time sit
    /// beside it.
    pub fn word(self) -> &'static str {
        match self {
            Self::Granted => "Granted",
            Self::Denied => "Not granted",
            Self::NeedsSignIn => "Sign in",
            Self::Unsupported => "Not zero-touch",
            Self::Misconfigured => "Set-up problem",
            Self::Unreachable => "Can't reach",
            Self::Pending => "Checking…",
        }
    }

    pub const ALL: [Self; 7] = [
        Self::Granted,
        Self::Denied,
        Self::NeedsSignIn,
        Self::Unsupported,
        Self::Misconfigured,
        Self::Unreachable,
        Self::Pending,
    ];

    /// States that make `lanyard status` exit 4: something an admin or the network must fix.
    pub fn needs_attention(self) -> bool {
        matches!(self, Self::Misconfigured | Self::Unreachable)
    }
}

impl std::fmt::Display for ConnectorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which leg failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Discovery,
    TokenExchange,
    JwtBearer,
    Mcp,
}

/// Why a connector is not granted: safe to show and to store (no secrets, scrubbed text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ConnectorError {
    pub stage: Stage,
    /// The server's OAuth error code, or a Lanyard code such as `issuer_mismatch`.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub description: Option<String>,
    /// What to do about it, written for a person.
    pub hint: String,
}

/// A zero-touch grant for one connector. Holds the access token, so it is not `Serialize`.
#[derive(Debug, Clone)]
pub struct Grant {
    pub access_token: Secret,
    /// `None` means unknown (no `expires_in`, not a JWT): shown honestly as unknown.
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    /// Number of tools `tools/list` returned with this token.
    pub tools: Option<u32>,
    /// The authorization server's issuer (the ID-JAG audience).
    pub as_issuer: String,
    /// The MCP server's resource identifier from its protected-resource metadata.
    pub resource: String,
}

/// The result of one attempt to resolve a connector.
#[derive(Debug, Clone)]
pub enum Resolution {
    Granted(Grant),
    Failed {
        state: ConnectorState,
        error: ConnectorError,
        /// The IdP refused the subject token itself: renewing the session may fix it.
        fresh_subject: bool,
    },
}

impl Resolution {
    pub fn state(&self) -> ConnectorState {
        match self {
            Self::Granted(_) => ConnectorState::Granted,
            Self::Failed { state, .. } => *state,
        }
    }
}
