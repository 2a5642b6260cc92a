//! Backups taken before a disconnect, and putting the local entry back from one.
//!
//! A backup is the whole file as it was (0600, `<state_dir>/legacy-backups/<id>`) plus a
//! token-free sidecar (`<id>.meta.json`) naming the entry, where it sat, and a hash of the file
//! right after the removal. Restore writes the whole backup back if the file is still exactly
//! as we left it; otherwise it re-inserts only the entry, so later changes by the owning
//! application survive. A token already revoked at the server stays revoked.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use super::audit::{self, AuditRecord};
use super::clients::{Target, goose};
use super::disconnect::LegacyContext;
use super::json_edit::{self, Seg};
use super::{ClientApp, LegacyEntry, LegacyError, files, io_err};

pub(crate) const DIR: &str = "legacy-backups";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BackupMeta {
    entry: LegacyEntry,
    target: Target,
    taken_at: DateTime<Utc>,
    /// SHA-256 of the file right after the removal; `None` while unknown or when the removal
    /// deleted the file.
    after_sha256: Option<String>,
}

pub(crate) struct Backup {
    pub id: String,
    pub path: PathBuf,
    meta_path: PathBuf,
    meta: BackupMeta,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Backup {
    pub(crate) fn take(
        ctx: &LegacyContext,
        entry: &LegacyEntry,
        target: &Target,
    ) -> Result<Self, LegacyError> {
        let bytes = std::fs::read(&entry.file).map_err(|e| io_err(&entry.file, e))?;
        let now = ctx.http.clock().now();
        let name = entry
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let name: String = name
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let short = entry.id.rsplit(':').next().unwrap_or_default();
        let id = format!(
            "{}-{}-{}-{}",
            now.format("%Y%m%dT%H%M%S%.3fZ"),
            entry.client.slug(),
            &short[..short.len().min(8)],
            name.trim_start_matches('.')
        );
        let dir = ctx.state_dir.join(DIR);
        let path = dir.join(&id);
        files::write_private(&path, &bytes)?;
        let meta = BackupMeta {
            entry: entry.clone(),
            target: target.clone(),
            taken_at: now,
            after_sha256: None,
        };
        let meta_path = dir.join(format!("{id}.meta.json"));
        let backup = Backup {
            id,
            path,
            meta_path,
            meta,
        };
        backup.save_meta()?;
        Ok(backup)
    }

    pub(crate) fn record_after(&mut self, after: &Option<Vec<u8>>) -> Result<(), LegacyError> {
        self.meta.after_sha256 = after.as_deref().map(sha256_hex);
        self.save_meta()
    }

    fn save_meta(&self) -> Result<(), LegacyError> {
        let bytes =
            serde_json::to_vec_pretty(&self.meta).map_err(|e| io_err(&self.meta_path, e))?;
        files::write_private(&self.meta_path, &bytes)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreReport {
    pub backup_id: String,
    pub entry_id: String,
    pub client: ClientApp,
    pub file: PathBuf,
    /// The whole file was put back (it had not changed since the disconnect).
    pub whole_file: bool,
    pub message: String,
}

/// Backups that can be restored, newest first: `(backup id, entry)`.
pub fn backups(state_dir: &Path) -> Vec<(String, LegacyEntry)> {
    let mut out: Vec<(String, LegacyEntry, DateTime<Utc>)> = std::fs::read_dir(state_dir.join(DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = name.strip_suffix(".meta.json")?.to_string();
            let meta: BackupMeta = serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
            Some((id, meta.entry, meta.taken_at))
        })
        .collect();
    out.sort_by_key(|b| std::cmp::Reverse(b.2));
    out.into_iter().map(|(id, e, _)| (id, e)).collect()
}

/// Puts the entry removed by the disconnect that made `backup_id` back into its file.
pub fn restore(backup_id: &str, ctx: &LegacyContext) -> Result<RestoreReport, LegacyError> {
    if backup_id.is_empty() || backup_id.contains(['/', '\\']) || backup_id.starts_with('.') {
        return Err(LegacyError::UnknownBackup(backup_id.to_string()));
    }
    let dir = ctx.state_dir.join(DIR);
    let meta_path = dir.join(format!("{backup_id}.meta.json"));
    let meta: BackupMeta = std::fs::read(&meta_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| LegacyError::UnknownBackup(backup_id.to_string()))?;
    let backup_path = dir.join(backup_id);
    let saved = std::fs::read(&backup_path).map_err(|e| io_err(&backup_path, e))?;
    let file = &meta.entry.file;
    let current = match std::fs::read(file) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(file, e)),
    };
    let unchanged = match (&current, &meta.after_sha256) {
        (None, _) => true,
        (Some(now), Some(after)) => &sha256_hex(now) == after,
        (Some(_), None) => false,
    };
    let whole_file = unchanged;
    if whole_file {
        if meta.target == Target::WholeFile && current.is_some() {
            // mcp-remote signed in again meanwhile: keep the newer tokens.
            return Err(json_edit::EditError::AlreadyPresent.into());
        }
        if current.is_some() {
            files::replace(file, &saved)?;
        } else {
            files::write_private(file, &saved)?;
        }
    } else {
        let current =
            String::from_utf8(current.unwrap_or_default()).map_err(|e| io_err(file, e))?;
        let saved = String::from_utf8(saved).map_err(|e| io_err(&backup_path, e))?;
        let merged = match &meta.target {
            Target::Json { path } => {
                let value = json_edit::extract(&saved, path)?;
                json_edit::insert(&current, &append_path(&current, path)?, &value)?
            }
            Target::YamlKey { key } => {
                if goose::key_text(&current, key).is_some() {
                    return Err(json_edit::EditError::AlreadyPresent.into());
                }
                let lines = goose::key_text(&saved, key).ok_or(json_edit::EditError::NotFound)?;
                let sep = if current.is_empty() || current.ends_with('\n') {
                    ""
                } else {
                    "\n"
                };
                format!("{current}{sep}{lines}")
            }
            Target::WholeFile | Target::Nothing => {
                return Err(json_edit::EditError::AlreadyPresent.into());
            }
        };
        files::replace(file, merged.as_bytes())?;
    }
    let message = format!(
        "Put the entry back into {}. If it was revoked at the server it stays revoked: a revoked token can't be un-revoked, so sign in again in {} if it no longer works.",
        meta.entry.client.label(),
        meta.entry.client.label()
    );
    audit::append(
        &ctx.state_dir,
        &AuditRecord {
            at: ctx.http.clock().now(),
            action: "restore".into(),
            entry_id: meta.entry.id.clone(),
            client: Some(meta.entry.client),
            connector_id: meta.entry.connector_id.clone(),
            file: Some(file.clone()),
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
        file: file.clone(),
        whole_file,
        message,
    })
}

/// Array entries go back at the end (positions may have shifted); object keys where they were.
fn append_path(current: &str, path: &[Seg]) -> Result<Vec<Seg>, LegacyError> {
    let mut out = path.to_vec();
    if let Some(Seg::Index(_)) = out.last() {
        let (_, parent) = path.split_last().ok_or(json_edit::EditError::NotFound)?;
        let doc: serde_json::Value = serde_json::from_str(current)
            .map_err(|e| json_edit::EditError::Invalid(e.to_string()))?;
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
