//! RFC 8628 device authorization grant at the IdP: the device authorization endpoint, the
//! person's decision (from the verification page or `/lab/device/*`), and the token
//! endpoint's polling answers (`authorization_pending`, `slow_down`, `access_denied`,
//! `expired_token`). A device code gets exactly one final answer (tokens, `access_denied` or
//! `expired_token`); after it the code is unknown (`invalid_grant`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::DateTime;
use rand::Rng as _;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::oauth::{Form, OAuthError, mint, no_store_json, split_scope};
use crate::state::{DeviceDecision, DeviceGrant, LabState};
use crate::token_endpoint;

/// RFC 8628 §6.1's example alphabet: no vowels (no words), no look-alike digits.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
/// The scope of a request that names none.
const DEFAULT_SCOPE: &str = "openid email profile offline_access";
/// A poll this much early still counts as on time (network and scheduler jitter).
const POLL_GRACE: Duration = Duration::from_millis(100);
/// RFC 8628 §3.5: each `slow_down` adds 5 s to the interval.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// Finished or expired entries are dropped this long after their expiry.
const PURGE_AFTER_MS: i64 = 10 * 60 * 1000;

/// `POST /idp/device_authorization` (RFC 8628 §3.1–3.2).
pub async fn authorization(
    State(state): State<Arc<LabState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match start(&state, &headers, &body) {
        Ok(answer) => no_store_json(StatusCode::OK, answer),
        Err(e) => e.into_response(),
    }
}

fn start(state: &LabState, headers: &HeaderMap, body: &[u8]) -> Result<Value, OAuthError> {
    let token_url = state.idp_token_endpoint();
    let endpoint = super::client_endpoint(state, &token_url);
    let (client_id, form) = token_endpoint::authenticate_client(state, endpoint, headers, body)?;
    let scope = split_scope(Some(form.get("scope").unwrap_or(DEFAULT_SCOPE)));
    if !scope.iter().any(|s| s == "openid") {
        return Err(OAuthError::invalid_scope("the openid scope is required"));
    }
    let device_code = mint("devicecode");
    let now_ms = state.clock.now().timestamp_millis();
    let lifetime = state.device.lifetime_secs;
    let interval = state.device.interval_secs;
    let user_code = {
        let mut store = state.store();
        store
            .devices
            .retain(|_, d| d.expires_at_ms + PURGE_AFTER_MS > now_ms);
        let user_code = loop {
            let candidate = new_user_code();
            if !store.devices.values().any(|d| d.user_code == candidate) {
                break candidate;
            }
        };
        store.devices.insert(
            device_code.clone(),
            DeviceGrant {
                user_code: user_code.clone(),
                client_id: client_id.clone(),
                scope,
                expires_at_ms: now_ms.saturating_add(lifetime.saturating_mul(1000)),
                interval: Duration::from_secs(interval),
                last_poll: None,
                decision: DeviceDecision::Pending,
            },
        );
        user_code
    };
    tracing::info!(client_id = %client_id, user_code = %user_code, "device authorization started");
    let verification_uri = verification_uri(state);
    Ok(json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": format!("{verification_uri}?user_code={user_code}"),
        "expires_in": lifetime,
        "interval": interval,
    }))
}

/// The page where a person enters the user code (`/idp/device`).
pub fn verification_uri(state: &LabState) -> String {
    format!("{}/device", state.idp_issuer)
}

/// `XXXX-XXXX` from the alphabet: 20^8 ≈ 2^34.6 codes, plenty for minutes-long lifetimes.
fn new_user_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        code.push(char::from(
            USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())],
        ));
    }
    code
}

/// RFC 8628 §6.1: case and punctuation do not matter when a person types the code.
pub fn normalize_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The user and scope of an approved device code, for the token endpoint to issue.
#[derive(Debug)]
pub struct Approved {
    pub email: String,
    pub scope: Vec<String>,
}

/// The token endpoint's `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5).
pub fn redeem(state: &LabState, client_id: &str, form: &Form) -> Result<Approved, OAuthError> {
    let device_code = form.require("device_code")?;
    let now_ms = state.clock.now().timestamp_millis();
    let mut store = state.store();
    let Some(grant) = store.devices.get_mut(device_code) else {
        return Err(OAuthError::invalid_grant(
            "the device code is unknown or already used",
        ));
    };
    if grant.client_id != client_id {
        return Err(OAuthError::invalid_grant(
            "the device code was issued to another client",
        ));
    }
    if now_ms >= grant.expires_at_ms {
        store.devices.remove(device_code);
        return Err(OAuthError::new(
            "expired_token",
            "the device code has expired; start the sign-in again",
        ));
    }
    match grant.decision.clone() {
        DeviceDecision::Approved { email } => {
            let scope = std::mem::take(&mut grant.scope);
            store.devices.remove(device_code);
            Ok(Approved { email, scope })
        }
        DeviceDecision::Denied => {
            store.devices.remove(device_code);
            Err(OAuthError::new(
                "access_denied",
                "the person at the verification page denied the request",
            ))
        }
        DeviceDecision::Pending => {
            let now = Instant::now();
            let early = grant
                .last_poll
                .is_some_and(|last| now.duration_since(last) + POLL_GRACE < grant.interval);
            grant.last_poll = Some(now);
            if early {
                grant.interval += SLOW_DOWN_STEP;
                return Err(OAuthError::new(
                    "slow_down",
                    format!(
                        "polled too often; poll at most every {} s from now on",
                        grant.interval.as_secs()
                    ),
                ));
            }
            Err(OAuthError::new(
                "authorization_pending",
                "the person has not approved the request yet",
            ))
        }
    }
}

