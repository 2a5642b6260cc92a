//! The lab's clock: real time shifted by `--clock-offset-secs`, used for every `iat`/`exp`,
//! every skew check and every `Date` header, so clients can be tested against a skewed server.

use chrono::{DateTime, Duration, Utc};

/// Allowed clock skew when checking a JWT's `iat`/`exp`/`nbf` (the conformance suite's 30 s).
pub const SKEW_SECS: i64 = 30;

#[derive(Debug, Clone, Copy)]
pub struct LabClock {
    offset: Duration,
}

impl LabClock {
    pub fn new(offset_secs: i64) -> Self {
        Self {
            offset: Duration::seconds(offset_secs),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    pub fn timestamp(&self) -> i64 {
        self.now().timestamp()
    }

    /// The RFC 9110 IMF-fixdate for a `Date` header.
    pub fn http_date(&self) -> String {
        http_date(self.now())
    }
}

pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn http_date_is_imf_fixdate() {
        let at = Utc.with_ymd_and_hms(2026, 3, 7, 9, 5, 1).unwrap();
        assert_eq!(http_date(at), "Sat, 07 Mar 2026 09:05:01 GMT");
    }

    #[test]
    fn offset_moves_the_clock() {
        let skewed = LabClock::new(3600).timestamp();
        let real = Utc::now().timestamp();
        assert!((skewed - real - 3600).abs() <= 1);
    }
}
