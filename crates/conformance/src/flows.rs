//! The flows this client runs per scenario, each a straight line through Lanyard's core:
//! discovery → (token exchange at the IdP) → jwt-bearer at the connector's AS → MCP verify.
//!
//! Nothing protocol-shaped is written here: every request goes through `lanyard::protocol`
//! (`discovery`, `token_exchange`, `jwt_bearer`, `mcp`), so a scenario's verdict is a verdict
//! on the core.

use lanyard::http::Http;
use lanyard::policy::AuthMethod;
use lanyard::protocol::client_auth::ClientAuth;
use lanyard::protocol::discovery::{ConnectorMetadata, DiscoveryError, MetadataCache, discover};
use lanyard::protocol::jwt_bearer::redeem_id_jag;
use lanyard::protocol::mcp::{self, McpError};
use lanyard::protocol::token_endpoint::ExchangeError;
use lanyard::protocol::token_exchange::{SubjectToken, request_id_jag};
use lanyard::trace::Trace;
use url::Url;

use crate::context::{ContextError, Invocation};

pub const ENTERPRISE_SCENARIO: &str = "auth/enterprise-managed-authorization";
pub const WORKLOAD_SCENARIO: &str = "auth/wif-jwt-bearer";

/// Which flow a scenario gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// ID token → ID-JAG → access token → MCP (the product's own flow).
    EnterpriseManaged,
    /// A workload JWT redeemed with the same jwt-bearer leg the ID-JAG uses.
    WorkloadJwtBearer,
    /// Everything else: discovery and its checks only. The rest of those scenarios is a
    /// per-user OAuth client (DCR, authorization code, client credentials, DPoP), which the
    /// core deliberately does not ship.
    DiscoveryOnly,
}

impl Flow {
    pub fn for_scenario(name: &str) -> Self {
        match name {
            // Run by hand (no harness): the product flow is the useful default.
            ENTERPRISE_SCENARIO | "" => Self::EnterpriseManaged,
            WORKLOAD_SCENARIO => Self::WorkloadJwtBearer,
            _ => Self::DiscoveryOnly,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error("discovery refused: {0}")]
    Discovery(#[from] DiscoveryError),
    #[error("authorization server {0} does not offer the jwt-bearer / ID-JAG grant")]
    NoIdJagSupport(String),
    #[error("token exchange at the IdP failed: {0}")]
    TokenExchange(ExchangeError),
    #[error("jwt-bearer grant at the authorization server failed: {0}")]
    JwtBearer(ExchangeError),
    #[error("MCP verification failed: {0}")]
    Mcp(#[from] McpError),
    /// Discovery passed; the scenario goes on to a flow Lanyard does not implement.
    #[error(
        "discovery passed; this scenario continues with per-user OAuth, which Lanyard's core does not implement"
    )]
    NeedsUserOAuth,
}

impl FlowError {
    /// Process exit code: 1 the core refused or a server failed, 2 bad invocation,
    /// 3 out of scope for Lanyard.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Context(_) => 2,
            Self::NeedsUserOAuth => 3,
            _ => 1,
        }
    }
}

/// What a successful run found, for the report (no secrets).
#[derive(Debug)]
pub struct Outcome {
    pub meta: ConnectorMetadata,
    pub granted_scopes: Vec<String>,
    pub tools: u32,
}

pub async fn run(
    flow: Flow,
    inv: &Invocation,
    http: &Http,
    trace: &Trace,
) -> Result<Outcome, FlowError> {
    match flow {
        Flow::EnterpriseManaged => enterprise_managed(inv, http, trace).await,
        Flow::WorkloadJwtBearer => workload_jwt_bearer(inv, http, trace).await,
        Flow::DiscoveryOnly => {
            discover(http, &inv.mcp_url, &MetadataCache::new(), trace).await?;
            Err(FlowError::NeedsUserOAuth)
        }
    }
}

async fn enterprise_managed(
    inv: &Invocation,
    http: &Http,
    trace: &Trace,
) -> Result<Outcome, FlowError> {
    let ctx = inv.enterprise()?;
    let meta = discover_id_jag(http, &inv.mcp_url, trace).await?;
    let scopes = requested_scopes(&meta);
    // The conformance IdP registers no secret for this client: identify, don't authenticate.
    let idp_auth = ClientAuth::new(ctx.idp_client_id, AuthMethod::None, None);
    let issued = request_id_jag(
        http,
        &ctx.idp_token_endpoint,
        &idp_auth,
        SubjectToken::IdToken(&ctx.idp_id_token),
        &meta.as_issuer,
        &meta.resource,
        &scopes,
        trace,
    )
    .await
    .map_err(FlowError::TokenExchange)?;
    let method = connector_auth_method(&meta.token_endpoint_auth_methods_supported, true);
    let auth = ClientAuth::new(ctx.client_id, method, Some(ctx.client_secret));
    let token = redeem_id_jag(http, &meta, &auth, &issued.id_jag, &scopes, trace)
        .await
        .map_err(FlowError::JwtBearer)?;
    // The core's proof (initialize + tools/list), then the token used as a host would use
    // it: one tool call in the same session.
    let mut session = mcp::connect(http, &inv.mcp_url, &token.access_token, trace).await?;
    let names = session.tool_names(trace).await;
    let called = match names.as_deref().map(<[String]>::first) {
        Ok(Some(first)) => session.call_tool(first, trace).await,
        _ => Ok(()),
    };
    session.close().await;
    let tools = u32::try_from(names?.len()).unwrap_or(u32::MAX);
    called?;
    Ok(Outcome {
        meta,
        granted_scopes: token.scopes,
        tools,
    })
}

