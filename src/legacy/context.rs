//! What every legacy operation (scan, disconnect, retry, restore, purge) works in: the home
//! folder whose MCP clients are read, Lanyard's state folder, the connector index, the
//! keyring, the HTTP client and the process probe. Its own module so disconnect, the retry
//! queue, restore and backups all depend on it rather than on each other; it depends on none
//! of them (its scan and backup methods live in `legacy/mod.rs`).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

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
