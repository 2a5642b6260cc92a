//! One reader per MCP client's token store, and what they share: the record a reader yields
//! (entry + where it sits in the file + the credentials needed to revoke it).

pub(crate) mod claude_code;
pub(crate) mod codex;
pub(crate) mod gemini;
pub(crate) mod goose;
pub(crate) mod inspector;
pub(crate) mod mcp_remote;
mod read_error;
pub(crate) mod vscode;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::json_edit::Seg;
use super::mapping::ConnectorIndex;
use super::{ClientApp, LegacyEntry};
use crate::secret::Secret;
pub use read_error::ReadError;

/// Where an entry lives inside its file, so it can be removed (and put back) alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub(crate) enum Target {
    /// A member or element of a JSON document.
    Json { path: Vec<Seg> },
    /// The whole file is the entry (mcp-remote's `<hash>_tokens.json`).
    WholeFile,
    /// A top-level key of a flat YAML mapping (Goose `secrets.yaml`).
    YamlKey { key: String },
    /// Lanyard cannot remove it.
    Nothing,
}

/// What revocation needs; read only at disconnect time and never serialised.
#[derive(Debug, Default)]
pub(crate) struct Credentials {
    pub access: Option<Secret>,
    pub refresh: Option<Secret>,
    pub client_secret: Option<Secret>,
    /// `token_endpoint_auth_method` from the stored client registration, if any.
    pub auth_method: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Found {
    pub entry: LegacyEntry,
    pub target: Target,
    pub creds: Credentials,
}

/// One file as read, once: readers parse these bytes, and disconnect edits, backs up and
/// re-checks exactly them.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// The path as the owning application names it (ids and entries use it).
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub modified: Option<SystemTime>,
}

impl Snapshot {
    /// `None` when the file does not exist.
    pub(crate) fn read(path: &Path) -> Option<Result<Snapshot, ReadError>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(source) => {
                let path = path.to_path_buf();
                return Some(Err(ReadError::Unreadable { path, source }));
            }
        };
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        Some(Ok(Snapshot {
            path: path.to_path_buf(),
            bytes,
            modified,
        }))
    }

    /// The bytes as text (every store Lanyard edits is text).
    pub(crate) fn text(&self) -> Result<&str, ReadError> {
        std::str::from_utf8(&self.bytes).map_err(|_| ReadError::NotText {
            path: self.path.clone(),
        })
    }

    /// The bytes as a JSON document.
    pub(crate) fn json(&self) -> Result<Value, ReadError> {
        serde_json::from_slice(&self.bytes).map_err(|source| ReadError::NotJson {
            path: self.path.clone(),
            source,
        })
    }
}

/// Entries found in one file; problems (text for a person) for parts it could not read.
pub(crate) type Parse = fn(&Snapshot, &ConnectorIndex, &mut Vec<Found>, &mut Vec<String>);

/// One MCP client's store: where its files are, and how to read one of them.
pub(crate) struct Reader {
    pub app: ClientApp,
    /// The files under `home` that may hold entries (missing ones are skipped).
    pub files: fn(&Path) -> Vec<PathBuf>,
    pub parse: Parse,
}

pub(crate) const READERS: [Reader; 7] = [
    mcp_remote::READER,
    claude_code::READER,
    codex::READER,
    gemini::READER,
    goose::READER,
    inspector::READER,
    vscode::READER,
];

pub(crate) fn reader(app: ClientApp) -> &'static Reader {
    // Invariant: READERS has one reader per ClientApp (checked by a test).
    READERS.iter().find(|r| r.app == app).unwrap_or(&READERS[0])
}

/// The index a scan maps with: `index` plus the URLs MCP client configs pass to mcp-remote.
pub(crate) fn scan_index(home: &Path, index: &ConnectorIndex) -> ConnectorIndex {
    let mut index = index.clone();
    mcp_remote::learn_urls_from_client_configs(home, &mut index);
    index
}

/// Every store under `home`; unreadable files become problems, not failures.
pub(crate) fn read_all(home: &Path, index: &ConnectorIndex) -> (Vec<Found>, Vec<String>) {
    read_with(home, &scan_index(home, index), &READERS)
}

/// As [`read_all`] with the given readers. A reader that panics on some input (a bug, never
/// the user's fault) costs only that file or store: it becomes one problem line.
pub(crate) fn read_with(
    home: &Path,
    index: &ConnectorIndex,
    readers: &[Reader],
) -> (Vec<Found>, Vec<String>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for reader in readers {
        let files = match catch_unwind(AssertUnwindSafe(|| (reader.files)(home))) {
            Ok(files) => files,
            Err(_) => {
                problems.push(format!(
                    "{}: unreadable (Lanyard failed to list its files)",
                    reader.app.label()
                ));
                continue;
            }
        };
        for file in files {
            let snap = match Snapshot::read(&file) {
                None => continue,
                Some(Err(p)) => {
                    problems.push(p.to_string());
                    continue;
                }
                Some(Ok(s)) => s,
            };
            let mut here = Vec::new();
            let mut why = Vec::new();
            let parsed = catch_unwind(AssertUnwindSafe(|| {
                (reader.parse)(&snap, index, &mut here, &mut why)
            }));
            match parsed {
                Ok(()) => {
                    found.append(&mut here);
                    problems.append(&mut why);
                }
                Err(_) => problems.push(format!(
                    "{}: unreadable (Lanyard failed to understand this {} file)",
                    file.display(),
                    reader.app.label()
                )),
            }
        }
    }
    (found, problems)
}

