//! Writing other applications' files safely: a temp file in the same folder with the
//! original's permissions, fsync, then rename over it (readers see old or new, never half);
//! and private (0600) copies in Lanyard's data folder.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{LegacyError, io_err};

/// New content written next to `target`, not yet in place. Dropping it (or crashing) leaves
/// the original untouched.
pub(crate) struct Staged {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
}

pub(crate) fn stage(target: &Path, bytes: &[u8]) -> Result<Staged, LegacyError> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".lanyard-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io_err(dir, e))?;
    if let Ok(meta) = std::fs::metadata(target) {
        // Keep the owner's choice (0600 for token files) rather than the temp file's default.
        std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(|e| io_err(target, e))?;
    }
    tmp.write_all(bytes).map_err(|e| io_err(target, e))?;
    tmp.as_file().sync_all().map_err(|e| io_err(target, e))?;
    Ok(Staged {
        tmp,
        target: target.to_path_buf(),
    })
}

impl Staged {
    /// The rename: the only moment the original changes.
    pub(crate) fn commit(self) -> Result<(), LegacyError> {
        let target = self.target;
        self.tmp
            .persist(&target)
            .map_err(|e| io_err(&target, e.error))?;
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        self.tmp.path()
    }
}

pub(crate) fn replace(target: &Path, bytes: &[u8]) -> Result<(), LegacyError> {
    stage(target, bytes)?.commit()
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
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".lanyard-")
        .tempfile_in(dir)
        .map_err(|e| io_err(dir, e))?;
    tmp.write_all(bytes).map_err(|e| io_err(path, e))?;
    tmp.as_file().sync_all().map_err(|e| io_err(path, e))?;
    set_mode(tmp.path(), 0o600)?;
    tmp.persist(path).map_err(|e| io_err(path, e.error))?;
    Ok(())
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
        let leftover = staged.tmp.into_temp_path().keep().unwrap();
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
        replace(&f, b"b").unwrap();
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
