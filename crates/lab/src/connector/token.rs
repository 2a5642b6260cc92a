//! A connector AS's token and revocation endpoints: legacy authorization code + rotating
//! refresh (per-user OAuth), the jwt-bearer grant (in `jwt_bearer`), and RFC 7009 revocation.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{ConnectorCtx, jwt_bearer};
use crate::client_auth::Endpoint;
use crate::oauth::{
    Form, GRANT_AUTHORIZATION_CODE, GRANT_JWT_BEARER, GRANT_REFRESH_TOKEN, OAuthError, mint,
};
use crate::state::{AccessGrant, GrantKind, RefreshGrant};
use crate::token_endpoint::{self, TokenResponse};

/// Legacy refresh tokens last 30 days, like typical vendor per-user grants.
const LEGACY_REFRESH_LIFETIME: i64 = 30 * 24 * 3600;

pub async fn token(
    State(ctx): State<ConnectorCtx>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    token_endpoint::respond(token_inner(&ctx, &headers, &body))
}

/// How clients authenticate at this AS's token and revocation endpoints (with its quirk).
fn client_endpoint<'a>(ctx: &'a ConnectorCtx, token_endpoint: &'a str) -> Endpoint<'a> {
    let c = ctx.connector();
    Endpoint {
        issuer: &c.issuer,
        token_endpoint,
        body_client_id_with_basic: c.spec.body_client_id_with_basic,
    }
}

fn token_inner(
    ctx: &ConnectorCtx,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenResponse, OAuthError> {
    let token_url = ctx.connector().token_endpoint();
    let request =
        token_endpoint::accept(&ctx.lab, client_endpoint(ctx, &token_url), headers, body)?;
    let (client_id, form) = (request.client_id.as_str(), &request.form);
    match request.grant_type.as_str() {
        GRANT_AUTHORIZATION_CODE => authorization_code(ctx, client_id, form),
        GRANT_REFRESH_TOKEN => {
            let grant = token_endpoint::rotate_refresh(&ctx.lab, Some(ctx.idx), client_id, form)?;
            // The family (and so revocation) carries over to the rotated token.
            Ok(issue_legacy(
                ctx,
                client_id,
                &grant.email,
                grant.scope,
                grant.family,
            ))
        }
        GRANT_JWT_BEARER if ctx.connector().spec.supports_id_jag => {
            jwt_bearer::redeem(ctx, client_id, form)
        }
        other => Err(OAuthError::unsupported_grant_type(other)),
    }
}

fn authorization_code(
    ctx: &ConnectorCtx,
    client_id: &str,
    form: &Form,
) -> Result<TokenResponse, OAuthError> {
    let grant = token_endpoint::redeem_code(&ctx.lab, Some(ctx.idx), client_id, form)?;
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

fn issue_legacy(
    ctx: &ConnectorCtx,
    client_id: &str,
    email: &str,
    scope: Vec<String>,
    family: String,
) -> TokenResponse {
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
    let mut tokens = TokenResponse::bearer(access, lifetime, scope);
    tokens.refresh_token = Some(refresh);
    tokens
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
    let token_url = ctx.connector().token_endpoint();
    let endpoint = client_endpoint(ctx, &token_url);
    let (client_id, form) = token_endpoint::authenticate_client(&ctx.lab, endpoint, headers, body)?;
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
