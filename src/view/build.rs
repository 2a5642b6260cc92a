//! Builds the `StatusView` from the policy and the state file: the policy says which
//! connectors exist (in its order), the state says where each one stands.

use chrono::{DateTime, Utc};

use crate::policy::Policy;
use crate::store::state::State;
use crate::view::connector::{ConnectorError, ConnectorState, Stage};
use crate::view::status::{ConnectorView, STATUS_VERSION, SessionState, SessionView, StatusView};

pub fn build(policy: &Policy, state: &State, now: DateTime<Utc>) -> StatusView {
    let session = match &state.session {
        None => SessionView {
            state: SessionState::SignedOut,
            issuer: Some(policy.idp.issuer.clone()),
            subject: None,
            email: None,
            expires_at: None,
            renewable: false,
        },
        Some(s) => {
            let lapsed = s.expired || (!s.renewable && s.id_token_expires_at <= now);
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
                renewable: s.renewable && !s.expired,
            }
        }
    };
    let signed_in = session.state == SessionState::SignedIn;
    let connectors = policy
        .connectors
        .iter()
        .map(|c| {
            let rec = state.connectors.get(&c.id);
            let (state, error) = match rec {
                None if signed_in => (ConnectorState::Pending, None),
                None => (ConnectorState::NeedsSignIn, None),
                Some(r)
                    if r.state == ConnectorState::Granted
                        && r.expires_at.is_some_and(|e| e <= now) =>
                {
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
                id: c.id.clone(),
                name: c.name.clone(),
                mcp_url: c.mcp_url.to_string(),
                state,
                expires_at: rec.and_then(|r| r.expires_at),
                scopes: rec.map(|r| r.scopes.clone()).unwrap_or_default(),
                tools: rec.and_then(|r| r.tools),
                error,
            }
        })
        .collect();
    StatusView {
        version: STATUS_VERSION,
        session,
        connectors,
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
