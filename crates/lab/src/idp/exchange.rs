//! RFC 8693 token exchange at the IdP (ema-protocol §1): ID token (or IdP refresh token) in,
//! ID-JAG out, decided by the directory's group policy.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::catalogue::ClientMethod;
use crate::clock::SKEW_SECS;
use crate::keys;
use crate::oauth::{
    Form, OAuthError, TOKEN_TYPE_ID_JAG, TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_REFRESH_TOKEN, TYP_ID_JAG,
    intersect, split_scope,
};
use crate::state::{ID_JAG_LIFETIME, LabState};
use crate::token_endpoint::TokenResponse;

// long: the RFC 8693 and EMA checks of a token-exchange request in the specs' order, each its
// own OAuth error, then the grant decision: one list to audit against the draft.
pub fn exchange(
    state: &LabState,
    client_id: &str,
    form: &Form,
) -> Result<TokenResponse, OAuthError> {
    // EMA §7.7: without client authentication a stolen ID token could be swapped by anyone.
    if state
        .client(&state.idp_issuer, client_id)
        .is_none_or(|c| c.method == ClientMethod::None)
    {
        return Err(OAuthError::invalid_client(
            "token exchange requires an authenticated (confidential) client",
        ));
    }
    if form.require("requested_token_type")? != TOKEN_TYPE_ID_JAG {
        return Err(OAuthError::invalid_request(
            "requested_token_type invalid or not supported",
        ));
    }
    let subject_token = form.require("subject_token")?;
    let subject_type = form.require("subject_token_type")?;
    let audience = form.require("audience")?;
    let resource = form.require("resource")?;
    let email = match subject_type {
        TOKEN_TYPE_ID_TOKEN => subject_from_id_token(state, client_id, subject_token)?,
        TOKEN_TYPE_REFRESH_TOKEN => subject_from_refresh_token(state, client_id, subject_token)?,
        _ => {
            return Err(OAuthError::invalid_request(
                "unsupported subject_token_type",
            ));
        }
    };
    if state.faults().deny_all {
        return Err(OAuthError::new(
            "access_denied",
            "the administrator has paused all access",
        ));
    }
    let (idx, connector) = state
        .connectors
        .iter()
        .enumerate()
        .find(|(_, c)| c.issuer == audience)
        .ok_or_else(|| {
            OAuthError::invalid_target(format!("{audience} is not a known authorization server"))
        })?;
    if connector.mcp_url != resource {
        return Err(OAuthError::invalid_target(format!(
            "resource {resource} is not governed by {audience}"
        )));
    }
    if !connector.spec.supports_id_jag {
        return Err(OAuthError::invalid_target(format!(
            "{} is not set up for Cross App Access",
            connector.spec.name
        )));
    }
    if !state.directory.is_assigned(&email, &connector.spec.id) {
        return Err(OAuthError::invalid_target(format!(
            "{email} is not assigned to {}",
            connector.spec.name
        )));
    }
    let requested = split_scope(form.get("scope"));
    let scope = if requested.is_empty() {
        connector.spec.scopes.clone()
    } else {
        let granted = intersect(&requested, &connector.spec.scopes);
        if granted.is_empty() {
            return Err(OAuthError::invalid_scope(format!(
                "none of the requested scopes are offered by {}",
                connector.spec.name
            )));
        }
        granted
    };
    let user = state
        .directory
        .user(&email)
        .ok_or_else(|| OAuthError::invalid_grant("subject token is invalid"))?;
    let now = state.clock.timestamp();
    let claims = json!({
        "iss": state.idp_issuer,
        "sub": user.sub,
        "aud": connector.issuer,
        "client_id": connector.spec.lanyard_client_id(),
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": now,
        "exp": now + ID_JAG_LIFETIME,
        "resource": connector.mcp_url,
        "scope": scope.join(" "),
        "email": user.email,
    });
    let id_jag = state.key().sign(TYP_ID_JAG, &claims).map_err(|e| {
        OAuthError::new("server_error", e.to_string())
            .with_status(StatusCode::INTERNAL_SERVER_ERROR)
    })?;
    tracing::debug!(connector = %state.connectors[idx].spec.id, subject = %user.email, "issued ID-JAG");
    Ok(TokenResponse {
        access_token: id_jag,
        token_type: "N_A",
        expires_in: ID_JAG_LIFETIME,
        scope,
        refresh_token: None,
        id_token: None,
        issued_token_type: Some(TOKEN_TYPE_ID_JAG),
    })
}

/// Verifies an ID token this IdP issued to `client_id` and returns the user's email.
fn subject_from_id_token(
    state: &LabState,
    client_id: &str,
    token: &str,
) -> Result<String, OAuthError> {
    let invalid = || OAuthError::invalid_grant("subject token is invalid");
    let key = state.key();
    let header = keys::header_of(token).map_err(|_| invalid())?;
    if header.kid.as_deref() != Some(key.kid()) {
        return Err(invalid());
    }
    // Verified once per key: a client presents the same ID token for every connector.
    let claims = key.verify_own(token).map_err(|_| invalid())?;
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    if text("iss") != Some(state.idp_issuer.as_str()) {
        return Err(invalid());
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !aud_ok {
        return Err(invalid());
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(invalid)?;
    if exp + SKEW_SECS < state.clock.timestamp() {
        return Err(OAuthError::invalid_grant(
            "subject token is invalid: it has expired",
        ));
    }
    let sub = text("sub").ok_or_else(invalid)?;
    state
        .directory
        .user_by_sub(sub)
        .map(|u| u.email)
        .ok_or_else(invalid)
}

/// An IdP refresh token as subject (the draft's MAY); it is not rotated by this use.
fn subject_from_refresh_token(
    state: &LabState,
    client_id: &str,
    token: &str,
) -> Result<String, OAuthError> {
    let now = state.clock.timestamp();
    state
        .store()
        .refresh
        .get(token)
        .filter(|rt| rt.connector.is_none() && rt.client_id == client_id && rt.expires_at > now)
        .map(|rt| rt.email.clone())
        .ok_or_else(|| OAuthError::invalid_grant("subject token is invalid"))
}
