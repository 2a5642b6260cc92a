//! The IdP's discovery document as the admin tools read it: the engine's own checks
//! (`oidc::metadata::parse`: the issuer character for character, PKCE S256, https endpoints)
//! plus what Enterprise-Managed Authorization needs from the IdP — the RFC 8693
//! token-exchange grant — and what a new policy should default to.

use crate::http::Http;
use crate::protocol::oidc::LoginError;
use crate::protocol::oidc::metadata::{self, discovery_url};
use crate::trace::{StepKind, Trace};

pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// What the discovery document says, once the engine's checks passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpFacts {
    pub issuer: String,
    pub grant_types_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub has_revocation: bool,
}

impl IdpFacts {
    pub fn supports_token_exchange(&self) -> bool {
        self.grant_types_supported
            .iter()
            .any(|g| g == TOKEN_EXCHANGE_GRANT)
    }
}

/// Fetches and checks `{issuer}/.well-known/openid-configuration` as sign-in would.
pub async fn inspect(http: &Http, issuer: &str, trace: &Trace) -> Result<IdpFacts, LoginError> {
    let url = discovery_url(issuer)?;
    let response = http
        .send(trace, StepKind::IdpDiscovery, http.get(&url))
        .await
        .map_err(metadata::from_http)?;
    if response.status >= 500 {
        return Err(LoginError::Unreachable(format!(
            "the IdP answered HTTP {} at its discovery URL",
            response.status
        )));
    }
    if !response.is_success() {
        return Err(LoginError::Discovery(format!(
            "the IdP answered HTTP {} at {url}",
            response.status
        )));
    }
    let endpoints = metadata::parse(&response.body, issuer)?;
    let doc: serde_json::Value = serde_json::from_slice(&response.body)
        .map_err(|e| LoginError::Discovery(format!("the discovery document is not JSON ({e})")))?;
    let list = |key: &str| -> Vec<String> {
        doc.get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut auth_methods = list("token_endpoint_auth_methods_supported");
    if auth_methods.is_empty() {
        // OIDC Discovery §3: the default when the field is omitted.
        auth_methods.push("client_secret_basic".into());
    }
    Ok(IdpFacts {
        issuer: issuer.to_string(),
        grant_types_supported: list("grant_types_supported"),
        token_endpoint_auth_methods_supported: auth_methods,
        scopes_supported: list("scopes_supported"),
        has_revocation: endpoints.revocation.is_some(),
    })
}