async fn workload_jwt_bearer(
    inv: &Invocation,
    http: &Http,
    trace: &Trace,
) -> Result<Outcome, FlowError> {
    let ctx = inv.workload()?;
    let meta = discover_id_jag(http, &inv.mcp_url, trace).await?;
    let scopes = requested_scopes(&meta);
    let method = connector_auth_method(&meta.token_endpoint_auth_methods_supported, false);
    let auth = ClientAuth::new(ctx.client_id, method, None);
    let token = redeem_id_jag(http, &meta, &auth, &ctx.assertion, &scopes, trace)
        .await
        .map_err(FlowError::JwtBearer)?;
    let tools = mcp::verify(http, &inv.mcp_url, &token.access_token, trace).await?;
    Ok(Outcome {
        meta,
        granted_scopes: token.scopes,
        tools,
    })
}

async fn discover_id_jag(
    http: &Http,
    mcp_url: &Url,
    trace: &Trace,
) -> Result<ConnectorMetadata, FlowError> {
    let meta = discover(http, mcp_url, &MetadataCache::new(), trace).await?;
    if !meta.supports_id_jag {
        return Err(FlowError::NoIdJagSupport(meta.as_issuer));
    }
    Ok(meta)
}

/// The challenge's `scope` if the 401 named one, else the PRM's `scopes_supported` (the MCP
/// scope-selection order, and what `ConnectorConfig::scopes = None` means in a policy).
pub fn requested_scopes(meta: &ConnectorMetadata) -> Vec<String> {
    meta.challenge_scopes
        .clone()
        .unwrap_or_else(|| meta.scopes_supported.clone())
}

/// How to authenticate at the connector's token endpoint, as an admin would configure it
/// from the AS metadata: Basic when offered (and the RFC 8414 default), else post; `none`
/// for a client without a secret.
pub fn connector_auth_method(supported: &[String], has_secret: bool) -> AuthMethod {
    let offers = |m: AuthMethod| supported.iter().any(|s| s == m.as_str());
    if !has_secret {
        return AuthMethod::None;
    }
    if !offers(AuthMethod::ClientSecretBasic) && offers(AuthMethod::ClientSecretPost) {
        return AuthMethod::ClientSecretPost;
    }
    AuthMethod::ClientSecretBasic
}

#[cfg(test)]
mod tests {
    use super::*;

    fn methods(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scenarios_map_to_flows() {
        assert_eq!(
            Flow::for_scenario(ENTERPRISE_SCENARIO),
            Flow::EnterpriseManaged
        );
        assert_eq!(Flow::for_scenario(""), Flow::EnterpriseManaged);
        assert_eq!(
            Flow::for_scenario(WORKLOAD_SCENARIO),
            Flow::WorkloadJwtBearer
        );
        assert_eq!(
            Flow::for_scenario("auth/metadata-issuer-mismatch"),
            Flow::DiscoveryOnly
        );
    }

    fn metadata(challenge: Option<&[&str]>, supported: &[&str]) -> ConnectorMetadata {
        ConnectorMetadata {
            resource: "http://localhost:1/mcp".into(),
            as_issuer: "http://localhost:2".into(),
            token_endpoint: Url::parse("http://localhost:2/token").unwrap(),
            revocation_endpoint: None,
            grant_types_supported: methods(&["urn:ietf:params:oauth:grant-type:jwt-bearer"]),
            grant_profiles_supported: Vec::new(),
            token_endpoint_auth_methods_supported: methods(&["client_secret_basic"]),
            challenge_scopes: challenge.map(methods),
            scopes_supported: methods(supported),
            supports_id_jag: true,
            fetched_at: lanyard::clock::system().now(),
        }
    }

    #[test]
    fn scopes_come_from_the_challenge_before_the_prm() {
        assert_eq!(
            requested_scopes(&metadata(Some(&["mcp:basic"]), &["a", "b"])),
            methods(&["mcp:basic"])
        );
        assert_eq!(
            requested_scopes(&metadata(None, &["a", "b"])),
            methods(&["a", "b"])
        );
        assert!(requested_scopes(&metadata(None, &[])).is_empty());
    }

    #[test]
    fn connector_auth_prefers_basic_then_post() {
        let basic = methods(&["client_secret_basic"]);
        assert_eq!(
            connector_auth_method(&basic, true),
            AuthMethod::ClientSecretBasic
        );
        let post = methods(&["none", "client_secret_post"]);
        assert_eq!(
            connector_auth_method(&post, true),
            AuthMethod::ClientSecretPost
        );
        let both = methods(&["client_secret_post", "client_secret_basic"]);
        assert_eq!(
            connector_auth_method(&both, true),
            AuthMethod::ClientSecretBasic
        );
        assert_eq!(
            connector_auth_method(&methods(&["none"]), true),
            AuthMethod::ClientSecretBasic
        );
        assert_eq!(connector_auth_method(&basic, false), AuthMethod::None);
    }

    #[test]
    fn exit_codes_tell_refusal_from_out_of_scope() {
        assert_eq!(FlowError::NeedsUserOAuth.exit_code(), 3);
        assert_eq!(FlowError::Context(ContextError::NoContext).exit_code(), 2);
        assert_eq!(
            FlowError::NoIdJagSupport("https://as".into()).exit_code(),
            1
        );
        let refused = DiscoveryError::IssuerMismatch {
            expected: "a".into(),
            found: "b".into(),
        };
        assert_eq!(FlowError::from(refused).exit_code(), 1);
    }
}
