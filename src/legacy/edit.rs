//! One entry's removal from another application's file, from a single read: resolve a
//! symlink to the file it names, read it once, find the entry in those bytes (its tokens are
//! the ones revoked), compute the file without it and prove the cut changed nothing else,
//! and — after the backup — write it only if the file is still exactly what was read.

use std::path::PathBuf;

use super::clients::{self, Found, Snapshot, Target, goose};
use super::files::{self, Fingerprint};
use super::mapping::ConnectorIndex;
use super::{LegacyEntry, LegacyError, io_err, json_edit};

pub(crate) struct Edit {
    /// The entry and its credentials, as parsed from the bytes being edited.
    pub found: Found,
    /// The file written (the destination when the store's path is a symlink).
    pub real_file: PathBuf,
    /// Set when the store's path is a symlink: said in the receipt.
    pub via_symlink: bool,
    pub before: Vec<u8>,
    /// `None`: the whole file is the entry and goes.
    pub after: Option<Vec<u8>>,
    /// Where the entry's own text is in `before` (to put it back alone into a file that
    /// changed meanwhile).
    pub entry_span: (usize, usize),
    was: Fingerprint,
}

impl Edit {
    /// Reads `entry`'s file once and prepares its removal; nothing is written.
    pub(crate) fn prepare(
        entry: &LegacyEntry,
        index: &ConnectorIndex,
    ) -> Result<Edit, LegacyError> {
        let shown = &entry.file;
        let via_symlink = std::fs::symlink_metadata(shown)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        let real_file = if via_symlink {
            std::fs::canonicalize(shown).map_err(|e| io_err(shown, e))?
        } else {
            shown.clone()
        };
        let mut snap = match Snapshot::read(&real_file) {
            Some(Ok(s)) => s,
            Some(Err(why)) => return Err(LegacyError::Read(why)),
            None => return Err(json_edit::EditError::NotFound.into()),
        };
        // Ids follow the path the owning application uses, not where a symlink points.
        snap.path = shown.clone();
        let found = clients::find_in(&snap, entry.client, index, &entry.id)
            .ok_or(json_edit::EditError::NotFound)?;
        let (after, entry_span) = cut_entry(&snap, &found.target)?;
        Ok(Edit {
            found,
            via_symlink,
            was: Fingerprint::of(&snap.bytes, snap.modified),
            before: snap.bytes,
            real_file,
            after,
            entry_span,
        })
    }

    /// Writes the change if the file is still the one read; otherwise leaves it alone.
    pub(crate) fn commit(&self) -> Result<(), LegacyError> {
        match &self.after {
            Some(bytes) => files::replace_checked(&self.real_file, bytes, &self.was),
            None => files::remove_checked(&self.real_file, &self.was),
        }
    }
}

/// The file's bytes without the entry (`None`: delete the file), and where the entry is.
type Cut = (Option<Vec<u8>>, (usize, usize));

fn cut_entry(snap: &Snapshot, target: &Target) -> Result<Cut, LegacyError> {
    match target {
        Target::WholeFile => Ok((None, (0, text_of(snap)?.len()))),
        Target::Json { path } => {
            let text = text_of(snap)?;
            let span = json_edit::span(text, path)?;
            let out = json_edit::remove(text, path)?;
            Ok((Some(out.into_bytes()), span))
        }
        Target::YamlKey { key } => {
            let text = text_of(snap)?;
            let span = goose::key_span(text, key).ok_or(json_edit::EditError::NotFound)?;
            let out = goose::remove_key(text, key).ok_or(json_edit::EditError::NotFound)?;
            goose::prove_removed(text, &out, key)?;
            Ok((Some(out.into_bytes()), span))
        }
        Target::Nothing => Err(json_edit::EditError::NotFound.into()),
    }
}

fn text_of(snap: &Snapshot) -> Result<&str, LegacyError> {
    snap.text().map_err(LegacyError::Read)
}
