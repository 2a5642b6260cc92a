//! Test-only seams in the disconnect path: code a test runs between Lanyard's scan and its one
//! read, and between staging the new file and the rename, to play the owning application
//! writing at the worst moment. In normal builds they do nothing.

#[cfg(test)]
type Hook = std::cell::RefCell<Option<Box<dyn FnOnce()>>>;

#[cfg(test)]
thread_local! {
    static AFTER_SCAN: Hook = const { std::cell::RefCell::new(None) };
    static BEFORE_COMMIT: Hook = const { std::cell::RefCell::new(None) };
}

/// Runs `f` once, after the next disconnect's scan and before it reads the file.
#[cfg(test)]
pub(crate) fn after_scan(f: impl FnOnce() + 'static) {
    AFTER_SCAN.with(|h| *h.borrow_mut() = Some(Box::new(f)));
}

/// Runs `f` once, after the next edit is staged and before its last check and rename.
#[cfg(test)]
pub(crate) fn before_commit(f: impl FnOnce() + 'static) {
    BEFORE_COMMIT.with(|h| *h.borrow_mut() = Some(Box::new(f)));
}

pub(crate) fn run_after_scan() {
    #[cfg(test)]
    if let Some(f) = AFTER_SCAN.with(|h| h.borrow_mut().take()) {
        f();
    }
}

pub(crate) fn run_before_commit() {
    #[cfg(test)]
    if let Some(f) = BEFORE_COMMIT.with(|h| h.borrow_mut().take()) {
        f();
    }
}
