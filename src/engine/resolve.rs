//! One connector, end to end: discover → ID-JAG from the IdP → access token from the
//! connector's AS → MCP `initialize` + `tools/list`, ending in a `Resolution`.
//!
//! Retries that belong to this leg happen here: the "client_id in the body with Basic" quirk
//! and one AS `invalid_grant`, each with a FRESH ID-JAG because ID-JAGs are single use
//! (EMA §7.4.2). An IdP `invalid_grant` is the engine's to retry (it needs a new subject
//! token; see `classify::wants_fresh_subject`).

use tracing::Instrument as _;
use url::Url;

use crate::engine::classify::{Failure, classify_named, wants_fresh_subject};
use crate::http::Http;
use crate::policy::ConnectorConfig;
use crate::protocol::client_auth::ClientAuth;
use crate::protocol::discovery::{ConnectorMetadata, DiscoveryError, MetadataCache, discover_for};
use crate::protocol::jwt_bearer::{RedeemedToken, redeem_id_jag};
use crate::protocol::oauth_error::ErrorCode;
use crate::protocol::token_endpoint::ExchangeError;
use crate::protocol::token_exchange::{SubjectToken, request_id_jag};
use crate::trace::Trace;
use crate::view::connector::{Grant, Resolution, Stage};

/// What every connector of one run shares.
pub struct ConnectorContext<'a> {
    pub http: &'a Http,
    pub cache: &'a MetadataCache,
    pub idp_issuer: &'a str,
    pub idp_token_endpoint: &'a Url,
    pub idp_auth: &'a ClientAuth,
}

/// Resolves one connector. `auth` is Lanyard's client authentication at that connector's AS.
pub async fn resolve_connector(
    ctx: &ConnectorContext<'_>,
    connector: &ConnectorConfig,
    auth: &ClientAuth,
    subject: SubjectToken<'_>,
    trace: &Trace,
) -> Resolution {
    let span = tracing::info_span!("connector", id = %connector.id);
    let result = run(ctx, connector, auth, subject, trace)
        .instrument(span.clone())
        .await;
    let _entered = span.enter();
    match result {
        Ok(grant) => {
            tracing::info!(tools = ?grant.tools, expires_at = ?grant.expires_at, "granted");
            Resolution::Granted(grant)
        }
        Err(failure) => {
            // Whatever failed, the next attempt should not trust endpoints learned before it.
            ctx.cache.invalidate(&connector.mcp_url);
            let (state, error) = classify_named(&failure, Some(&connector.name));
            tracing::info!(state = %state, stage = ?error.stage, code = %error.code, "not granted");
            Resolution::Failed {
                state,
                error,
                fresh_subject: wants_fresh_subject(&failure),
            }
        }
    }
}

/// Policy scopes, else the 401 challenge's, else the PRM's `scopes_supported`.
pub fn choose_scopes(connector: &ConnectorConfig, meta: &ConnectorMetadata) -> Vec<String> {
    if let Some(scopes) = &connector.scopes {
        return scopes.clone();
    }
    if let Some(scopes) = &meta.challenge_scopes {
        return scopes.clone();
    }
    meta.scopes_supported.clone()
}

async fn run(
    ctx: &ConnectorContext<'_>,
    connector: &ConnectorConfig,
    auth: &ClientAuth,
    subject: SubjectToken<'_>,
    trace: &Trace,
) -> Result<Grant, Failure> {
    let meta = discover_for(ctx.http, connector, ctx.cache, trace)
        .instrument(tracing::info_span!("discovery"))
        .await
        .map_err(Failure::Discovery)?;
    if !meta.supports_id_jag {
        return Err(Failure::Discovery(DiscoveryError::NoIdJagSupport {
            issuer: meta.as_issuer.clone(),
        }));
    }
    let scopes = choose_scopes(connector, &meta);
    let mut auth = auth.clone();
    if ctx.cache.wants_client_id_in_body(&meta.as_issuer) {
        auth.client_id_in_body_with_basic = true;
    }

    let mut token = redeem_fresh(ctx, &meta, &auth, subject, &scopes, trace).await;
    if let Err(Failure::Exchange(Stage::JwtBearer, ExchangeError::WantsClientIdInBody { .. })) =
        &token
    {
        tracing::info!(issuer = %meta.as_issuer, "retrying with client_id in the body (server quirk)");
        ctx.cache.set_wants_client_id_in_body(&meta.as_issuer);
        auth.client_id_in_body_with_basic = true;
        token = redeem_fresh(ctx, &meta, &auth, subject, &scopes, trace).await;
    }
    if let Err(Failure::Exchange(Stage::JwtBearer, e)) = &token
        && e.oauth_code() == Some(ErrorCode::InvalidGrant)
    {
        tracing::info!("authorization server said invalid_grant; one retry with a fresh ID-JAG");
        token = redeem_fresh(ctx, &meta, &auth, subject, &scopes, trace).await;
    }
    let token = token?;

    let tools =
        crate::protocol::mcp::verify(ctx.http, &connector.mcp_url, &token.access_token, trace)
            .instrument(tracing::info_span!("mcp"))
            .await
            .map_err(Failure::Mcp)?;
    // Pin on first use: from now on only this AS may receive this connector's credentials.
    ctx.cache
        .remember_grant(&connector.mcp_url, &meta.as_issuer);
    Ok(Grant {
        access_token: token.access_token,
        expires_at: token.expires_at,
        scopes: token.scopes,
        tools: Some(tools),
        as_issuer: meta.as_issuer,
        resource: meta.resource,
    })
}

/// A new ID-JAG, redeemed at once.
async fn redeem_fresh(
    ctx: &ConnectorContext<'_>,
    meta: &ConnectorMetadata,
    auth: &ClientAuth,
    subject: SubjectToken<'_>,
    scopes: &[String],
    trace: &Trace,
) -> Result<RedeemedToken, Failure> {
    let issued = request_id_jag(
        ctx.http,
        ctx.idp_token_endpoint,
        ctx.idp_auth,
        subject,
        &meta.as_issuer,
        &meta.resource,
        scopes,
        trace,
    )
    .instrument(tracing::info_span!("token_exchange"))
    .await
    .map_err(|e| Failure::Exchange(Stage::TokenExchange, e))?;
    tracing::debug!(claims = ?issued.claims, "ID-JAG issued (unverified claims)");
    redeem_id_jag(ctx.http, meta, auth, &issued.id_jag, scopes, trace)
        .instrument(tracing::info_span!("jwt_bearer"))
        .await
        .map_err(|e| Failure::Exchange(Stage::JwtBearer, e))
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
