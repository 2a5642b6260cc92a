//! The non-secret state file: who is signed in, each connector's state, expiry, scopes, tools
//! and last error, plus the last trace of each flow. Written atomically (temp file + rename)
//! under a lock file, so a crash or a second Lanyard process never leaves a torn file.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::atomic::Mode;
use crate::policy::ConnectorId;
use crate::trace::Step;
use crate::view::connector::{ConnectorError, ConnectorState};

pub const STATE_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub session: Option<SessionRecord>,
    pub connectors: BTreeMap<String, ConnectorRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// The ID token's expiry: after it, only the refresh token can renew without the user.
    pub id_token_expires_at: DateTime<Utc>,
    /// Whether an IdP refresh token is held (the session renews without the user).
    pub renewable: bool,
    pub signed_in_at: DateTime<Utc>,
    /// When the current ID token was obtained (sign-in or the last refresh): the session's
    /// renewal margin is a share of that token's lifetime. Absent in older state files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_obtained_at: Option<DateTime<Utc>>,
    /// Set when renewal failed for good (refresh token rejected): the user must sign in.
    #[serde(default)]
    pub expired: bool,
    /// Set while renewing the session keeps failing for now (the IdP unreachable or
    /// answering 5xx); cleared by the next successful refresh. The session lapses at
    /// `id_token_expires_at` unless a retry succeeds first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub renewal_failing: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorRecord {
    pub name: String,
    pub mcp_url: String,
    pub state: ConnectorState,
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub tools: Option<u32>,
    pub error: Option<ConnectorError>,
    pub updated_at: DateTime<Utc>,
    /// Consecutive failed renewals, for backoff while `unreachable`.
    #[serde(default)]
    pub failures: u32,
    /// When the renewal scheduler should next look at this connector.
    pub next_renewal_at: Option<DateTime<Utc>>,
    /// The connector's authorization-server issuer, once discovered: lets the legacy scanner
    /// match other clients' tokens to this connector without network access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_issuer: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot use state folder {path}: {why}")]
    Io { path: String, why: String },
    #[error("state file {path} is damaged ({why}); it was moved aside to {moved_to}")]
    Damaged {
        path: String,
        why: String,
        moved_to: String,
    },
}

/// The state folder: `state.json`, `state.lock`, `traces/`.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    pub fn open(root: &Path) -> Result<Self, StateError> {
        create_private_dir(root)?;
        let connector_traces = root.join("traces").join("connector");
        create_private_dir(&connector_traces)?;
        // Temp files of Lanyard processes killed mid-write (never a live writer's).
        for dir in [root.to_path_buf(), root.join("traces"), connector_traces] {
            crate::atomic::sweep(&dir);
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// `--state-dir`, else `$LANYARD_STATE_DIR`, else the platform data folder.
    pub fn default_root() -> PathBuf {
        if let Some(p) = std::env::var_os("LANYARD_STATE_DIR").filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        dirs::data_local_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("lanyard")
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn state_path(&self) -> PathBuf {
        self.root.join("state.json")
    }

    /// Reads the state; a missing file is the empty state.
    pub fn load(&self) -> Result<State, StateError> {
        let path = self.state_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                // Keep the damaged file for support rather than silently discarding it.
                let moved = path.with_extension(format!("damaged-{}", Utc::now().timestamp()));
                let _ = std::fs::rename(&path, &moved);
                StateError::Damaged {
                    path: path.display().to_string(),
                    why: e.to_string(),
                    moved_to: moved.display().to_string(),
                }
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State {
                version: STATE_VERSION,
                ..State::default()
            }),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    /// Read-modify-write under the cross-process lock, so two writers never lose each
    /// other's connector updates.
    pub fn update<T>(&self, change: impl FnOnce(&mut State) -> T) -> Result<T, StateError> {
        let lock_path = self.root.join("state.lock");
        let lock = File::create(&lock_path).map_err(|e| io_err(&lock_path, e))?;
        lock.lock().map_err(|e| io_err(&lock_path, e))?;
        let mut state = match self.load() {
            Ok(s) => s,
            Err(StateError::Damaged { .. }) => State {
                version: STATE_VERSION,
                ..State::default()
            },
            Err(e) => return Err(e),
        };
        let out = change(&mut state);
        state.version = STATE_VERSION;
        let bytes = serde_json::to_vec_pretty(&state).map_err(|e| StateError::Io {
            path: self.state_path().display().to_string(),
            why: e.to_string(),
        })?;
        write_atomic(&self.state_path(), &bytes)?;
        drop(lock);
        Ok(out)
    }

    /// Takes the cross-process session lock (`session.lock`): held while the session's tokens
    /// change, so two processes never spend the same rotated refresh token. Blocks until free.
    pub fn lock_session(&self) -> Result<File, StateError> {
        let path = self.root.join("session.lock");
        let lock = File::create(&path).map_err(|e| io_err(&path, e))?;
        lock.lock().map_err(|e| io_err(&path, e))?;
        Ok(lock)
    }

    pub fn save_trace(&self, name: &TraceName, steps: &[Step]) -> Result<(), StateError> {
        let path = self.trace_path(name);
        let bytes = serde_json::to_vec_pretty(steps).map_err(|e| StateError::Io {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        // Traces are diagnostics, rewritten every run: rename for atomicity, but no fsync.
        write_replace(&path, &bytes)
    }

    pub fn load_trace(&self, name: &TraceName) -> Vec<Step> {
        std::fs::read(self.trace_path(name))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Forgets every trace (logout). Traces are diagnostics: one that can't be removed is
    /// logged and left, it never stops a logout.
    pub fn remove_traces(&self) {
        let traces = self.root.join("traces");
        for dir in [traces.clone(), traces.join("connector")] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten().filter(|e| e.path().is_file()) {
                if let Err(err) = std::fs::remove_file(e.path()) {
                    tracing::warn!(path = %e.path().display(), "could not remove a trace: {err}");
                }
            }
        }
    }

    fn trace_path(&self, name: &TraceName) -> PathBuf {
        let traces = self.root.join("traces");
        match name {
            // A `ConnectorId` is letters, digits, '-' and '_' only: already a safe file name.
            TraceName::Connector(id) => traces.join("connector").join(format!("{id}.json")),
            session => traces.join(format!("{session}.json")),
        }
    }
}

/// Which flow a trace file records. Session flows and connectors live in separate folders, so
/// no connector id can overwrite the session's trace (and the policy reserves the names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceName {
    SignIn,
    SessionRefresh,
    SignOut,
    Connector(ConnectorId),
}

impl TraceName {
    /// A host's name for a trace: a session flow's name, else a connector id; `None` when it
    /// is neither (no file could hold it).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "sign-in" => Self::SignIn,
            "session-refresh" => Self::SessionRefresh,
            "sign-out" => Self::SignOut,
            id => Self::Connector(ConnectorId::parse(id).ok()?),
        })
    }
}

