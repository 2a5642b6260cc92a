//! mcp-remote: `~/.mcp-auth/mcp-remote-<version>/<md5>_tokens.json` (+ `_client_info.json`,
//! `_lock.json`) in every version folder. The file name is the MD5 of the server URL, so the
//! URL is recovered by hashing connector URLs and URLs from MCP client configurations.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{
    Credentials, Found, Reader, Snapshot, Target, entry, finish, parse_json, read_json,
    secret_field, str_field,
};
use crate::legacy::ClientApp;
use crate::legacy::mapping::ConnectorIndex;

const TOKENS_SUFFIX: &str = "_tokens.json";

/// Every `mcp-remote-*` folder under `~/.mcp-auth`.
fn version_dirs(home: &Path) -> Vec<PathBuf> {
    let root = home.join(".mcp-auth");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("mcp-remote-"))
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The lock file mcp-remote holds while a process uses this server's tokens.
pub(crate) fn lock_file(tokens_file: &Path) -> Option<PathBuf> {
    let name = tokens_file.file_name()?.to_str()?;
    let hash = name.strip_suffix(TOKENS_SUFFIX)?;
    Some(tokens_file.with_file_name(format!("{hash}_lock.json")))
}

pub(crate) const READER: Reader = Reader {
    app: ClientApp::McpRemote,
    files: tokens_files,
    parse: |snap, index, out, problems| {
        parse_json(snap, out, problems, |tokens| {
            Ok(vec![record(snap, tokens, index)])
        })
    },
};

/// Every `<md5>_tokens.json` in every version folder.
fn tokens_files(home: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in version_dirs(home) {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(is_tokens_file)
            })
            .collect();
        files.sort();
        out.append(&mut files);
    }
    out
}

fn is_tokens_file(name: &str) -> bool {
    name.strip_suffix(TOKENS_SUFFIX)
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn record(snap: &Snapshot, tokens: &Value, index: &ConnectorIndex) -> Found {
    let file = snap.path.as_path();
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let hash = name.trim_end_matches(TOKENS_SUFFIX);
    let info = read_json(&file.with_file_name(format!("{hash}_client_info.json")))
        .and_then(Result::ok)
        .unwrap_or(Value::Null);
    let (mapped, url) = match index.by_mcp_remote_hash(hash) {
        Some((id, url)) => (id.map(str::to_string), Some(url)),
        None => (None, None),
    };
    let mut e = entry(
        ClientApp::McpRemote,
        file,
        hash,
        url.clone(),
        None,
        str_field(&info, "client_id"),
        index,
    );
    e.connector_id = e.connector_id.or(mapped);
    if url.is_none() {
        e.note = Some("server URL unknown: mcp-remote stores only a hash of it".into());
    }
    let creds = Credentials {
        access: secret_field(tokens, "access_token"),
        refresh: secret_field(tokens, "refresh_token"),
        client_secret: secret_field(&info, "client_secret"),
        auth_method: str_field(&info, "token_endpoint_auth_method"),
    };
    finish(e, Target::WholeFile, creds, expiry(snap.modified, tokens))
}

/// `expires_in` is relative: mcp-remote writes the file when it gets the token, so the file's
/// modification time is the issue time. Any number the file holds is accepted; one too large
/// for a date is "unknown", never a crash.
fn expiry(modified: Option<SystemTime>, tokens: &Value) -> Option<DateTime<Utc>> {
    let secs = match tokens.get("expires_in")? {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    if secs <= 0 {
        return None;
    }
    let mtime: DateTime<Utc> = modified?.into();
    mtime.checked_add_signed(Duration::try_seconds(secs)?)
}

/// URLs that MCP client configurations pass to `mcp-remote` (Claude Desktop, Cursor).
pub(crate) fn learn_urls_from_client_configs(home: &Path, index: &mut ConnectorIndex) {
    let configs = [
        home.join(".config/Claude/claude_desktop_config.json"),
        home.join("Library/Application Support/Claude/claude_desktop_config.json"),
        home.join(".cursor/mcp.json"),
    ];
    for path in configs {
        let Some(Ok(doc)) = read_json(&path) else {
            continue;
        };
        let Some(servers) = doc.get("mcpServers").and_then(Value::as_object) else {
            continue;
        };
        for server in servers.values() {
            let args: Vec<&str> = server
                .get("args")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let Some(at) = args.iter().position(|a| a.contains("mcp-remote")) else {
                continue;
            };
            if let Some(url) = args[at + 1..].iter().find(|a| a.starts_with("http")) {
                index.add_known_url(url);
            }
        }
    }
}