/// The entry `id` as it is in `snap` right now (for disconnect: the bytes it will edit).
pub(crate) fn find_in(
    snap: &Snapshot,
    app: ClientApp,
    index: &ConnectorIndex,
    id: &str,
) -> Option<Found> {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let reader = reader(app);
    catch_unwind(AssertUnwindSafe(|| {
        (reader.parse)(snap, index, &mut found, &mut problems)
    }))
    .ok()?;
    found.into_iter().find(|f| f.entry.id == id)
}

/// A stable id from the client, the file and the entry's key in it.
pub(crate) fn entry_id(client: ClientApp, file: &Path, key: &str) -> String {
    let fp = crate::secret::fingerprint(&format!("{}#{key}", file.display()));
    format!("{}:{}", client.slug(), &fp["sha256:".len()..])
}

/// Reads a JSON file that is not itself edited (configs, client registrations) if it exists.
pub(crate) fn read_json(path: &Path) -> Option<Result<Value, ReadError>> {
    Snapshot::read(path).map(|s| s.and_then(|s| s.json()))
}

/// The shape every JSON store shares: the whole file is one document; `entries` lists what
/// it holds, or says why the document is not what the store should look like.
pub(crate) fn parse_json(
    snap: &Snapshot,
    out: &mut Vec<Found>,
    problems: &mut Vec<String>,
    entries: impl FnOnce(&Value) -> Result<Vec<Found>, ReadError>,
) {
    match snap.json().and_then(|doc| entries(&doc)) {
        Ok(mut found) => out.append(&mut found),
        Err(p) => problems.push(p.to_string()),
    }
}

pub(crate) fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub(crate) fn secret_field(v: &Value, key: &str) -> Option<Secret> {
    str_field(v, key).map(Secret::new)
}

/// Epoch milliseconds (or seconds, when small enough to be seconds) as a time; 0, negative
/// and strings that are not numbers give `None` ("unknown", honestly: peers.md rule 5).
pub(crate) fn epoch(v: Option<&Value>) -> Option<DateTime<Utc>> {
    let n = match v? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if n <= 0.0 || !n.is_finite() {
        return None;
    }
    // Before ~1973 in ms is after 5000 AD in s: anything this large is milliseconds.
    let ms = if n > 1e11 { n } else { n * 1000.0 };
    // `as` saturates (no panic) and an out-of-range instant gives `None` below.
    Utc.timestamp_millis_opt(ms as i64).single()
}

/// The unverified `exp` / `email` of a JWT access token, for display when the store has none.
pub(crate) fn jwt_hints(token: Option<&Secret>) -> (Option<DateTime<Utc>>, Option<String>) {
    let Some(claims) = token.and_then(crate::protocol::jwt_peek::dangerous_unverified_claims)
    else {
        return (None, None);
    };
    let exp = epoch(claims.get("exp"));
    let account = claims
        .get("email")
        .and_then(Value::as_str)
        .map(str::to_string);
    (exp, account)
}

/// A new entry with the mapping fields filled from `index`.
#[allow(clippy::too_many_arguments)] // reason: one constructor shared by seven readers
pub(crate) fn entry(
    client: ClientApp,
    file: &Path,
    key: &str,
    server_url: Option<String>,
    issuer: Option<String>,
    client_id: Option<String>,
    index: &ConnectorIndex,
) -> LegacyEntry {
    let connector_id = server_url
        .as_deref()
        .and_then(|u| index.by_url(u))
        .or_else(|| issuer.as_deref().and_then(|i| index.by_issuer(i)))
        .map(str::to_string);
    LegacyEntry {
        id: entry_id(client, file, key),
        client,
        file: file.to_path_buf(),
        server_url,
        issuer,
        client_id,
        account: None,
        expires_at: None,
        has_refresh_token: false,
        connector_id,
        covered_by_ema: false,
        can_disconnect: true,
        note: None,
    }
}

/// Fills expiry, account and refresh-token presence from credentials and the store's expiry.
pub(crate) fn finish(
    mut entry: LegacyEntry,
    target: Target,
    creds: Credentials,
    stored_expiry: Option<DateTime<Utc>>,
) -> Found {
    let (jwt_exp, jwt_account) = jwt_hints(creds.access.as_ref());
    entry.expires_at = stored_expiry.or(jwt_exp);
    entry.account = entry.account.or(jwt_account);
    entry.has_refresh_token = creds.refresh.is_some();
    if entry.connector_id.is_none() && entry.note.is_none() {
        entry.note = Some("not one of your organisation's connectors".into());
    }
    Found {
        entry,
        target,
        creds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn epoch_handles_ms_seconds_zero_and_strings() {
        assert_eq!(
            epoch(Some(&json!(1_700_000_000_000i64)))
                .unwrap()
                .timestamp(),
            1_700_000_000
        );
        assert_eq!(
            epoch(Some(&json!(1_700_000_000))).unwrap().timestamp(),
            1_700_000_000
        );
        assert_eq!(
            epoch(Some(&json!("1700000000000"))).unwrap().timestamp(),
            1_700_000_000
        );
        assert_eq!(epoch(Some(&json!(0))), None);
        assert_eq!(epoch(Some(&json!(-5))), None);
        assert_eq!(epoch(Some(&json!("soon"))), None);
        assert_eq!(epoch(None), None);
    }

    #[test]
    fn there_is_one_reader_per_client() {
        for app in ClientApp::ALL {
            assert_eq!(
                READERS.iter().filter(|r| r.app == app).count(),
                1,
                "{app:?}"
            );
            assert_eq!(reader(app).app, app);
        }
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = entry_id(ClientApp::ClaudeCode, Path::new("/h/f"), "k");
        assert_eq!(a, entry_id(ClientApp::ClaudeCode, Path::new("/h/f"), "k"));
        assert_ne!(a, entry_id(ClientApp::ClaudeCode, Path::new("/h/f"), "j"));
        assert!(a.starts_with("claude-code:") && a.len() == "claude-code:".len() + 16);
    }
}
