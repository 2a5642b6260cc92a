//! How long until something expires, in words: one formatter for the CLI and the tray (the
//! window counts down in TypeScript from the same rules, `ui/src/lib/time.ts`), so a token
//! never reads "54 min" in one place and "0:54" in another.

use chrono::{DateTime, Utc};

/// "45 s left", "54 min left", "1 h 05 min left", "2 d 3 h left", "expired 3 min ago".
pub fn left(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (at - now).num_seconds();
    if secs <= 0 {
        return format!("expired {} ago", span(secs.saturating_neg()));
    }
    format!("{} left", span(secs))
}

/// A span of seconds at the precision a person wants for an expiry: seconds under a minute,
/// then minutes, hours and minutes, days and hours.
pub fn span(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        s => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn time_left_reads_naturally() {
        let now = Utc::now();
        let at = |s| now + Duration::seconds(s);
        assert_eq!(left(at(45), now), "45 s left");
        assert_eq!(left(at(54 * 60 + 3), now), "54 min left");
        assert_eq!(left(at(3900), now), "1 h 05 min left");
        assert_eq!(left(at(2 * 86_400 + 3 * 3600 + 5), now), "2 d 3 h left");
        assert_eq!(left(at(0), now), "expired 0 s ago");
        assert_eq!(left(at(-180), now), "expired 3 min ago");
    }
}
