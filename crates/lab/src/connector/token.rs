//! A connector AS's token and revocation endpoints: legacy authorization code + rotating
//! refresh (per-user OAuth), the jwt-bearer grant (in `jwt_bearer`), and RFC 7009 revocation.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ConnectorCtx, jwt_bearer};
use crate::client_auth::{self, Endpoint};
use crate::oauth::{
    Form, GRANT_AUTHORIZATION_CODE, GRANT_JWT_BEARER, GRANT_REFRESH_TOKEN, OAuthError, mint,
    no_store_json, pkce_s256_matches,
};
use crate::state::{AccessGrant, GrantKind, RefreshGrant};

/// Legacy refresh tokens last 30 days, like typical vendor per-user grants.
const LEGACY_REFRESH_LIFETIME: i64 = 30 * 24 * 3600;

pub async fn token(
    State(ctx): State<ConnectorCtx>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match token_inner(&ctx, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

pub fn authenticate(
    ctx: &ConnectorCtx,
    headers: &HeaderMap,
    form: &Form,
) -> Result<String, OAuthError> {
    let c = ctx.connector();
    let endpoint = Endpoint {
        issuer: &c.issuer,
        token_endpoint: &c.token_endpoint(),
        body_client_id_with_basic: c.spec.body_client_id_with_basic,
    };
    client_auth::authenticate(&ctx.lab, endpoint, headers, form)
}

fn token_inner(
    ctx: &ConnectorCtx,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, OAuthError> {
    let form = Form::parse(headers, body)?;
    let grant_type = form.require("grant_type")?;
    let client_id = authenticate(ctx, headers, &form)?;
    match grant_type {
        GRANT_AUTHORIZATION_CODE => authorization_code(ctx, &client_id, &form),
        GRANT_REFRESH_TOKEN => refresh(ctx, &client_id, &form),
        GRANT_JWT_BEARER if ctx.connector().spec.supports_id_jag => {
            jwt_bearer::redeem(ctx, &client_id, &form)
        }
        other => Err(OAuthError::unsupported_grant_type(other)),
    }
}

fn authorization_code(
    ctx: &ConnectorCtx,
    client_id: &str,
    form: &Form,
) -> Result<Response, OAuthError> {
    let code = form.require("code")?;
    let redirect_uri = form.require("redirect_uri")?;
    let verifier = form.require("code_verifier")?;
    let grant = ctx
        .lab
        .store()
        .codes
        .remove(code)
        .filter(|c| c.connector == Some(ctx.idx))
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
    if grant.expires_at < ctx.lab.clock.timestamp() {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    if !pkce_s256_matches(verifier, &grant.code_challenge) {
        return Err(OAuthError::invalid_grant("PKCE verification failed"));
    }
    if form
        .get("resource")
        .is_some_and(|r| r != ctx.connector().mcp_url)
    {
        return Err(OAuthError::invalid_target(
            "resource is not served by this authorization server",
        ));
    }
    let family = uuid::Uuid::new_v4().to_string();
    Ok(issue_legacy(
        ctx,
        client_id,
        &grant.email,
        grant.scope,
        family,
    ))
}

/// Rotating refresh for legacy grants; the family (and so revocation) carries over.
fn refresh(ctx: &ConnectorCtx, client_id: &str, form: &Form) -> Result<Response, OAuthError> {
    let presented = form.require("refresh_token")?;
    let grant = {
        let mut store = ctx.lab.store();
        let ok = store
            .refresh
            .get(presented)
            .is_some_and(|rt| rt.connector == Some(ctx.idx) && rt.client_id == client_id);
        if ok {
            store.refresh.remove(presented)
        } else {
            None
        }
    }
    .ok_or_else(|| {
        OAuthError::invalid_grant("the refresh token is invalid, expired, revoked or already used")
    })?;
    if grant.expires_at < ctx.lab.clock.timestamp() {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    Ok(issue_legacy(
        ctx,
        client_id,
        &grant.email,
        grant.scope,
        grant.family,
    ))
}

fn issue_legacy(
    ctx: &ConnectorCtx,
    client_id: &str,
    email: &str,
    scope: Vec<String>,
    family: String,
) -> Response {
    let now = ctx.lab.clock.timestamp();
    let lifetime = ctx.lab.token_lifetime;
    let (access, refresh) = (mint("lat"), mint("lrt"));
    {
        let mut store = ctx.lab.store();
        store.access.insert(
            access.clone(),
            AccessGrant {
                connector: ctx.idx,
                client_id: client_id.to_string(),
                email: email.to_string(),
                scope: scope.clone(),
                resource: ctx.connector().mcp_url.clone(),
                kind: GrantKind::Legacy,
                family: Some(family.clone()),
                expires_at: now + lifetime,
            },
        );
        store.refresh.insert(
            refresh.clone(),
            RefreshGrant {
                client_id: client_id.to_string(),
                email: email.to_string(),
                scope: scope.clone(),
                expires_at: now + LEGACY_REFRESH_LIFETIME,
                connector: Some(ctx.idx),
                family,
            },
        );
    }
    no_store_json(
        StatusCode::OK,
        json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "refresh_token": refresh,
            "scope": scope.join(" "),
        }),
    )
}

/// RFC 7009. Unknown tokens: 200. A refresh token takes its whole family with it; a token
/// issued to another client is refused rather than silently kept.
pub async fn revoke(
    State(ctx): State<ConnectorCtx>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match revoke_inner(&ctx, &headers, &body) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

fn revoke_inner(ctx: &ConnectorCtx, headers: &HeaderMap, body: &[u8]) -> Result<(), OAuthError> {
    let form = Form::parse(headers, body)?;
    let client_id = authenticate(ctx, headers, &form)?;
    let token = form.require("token")?;
    let mut store = ctx.lab.store();
    let owner = |c: usize, id: &str| (c == ctx.idx).then(|| id == client_id);
    if let Some(rt) = store.refresh.get(token) {
        match rt.connector.and_then(|c| owner(c, &rt.client_id)) {
            Some(true) => {
                let family = rt.family.clone();
                store.refresh.retain(|_, r| r.family != family);
                store
                    .access
                    .retain(|_, a| a.family.as_deref() != Some(family.as_str()));
                tracing::info!(connector = %ctx.connector().spec.id, "revoked a refresh-token family");
            }
            Some(false) => {
                return Err(OAuthError::new(
                    "unauthorized_client",
                    "the token was issued to another client",
                ));
            }
            None => {}
        }
    } else if let Some(at) = store.access.get(token) {
        match owner(at.connector, &at.client_id) {
            Some(true) => {
                store.access.remove(token);
            }
            Some(false) => {
                return Err(OAuthError::new(
                    "unauthorized_client",
                    "the token was issued to another client",
                ));
            }
            None => {}
        }
    }
    Ok(())
}
