//! When to interrupt the person: only when they must act. A connector that drops from
//! granted to denied or to an error, and an IdP session about to lapse that Lanyard cannot
//! renew. Never on routine renewals. Pure functions, unit-tested.

use chrono::{DateTime, Duration, Utc};

use lanyard::view::connector::ConnectorState;
use lanyard::view::status::{SessionState, StatusView};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

/// Connectors that were granted in `prev` and are now denied, misconfigured or need sign-in,
/// while the session goes on. Nothing once it has ended: when the person signs out they know,
/// and a lapse had its one warning before it (`session_notice`), not one more per connector.
pub fn dropped(prev: &StatusView, next: &StatusView) -> Vec<Notice> {
    if next.session.state != SessionState::SignedIn {
        return Vec::new();
    }
    next.connectors
        .iter()
        .filter(|c| {
            matches!(
                c.state,
                ConnectorState::Denied
                    | ConnectorState::Misconfigured
                    | ConnectorState::NeedsSignIn
            )
        })
        .filter(|c| {
            prev.connectors
                .iter()
                .any(|p| p.id == c.id && p.state == ConnectorState::Granted)
        })
        .map(|c| {
            let why = match c.state {
                ConnectorState::Denied => "Your organisation no longer grants it",
                ConnectorState::NeedsSignIn => "Sign in again to renew it",
                _ => "It needs your IT admin's attention",
            };
            let code = c
                .error
                .as_ref()
                .map(|e| format!(" ({})", e.code))
                .unwrap_or_default();
            Notice {
                title: format!("{} access stopped", c.name),
                body: format!("{why}{code}."),
            }
        })
        .collect()
}

/// `next` as the notifications compare it with what comes after: a connector in flight
/// (`pending`) keeps the state it had before, so a renewal that ends in a denial reads
/// granted → denied, not pending → denied.
pub fn settled(prev: &StatusView, next: &StatusView) -> StatusView {
    let mut out = next.clone();
    for c in out
        .connectors
        .iter_mut()
        .filter(|c| c.state == ConnectorState::Pending)
    {
        if let Some(p) = prev.connectors.iter().find(|p| p.id == c.id) {
            c.state = p.state;
        }
    }
    out
}

/// When to warn that the session will lapse: `lead` before it ends, if Lanyard can't renew it
/// (no refresh token, or renewing keeps failing because the IdP is down). When renewing
/// starts failing inside the lead, the time is already past and the warning is due at once.
pub fn session_warning_at(status: &StatusView, lead: Duration) -> Option<DateTime<Utc>> {
    let s = &status.session;
    if s.state != SessionState::SignedIn || s.renewable {
        return None;
    }
    s.expires_at.map(|e| e - lead)
}

/// The warning itself: the clock time the session ends (in `tz`, the person's zone) and
/// the minutes left, rounded up.
pub fn session_notice<Tz>(status: &StatusView, now: DateTime<Utc>, tz: &Tz) -> Notice
where
    Tz: chrono::TimeZone,
    Tz::Offset: std::fmt::Display,
{
    let Some(ends) = status.session.expires_at else {
        return Notice {
            title: "Your company sign-in ends soon".into(),
            body: "Lanyard can't renew it. Open Lanyard and sign in again.".into(),
        };
    };
    let left = ((ends - now).num_seconds().max(0) + 59) / 60;
    let at = ends.with_timezone(tz).format("%H:%M");
    Notice {
        title: "Your company sign-in ends soon".into(),
        body: format!(
            "It ends at {at} (in about {left} min) and Lanyard can't renew it. \
             Open Lanyard and sign in again to keep your connectors working."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lanyard::view::status::{ConnectorView, SessionView};

    fn view(
        renewable: bool,
        expires_in: i64,
        states: &[(&str, ConnectorState)],
        now: DateTime<Utc>,
    ) -> StatusView {
        StatusView {
            version: 1,
            session: SessionView {
                state: SessionState::SignedIn,
                issuer: None,
                subject: None,
                email: None,
                expires_at: Some(now + Duration::seconds(expires_in)),
                renewable,
            },
            connectors: states
                .iter()
                .map(|(id, state)| ConnectorView {
                    id: id.to_string(),
                    name: id.to_uppercase(),
                    mcp_url: String::new(),
                    state: *state,
                    expires_at: None,
                    scopes: vec![],
                    tools: None,
                    error: None,
                })
                .collect(),
        }
    }

    #[test]
    fn only_drops_from_granted_notify() {
        use ConnectorState::*;
        let now = Utc::now();
        let prev = view(
            true,
            3600,
            &[
                ("a", Granted),
                ("b", Granted),
                ("c", Denied),
                ("d", Granted),
            ],
            now,
        );
        let next = view(
            true,
            3600,
            &[
                ("a", Granted),
                ("b", Denied),
                ("c", Denied),
                ("d", Unreachable),
            ],
            now,
        );
        let notices = dropped(&prev, &next);
        assert_eq!(
            notices.len(),
            1,
            "renewals, old denials and outages don't notify: {notices:?}"
        );
        assert_eq!(notices[0].title, "B access stopped");
        assert!(dropped(&next, &next).is_empty());

        // Signing out drops every grant, and the person knows; a lapse had its own warning.
        let mut ended = view(false, 0, &[("a", NeedsSignIn), ("b", NeedsSignIn)], now);
        for state in [SessionState::SignedOut, SessionState::Expired] {
            ended.session.state = state;
            assert!(dropped(&prev, &ended).is_empty(), "{state:?}");
        }
    }

    #[test]
    fn a_renewal_in_flight_does_not_hide_a_drop() {
        use ConnectorState::*;
        let now = Utc::now();
        let granted = view(true, 3600, &[("a", Granted), ("b", Denied)], now);
        let pending = view(true, 3600, &[("a", Pending), ("b", Pending)], now);
        let denied = view(true, 3600, &[("a", Denied), ("b", Denied)], now);
        let seen = settled(&granted, &pending);
        assert_eq!(seen.connectors[0].state, Granted);
        assert_eq!(seen.connectors[1].state, Denied);
        let notices = dropped(&seen, &denied);
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert_eq!(notices[0].title, "A access stopped");
        assert!(
            dropped(&settled(&seen, &denied), &denied).is_empty(),
            "once"
        );
    }

    #[test]
    fn session_warning_only_when_not_renewable() {
        let now = Utc::now();
        assert_eq!(
            session_warning_at(&view(true, 3600, &[], now), Duration::minutes(15)),
            None
        );
        let at = session_warning_at(&view(false, 3600, &[], now), Duration::minutes(15)).unwrap();
        assert_eq!(at, now + Duration::minutes(45));
        let n = session_notice(&view(false, 600, &[], now), now, &Utc);
        assert!(n.body.contains("in about 10 min"), "{}", n.body);
        let ends = (now + Duration::seconds(600)).format("%H:%M").to_string();
        assert!(n.body.contains(&format!("ends at {ends}")), "{}", n.body);
        // Renewal started failing with less than the lead left: due at once, not missed.
        let late = session_warning_at(&view(false, 30, &[], now), Duration::minutes(15)).unwrap();
        assert!(late < now);
        assert!(
            session_notice(&view(false, 30, &[], now), now, &Utc)
                .body
                .contains("in about 1 min")
        );
    }
}