/// A person's answer to a device authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Sign this directory user in.
    Approve {
        email: String,
    },
    Deny,
}

/// Why a decision could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("no device authorization has the user code {0}")]
    UnknownCode(String),
    #[error("the user code {0} has expired")]
    Expired(String),
    #[error("the user code {0} was already approved or denied")]
    AlreadyDecided(String),
    #[error("{0} is not a user in the lab directory")]
    UnknownUser(String),
}

/// One device authorization as the admin endpoint lists it (never the device code).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct DeviceRequest {
    pub user_code: String,
    pub client_id: String,
    pub scope: String,
    /// `pending`, `approved`, `denied` or `expired`.
    pub status: String,
    /// The approving user, once approved.
    #[serde(default)]
    pub user: Option<String>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Records the person's decision for the request with `user_code` (typed any which way).
pub fn decide(
    state: &LabState,
    user_code: &str,
    decision: Decision,
) -> Result<DeviceRequest, DeviceError> {
    if let Decision::Approve { email } = &decision
        && state.directory.user(email).is_none()
    {
        return Err(DeviceError::UnknownUser(email.clone()));
    }
    let wanted = normalize_user_code(user_code);
    let now_ms = state.clock.now().timestamp_millis();
    let mut store = state.store();
    let grant = store
        .devices
        .values_mut()
        .find(|d| normalize_user_code(&d.user_code) == wanted)
        .ok_or_else(|| DeviceError::UnknownCode(user_code.to_string()))?;
    if now_ms >= grant.expires_at_ms {
        return Err(DeviceError::Expired(grant.user_code.clone()));
    }
    if grant.decision != DeviceDecision::Pending {
        return Err(DeviceError::AlreadyDecided(grant.user_code.clone()));
    }
    grant.decision = match decision {
        Decision::Approve { email } => DeviceDecision::Approved { email },
        Decision::Deny => DeviceDecision::Denied,
    };
    tracing::info!(user_code = %grant.user_code, decision = ?grant.decision, "device authorization decided");
    Ok(describe(grant, now_ms))
}

/// Every device authorization the lab still holds, soonest expiry first.
pub fn requests(state: &LabState) -> Vec<DeviceRequest> {
    let now_ms = state.clock.now().timestamp_millis();
    let mut list: Vec<DeviceRequest> = state
        .store()
        .devices
        .values()
        .map(|d| describe(d, now_ms))
        .collect();
    list.sort_by_key(|r| r.expires_at);
    list
}

/// The request with this user code, if the lab still holds it.
pub fn request(state: &LabState, user_code: &str) -> Option<DeviceRequest> {
    let wanted = normalize_user_code(user_code);
    requests(state)
        .into_iter()
        .find(|r| normalize_user_code(&r.user_code) == wanted)
}

fn describe(d: &DeviceGrant, now_ms: i64) -> DeviceRequest {
    let (status, user) = match &d.decision {
        _ if now_ms >= d.expires_at_ms => ("expired", None),
        DeviceDecision::Pending => ("pending", None),
        DeviceDecision::Approved { email } => ("approved", Some(email.clone())),
        DeviceDecision::Denied => ("denied", None),
    };
    DeviceRequest {
        user_code: d.user_code.clone(),
        client_id: d.client_id.clone(),
        scope: d.scope.join(" "),
        status: status.to_string(),
        user,
        expires_at: DateTime::from_timestamp_millis(d.expires_at_ms).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_short_and_human() {
        let code = new_user_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert!(
            code.bytes()
                .filter(|b| *b != b'-')
                .all(|b| USER_CODE_ALPHABET.contains(&b))
        );
        assert_ne!(code, new_user_code());
    }

    #[test]
    fn typed_codes_ignore_case_and_punctuation() {
        assert_eq!(normalize_user_code(" wdjb mjht "), "WDJBMJHT");
        assert_eq!(normalize_user_code("WDJB-MJHT"), "WDJBMJHT");
    }
}
