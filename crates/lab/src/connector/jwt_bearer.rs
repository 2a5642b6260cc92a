//! RFC 7523 jwt-bearer with an ID-JAG (ema-protocol §3.2): every check the RAS must make,
//! then a short-lived access token restricted to this MCP resource, and no refresh token.

use jsonwebtoken::Algorithm;
use serde_json::Value;
use std::sync::atomic::Ordering;

use super::ConnectorCtx;
use crate::catalogue::ClientMethod;
use crate::clock::SKEW_SECS;
use crate::keys;
use crate::oauth::{Form, OAuthError, TYP_ID_JAG, intersect, mint, split_scope};
use crate::state::{AccessGrant, GrantKind};
use crate::token_endpoint::TokenResponse;

// long: every RFC 7523 §3 and EMA check on the ID-JAG in the specs' order, each its own OAuth
// error: the reference a connector's AS is compared with, easiest to audit as one list.
pub fn redeem(
    ctx: &ConnectorCtx,
    client_id: &str,
    form: &Form,
) -> Result<TokenResponse, OAuthError> {
    let connector = ctx.connector();
    if ctx
        .lab
        .client(&connector.issuer, client_id)
        .is_none_or(|c| c.method == ClientMethod::None)
    {
        return Err(OAuthError::new(
            "unauthorized_client",
            "public clients may not use the jwt-bearer grant",
        ));
    }
    let assertion = form.require("assertion")?;
    if form.get("resource").is_some_and(|r| r != connector.mcp_url) {
        return Err(OAuthError::invalid_target(
            "resource is not served by this authorization server",
        ));
    }
    let claims = verified_claims(ctx, assertion)?;
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    let bad = |why: &str| OAuthError::invalid_grant(format!("ID-JAG rejected: {why}"));

    if text("iss") != Some(ctx.lab.idp_issuer.as_str()) {
        return Err(bad("iss is not a trusted IdP"));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => *a == connector.issuer,
        Some(Value::Array(list)) => {
            list.len() == 1 && list[0].as_str() == Some(connector.issuer.as_str())
        }
        _ => false,
    };
    if !aud_ok {
        return Err(bad("aud is not this authorization server's issuer"));
    }
    let now = ctx.lab.clock.timestamp();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("no exp"))?;
    if exp + SKEW_SECS < now {
        return Err(bad("expired"));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("no iat"))?;
    if iat > now + SKEW_SECS {
        return Err(bad("iat is in the future"));
    }
    if claims
        .get("nbf")
        .and_then(Value::as_i64)
        .is_some_and(|nbf| nbf > now + SKEW_SECS)
    {
        return Err(bad("not yet valid"));
    }
    let sub = text("sub")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("no sub"))?;
    if text("client_id") != Some(client_id) {
        return Err(bad("client_id does not match the authenticated client"));
    }
    let resource_ok = match claims.get("resource") {
        Some(Value::String(r)) => *r == connector.mcp_url,
        Some(Value::Array(list)) => list
            .iter()
            .any(|r| r.as_str() == Some(connector.mcp_url.as_str())),
        _ => false,
    };
    if !resource_ok {
        return Err(bad("resource is not this MCP server"));
    }
    let jti = text("jti")
        .filter(|j| !j.is_empty())
        .ok_or_else(|| bad("no jti"))?;
    let id_jag_scope = split_scope(text("scope"));
    let requested = split_scope(form.get("scope"));
    let scope = if requested.is_empty() {
        id_jag_scope
    } else {
        let granted = intersect(&requested, &id_jag_scope);
        if granted.is_empty() {
            return Err(OAuthError::invalid_scope(
                "the requested scopes are not in the ID-JAG",
            ));
        }
        granted
    };
    let email = text("email")
        .map(str::to_string)
        .or_else(|| ctx.lab.directory.user_by_sub(sub).map(|u| u.email))
        .unwrap_or_else(|| sub.to_string());

    let access = mint("at");
    let lifetime = ctx.lab.token_lifetime;
    {
        let mut store = ctx.lab.store();
        store.sweep_jtis(now, SKEW_SECS);
        let seen = format!("{} {jti}", connector.issuer);
        if store.id_jag_jtis.contains_key(&seen) {
            ctx.lab.jti_replays.fetch_add(1, Ordering::SeqCst);
            return Err(OAuthError::invalid_grant("ID-JAG already used"));
        }
        store.id_jag_jtis.insert(seen, exp);
        store.access.insert(
            access.clone(),
            AccessGrant {
                connector: ctx.idx,
                client_id: client_id.to_string(),
                email: email.clone(),
                scope: scope.clone(),
                resource: connector.mcp_url.clone(),
                kind: GrantKind::Ema,
                family: None,
                expires_at: now + lifetime,
            },
        );
    }
    // Debug, not info: at 256 connectors per refresh round these lines would be most of the log.
    tracing::debug!(connector = %connector.spec.id, subject = %email, "redeemed ID-JAG");
    Ok(TokenResponse::bearer(access, lifetime, scope))
}

/// Header checks (alg allow-list, explicit `typ`, known `kid`) and the signature, against the
/// IdP's current JWKS.
fn verified_claims(ctx: &ConnectorCtx, assertion: &str) -> Result<Value, OAuthError> {
    let bad = |why: &str| OAuthError::invalid_grant(format!("ID-JAG rejected: {why}"));
    let header = keys::header_of(assertion).map_err(|_| bad("not a JWT"))?;
    if header.alg != Algorithm::ES256 {
        return Err(bad("alg is not ES256"));
    }
    if header.typ.as_deref() != Some(TYP_ID_JAG) {
        return Err(bad("typ is not oauth-id-jag+jwt"));
    }
    let key = ctx.lab.key();
    if header.kid.as_deref() != Some(key.kid()) {
        return Err(bad("kid is not in the IdP's JWKS"));
    }
    keys::verify_es256(assertion, key.decoding_key()).map_err(|_| bad("signature does not verify"))
}
