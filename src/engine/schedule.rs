//! When to renew: a connector's token is renewed a margin before it expires (plus jitter, so
//! a fleet of laptops doesn't renew in lockstep); failed renewals back off exponentially.
//! Pure functions of times, so they are tested without a clock or a sleep.

use chrono::{DateTime, Duration, Utc};

/// Never renew earlier than this before expiry…
const MIN_MARGIN: Duration = Duration::seconds(5);
/// …nor later than this (Claude Code's proactive refresh uses the same 5 minutes).
const MAX_MARGIN: Duration = Duration::seconds(300);
/// Tokens of unknown expiry are re-checked this often.
pub const UNKNOWN_EXPIRY_RECHECK: Duration = Duration::seconds(3600);
const BACKOFF_BASE_SECS: i64 = 5;
const BACKOFF_MAX_SECS: i64 = 300;

/// When to renew a token obtained at `obtained_at` that expires at `expires_at`.
/// `jitter` in [0, 1) spreads renewals over the last tenth of the margin.
pub fn renewal_at(
    obtained_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    jitter: f64,
) -> DateTime<Utc> {
    let Some(expires_at) = expires_at else {
        return obtained_at + UNKNOWN_EXPIRY_RECHECK;
    };
    let lifetime = expires_at - obtained_at;
    if lifetime <= Duration::zero() {
        return obtained_at;
    }
    let margin = (lifetime / 5).clamp(MIN_MARGIN, MAX_MARGIN).min(lifetime);
    let spread = margin.num_milliseconds() as f64 * 0.1 * jitter.clamp(0.0, 0.999);
    // Jitter never moves a renewal before the token was obtained.
    (expires_at - margin - Duration::milliseconds(spread as i64)).max(obtained_at)
}

/// Delay before retry number `failures` (1-based) of an unreachable connector or IdP.
pub fn backoff(failures: u32, jitter: f64) -> Duration {
    let exp = BACKOFF_BASE_SECS.saturating_mul(1_i64 << failures.saturating_sub(1).min(16));
    let secs = exp.min(BACKOFF_MAX_SECS) as f64;
    Duration::milliseconds((secs * 1000.0 * (1.0 + 0.2 * jitter.clamp(0.0, 1.0))) as i64)
}

pub fn jitter() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn renews_a_fifth_of_the_lifetime_early_within_bounds() {
        let hour = renewal_at(t0(), Some(t0() + Duration::hours(1)), 0.0);
        assert_eq!(hour, t0() + Duration::minutes(55), "capped at 5 min margin");
        let short = renewal_at(t0(), Some(t0() + Duration::seconds(60)), 0.0);
        assert_eq!(short, t0() + Duration::seconds(48));
        let tiny = renewal_at(t0(), Some(t0() + Duration::seconds(3)), 0.0);
        assert_eq!(tiny, t0(), "a margin never exceeds the lifetime");
    }

    #[test]
    fn renewal_is_always_before_expiry_and_not_before_obtained() {
        for secs in [1_i64, 2, 7, 30, 59, 61, 300, 3599, 86_400] {
            for j in [0.0, 0.5, 0.999] {
                let exp = t0() + Duration::seconds(secs);
                let at = renewal_at(t0(), Some(exp), j);
                assert!(at < exp || secs <= 0, "{secs}s j={j}");
                assert!(at >= t0(), "{secs}s j={j}");
            }
        }
    }

    #[test]
    fn unknown_expiry_is_rechecked_hourly() {
        assert_eq!(renewal_at(t0(), None, 0.3), t0() + Duration::hours(1));
    }

    #[test]
    fn backoff_doubles_then_caps() {
        assert_eq!(backoff(1, 0.0), Duration::seconds(5));
        assert_eq!(backoff(2, 0.0), Duration::seconds(10));
        assert_eq!(backoff(4, 0.0), Duration::seconds(40));
        assert_eq!(backoff(30, 0.0), Duration::seconds(300));
        assert!(backoff(3, 1.0) <= Duration::seconds(24));
    }
}
