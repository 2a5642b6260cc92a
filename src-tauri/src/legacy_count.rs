//! The tray menu's count of legacy connections, kept off the status path. The tray is rebuilt
//! on every status event (each connector renewal is one), and counting means scanning every
//! MCP client's files under `$HOME`: doing that per event, on the thread that draws the tray,
//! is the cost the layering review found. The count is cached; a rescan runs in the
//! background at most once a minute (or at once after the app itself disconnects something),
//! and the tray is redrawn when the number changed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::tray_model::LegacyCount;

/// How old a count may be before the next status event starts a rescan: legacy tokens come
/// from other apps, so a minute's delay in the menu is invisible, while a renewal burst of 256
/// connectors triggers at most one scan.
pub const MAX_AGE: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct LegacyCountCache {
    inner: Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    count: LegacyCount,
    scanned_at: Option<Instant>,
    scanning: bool,
}

/// The right to run the one rescan in flight. Dropped without [`Claim::finish`] (the scan
/// failed or panicked), it gives the right back, so the next event tries again instead of the
/// count freezing forever.
pub struct Claim {
    cache: Arc<LegacyCountCache>,
    done: bool,
}

impl LegacyCountCache {
    /// The count to show now, and a claim when a rescan should start (none while one runs or
    /// while the count is fresh).
    pub fn current(self: &Arc<Self>, now: Instant) -> (LegacyCount, Option<Claim>) {
        let mut c = self.lock();
        let stale = c
            .scanned_at
            .is_none_or(|at| now.saturating_duration_since(at) >= MAX_AGE);
        let claim = (stale && !c.scanning).then(|| {
            c.scanning = true;
            Claim {
                cache: Arc::clone(self),
                done: false,
            }
        });
        (c.count, claim)
    }

    /// Forget the count's age (the app just disconnected entries): the next event rescans.
    pub fn invalidate(&self) {
        self.lock().scanned_at = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        // A panic while holding this lock can only come from this file's few assignments;
        // the data stays consistent, so a poisoned lock is used as is.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Claim {
    /// Stores the scan's result; true when it differs from what the tray shows.
    pub fn finish(mut self, count: LegacyCount, now: Instant) -> bool {
        self.done = true;
        let mut c = self.cache.lock();
        c.scanning = false;
        c.scanned_at = Some(now);
        std::mem::replace(&mut c.count, count) != count
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.done {
            self.cache.lock().scanning = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(total: usize) -> LegacyCount {
        LegacyCount { total, covered: 0 }
    }

    #[test]
    fn one_scan_per_minute_however_many_events() {
        let cache = Arc::new(LegacyCountCache::default());
        let t0 = Instant::now();
        let (shown, claim) = cache.current(t0);
        assert_eq!(shown, count(0));
        let claim = claim.expect("the first event scans");
        // A burst of events while the scan runs starts no second scan.
        for _ in 0..256 {
            assert!(cache.current(t0).1.is_none());
        }
        assert!(claim.finish(count(3), t0), "0 → 3 is a change to draw");
        assert_eq!(cache.current(t0 + Duration::from_secs(59)).0, count(3));
        assert!(cache.current(t0 + Duration::from_secs(59)).1.is_none());
        let again = cache
            .current(t0 + MAX_AGE)
            .1
            .expect("a minute later it rescans");
        assert!(
            !again.finish(count(3), t0 + MAX_AGE),
            "same count: nothing to redraw"
        );
    }

    #[test]
    fn a_scan_that_dies_does_not_freeze_the_count() {
        let cache = Arc::new(LegacyCountCache::default());
        let t0 = Instant::now();
        let claim = cache.current(t0).1.unwrap();
        let cache2 = Arc::clone(&cache);
        let panicked = std::thread::spawn(move || {
            let _held = claim;
            panic!("a store parser blew up");
        })
        .join();
        assert!(panicked.is_err());
        assert!(cache2.current(t0).1.is_some(), "the next event tries again");
    }

    #[test]
    fn a_disconnect_makes_the_next_event_rescan() {
        let cache = Arc::new(LegacyCountCache::default());
        let t0 = Instant::now();
        cache.current(t0).1.unwrap().finish(count(2), t0);
        assert!(cache.current(t0).1.is_none());
        cache.invalidate();
        assert!(cache.current(t0).1.is_some());
    }
}
