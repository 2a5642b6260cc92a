//! Writing other applications' files safely: a temp file in the same folder with the
//! original's permissions, fsync, a last check that the file is still the one we read, then
//! rename over it (readers see old or new, never half); private (0600) files in Lanyard's
//! data folder; and the cross-process lock Lanyard's own legacy files are changed under.

use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::SystemTime;

use super::{LegacyError, hooks, io_err};
use crate::atomic::{self, Mode, Staged};

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a file was when it was read: its content's hash and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    pub sha256: String,
    pub modified: Option<SystemTime>,
}

impl Fingerprint {
    pub(crate) fn of(bytes: &[u8], modified: Option<SystemTime>) -> Self {
        Fingerprint {
            sha256: sha256_hex(bytes),
            modified,
        }
    }

    /// The file as it is now (`None`: it does not exist).
    fn now(path: &Path) -> Result<Option<Self>, LegacyError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
                Ok(Some(Self::of(&bytes, modified)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(path, e)),
        }
    }
}

/// Fails unless `path` is still exactly as `was` says (`None`: still absent).
fn still(path: &Path, was: Option<&Fingerprint>) -> Result<(), LegacyError> {
    if Fingerprint::now(path)?.as_ref() != was {
        return Err(LegacyError::Changed(path.display().to_string()));
    }
    Ok(())
}

/// Replaces `target` with `bytes` only if it is still the file `was` describes.
pub(crate) fn replace_checked(
    target: &Path,
    bytes: &[u8],
    was: &Fingerprint,
) -> Result<(), LegacyError> {
    let staged = stage(target, bytes)?;
    hooks::run_before_commit(target);
    still(target, Some(was))?;
    commit(staged, target)
}

/// Deletes `target` only if it is still the file `was` describes.
pub(crate) fn remove_checked(target: &Path, was: &Fingerprint) -> Result<(), LegacyError> {
    hooks::run_before_commit(target);
    still(target, Some(was))?;
    std::fs::remove_file(target).map_err(|e| io_err(target, e))
}

/// Creates `target` (0600) in another application's folder, which keeps its mode: a missing
/// folder is created with the default mode, an existing one is never chmodded. Fails if the
/// file appeared meanwhile.
pub(crate) fn create_checked(target: &Path, bytes: &[u8]) -> Result<(), LegacyError> {
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let staged = atomic::stage(target, bytes, Mode::Private).map_err(|e| io_err(target, e))?;
    hooks::run_before_commit(target);
    staged
        .commit_new()
        .map_err(|_| LegacyError::Changed(target.display().to_string()))
}

/// An exclusive lock on `<state_dir>/<name>`, held until dropped. `File::lock` is an
/// advisory lock the OS holds per open file, so it excludes other Lanyard processes (the app
/// and the CLI) as well as other threads of this one.
pub(crate) fn lock(state_dir: &Path, name: &str) -> Result<std::fs::File, LegacyError> {
    private_dir(state_dir)?;
    let path = state_dir.join(name);
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(&path).map_err(|e| io_err(&path, e))?;
    file.lock().map_err(|e| io_err(&path, e))?;
    Ok(file)
}

/// New content written next to `target` with the original's permissions (0600 for a new
/// file), not yet in place. Dropping it (or crashing) leaves the original untouched.
pub(crate) fn stage(target: &Path, bytes: &[u8]) -> Result<Staged, LegacyError> {
    atomic::stage(target, bytes, Mode::LikeTarget { new: 0o600 }).map_err(|e| io_err(target, e))
}

/// The rename: the only moment the original changes.
fn commit(staged: Staged, target: &Path) -> Result<(), LegacyError> {
    staged.commit().map_err(|e| io_err(target, e))
}

/// Creates `dir` (and parents) readable by the user only.
pub(crate) fn private_dir(dir: &Path) -> Result<(), LegacyError> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    set_mode(dir, 0o700)
}

/// Writes a new file readable by the user only (atomically).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), LegacyError> {
    if let Some(dir) = path.parent() {
        private_dir(dir)?;
    }
    atomic::write(path, bytes, Mode::Private).map_err(|e| io_err(path, e))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), LegacyError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| io_err(path, e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), LegacyError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_between_write_and_rename_leaves_the_original() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("creds.json");
        std::fs::write(&f, b"original").unwrap();
        let staged = stage(&f, b"new content").unwrap();
        assert_eq!(std::fs::read(staged.path()).unwrap(), b"new content");
        // Simulate the crash: the process dies before `commit`, the temp file stays behind.
        let leftover = staged.path().to_path_buf();
        std::mem::forget(staged);
        assert_eq!(std::fs::read(&f).unwrap(), b"original");
        assert!(leftover.exists());
    }

    #[cfg(unix)]
    #[test]
    fn replace_keeps_permissions_and_private_files_are_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("creds.json");
        std::fs::write(&f, b"a").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
        let was = Fingerprint::of(b"a", std::fs::metadata(&f).unwrap().modified().ok());
        replace_checked(&f, b"b", &was).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"b");
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let p = dir.path().join("backups/x");
        write_private(&p, b"secret").unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
