//! Backups taken before a disconnect: only the removed entry's bytes, encrypted, and kept for
//! a limited time (issue 10, item 6).
//!
//! `<state_dir>/legacy-backups/<id>` holds a 12-byte nonce and the ChaCha20-Poly1305 sealed
//! payload (the bytes cut from the file, and the entry's own text for re-inserting it into a
//! file that changed since); the key is a keyring item, so a copied state folder reveals
//! nothing. `<id>.meta.json` is token-free: the entry, where it sat (offset), and hashes of
//! the file before and after. Backups are deleted on a successful restore, by
//! `lanyard legacy purge`, and once older than the retention (30 days, or
//! `LANYARD_LEGACY_BACKUP_DAYS`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload as Sealed};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use super::clients::Target;
use super::context::LegacyContext;
use super::{LegacyEntry, LegacyError, files, io_err};
use crate::secret::Secret;
use crate::store::SecretStore;

pub(crate) const DIR: &str = "legacy-backups";
/// The keyring item holding the backups' key (base64 of 32 random bytes).
pub(crate) const KEY_ITEM: &str = "legacy/backup_key";
/// How long backups are kept unless the setting says otherwise.
pub(crate) const DEFAULT_DAYS: i64 = 30;
/// The setting: whole days, 1 to 3650.
pub const RETENTION_ENV: &str = "LANYARD_LEGACY_BACKUP_DAYS";
const META_SUFFIX: &str = ".meta.json";

/// Days to keep backups, from the setting's raw text; anything unusable means the default.
pub(crate) fn retention_days(raw: Option<&str>) -> i64 {
    raw.and_then(|r| r.trim().parse::<i64>().ok())
        .filter(|d| (1..=3650).contains(d))
        .unwrap_or(DEFAULT_DAYS)
}

fn retention() -> Duration {
    let raw = std::env::var(RETENTION_ENV).ok();
    // In range by `retention_days`, so this cannot overflow.
    Duration::days(retention_days(raw.as_deref()))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BackupMeta {
    pub entry: LegacyEntry,
    pub target: Target,
    pub taken_at: DateTime<Utc>,
    /// The file that was edited (a symlink's destination, when the store is a symlink).
    pub real_file: PathBuf,
    /// Where the removed bytes began.
    pub offset: usize,
    /// SHA-256 of the whole file before the removal, and after it (`None`: deleted).
    pub before_sha256: String,
    pub after_sha256: Option<String>,
}

/// The sealed part. No `Debug`: it holds the other application's tokens.
#[derive(Serialize, Deserialize)]
pub(crate) struct Payload {
    /// The bytes cut out of the file, so an unchanged file is restored byte for byte.
    pub removed: String,
    /// Where in `removed` the entry's own text is (a JSON value or the YAML key's lines), to
    /// re-insert it alone into a file that changed since.
    entry: (usize, usize),
}

impl Payload {
    pub(crate) fn entry_text(&self) -> &str {
        self.removed
            .get(self.entry.0..self.entry.1)
            .unwrap_or_default()
    }
}

/// What a disconnect is about to do to one file, for the backup.
pub(crate) struct Change<'a> {
    pub entry: &'a LegacyEntry,
    pub target: &'a Target,
    pub real_file: &'a Path,
    pub before: &'a [u8],
    /// `None`: the file will be deleted.
    pub after: Option<&'a [u8]>,
    /// Where the entry's own text is in `before`.
    pub entry_span: (usize, usize),
}

pub(crate) struct Backup {
    pub id: String,
    pub path: PathBuf,
    meta_path: PathBuf,
}

