//! Writes a Lanyard policy file for this lab (product.md schema, only its keys), with each
//! client secret in its own 0600 file next to it.

use serde_json::{Value, json};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::state::{IDP_CLIENT_ID, LabState};

#[derive(Debug, thiserror::Error)]
pub enum PolicyOutError {
    #[error("cannot write {path}: {why}")]
    Write { path: String, why: String },
}

/// Secrets to write: the IdP client's, then one per connector (same order as `state.connectors`).
pub struct Secrets<'a> {
    pub idp: &'a str,
    pub connectors: &'a [String],
}

pub fn write(path: &Path, state: &LabState, secrets: Secrets<'_>) -> Result<(), PolicyOutError> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "policy".into());
    let secret_file = |what: &str, secret: &str| -> Result<Value, PolicyOutError> {
        let file = dir.join(format!("{stem}.{what}.secret"));
        write_private(&file, secret)?;
        let absolute = std::path::absolute(&file).unwrap_or(file);
        Ok(json!({"file": absolute.display().to_string()}))
    };
    let mut connectors = Vec::new();
    for (c, secret) in state.connectors.iter().zip(secrets.connectors) {
        connectors.push(json!({
            "id": c.spec.id,
            "name": c.spec.name,
            "mcp_url": c.mcp_url,
            "client_id": c.spec.lanyard_client_id(),
            "client_secret": secret_file(&c.spec.id, secret)?,
            // The supabase quirk (client_id also in the body) is for Lanyard to discover.
            "token_endpoint_auth_method": c.spec.method.as_str(),
        }));
    }
    let policy = json!({
        "idp": {
            "issuer": state.idp_issuer,
            "client_id": IDP_CLIENT_ID,
            "client_secret": secret_file("idp", secrets.idp)?,
            "token_endpoint_auth_method": "client_secret_basic",
            "scopes": ["openid", "email", "profile", "offline_access"],
        },
        "connectors": connectors,
    });
    let text = serde_json::to_string_pretty(&policy).unwrap_or_default();
    std::fs::write(path, text + "\n").map_err(|e| err(path, e))
}

fn write_private(path: &PathBuf, secret: &str) -> Result<(), PolicyOutError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| err(path, e))?;
    // `mode` applies only on creation; an older file may be more open.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| err(path, e))?;
    }
    file.write_all(secret.as_bytes()).map_err(|e| err(path, e))
}

fn err(path: &Path, e: std::io::Error) -> PolicyOutError {
    PolicyOutError::Write {
        path: path.display().to_string(),
        why: e.to_string(),
    }
}
