//! One reader per MCP client's token store, and what they share: the record a reader yields
//! (entry + where it sits in the file + the credentials needed to revoke it).

pub(crate) mod claude_code;
pub(crate) mod codex;
pub(crate) mod gemini;
pub(crate) mod goose;
pub(crate) mod inspector;
pub(crate) mod mcp_remote;
pub(crate) mod vscode;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

use super::json_edit::Seg;
use super::mapping::ConnectorIndex;
use super::{ClientApp, LegacyEntry};
use crate::secret::Secret;

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

/// Every store under `home`; unreadable files become problems, not failures.
pub(crate) fn read_all(home: &Path, index: &ConnectorIndex) -> (Vec<Found>, Vec<String>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut index = index.clone();
    mcp_remote::learn_urls_from_client_configs(home, &mut index);
    mcp_remote::read(home, &index, &mut found, &mut problems);
    claude_code::read(home, &index, &mut found, &mut problems);
    codex::read(home, &index, &mut found, &mut problems);
    gemini::read(home, &index, &mut found, &mut problems);
    goose::read(home, &index, &mut found, &mut problems);
    inspector::read(home, &index, &mut found, &mut problems);
    vscode::read(home, &index, &mut found, &mut problems);
    (found, problems)
}

/// A stable id from the client, the file and the entry's key in it.
pub(crate) fn entry_id(client: ClientApp, file: &Path, key: &str) -> String {
    let fp = crate::secret::fingerprint(&format!("{}#{key}", file.display()));
    format!("{}:{}", client.slug(), &fp["sha256:".len()..])
}

/// Reads a JSON file if it exists; `Err` text for the problems list.
pub(crate) fn read_json(path: &Path) -> Option<Result<Value, String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(format!("{}: cannot read ({e})", path.display()))),
    };
    Some(
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: not valid JSON ({e})", path.display())),
    )
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
    Utc.timestamp_millis_opt(ms as i64).single()
}

/// The unverified `exp` / `email` of a JWT access token, for display when the store has none.
pub(crate) fn jwt_hints(token: Option<&Secret>) -> (Option<DateTime<Utc>>, Option<String>) {
    let Some(claims) = token.and_then(crate::jwt_peek::dangerous_unverified_claims) else {
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
    fn ids_are_stable_and_distinct() {
        let a = entry_id(ClientApp::ClaudeCode, Path::new("/h/f"), "k");
        assert_eq!(a, entry_id(ClientApp::ClaudeCode, Path::new("/h/f"), "k"));
        assert_ne!(a, entry_id(ClientApp::ClaudeCode, Path::new("/h/f"), "j"));
        assert!(a.starts_with("claude-code:") && a.len() == "claude-code:".len() + 16);
    }
}