impl std::fmt::Display for TraceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::SignIn => "sign-in",
            Self::SessionRefresh => "session-refresh",
            Self::SignOut => "sign-out",
            Self::Connector(id) => id,
        })
    }
}

/// Temp file in the same folder, fsync, rename over the target: readers see old or new, never half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    crate::atomic::write(path, bytes, Mode::Private).map_err(|e| io_err(path, e))
}

/// Temp file + rename without fsync: never torn, but may be lost in a power cut.
fn write_replace(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    crate::atomic::replace(path, bytes, Mode::Private).map_err(|e| io_err(path, e))
}

fn create_private_dir(path: &Path) -> Result<(), StateError> {
    std::fs::create_dir_all(path).map_err(|e| io_err(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| io_err(path, e))?;
    }
    Ok(())
}

fn io_err(path: &Path, e: std::io::Error) -> StateError {
    StateError::Io {
        path: path.display().to_string(),
        why: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_names_are_session_flows_or_valid_connector_ids() {
        assert_eq!(TraceName::from_name("sign-in"), Some(TraceName::SignIn));
        let linear = ConnectorId::parse("linear").unwrap();
        assert_eq!(
            TraceName::from_name("linear"),
            Some(TraceName::Connector(linear))
        );
        // A name that is no connector id can't address a file, inside traces/ or out.
        for bad in ["../state", "a/b", "", "linear.json"] {
            assert_eq!(TraceName::from_name(bad), None, "{bad:?}");
        }
        // Every session flow's name is reserved by the policy: no connector can take one.
        for flow in [
            TraceName::SignIn,
            TraceName::SessionRefresh,
            TraceName::SignOut,
        ] {
            assert!(crate::policy::is_reserved_id(&flow.to_string()), "{flow}");
        }
    }

    fn record(state: ConnectorState) -> ConnectorRecord {
        ConnectorRecord {
            name: "Linear".into(),
            mcp_url: "http://127.0.0.1:1/mcp".into(),
            state,
            expires_at: None,
            scopes: vec![],
            tools: Some(3),
            error: None,
            updated_at: Utc::now(),
            failures: 0,
            next_renewal_at: None,
            as_issuer: None,
        }
    }

    #[test]
    fn update_round_trips_and_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::open(dir.path()).unwrap();
        assert!(sd.load().unwrap().connectors.is_empty());
        sd.update(|s| {
            s.connectors
                .insert("linear".into(), record(ConnectorState::Granted))
        })
        .unwrap();
        let loaded = sd.load().unwrap();
        assert_eq!(loaded.connectors["linear"].state, ConnectorState::Granted);
        assert_eq!(loaded.version, STATE_VERSION);
    }

    #[test]
    fn concurrent_updates_from_threads_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::open(dir.path()).unwrap();
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let sd = sd.clone();
                std::thread::spawn(move || {
                    sd.update(|s| {
                        s.connectors
                            .insert(format!("c{i}"), record(ConnectorState::Denied))
                    })
                    .unwrap();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(sd.load().unwrap().connectors.len(), 8);
    }

    #[test]
    fn damaged_file_is_moved_aside_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("state.json"), b"{not json").unwrap();
        let err = sd.load().unwrap_err();
        assert!(matches!(err, StateError::Damaged { .. }), "{err}");
        let kept = std::fs::read_dir(dir.path()).unwrap().flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("state.damaged-")
        });
        assert!(kept);
    }
}
