//! The IdP token endpoint: authorization code + PKCE, rotating refresh tokens and the RFC 8628
//! device code, each issuing an ES256 ID token; token exchange is dispatched to `exchange`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

use super::{client_endpoint, device, exchange};
use crate::oauth::{
    GRANT_AUTHORIZATION_CODE, GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN, GRANT_TOKEN_EXCHANGE,
    OAuthError, mint,
};
use crate::state::{LabState, RefreshGrant};
use crate::token_endpoint::{self, TokenResponse};

/// IdP refresh tokens last a working week.
const REFRESH_LIFETIME: i64 = 7 * 24 * 3600;

pub async fn token(
    State(state): State<Arc<LabState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    token_endpoint::respond(token_inner(&state, &headers, &body))
}

fn token_inner(
    state: &LabState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenResponse, OAuthError> {
    let token_url = state.idp_token_endpoint();
    let request = token_endpoint::accept(state, client_endpoint(state, &token_url), headers, body)?;
    let (client_id, form) = (request.client_id.as_str(), &request.form);
    match request.grant_type.as_str() {
        GRANT_AUTHORIZATION_CODE => {
            let code = token_endpoint::redeem_code(state, None, client_id, form)?;
            issue(
                state,
                client_id,
                &code.email,
                code.scope,
                code.nonce.as_deref(),
            )
        }
        GRANT_REFRESH_TOKEN => {
            let grant = token_endpoint::rotate_refresh(state, None, client_id, form)?;
            issue(state, client_id, &grant.email, grant.scope, None)
        }
        GRANT_DEVICE_CODE => {
            let approved = device::redeem(state, client_id, form)?;
            issue(state, client_id, &approved.email, approved.scope, None)
        }
        GRANT_TOKEN_EXCHANGE => exchange::exchange(state, client_id, form),
        other => Err(OAuthError::unsupported_grant_type(other)),
    }
}

/// Access token, ID token and a fresh refresh token.
fn issue(
    state: &LabState,
    client_id: &str,
    email: &str,
    scope: Vec<String>,
    nonce: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
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
    let mut tokens = TokenResponse::bearer(mint("idpat"), lifetime, scope);
    tokens.id_token = Some(id_token);
    tokens.refresh_token = Some(refresh_token);
    Ok(tokens)
}