/// `after` is `before` minus one contiguous run of bytes holding the entry at `entry` (a
/// range in `before`). Returns where that run starts and its bytes. The run is not unique when
/// the bytes around it repeat (any split between the longest common prefix and suffix puts
/// the file back), so take the one that starts at the entry, or as close to it as possible,
/// which keeps the whole entry inside it.
fn cut(before: &[u8], after: &[u8], entry: (usize, usize)) -> Option<(usize, usize)> {
    let len = before.len().checked_sub(after.len())?;
    let prefix = before.iter().zip(after).take_while(|(a, b)| a == b).count();
    let start = prefix.min(entry.0);
    let valid = before.get(..start)? == after.get(..start)?
        && before.get(start + len..)? == after.get(start..)?
        && entry.0 >= start
        && entry.1 <= start + len;
    valid.then_some((start, start + len))
}

/// `<time>-<client>-<entry hash>-<random>`: sorts by time, unique, safe as a file name.
fn new_id(entry: &LegacyEntry, now: DateTime<Utc>) -> String {
    let short = entry.id.rsplit(':').next().unwrap_or_default();
    let tag = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "{}-{}-{}-{}",
        now.format("%Y%m%dT%H%M%S%.3fZ"),
        entry.client.slug(),
        &short[..short.len().min(8)],
        &tag[..8]
    )
}

impl Backup {
    pub(crate) fn take(ctx: &LegacyContext, change: &Change<'_>) -> Result<Self, LegacyError> {
        let after = change.after.unwrap_or_default();
        let unsafe_cut = || super::json_edit::EditError::Unsafe;
        let (offset, end) = cut(change.before, after, change.entry_span).ok_or_else(unsafe_cut)?;
        let removed =
            String::from_utf8(change.before[offset..end].to_vec()).map_err(|_| unsafe_cut())?;
        let (a, b) = change.entry_span;
        let payload = Payload {
            entry: (a - offset, b - offset),
            removed,
        };
        let now = ctx.http.clock().now();
        let id = new_id(change.entry, now);
        let dir = ctx.state_dir.join(DIR);
        let path = dir.join(&id);
        let plain = serde_json::to_vec(&payload).map_err(|e| io_err(&path, e))?;
        files::write_private(&path, &seal(&key(ctx.store.as_ref(), true)?, &id, &plain)?)?;
        let meta = BackupMeta {
            entry: change.entry.clone(),
            target: change.target.clone(),
            taken_at: now,
            real_file: change.real_file.to_path_buf(),
            offset,
            before_sha256: files::sha256_hex(change.before),
            after_sha256: change.after.map(files::sha256_hex),
        };
        let meta_path = dir.join(format!("{id}{META_SUFFIX}"));
        let bytes = serde_json::to_vec_pretty(&meta).map_err(|e| io_err(&meta_path, e))?;
        if let Err(e) = files::write_private(&meta_path, &bytes) {
            let _ = std::fs::remove_file(&path); // best effort: the sealed half alone is useless
            return Err(e);
        }
        Ok(Backup {
            id,
            path,
            meta_path,
        })
    }

    /// The edit did not happen: nothing to restore, so nothing is kept.
    pub(crate) fn discard(self) {
        for p in [&self.path, &self.meta_path] {
            if let Err(e) = std::fs::remove_file(p) {
                tracing::warn!(error = %e, "could not delete an unused legacy backup");
            }
        }
    }
}

/// The backups' key from the keyring; made (and stored) on first use when `create`.
fn key(store: &dyn SecretStore, create: bool) -> Result<Key, LegacyError> {
    if let Some(k) = store.get(KEY_ITEM)? {
        let raw: [u8; 32] = B64
            .decode(k.expose())
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or(LegacyError::BackupKey("the keyring item is damaged"))?;
        return Ok(Key::from(raw));
    }
    if !create {
        return Err(LegacyError::BackupKey("it is gone from the keyring"));
    }
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    store.set(KEY_ITEM, &Secret::new(B64.encode(raw)))?;
    Ok(Key::from(raw))
}

/// Nonce ‖ ciphertext; the backup id is authenticated too, so files can't be swapped.
fn seal(key: &Key, id: &str, plain: &[u8]) -> Result<Vec<u8>, LegacyError> {
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let sealed = ChaCha20Poly1305::new(key)
        .encrypt(
            &Nonce::from(nonce),
            Sealed {
                msg: plain,
                aad: id.as_bytes(),
            },
        )
        .map_err(|_| LegacyError::BackupKey("encryption failed"))?;
    Ok([nonce.as_slice(), &sealed].concat())
}

