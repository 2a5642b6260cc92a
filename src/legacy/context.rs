//! What every legacy operation (scan, disconnect, retry, restore, purge) works in: the home
//! folder whose MCP clients are read, Lanyard's state folder, the connector index, the
//! keyring, the HTTP client and the process probe. Its own module so disconnect, the retry
//! queue and restore all depend on it rather than on each other.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ScanReport;
use super::mapping::ConnectorIndex;
use super::process::ProcessProbe;
use crate::http::Http;
use crate::store::SecretStore;

/// Everything disconnect, retry and restore need; the home folder and state folder are
/// parameters so tests and the lab use temporary ones.
#[derive(Debug, Clone)]
pub struct LegacyContext {
    pub home: PathBuf,
    pub state_dir: PathBuf,
    pub index: ConnectorIndex,
    /// Connector ids Lanyard holds a zero-touch grant for.
    pub ema_granted: HashSet<String>,
    pub http: Http,
    /// Where tokens of queued revocations and the backups' key live (the OS keyring in the app).
    pub store: Arc<dyn SecretStore>,
    pub processes: ProcessProbe,
}

impl LegacyContext {
    /// Every legacy entry under `home`. Also the moment expired backups are deleted: the app
    /// and the CLI both scan regularly, so expiry needs no timer of its own.
    pub fn scan(&self) -> ScanReport {
        self.prune_backups();
        self.sweep_temp_files();
        super::scan_with(&self.home, &self.index, &self.ema_granted)
    }

    /// The backups that can still be restored (expired ones are deleted first), newest first.
    pub fn backups(&self) -> Vec<(String, super::LegacyEntry)> {
        self.prune_backups();
        super::backups(&self.state_dir)
    }

    /// Deletes the temp files a Lanyard process killed mid-edit left beside other apps'
    /// stores (where a symlinked store really is, too) and in Lanyard's own legacy files:
    /// only ours, only once their writer is gone (`atomic::sweep`).
    pub(crate) fn sweep_temp_files(&self) {
        let stores = super::clients::READERS
            .iter()
            .flat_map(|r| (r.files)(&self.home));
        let mut dirs: Vec<PathBuf> = Vec::new();
        for file in stores {
            let real = std::fs::canonicalize(&file).ok();
            for f in std::iter::once(file).chain(real) {
                dirs.extend(f.parent().map(Path::to_path_buf));
            }
        }
        dirs.push(self.state_dir.clone());
        dirs.push(self.state_dir.join(super::backup::DIR));
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            crate::atomic::sweep(&dir);
        }
    }

    pub(crate) fn prune_backups(&self) {
        let now = self.http.clock().now();
        if let Err(e) = super::backup::prune_expired(&self.state_dir, now) {
            tracing::warn!(error = %e, "could not delete expired legacy backups");
        }
    }
}
