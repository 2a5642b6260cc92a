//! Test-only seams in the disconnect path: code a test runs between Lanyard's scan and its one
//! read, and between staging the new file and the rename, to play the owning application
//! writing at the worst moment. In normal builds they do nothing.
//!
//! A hook is keyed by the file it is about: disconnect does its file work on the blocking
//! pool (any thread), and tests run in parallel, so neither a thread-local nor one global slot
//! would reach the right disconnect.

use std::path::Path;
#[cfg(test)]
use std::path::PathBuf;

#[cfg(test)]
type Hooks = std::sync::Mutex<Vec<(PathBuf, Box<dyn FnOnce() + Send>)>>;

#[cfg(test)]
static AFTER_SCAN: Hooks = std::sync::Mutex::new(Vec::new());
#[cfg(test)]
static BEFORE_COMMIT: Hooks = std::sync::Mutex::new(Vec::new());

#[cfg(test)]
fn set(hooks: &Hooks, file: &Path, f: impl FnOnce() + Send + 'static) {
    let mut h = hooks.lock().unwrap_or_else(|p| p.into_inner());
    h.push((file.to_path_buf(), Box::new(f)));
}

#[cfg(test)]
fn run(hooks: &Hooks, file: &Path) {
    let f = {
        let mut h = hooks.lock().unwrap_or_else(|p| p.into_inner());
        h.iter()
            .position(|(p, _)| p == file)
            .map(|i| h.swap_remove(i).1)
    };
    if let Some(f) = f {
        f();
    }
}

/// Runs `f` once, after the next disconnect of an entry in `file` has scanned and before it
/// reads the file.
#[cfg(test)]
pub(crate) fn after_scan(file: &Path, f: impl FnOnce() + Send + 'static) {
    set(&AFTER_SCAN, file, f);
}

/// Runs `f` once, after the next edit of `file` is staged and before its last check and rename.
#[cfg(test)]
pub(crate) fn before_commit(file: &Path, f: impl FnOnce() + Send + 'static) {
    set(&BEFORE_COMMIT, file, f);
}

pub(crate) fn run_after_scan(file: &Path) {
    #[cfg(test)]
    run(&AFTER_SCAN, file);
    #[cfg(not(test))]
    let _ = file;
}

pub(crate) fn run_before_commit(file: &Path) {
    #[cfg(test)]
    run(&BEFORE_COMMIT, file);
    #[cfg(not(test))]
    let _ = file;
}
