//! How long the app took from the creation of its process to the window's first painted status
//! (on Linux; from `run` elsewhere): written to the log
//! once per process (support can read a slow start-up there; `make bench` reads it as the
//! "start to first painted status" row of docs/benchmarks.md).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static STARTED: OnceLock<Instant> = OnceLock::new();
static REPORTED: AtomicBool = AtomicBool::new(false);

/// Marks the start; called first thing in `run` (the fallback where the process's own start
/// time cannot be read).
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
    let since_start = match since_process_start() {
        Some(ms) => ms,
        None => STARTED.get()?.elapsed().as_millis(),
    };
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

/// Milliseconds since the kernel created this process, on Linux: that counts what `main`'s
/// clock cannot see: the loading of WebKit and GTK before `main`.
/// Ticks are 10 ms, plenty for a start-up of hundreds. `None` elsewhere or if /proc is unreadable.
fn since_process_start() -> Option<u128> {
    age_ms("self")
}

/// How long ago process `pid` ("self" for this one) was created, in milliseconds.
fn age_ms(pid: &str) -> Option<u128> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22, `starttime`, in clock ticks since boot; fields count from after the `comm`.
    let started_ticks: f64 = stat
        .get(stat.rfind(')')? + 2..)?
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()?;
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    let uptime_secs: f64 = uptime.split_whitespace().next()?.parse().ok()?;
    // sysconf(_SC_CLK_TCK) is 100 on every Linux this runs on.
    let ms = (uptime_secs - started_ticks / 100.0) * 1000.0;
    (ms >= 0.0).then_some(ms as u128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn a_process_age_is_counted_from_its_creation() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("sleep runs");
        std::thread::sleep(std::time::Duration::from_millis(400));
        let age = age_ms(&child.id().to_string());
        let _ = child.kill();
        let _ = child.wait();
        let age = age.expect("/proc is readable on Linux");
        assert!(
            (300..3000).contains(&age),
            "a process started 400 ms ago is {age} ms old"
        );
        assert!(since_process_start().is_some());
    }

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
