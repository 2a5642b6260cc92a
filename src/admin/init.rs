//! `lanyard policy init`: a new policy from the IdP's discovery document, checked as sign-in
//! will check it (the issuer character for character, PKCE S256), and refused unless the IdP
//! advertises the RFC 8693 token exchange that zero-touch grants need.

use super::export::document::{IdpDocument, PolicyDocument, SecretDocument};
use super::idp::{TOKEN_EXCHANGE_GRANT, inspect};
use super::onboard::{Refusal, choose_among};
use crate::http::Http;
use crate::policy::AuthMethod;
use crate::protocol::oidc::LoginError;
use crate::trace::Trace;

/// The IdP scopes a new policy asks for, when the IdP offers them (`openid` always).
const WANTED_SCOPES: [&str; 4] = ["openid", "email", "profile", "offline_access"];

#[derive(Debug, Clone)]
pub struct InitRequest {
    pub issuer: String,
    pub client_id: String,
    pub auth_method: Option<AuthMethod>,
    pub client_secret_env: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InitRefusal {
    #[error("{0}")]
    Discovery(#[from] LoginError),
    #[error(
        "the IdP does not advertise the token exchange ({TOKEN_EXCHANGE_GRANT}) in grant_types_supported, so it cannot issue ID-JAGs: not zero-touch yet"
    )]
    NoTokenExchange,
    #[error("{0}")]
    AuthMethod(Refusal),
    #[error("client_id must not be empty")]
    NoClientId,
}

impl InitRefusal {
    pub fn code(&self) -> &str {
        match self {
            Self::Discovery(e) => e.code(),
            Self::NoTokenExchange => "no_token_exchange",
            Self::AuthMethod(r) => r.code(),
            Self::NoClientId => "bad_value",
        }
    }

    /// What the admin does about it.
    pub fn fix(&self) -> String {
        match self {
            Self::Discovery(LoginError::IssuerMismatch { found, .. }) => format!(
                "pass --issuer \"{found}\" exactly (trailing slash included) if that IdP is the right one"
            ),
            Self::Discovery(e) => e.hint(),
            Self::NoTokenExchange => "enable Enterprise-Managed Authorization / Cross App Access (RFC 8693 token exchange for ID-JAGs) for Lanyard's application at the IdP".into(),
            Self::AuthMethod(r) => r.fix(),
            Self::NoClientId => "pass --client-id with Lanyard's client id at the IdP".into(),
        }
    }
}

/// The new policy: the IdP section from discovery, no connectors yet.
pub async fn init(
    http: &Http,
    req: &InitRequest,
    trace: &Trace,
) -> Result<PolicyDocument, InitRefusal> {
    if req.client_id.trim().is_empty() {
        return Err(InitRefusal::NoClientId);
    }
    let facts = inspect(http, &req.issuer, trace).await?;
    if !facts.supports_token_exchange() {
        return Err(InitRefusal::NoTokenExchange);
    }
    let method = choose_among(
        &facts.issuer,
        &facts.token_endpoint_auth_methods_supported,
        req.auth_method,
        req.client_secret_env.is_some(),
    )
    .map_err(InitRefusal::AuthMethod)?;
    let scopes = WANTED_SCOPES
        .iter()
        .filter(|s| {
            **s == "openid"
                || facts.scopes_supported.is_empty()
                || facts.scopes_supported.iter().any(|x| x == *s)
        })
        .map(|s| s.to_string())
        .collect();
    Ok(PolicyDocument {
        idp: IdpDocument {
            issuer: facts.issuer,
            client_id: req.client_id.clone(),
            client_secret: req
                .client_secret_env
                .as_ref()
                .map(|env| SecretDocument::Env { env: env.clone() }),
            token_endpoint_auth_method: method,
            scopes,
            // Written out, as every default of the document is, so the admin sees the knob.
            max_concurrent_requests: crate::http::DEFAULT_PER_HOST_CONCURRENCY as u32,
        },
        connectors: Vec::new(),
    })
}
