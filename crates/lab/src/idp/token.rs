//! The IdP token endpoint: authorization code + PKCE and rotating refresh tokens, issuing
//! ES256 ID tokens; token exchange is dispatched to `exchange`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

use super::exchange;
use crate::client_auth::{self, Endpoint};
use crate::oauth::{
    Form, GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN, GRANT_TOKEN_EXCHANGE, OAuthError, mint,
    no_store_json, pkce_s256_matches,
};
use crate::state::{LabState, RefreshGrant};

/// IdP refresh tokens last a working week.
const REFRESH_LIFETIME: i64 = 7 * 24 * 3600;

pub async fn token(
    State(state): State<Arc<LabState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match token_inner(&state, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn token_inner(state: &LabState, headers: &HeaderMap, body: &[u8]) -> Result<Response, OAuthError> {
    let form = Form::parse(headers, body)?;
    let grant_type = form.require("grant_type")?;
    let endpoint = Endpoint {
        issuer: &state.idp_issuer,
        token_endpoint: &state.idp_token_endpoint(),
        body_client_id_with_basic: false,
    };
    let client_id = client_auth::authenticate(state, endpoint, headers, &form)?;
    match grant_type {
        GRANT_AUTHORIZATION_CODE => authorization_code(state, &client_id, &form),
        GRANT_REFRESH_TOKEN => refresh(state, &client_id, &form),
        GRANT_TOKEN_EXCHANGE => exchange::exchange(state, &client_id, &form),
        other => Err(OAuthError::unsupported_grant_type(other)),
    }
}

fn authorization_code(
    state: &LabState,
    client_id: &str,
    form: &Form,
) -> Result<Response, OAuthError> {
    let code = form.require("code")?;
    let redirect_uri = form.require("redirect_uri")?;
    let verifier = form.require("code_verifier")?;
    // Removed before any check: a code is single-use even when the attempt fails.
    let grant = state
        .store()
        .codes
        .remove(code)
        .filter(|c| c.connector.is_none())
        .ok_or_else(|| {
            OAuthError::invalid_grant("the authorization code is unknown or already used")
        })?;
    if grant.client_id != client_id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if grant.expires_at < state.clock.timestamp() {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    if !pkce_s256_matches(verifier, &grant.code_challenge) {
        return Err(OAuthError::invalid_grant("PKCE verification failed"));
    }
    issue(
        state,
        client_id,
        &grant.email,
        grant.scope,
        grant.nonce.as_deref(),
    )
}

/// Rotation: the presented refresh token dies; reusing it is `invalid_grant`.
fn refresh(state: &LabState, client_id: &str, form: &Form) -> Result<Response, OAuthError> {
    let presented = form.require("refresh_token")?;
    let grant = {
        let mut store = state.store();
        let ok = store
            .refresh
            .get(presented)
            .is_some_and(|rt| rt.connector.is_none() && rt.client_id == client_id);
        if ok {
            store.refresh.remove(presented)
        } else {
            None
        }
    }
    .ok_or_else(|| {
        OAuthError::invalid_grant("the refresh token is invalid, expired, revoked or already used")
    })?;
    if grant.expires_at < state.clock.timestamp() {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    issue(state, client_id, &grant.email, grant.scope, None)
}

/// Access token, ID token and a fresh refresh token.
fn issue(
    state: &LabState,
    client_id: &str,
    email: &str,
    scope: Vec<String>,
    nonce: Option<&str>,
) -> Result<Response, OAuthError> {
    let user = state
        .directory
        .user(email)
        .ok_or_else(|| OAuthError::invalid_grant("the user is no longer in the directory"))?;
    let now = state.clock.timestamp();
    let lifetime = state.token_lifetime;
    let mut claims = json!({
        "iss": state.idp_issuer,
        "sub": user.sub,
        "aud": client_id,
        "exp": now + lifetime,
        "iat": now,
        "auth_time": now,
        "email": user.email,
        "email_verified": true,
        "name": user.name,
    });
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    let id_token = state.key().sign("JWT", &claims).map_err(|e| {
        OAuthError::new("server_error", e.to_string())
            .with_status(StatusCode::INTERNAL_SERVER_ERROR)
    })?;
    let refresh_token = mint("rt");
    state.store().refresh.insert(
        refresh_token.clone(),
        RefreshGrant {
            client_id: client_id.to_string(),
            email: user.email.clone(),
            scope: scope.clone(),
            expires_at: now + REFRESH_LIFETIME,
            connector: None,
            family: uuid::Uuid::new_v4().to_string(),
        },
    );
    Ok(no_store_json(
        StatusCode::OK,
        json!({
            "access_token": mint("idpat"),
            "token_type": "Bearer",
            "expires_in": lifetime,
            "id_token": id_token,
            "refresh_token": refresh_token,
            "scope": scope.join(" "),
        }),
    ))
}
