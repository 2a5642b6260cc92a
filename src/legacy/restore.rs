//! Putting a disconnected entry back from its backup (see `backup`).
//!
//! If the file is exactly as the disconnect left it, the removed bytes go back where they were
//! and the file is byte-identical to before; otherwise only the entry is re-inserted, so later
//! changes by the owning application survive. A token already revoked at the server stays
//! revoked. The restored backup is then deleted.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use super::audit::{self, AuditRecord};
use super::backup::{self, BackupMeta, Payload};
use super::clients::{Target, goose};
use super::context::LegacyContext;
use super::files::{self, Fingerprint};
use super::json_edit::{self, EditError, Seg};
use super::{ClientApp, LegacyError, io_err};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreReport {
    pub backup_id: String,
    pub entry_id: String,
    pub client: ClientApp,
    pub file: PathBuf,
    /// The file is back byte for byte as it was (it had not changed since the disconnect).
    pub whole_file: bool,
    pub message: String,
}

/// Puts the entry removed by the disconnect that made `backup_id` back into its file.
pub fn restore(backup_id: &str, ctx: &LegacyContext) -> Result<RestoreReport, LegacyError> {
    ctx.prune_backups();
    let (meta, payload) = backup::load(ctx, backup_id)?;
    let file = &meta.real_file;
    let current = match std::fs::read(file) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(file, e)),
    };
    let modified = std::fs::metadata(file).and_then(|m| m.modified()).ok();
    let (bytes, exact) = restored(&meta, &payload, current.as_deref())?;
    match &current {
        Some(now) => files::replace_checked(file, &bytes, &Fingerprint::of(now, modified))?,
        None => files::create_checked(file, &bytes)?,
    }
    if let Err(e) = backup::delete(&ctx.state_dir, backup_id) {
        tracing::warn!(error = %e, "could not delete a restored legacy backup");
    }
    let app = meta.entry.client.label();
    let message = format!(
        "Put the entry back into {app}. If it was revoked at the server it stays revoked: a revoked token can't be un-revoked, so sign in again in {app} if it no longer works."
    );
    audit::append(
        &ctx.state_dir,
        &AuditRecord {
            at: ctx.http.clock().now(),
            action: "restore".into(),
            entry_id: meta.entry.id.clone(),
            client: Some(meta.entry.client),
            connector_id: meta.entry.connector_id.clone(),
            file: Some(meta.entry.file.clone()),
            backup_id: Some(backup_id.to_string()),
            dry_run: false,
            removed_locally: false,
            revocation: "not_attempted".into(),
            note: Some(message.clone()),
        },
    )?;
    Ok(RestoreReport {
        backup_id: backup_id.to_string(),
        entry_id: meta.entry.id,
        client: meta.entry.client,
        file: meta.entry.file,
        whole_file: exact,
        message,
    })
}

/// The file's new content, and whether it is byte-identical to before the disconnect.
fn restored(
    meta: &BackupMeta,
    payload: &Payload,
    current: Option<&[u8]>,
) -> Result<(Vec<u8>, bool), LegacyError> {
    let Some(current) = current else {
        return match meta.target {
            // mcp-remote's file was the entry: it comes back whole.
            Target::WholeFile => Ok((payload.removed.clone().into_bytes(), true)),
            _ => Err(io_err(
                &meta.real_file,
                "the file is gone; nothing to put the entry into",
            )),
        };
    };
    if meta.target == Target::WholeFile {
        // mcp-remote signed in again meanwhile: keep the newer tokens.
        return Err(EditError::AlreadyPresent.into());
    }
    if meta.after_sha256.as_deref() == Some(&files::sha256_hex(current))
        && let Some(exact) = splice(current, meta.offset, payload.removed.as_bytes())
        && files::sha256_hex(&exact) == meta.before_sha256
    {
        return Ok((exact, true));
    }
    let current = std::str::from_utf8(current).map_err(|e| io_err(&meta.real_file, e))?;
    let merged = match &meta.target {
        Target::Json { path } => {
            json_edit::insert(current, &append_path(current, path)?, payload.entry_text())?
        }
        Target::YamlKey { key } => {
            if goose::key_text(current, key).is_some() {
                return Err(EditError::AlreadyPresent.into());
            }
            let sep = if current.is_empty() || current.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            let merged = format!("{current}{sep}{}", payload.entry_text());
            goose::prove_removed(&merged, current, key)?;
            merged
        }
        Target::WholeFile | Target::Nothing => return Err(EditError::AlreadyPresent.into()),
    };
    Ok((merged.into_bytes(), false))
}

fn splice(current: &[u8], at: usize, removed: &[u8]) -> Option<Vec<u8>> {
    let (head, tail) = current.split_at_checked(at)?;
    Some([head, removed, tail].concat())
}

/// Array entries go back at the end (positions may have shifted); object keys where they were.
fn append_path(current: &str, path: &[Seg]) -> Result<Vec<Seg>, LegacyError> {
    let mut out = path.to_vec();
    if let Some(Seg::Index(_)) = out.last() {
        let (_, parent) = path.split_last().ok_or(EditError::NotFound)?;
        let doc: serde_json::Value =
            serde_json::from_str(current).map_err(|e| EditError::Invalid(e.to_string()))?;
        let len = parent
            .iter()
            .try_fold(&doc, |v, seg| match seg {
                Seg::Key(k) => v.get(k),
                Seg::Index(i) => v.get(i),
            })
            .and_then(|v| v.as_array())
            .map_or(0, Vec::len);
        if let Some(last) = out.last_mut() {
            *last = Seg::Index(len);
        }
    }
    Ok(out)
}
