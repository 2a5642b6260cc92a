//! The audit log of legacy disconnects and restores: JSON lines in
//! `<state_dir>/legacy-audit.jsonl`, readable by the user only, never holding a token,
//! appended under a cross-process lock.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{ClientApp, LegacyError, io_err};

pub(crate) const FILE: &str = "legacy-audit.jsonl";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditRecord {
    pub at: DateTime<Utc>,
    /// `disconnect`, `restore` or `retry`.
    pub action: String,
    pub entry_id: String,
    pub client: Option<ClientApp>,
    pub connector_id: Option<String>,
    pub file: Option<PathBuf>,
    pub backup_id: Option<String>,
    pub dry_run: bool,
    pub removed_locally: bool,
    /// `revoked`, `no_endpoint`, `failed`, `not_attempted`.
    pub revocation: String,
    pub note: Option<String>,
}

pub(crate) fn append(state_dir: &Path, record: &AuditRecord) -> Result<(), LegacyError> {
    super::files::private_dir(state_dir)?;
    let path = state_dir.join(FILE);
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&path).map_err(|e| io_err(&path, e))?;
    // One writer at a time across processes, so lines never interleave; released on drop.
    f.lock().map_err(|e| io_err(&path, e))?;
    let mut line = serde_json::to_string(record).map_err(|e| io_err(&path, e))?;
    line.push('\n');
    f.write_all(line.as_bytes()).map_err(|e| io_err(&path, e))
}

/// Every record so far (unreadable lines are skipped).
pub fn read(state_dir: &Path) -> Vec<AuditRecord> {
    std::fs::read_to_string(state_dir.join(FILE))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
