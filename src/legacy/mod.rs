//! Legacy per-user MCP OAuth connections that other applications keep on this machine
//! (peers.md "Where per-user (legacy) MCP OAuth tokens live"): find them, map them to the
//! policy's connectors, disconnect them (backup → remove locally → revoke at the server) and
//! put the local part back on request.
//!
//! What is listed never carries a token: tokens are read into `Secret` only when an entry is
//! disconnected, and only to revoke them.

mod audit;
mod backup;
pub(crate) mod clients;
mod context;
mod disconnect;
mod edit;
mod files;
mod hooks;
pub mod json_edit;
mod mapping;
mod md5;
mod process;
mod queue;
mod receipt;
mod restore;
mod revoke;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_safety;

pub use audit::{AuditRecord, read as audit_log};
pub use backup::{RETENTION_ENV, backups, purge_backups};
pub use clients::ReadError;
pub use context::LegacyContext;
pub use disconnect::{DisconnectOptions, covered_ids, disconnect};
pub use mapping::{ConnectorIndex, normalise};
pub use process::ProcessProbe;
pub use queue::{QueuedRevocation, next_attempt, pending, retry_due, retry_queued};
pub use receipt::{Receipt, Revocation};
pub use restore::{RestoreReport, restore};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::policy::Policy;

/// The MCP client application whose store holds an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum ClientApp {
    McpRemote,
    ClaudeCode,
    Codex,
    Gemini,
    Goose,
    InspectorV2,
    VsCode,
}

impl ClientApp {
    pub const ALL: [ClientApp; 7] = [
        Self::McpRemote,
        Self::ClaudeCode,
        Self::Codex,
        Self::Gemini,
        Self::Goose,
        Self::InspectorV2,
        Self::VsCode,
    ];

    /// Stable machine name (ids, backups, JSON).
    pub fn slug(self) -> &'static str {
        match self {
            Self::McpRemote => "mcp-remote",
            Self::ClaudeCode => "claude-code",
            Self::Codex => "codex",
            Self::Gemini => "gemini",
            Self::Goose => "goose",
            Self::InspectorV2 => "inspector-v2",
            Self::VsCode => "vs-code",
        }
    }

    /// What a person calls it.
    pub fn label(self) -> &'static str {
        match self {
            Self::McpRemote => "mcp-remote",
            Self::ClaudeCode => "Claude Code",
            Self::Codex => "Codex CLI",
            Self::Gemini => "Gemini CLI",
            Self::Goose => "Goose",
            Self::InspectorV2 => "MCP Inspector",
            Self::VsCode => "VS Code",
        }
    }
}

/// One legacy connection as a person sees it. Deliberately holds no token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LegacyEntry {
    /// Stable across scans: `<client>:<hash of file and key>`.
    pub id: String,
    pub client: ClientApp,
    pub file: PathBuf,
    pub server_url: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub account: Option<String>,
    /// RFC 3339; null when unknown.
    #[cfg_attr(test, ts(type = "string | null"))]
    pub expires_at: Option<DateTime<Utc>>,
    pub has_refresh_token: bool,
    /// The policy connector this entry belongs to, when it could be matched.
    pub connector_id: Option<String>,
    /// Lanyard holds a zero-touch grant for that connector, so this entry can go.
    pub covered_by_ema: bool,
    /// False when Lanyard cannot remove it (VS Code encrypts its tokens).
    pub can_disconnect: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "LegacyScan"))]
pub struct ScanReport {
    pub entries: Vec<LegacyEntry>,
    /// Files that exist but could not be read or understood (never fatal to the scan).
    pub problems: Vec<String>,
}

/// Every legacy entry under `home`, mapped to `policy`'s connectors by URL or mcp-remote hash.
/// `ema_granted`: connector ids Lanyard holds a zero-touch grant for.
pub fn scan(home: &Path, policy: &Policy, ema_granted: &HashSet<String>) -> ScanReport {
    scan_with(home, &ConnectorIndex::from_policy(policy), ema_granted)
}

/// As [`scan`], with an index that may also know the connectors' issuers.
pub fn scan_with(home: &Path, index: &ConnectorIndex, ema_granted: &HashSet<String>) -> ScanReport {
    let (found, problems) = clients::read_all(home, index);
    let entries = found
        .into_iter()
        .map(|f| {
            let mut e = f.entry;
            e.covered_by_ema = e
                .connector_id
                .as_ref()
                .is_some_and(|c| ema_granted.contains(c));
            e
        })
        .collect();
    ScanReport { entries, problems }
}

#[derive(Debug, thiserror::Error)]
pub enum LegacyError {
    #[error("cannot use {path}: {why}")]
    Io { path: String, why: String },
    /// A store file that could not be read as its application writes it.
    #[error("{0}")]
    Read(clients::ReadError),
    #[error("{0}")]
    Edit(#[from] json_edit::EditError),
    #[error("no backup named {0}")]
    UnknownBackup(String),
    #[error("the keyring refused: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error(
        "{0} changed while Lanyard was editing it (its application wrote to it); nothing was changed, try again"
    )]
    Changed(String),
    #[error("the legacy backup can't be opened: {0}")]
    BackupKey(&'static str),
}

pub(crate) fn io_err(path: &Path, e: impl std::fmt::Display) -> LegacyError {
    LegacyError::Io {
        path: path.display().to_string(),
        why: e.to_string(),
    }
}

/// The operations on a context that reach into the backups: here in the facade so
/// `context` (which `backup` uses) does not depend on `backup`.
impl LegacyContext {
    /// Every legacy entry under `home`. Also the moment expired backups are deleted: the app
    /// and the CLI both scan regularly, so expiry needs no timer of its own.
    pub fn scan(&self) -> ScanReport {
        self.prune_backups();
        self.sweep_temp_files();
        scan_with(&self.home, &self.index, &self.ema_granted)
    }

    /// Deletes the temp files a Lanyard process killed mid-edit left beside other apps'
    /// stores (where a symlinked store really is, too) and in Lanyard's own legacy files:
    /// only ours, only once their writer is gone (`atomic::sweep`).
    pub(crate) fn sweep_temp_files(&self) {
        let stores = clients::READERS.iter().flat_map(|r| (r.files)(&self.home));
        let mut dirs: Vec<PathBuf> = Vec::new();
        for file in stores {
            let real = std::fs::canonicalize(&file).ok();
            for f in std::iter::once(file).chain(real) {
                dirs.extend(f.parent().map(Path::to_path_buf));
            }
        }
        dirs.push(self.state_dir.clone());
        dirs.push(self.state_dir.join(backup::DIR));
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            crate::atomic::sweep(&dir);
        }
    }

    /// The backups that can still be restored (expired ones are deleted first), newest first.
    pub fn backups(&self) -> Vec<(String, LegacyEntry)> {
        self.prune_backups();
        backups(&self.state_dir)
    }

    pub(crate) fn prune_backups(&self) {
        let now = self.http.clock().now();
        if let Err(e) = backup::prune_expired(&self.state_dir, now) {
            tracing::warn!(error = %e, "could not delete expired legacy backups");
        }
    }
}
