//! The lab's OpenID Provider: discovery, JWKS, authorization, RFC 8628 device authorization
//! with its verification page, token (code, refresh, device code, RFC 8693 token exchange
//! issuing ID-JAGs) and RFC 7009 revocation, all under `/idp`.

pub mod device;
mod device_page;
mod exchange;
mod token;

use axum::Router;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::sync::Arc;

use crate::authorize::{self, Target};
use crate::client_auth::Endpoint;
use crate::oauth::{
    GRANT_AUTHORIZATION_CODE, GRANT_DEVICE_CODE, GRANT_REFRESH_TOKEN, GRANT_TOKEN_EXCHANGE,
    OAuthError, TOKEN_TYPE_ID_JAG,
};
use crate::state::LabState;
use crate::token_endpoint;

pub fn router(state: Arc<LabState>) -> Router {
    Router::new()
        .route("/idp/.well-known/openid-configuration", get(discovery))
        .route(
            "/.well-known/oauth-authorization-server/idp",
            get(discovery),
        )
        .route("/.well-known/openid-configuration/idp", get(discovery))
        .route("/idp/jwks", get(jwks))
        .route("/idp/authorize", get(authorize))
        .route("/idp/token", post(token::token))
        .route("/idp/device_authorization", post(device::authorization))
        .route(
            "/idp/device",
            get(device_page::show).post(device_page::submit),
        )
        .route("/idp/revoke", post(revoke))
        .route_layer(middleware::from_fn_with_state(state.clone(), when_up))
        .with_state(state)
}

/// The `idp_down` fault: every IdP endpoint is unavailable.
async fn when_up(State(state): State<Arc<LabState>>, request: Request, next: Next) -> Response {
    if state.faults().idp_down {
        return OAuthError::temporarily_unavailable().into_response();
    }
    next.run(request).await
}

pub fn metadata(state: &LabState) -> Value {
    let iss = &state.idp_issuer;
    json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": state.idp_token_endpoint(),
        "jwks_uri": format!("{iss}/jwks"),
        "revocation_endpoint": format!("{iss}/revoke"),
        "device_authorization_endpoint": format!("{iss}/device_authorization"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported":
            [GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN, GRANT_DEVICE_CODE, GRANT_TOKEN_EXCHANGE],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported":
            ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
        "revocation_endpoint_auth_methods_supported":
            ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "subject_types_supported": ["public"],
        "scopes_supported": ["openid", "email", "profile", "offline_access"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "email", "name"],
        "authorization_response_iss_parameter_supported": true,
        "identity_chaining_requested_token_types_supported": [TOKEN_TYPE_ID_JAG],
    })
}

async fn discovery(State(state): State<Arc<LabState>>) -> Response {
    axum::Json(metadata(&state)).into_response()
}

async fn jwks(State(state): State<Arc<LabState>>) -> Response {
    axum::Json(json!({"keys": [state.key().public_jwk()]})).into_response()
}

async fn authorize(State(state): State<Arc<LabState>>, RawQuery(query): RawQuery) -> Response {
    let target = Target {
        issuer: &state.idp_issuer,
        endpoint: format!("{}/authorize", state.idp_issuer),
        title: "Lab IdP sign-in".into(),
        connector: None,
    };
    authorize::authorize(&state, target, query.as_deref())
}

/// How clients authenticate at the IdP's token, device authorization and revocation
/// endpoints. Here, not in `token`, so `device` and `token` don't depend on each other.
pub(crate) fn client_endpoint<'a>(state: &'a LabState, token_endpoint: &'a str) -> Endpoint<'a> {
    Endpoint {
        issuer: &state.idp_issuer,
        token_endpoint,
        body_client_id_with_basic: false,
    }
}

/// RFC 7009: 200 for unknown tokens; revokes refresh tokens issued to the caller.
async fn revoke(
    State(state): State<Arc<LabState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match revoke_inner(&state, &headers, &body) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

fn revoke_inner(state: &LabState, headers: &HeaderMap, body: &[u8]) -> Result<(), OAuthError> {
    let token_url = state.idp_token_endpoint();
    let endpoint = client_endpoint(state, &token_url);
    let (client_id, form) = token_endpoint::authenticate_client(state, endpoint, headers, body)?;
    let token = form.require("token")?;
    let mut store = state.store();
    let owned = store
        .refresh
        .get(token)
        .is_some_and(|rt| rt.connector.is_none() && rt.client_id == client_id);
    if owned {
        store.refresh.remove(token);
    }
    Ok(())
}