fn open(key: &Key, id: &str, bytes: &[u8]) -> Result<Vec<u8>, LegacyError> {
    let damaged = LegacyError::BackupKey("the backup is damaged");
    let (nonce, sealed) = bytes.split_at_checked(12).ok_or(damaged)?;
    let nonce: [u8; 12] = nonce
        .try_into()
        .map_err(|_| LegacyError::BackupKey("the backup is damaged"))?;
    ChaCha20Poly1305::new(key)
        .decrypt(
            &Nonce::from(nonce),
            Sealed {
                msg: sealed,
                aad: id.as_bytes(),
            },
        )
        .map_err(|_| LegacyError::BackupKey("the backup does not open with the keyring's key"))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id.contains(['/', '\\'])
        && !id.starts_with('.')
        && !id.ends_with(META_SUFFIX)
}

fn read_meta(path: &Path) -> Option<BackupMeta> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Every backup's metadata, newest first.
fn all(state_dir: &Path) -> Vec<(String, BackupMeta)> {
    let mut out: Vec<(String, BackupMeta)> = std::fs::read_dir(state_dir.join(DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = name.strip_suffix(META_SUFFIX)?.to_string();
            Some((id, read_meta(&e.path())?))
        })
        .collect();
    out.sort_by_key(|b| std::cmp::Reverse(b.1.taken_at));
    out
}

/// Backups that can be restored, newest first: `(backup id, entry)`.
pub fn backups(state_dir: &Path) -> Vec<(String, LegacyEntry)> {
    all(state_dir)
        .into_iter()
        .map(|(id, m)| (id, m.entry))
        .collect()
}

/// A backup's metadata and its opened payload.
pub(crate) fn load(ctx: &LegacyContext, id: &str) -> Result<(BackupMeta, Payload), LegacyError> {
    let unknown = || LegacyError::UnknownBackup(id.to_string());
    if !valid_id(id) {
        return Err(unknown());
    }
    let dir = ctx.state_dir.join(DIR);
    let meta = read_meta(&dir.join(format!("{id}{META_SUFFIX}"))).ok_or_else(unknown)?;
    let sealed = std::fs::read(dir.join(id)).map_err(|e| io_err(&dir.join(id), e))?;
    let plain = open(&key(ctx.store.as_ref(), false)?, id, &sealed)?;
    let payload = serde_json::from_slice(&plain)
        .map_err(|_| LegacyError::BackupKey("the backup's content is damaged"))?;
    Ok((meta, payload))
}

/// Deletes one backup (both files).
pub(crate) fn delete(state_dir: &Path, id: &str) -> Result<(), LegacyError> {
    let dir = state_dir.join(DIR);
    for p in [dir.join(id), dir.join(format!("{id}{META_SUFFIX}"))] {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&p, e)),
        }
    }
    Ok(())
}

/// Deletes backups older than the retention; returns how many went.
pub(crate) fn prune_expired(state_dir: &Path, now: DateTime<Utc>) -> Result<usize, LegacyError> {
    let keep = retention();
    let mut gone = 0;
    for (id, meta) in all(state_dir) {
        let expires = meta.taken_at.checked_add_signed(keep);
        if expires.is_some_and(|at| now >= at) {
            delete(state_dir, &id)?;
            gone += 1;
        }
    }
    Ok(gone)
}

/// `lanyard legacy purge`: deletes every backup (and anything unreadable in their folder)
/// and the key. Returns how many backups there were.
pub fn purge_backups(ctx: &LegacyContext) -> Result<usize, LegacyError> {
    let count = all(&ctx.state_dir).len();
    let dir = ctx.state_dir.join(DIR);
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        std::fs::remove_file(e.path()).map_err(|err| io_err(&e.path(), err))?;
    }
    ctx.store.delete(KEY_ITEM)?;
    Ok(count)
}
