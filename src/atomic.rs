//! The one way Lanyard replaces a file — its own state, backups and policy files, and
//! another application's token store: a temp file beside the target, flushed to disk, renamed
//! over it. Readers (and a crash at any instant) see the old bytes or the new, never half.
//!
//! A process killed between creating the temp file and the rename leaves the temp file behind.
//! Its name says whose it was (`.lanyard-<pid>-<random>.tmp`), so `sweep` can delete the ones
//! whose writer is gone the next time Lanyard looks at that folder, without ever touching a
//! temp file another live Lanyard process is still writing.
//!
//! Bottom of the crate: it uses nothing else from it. Errors are plain `io::Error`; each
//! caller names the path in its own error type.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const PREFIX: &str = ".lanyard-";
const SUFFIX: &str = ".tmp";

/// A temp file older than this is abandoned even if a process with its pid runs (the pid
/// was reused): no write takes that long.
const ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// The permissions the new file gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Readable by the user only (0600): Lanyard's own files.
    Private,
    /// The file it replaces keeps its permissions (another application's choice); a new
    /// file gets `new` (a Unix mode; elsewhere the platform's default).
    LikeTarget { new: u32 },
}

/// New content beside `target`, flushed, not yet in place. Dropping it (or a crash) leaves
/// the target untouched.
#[derive(Debug)]
pub struct Staged {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
}

/// Writes `bytes` next to `target` with `mode`, fsynced, ready to rename.
pub fn stage(target: &Path, bytes: &[u8], mode: Mode) -> std::io::Result<Staged> {
    stage_with(target, bytes, mode, true)
}

fn stage_with(target: &Path, bytes: &[u8], mode: Mode, durable: bool) -> std::io::Result<Staged> {
    let dir = folder_of(target);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{PREFIX}{}-", std::process::id()))
        .suffix(SUFFIX)
        .tempfile_in(dir)?;
    match (mode, std::fs::metadata(target)) {
        (Mode::LikeTarget { .. }, Ok(meta)) => {
            std::fs::set_permissions(tmp.path(), meta.permissions())?
        }
        (Mode::LikeTarget { new }, Err(_)) => set_mode(tmp.path(), new)?,
        (Mode::Private, _) => set_mode(tmp.path(), 0o600)?,
    }
    // The file itself: `NamedTempFile`'s own writer adds the temp path to errors.
    tmp.as_file_mut().write_all(bytes)?;
    if durable {
        tmp.as_file().sync_all()?;
    }
    Ok(Staged {
        tmp,
        target: target.to_path_buf(),
    })
}

impl Staged {
    /// The rename: the only moment the target changes.
    pub fn commit(self) -> std::io::Result<()> {
        self.tmp.persist(&self.target).map_err(|e| e.error)?;
        Ok(())
    }

    /// The rename, only if no file has appeared at the target meanwhile.
    pub fn commit_new(self) -> std::io::Result<()> {
        self.tmp
            .persist_noclobber(&self.target)
            .map_err(|e| e.error)?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }
}

/// Replaces (or creates) `target` with `bytes`, atomically and durably.
pub fn write(target: &Path, bytes: &[u8], mode: Mode) -> std::io::Result<()> {
    stage(target, bytes, mode)?.commit()
}

/// As [`write`] without the fsync: never torn, but a power cut may lose it. For files that
/// are rewritten all the time and only diagnostic (traces).
pub fn replace(target: &Path, bytes: &[u8], mode: Mode) -> std::io::Result<()> {
    stage_with(target, bytes, mode, false)?.commit()
}

/// Deletes the temp files in `dir` that a Lanyard process left behind when it was killed
/// mid-write: ours by name, and their writer is gone (or they are over an hour old). Returns
/// how many went; a folder that can't be read is nothing to sweep.
pub fn sweep(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut swept = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(writer_pid) else {
            continue;
        };
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > ABANDONED_AFTER);
        let abandoned = old || (pid != std::process::id() && writer_gone(pid));
        if abandoned && std::fs::remove_file(entry.path()).is_ok() {
            swept += 1;
        }
    }
    swept
}

/// The pid in a temp file name this module writes (`.lanyard-<pid>-<random>.tmp`).
fn writer_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (pid, random) = rest.split_once('-')?;
    (!random.is_empty()).then_some(())?;
    pid.parse().ok()
}

/// Whether no process with `pid` runs; `false` where the process table can't be read
/// (then only the age rule applies).
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "windows",
    target_os = "freebsd"
))]
fn writer_gone(pid: u32) -> bool {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let Ok(mut sys) = System::new() else {
        return false;
    };
    let pid = Pid::from_u32(pid);
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing(),
    );
    sys.process(pid).is_none()
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "windows",
    target_os = "freebsd"
)))]
fn writer_gone(_pid: u32) -> bool {
    false
}

fn folder_of(target: &Path) -> &Path {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_target_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("f.json");
        write(&target, b"one", Mode::Private).unwrap();
        write(&target, b"two", Mode::Private).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn like_target_keeps_the_owners_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("f");
        std::fs::write(&target, b"old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        write(&target, b"new", Mode::LikeTarget { new: 0o644 }).unwrap();
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        let fresh = dir.path().join("g");
        write(&fresh, b"new", Mode::LikeTarget { new: 0o644 }).unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    #[test]
    fn sweep_takes_only_abandoned_temp_files_of_ours() {
        let dir = tempfile::tempdir().unwrap();
        // A writer that no longer runs: a pid far above any the kernel hands out.
        let dead = dir.path().join(".lanyard-4194999-abc123.tmp");
        std::fs::write(&dead, b"half").unwrap();
        // This process is mid-write: never swept.
        let staged = stage(&dir.path().join("t"), b"x", Mode::Private).unwrap();
        // Not ours by name, or not a temp file.
        for other in [
            ".lanyard-policy-x",
            "state.json",
            ".lanyard-12-.tmp",
            "x.tmp",
        ] {
            std::fs::write(dir.path().join(other), b"keep").unwrap();
        }
        assert_eq!(sweep(dir.path()), 1);
        assert!(!dead.exists());
        assert!(staged.path().exists());
        staged.commit().unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 5);
    }

    #[test]
    fn temp_names_carry_the_writer() {
        assert_eq!(writer_pid(".lanyard-42-Xy9.tmp"), Some(42));
        assert_eq!(writer_pid(".lanyard-x-Xy9.tmp"), None);
        assert_eq!(writer_pid(".lanyard-42-Xy9"), None);
        assert_eq!(writer_pid("lanyard-42-Xy9.tmp"), None);
    }
}
