//! Builds the `StatusView` from the policy and the state file: the policy says which
//! connectors exist (in its order), the state says where each one stands.

use chrono::{DateTime, Utc};

use crate::policy::Policy;
use crate::store::state::State;
use crate::view::connector::{ConnectorError, ConnectorState, Stage};
use crate::view::status::{ConnectorView, STATUS_VERSION, SessionState, SessionView, StatusView};

pub fn build(policy: &Policy, state: &State, now: DateTime<Utc>) -> StatusView {
    let session = session_view(policy, state, now);
    let signed_in = session.state == SessionState::SignedIn;
    let connectors = policy
        .connectors
        .iter()
        .map(|c| connector_view(c, state.connectors.get(c.id.as_str()), signed_in, now))
        .collect();
    StatusView {
        version: STATUS_VERSION,
        session,
        connectors,
    }
}

fn session_view(policy: &Policy, state: &State, now: DateTime<Utc>) -> SessionView {
    let Some(s) = &state.session else {
        return SessionView {
            state: SessionState::SignedOut,
            issuer: Some(policy.idp.issuer.clone()),
            subject: None,
            email: None,
            expires_at: None,
            renewable: false,
        };
    };
    // Past the ID token's expiry, a session lapses unless Lanyard can renew it: it holds no
    // refresh token, or renewing keeps failing (the IdP is down).
    let can_renew = s.renewable && !s.renewal_failing;
    let lapsed = s.expired || (!can_renew && s.id_token_expires_at <= now);
    SessionView {
        state: if lapsed {
            SessionState::Expired
        } else {
            SessionState::SignedIn
        },
        issuer: Some(s.issuer.clone()),
        subject: Some(s.subject.clone()),
        email: s.email.clone(),
        expires_at: Some(s.id_token_expires_at),
        renewable: can_renew && !s.expired,
    }
}

fn connector_view(
    c: &crate::policy::ConnectorConfig,
    rec: Option<&crate::store::state::ConnectorRecord>,
    signed_in: bool,
    now: DateTime<Utc>,
) -> ConnectorView {
    let (state, error) = match rec {
        None if signed_in => (ConnectorState::Pending, None),
        None => (ConnectorState::NeedsSignIn, None),
        Some(r) if r.state == ConnectorState::Granted && r.expires_at.is_some_and(|e| e <= now) => {
            if signed_in {
                (ConnectorState::Pending, None)
            } else {
                (ConnectorState::NeedsSignIn, Some(session_ended()))
            }
        }
        Some(r) if !signed_in && r.state != ConnectorState::Granted => {
            (ConnectorState::NeedsSignIn, r.error.clone())
        }
        Some(r) => (r.state, r.error.clone()),
    };
    ConnectorView {
        id: c.id.to_string(),
        name: c.name.clone(),
        mcp_url: c.mcp_url.to_string(),
        state,
        expires_at: rec.and_then(|r| r.expires_at),
        scopes: rec.map(|r| r.scopes.clone()).unwrap_or_default(),
        tools: rec.and_then(|r| r.tools),
        error,
    }
}

fn session_ended() -> ConnectorError {
    ConnectorError {
        stage: Stage::TokenExchange,
        code: "session_expired".into(),
        description: None,
        hint: "Your company sign-in has ended. Sign in again to renew this connector.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::state::SessionRecord;
    use chrono::Duration;

    fn policy() -> Policy {
        let json = r#"{"idp": {"issuer": "https://idp.example", "client_id": "c"},
            "connectors": []}"#;
        crate::policy::parse(json, std::path::Path::new("policy.json")).unwrap()
    }

    fn state(renewable: bool, renewal_failing: bool, expires_at: DateTime<Utc>) -> State {
        State {
            session: Some(SessionRecord {
                issuer: "https://idp.example".into(),
                subject: "ada".into(),
                email: None,
                name: None,
                id_token_expires_at: expires_at,
                renewable,
                signed_in_at: expires_at - Duration::minutes(60),
                id_token_obtained_at: None,
                expired: false,
                renewal_failing,
            }),
            ..State::default()
        }
    }

    #[test]
    fn a_session_whose_renewal_keeps_failing_is_not_renewable_and_lapses_at_expiry() {
        let now = Utc::now();
        let soon = now + Duration::seconds(30);
        let healthy = build(&policy(), &state(true, false, soon), now).session;
        assert_eq!(healthy.state, SessionState::SignedIn);
        assert!(healthy.renewable);

        let failing = build(&policy(), &state(true, true, soon), now).session;
        assert_eq!(
            failing.state,
            SessionState::SignedIn,
            "still valid until expiry"
        );
        assert!(
            !failing.renewable,
            "the IdP is down: it won't renew by itself now"
        );

        let later = soon + Duration::seconds(1);
        let lapsed = build(&policy(), &state(true, true, soon), later).session;
        assert_eq!(lapsed.state, SessionState::Expired);
        // A renewable session past its ID token's expiry is renewed on the next wake.
        let due = build(&policy(), &state(true, false, soon), later).session;
        assert_eq!(due.state, SessionState::SignedIn);
    }
}
