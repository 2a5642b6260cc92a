//! Changing the admin's policy file: one connector entry added with every other byte kept
//! (the admin's formatting, key order and other entries), then written atomically with the
//! file's permissions (a machine policy is world-readable, 0644, and must stay so).

use serde_json::Value;
use std::path::Path;

use super::export::document::ConnectorDocument;
use super::onboard::Existing;
use crate::atomic::Mode;
use crate::legacy::json_edit::{self, Seg};

#[derive(Debug, thiserror::Error)]
pub enum PolicyFileError {
    #[error("{path}: {why}")]
    Edit { path: String, why: String },
    #[error("cannot write {path}: {why}")]
    Write { path: String, why: String },
}

/// The connectors already in `text`, read leniently (a policy with other problems still says
/// which ids and URLs it uses).
pub fn existing_connectors(text: &str) -> Vec<Existing> {
    let root: Value = serde_json::from_str(text).unwrap_or_default();
    root.get("connectors")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|c| Existing {
                    id: c
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    mcp_url: c
                        .get("mcp_url")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `text` with `entry` appended to `connectors` (created if missing); nothing else changes.
pub fn with_connector(
    text: &str,
    entry: &ConnectorDocument,
    shown: &str,
) -> Result<String, PolicyFileError> {
    let edit_err = |e: json_edit::EditError| PolicyFileError::Edit {
        path: shown.to_string(),
        why: e.to_string(),
    };
    let root: Value = serde_json::from_str(text).map_err(|e| PolicyFileError::Edit {
        path: shown.to_string(),
        why: format!("not valid JSON ({e})"),
    })?;
    let mut text = text.to_string();
    let count = match root.get("connectors") {
        Some(Value::Array(items)) => items.len(),
        Some(_) => {
            return Err(PolicyFileError::Edit {
                path: shown.to_string(),
                why: "`connectors` is not an array".into(),
            });
        }
        None => {
            text = json_edit::insert(&text, &[Seg::Key("connectors".into())], "[]")
                .map_err(edit_err)?;
            0
        }
    };
    let indent = element_indent(&text);
    // Invariant: a struct of strings and enums always serialises.
    let pretty = serde_json::to_string_pretty(entry).unwrap_or_default();
    let entry_text = pretty.replace('\n', &format!("\n{indent}"));
    let entry_text = if count == 0 {
        // Into `[]`: give the entry lines of its own.
        let outer = indent.strip_suffix("  ").unwrap_or("");
        format!("\n{indent}{entry_text}\n{outer}")
    } else {
        entry_text
    };
    json_edit::insert(
        &text,
        &[Seg::Key("connectors".into()), Seg::Index(count)],
        &entry_text,
    )
    .map_err(edit_err)
}

/// The indentation of a connector entry: the `"connectors"` line's, one level deeper.
fn element_indent(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("\"connectors\""))
        .unwrap_or("");
    let own: String = line
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    format!("{own}  ")
}

/// Temp file in the same folder with the old file's permissions (0644 for a new one),
/// fsync, rename: readers see the old policy or the new one, never half.
pub fn write(path: &Path, text: &str) -> Result<(), PolicyFileError> {
    let err = |e: std::io::Error| PolicyFileError::Write {
        path: path.display().to_string(),
        why: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    crate::atomic::write(path, text.as_bytes(), Mode::LikeTarget { new: 0o644 }).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::AuthMethod;

    fn entry(id: &str) -> ConnectorDocument {
        ConnectorDocument {
            id: id.into(),
            name: "Figma".into(),
            mcp_url: format!("https://mcp.{id}.com/mcp"),
            client_id: "lanyard".into(),
            client_secret: None,
            token_endpoint_auth_method: AuthMethod::None,
            scopes: Some(vec!["files:read".into()]),
            as_issuer: Some("https://www.figma.com".into()),
            token_endpoint_origin: None,
        }
    }

    const POLICY: &str = "{\n  \"idp\": {\"issuer\": \"https://i\", \"client_id\": \"c\"},\n  \"connectors\": [\n    {\"id\": \"linear\", \"mcp_url\": \"https://mcp.linear.app/mcp\", \"client_id\": \"x\"}\n  ]\n}\n";

    #[test]
    fn adding_keeps_every_other_byte_and_parses() {
        let out = with_connector(POLICY, &entry("figma"), "p.json").unwrap();
        assert!(out.starts_with("{\n  \"idp\": {\"issuer\": \"https://i\", \"client_id\": \"c\"},\n  \"connectors\": [\n    {\"id\": \"linear\""));
        assert!(out.contains(",\n    {\n      \"id\": \"figma\""), "{out}");
        let p = crate::policy::parse(&out, Path::new("p.json")).unwrap();
        assert_eq!(p.connectors.len(), 2);
        assert_eq!(
            p.connectors[1].as_issuer.as_deref(),
            Some("https://www.figma.com")
        );
        let ids: Vec<_> = existing_connectors(&out)
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, ["linear", "figma"]);
    }

    #[test]
    fn adding_to_a_policy_without_connectors() {
        let fresh = "{\n  \"idp\": {\"issuer\": \"https://i\", \"client_id\": \"c\"}\n}\n";
        let out = with_connector(fresh, &entry("figma"), "p.json").unwrap();
        let p = crate::policy::parse(&out, Path::new("p.json")).unwrap();
        assert_eq!(p.connectors[0].id, "figma");
        let empty =
            "{\"idp\": {\"issuer\": \"https://i\", \"client_id\": \"c\"}, \"connectors\": []}";
        let out = with_connector(empty, &entry("figma"), "p.json").unwrap();
        assert_eq!(
            crate::policy::parse(&out, Path::new("p.json"))
                .unwrap()
                .connectors
                .len(),
            1
        );
        assert!(with_connector("{\"connectors\": 5}", &entry("x"), "p").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn writing_keeps_the_files_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etc/policy.json");
        write(&path, POLICY).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write(&path, "{}").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
    }
}
