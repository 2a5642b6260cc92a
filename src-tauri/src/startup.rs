//! How long the app took from start to the window's first painted status: written to the log
//! once per process (support can read a slow start-up there; `make bench` reads it as the
//! "start to first painted status" row of docs/benchmarks.md).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static STARTED: OnceLock<Instant> = OnceLock::new();
static REPORTED: AtomicBool = AtomicBool::new(false);

/// Marks the start; called first thing in `run`.
pub fn mark_start() {
    STARTED.get_or_init(Instant::now);
}

/// The window says it painted a status; the first time in this process, the time is logged
/// (later windows, re-opened from the tray, are not a start-up). Returns the milliseconds
/// logged, if any.
pub fn status_painted() -> Option<u128> {
    if REPORTED.swap(true, Ordering::Relaxed) {
        return None;
    }
    let since_start = STARTED.get()?.elapsed().as_millis();
    // Wall-clock too, so a benchmark that started the process can take its own difference.
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    tracing::info!(
        since_start_ms = since_start,
        unix_ms,
        "the window painted its first status"
    );
    Some(since_start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_paint_of_a_process_is_reported() {
        mark_start();
        let first = status_painted();
        assert!(first.is_some());
        assert_eq!(
            status_painted(),
            None,
            "a re-opened window is not a start-up"
        );
    }
}
