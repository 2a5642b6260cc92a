//! What a disconnect or a retried revocation came to, for a person and for JSON: one receipt
//! per entry, holding no token.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use super::{ClientApp, LegacyEntry};

/// What happened at the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Revocation {
    Revoked,
    /// No revocation endpoint: the grant may persist at the provider.
    NoEndpoint,
    /// Queued for retry, or (`permanent`) refused for good by the server and not retried.
    Failed {
        reason: String,
        #[serde(default)]
        permanent: bool,
    },
    /// Dry run, refused, or local removal failed first.
    NotAttempted,
}

impl Revocation {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::NoEndpoint => "no_endpoint",
            Self::Failed { .. } => "failed",
            Self::NotAttempted => "not_attempted",
        }
    }

    pub(crate) fn message(&self, client: ClientApp, removed: bool) -> String {
        let app = client.label();
        match (self, removed) {
            (Self::Revoked, true) => format!("Revoked at the server and removed from {app}."),
            (Self::Revoked, false) => "Revoked at the server.".into(),
            (Self::NoEndpoint, _) => format!(
                "Removed from {app} only: the provider has no revocation endpoint, so the grant may persist at the provider until it expires."
            ),
            (
                Self::Failed {
                    reason,
                    permanent: true,
                },
                _,
            ) => format!(
                "Removed from {app}; the server refused the revocation for good ({reason}), so Lanyard will not retry: the grant may persist at the provider until it expires or you revoke it in the provider's settings."
            ),
            (Self::Failed { reason, .. }, _) => format!(
                "Removed from {app}; revocation at the server failed ({reason}) and is queued for retry."
            ),
            (Self::NotAttempted, _) => format!("Nothing changed in {app}."),
        }
    }
}

/// One entry's outcome. Holds no token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Receipt {
    pub entry_id: String,
    pub client: Option<ClientApp>,
    pub connector_id: Option<String>,
    pub removed_locally: bool,
    /// The private, encrypted copy of the removed entry taken before the change.
    pub backup: Option<PathBuf>,
    /// What `restore` takes to put the local entry back.
    pub backup_id: Option<String>,
    pub revocation: Revocation,
    /// One sentence for a person.
    pub message: String,
}

impl Receipt {
    /// Nothing was changed, for the reason in `message`.
    pub(crate) fn not_done(id: &str, entry: Option<&LegacyEntry>, message: &str) -> Self {
        Receipt {
            entry_id: id.to_string(),
            client: entry.map(|e| e.client),
            connector_id: entry.and_then(|e| e.connector_id.clone()),
            removed_locally: false,
            backup: None,
            backup_id: None,
            revocation: Revocation::NotAttempted,
            message: message.to_string(),
        }
    }
}
