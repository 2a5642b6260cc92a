//! One vendor's origin: its authorization server (RFC 8414 metadata, legacy authorization code,
//! jwt-bearer for ID-JAGs, RFC 7009 revocation), its RFC 9728 metadata and its MCP server.

mod bearer;
mod jwt_bearer;
mod mcp_server;
mod token;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::sync::Arc;

use crate::authorize::{self, Target};
use crate::oauth::{
    GRANT_AUTHORIZATION_CODE, GRANT_JWT_BEARER, GRANT_REFRESH_TOKEN, PROFILE_ID_JAG,
};
use crate::state::{Connector, LabState};

/// Handler state: the lab and which connector this listener is.
#[derive(Clone)]
pub struct ConnectorCtx {
    pub lab: Arc<LabState>,
    pub idx: usize,
}

impl ConnectorCtx {
    pub fn connector(&self) -> &Connector {
        // Invariant: `idx` comes from enumerating `lab.connectors` when the listener was built.
        &self.lab.connectors[self.idx]
    }
}

/// The router for connector `idx`, and a function that ends its MCP sessions.
pub fn router(lab: Arc<LabState>, idx: usize) -> (Router, Box<dyn FnOnce() + Send + Sync>) {
    let ctx = ConnectorCtx { lab, idx };
    let connector = ctx.connector().clone();
    let p = connector.spec.issuer_path;
    let (mcp, cancel) = mcp_server::service(connector.spec.clone());
    let mcp = Router::new()
        .nest_service("/mcp", mcp)
        .route_layer(middleware::from_fn_with_state(
            ctx.clone(),
            bearer::require_bearer,
        ));
    let mut routes = Router::new()
        .route(
            &format!("/.well-known/oauth-authorization-server{p}"),
            get(as_metadata),
        )
        .route(
            &format!("/.well-known/openid-configuration{p}"),
            get(as_metadata),
        )
        .route("/.well-known/oauth-protected-resource/mcp", get(prm))
        .route("/.well-known/oauth-protected-resource", get(prm))
        .route(&format!("{p}/authorize"), get(authorize))
        .route(&format!("{p}/token"), post(token::token))
        .route(&format!("{p}/revoke"), post(token::revoke));
    if !p.is_empty() {
        routes = routes.route(
            &format!("{p}/.well-known/openid-configuration"),
            get(as_metadata),
        );
    }
    (routes.with_state(ctx).merge(mcp), cancel)
}

pub fn as_metadata_doc(connector: &Connector) -> Value {
    let mut methods = vec![connector.spec.method.as_str()];
    for m in ["private_key_jwt", "none"] {
        if !methods.contains(&m) {
            methods.push(m);
        }
    }
    let mut doc = json!({
        "issuer": connector.issuer,
        "authorization_endpoint": connector.authorization_endpoint(),
        "token_endpoint": connector.token_endpoint(),
        "revocation_endpoint": connector.revocation_endpoint(),
        "response_types_supported": ["code"],
        "grant_types_supported": [GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN],
        "token_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "scopes_supported": connector.spec.scopes,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    });
    if connector.spec.supports_id_jag {
        doc["grant_types_supported"] = json!([
            GRANT_AUTHORIZATION_CODE,
            GRANT_REFRESH_TOKEN,
            GRANT_JWT_BEARER
        ]);
        doc["authorization_grant_profiles_supported"] = json!([PROFILE_ID_JAG]);
    }
    doc
}

async fn as_metadata(State(ctx): State<ConnectorCtx>) -> Response {
    axum::Json(as_metadata_doc(ctx.connector())).into_response()
}

async fn prm(State(ctx): State<ConnectorCtx>) -> Response {
    let c = ctx.connector();
    axum::Json(json!({
        "resource": c.mcp_url,
        "resource_name": c.spec.name,
        "authorization_servers": [c.issuer],
        "scopes_supported": c.spec.scopes,
        "bearer_methods_supported": ["header"],
    }))
    .into_response()
}

async fn authorize(State(ctx): State<ConnectorCtx>, RawQuery(query): RawQuery) -> Response {
    let c = ctx.connector();
    let target = Target {
        issuer: &c.issuer,
        endpoint: c.authorization_endpoint(),
        title: format!("Sign in to {}", c.spec.name),
        connector: Some(ctx.idx),
    };
    authorize::authorize(&ctx.lab, target, query.as_deref())
}
