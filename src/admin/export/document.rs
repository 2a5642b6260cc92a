//! The canonical policy document every exporter writes: the product.md JSON schema with every
//! default spelled out (name, auth method, IdP scopes, IdP concurrency), so reading any export back gives the
//! same `Policy`, and `PolicyDocument`s compare for equality in tests.
//!
//! This is the one place a policy's inline client secret becomes plain text again: an export
//! is the admin's deployment artifact. Exporters decide where it may go (see `ExportError`).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use crate::policy::{AuthMethod, Policy, SecretSource};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    pub idp: IdpDocument,
    pub connectors: Vec<ConnectorDocument>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpDocument {
    pub issuer: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretDocument>,
    pub token_endpoint_auth_method: AuthMethod,
    pub scopes: Vec<String>,
    /// A `u32`: a registry DWORD and a plist integer hold it as it is.
    pub max_concurrent_requests: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorDocument {
    pub id: String,
    pub name: String,
    pub mcp_url: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretDocument>,
    pub token_endpoint_auth_method: AuthMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_origin: Option<String>,
}

/// A client secret as the policy file spells it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SecretDocument {
    /// Plain text: only ever written into an export the admin asked for.
    Inline(String),
    File {
        file: PathBuf,
    },
    Env {
        env: String,
    },
}

impl std::fmt::Debug for SecretDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Inline(_) => f.write_str("Inline([redacted])"),
            Self::File { file } => write!(f, "File({})", file.display()),
            Self::Env { env } => write!(f, "Env({env})"),
        }
    }
}

impl SecretDocument {
    fn from_source(source: &SecretSource) -> Self {
        match source {
            SecretSource::Inline(s) => Self::Inline(s.expose().to_string()),
            SecretSource::File(p) => Self::File { file: p.clone() },
            SecretSource::Env(n) => Self::Env { env: n.clone() },
        }
    }
}

impl PolicyDocument {
    pub fn from_policy(policy: &Policy) -> Self {
        let idp = &policy.idp;
        Self {
            idp: IdpDocument {
                issuer: idp.issuer.clone(),
                client_id: idp.client_id.clone(),
                client_secret: idp.client_secret.as_ref().map(SecretDocument::from_source),
                token_endpoint_auth_method: idp.token_endpoint_auth_method,
                scopes: idp.scopes.clone(),
                // Invariant: `parse` allows at most 64.
                max_concurrent_requests: u32::try_from(idp.max_concurrent_requests)
                    .unwrap_or(u32::MAX),
            },
            connectors: policy
                .connectors
                .iter()
                .map(|c| ConnectorDocument {
                    id: c.id.to_string(),
                    name: c.name.clone(),
                    mcp_url: c.mcp_url.to_string(),
                    client_id: c.client_id.clone(),
                    client_secret: c.client_secret.as_ref().map(SecretDocument::from_source),
                    token_endpoint_auth_method: c.token_endpoint_auth_method,
                    scopes: c.scopes.clone(),
                    as_issuer: c.as_issuer.clone(),
                    token_endpoint_origin: c
                        .token_endpoint_origin
                        .as_ref()
                        .map(|u| u.origin().ascii_serialization()),
                })
                .collect(),
        }
    }

    /// Whether any client secret is written out in plain text.
    pub fn has_inline_secret(&self) -> bool {
        let inline = |s: &Option<SecretDocument>| matches!(s, Some(SecretDocument::Inline(_)));
        inline(&self.idp.client_secret) || self.connectors.iter().any(|c| inline(&c.client_secret))
    }

    /// Pretty JSON, the Linux `/etc/lanyard/policy.json` form.
    pub fn to_json(&self) -> String {
        // Invariant: plain structs of strings and enums always serialise.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A policy using every key, with secrets as references.
    pub(crate) const FULL: &str = r#"{
      "idp": {"issuer": "https://acme.okta.com", "client_id": "0oa1",
              "client_secret": {"env": "ACME_SECRET"}, "token_endpoint_auth_method": "client_secret_post",
              "scopes": ["openid", "email"], "max_concurrent_requests": 24},
      "connectors": [
        {"id": "linear", "name": "Linear \"HQ\" \\ <&>", "mcp_url": "https://mcp.linear.app/mcp",
         "client_id": "lanyard", "client_secret": {"file": "/etc/lanyard/linear.secret"},
         "as_issuer": "https://mcp.linear.app", "scopes": ["read", "write"]},
        {"id": "asana", "mcp_url": "https://mcp.asana.com/v2/mcp", "client_id": "c",
         "token_endpoint_auth_method": "private_key_jwt",
         "token_endpoint_origin": "https://tokens.asana.com"},
        {"id": "figma", "mcp_url": "https://mcp.figma.com/mcp", "client_id": "c2"}
      ]}"#;

    pub(crate) fn full() -> Policy {
        crate::policy::parse(FULL, std::path::Path::new("policy.json")).unwrap()
    }

    #[test]
    fn the_json_form_parses_back_into_the_same_policy() {
        let doc = PolicyDocument::from_policy(&full());
        let back = crate::policy::parse(&doc.to_json(), std::path::Path::new("x")).unwrap();
        assert_eq!(PolicyDocument::from_policy(&back), doc);
        assert!(!doc.has_inline_secret());
        assert_eq!(doc.connectors[2].name, "figma", "defaults are spelled out");
        assert_eq!(
            doc.connectors[2].token_endpoint_auth_method,
            AuthMethod::None
        );
        assert_eq!(doc.idp.max_concurrent_requests, 24);
        assert!(
            doc.to_json().contains("\"max_concurrent_requests\": 24"),
            "{}",
            doc.to_json()
        );
    }

    #[test]
    fn the_idp_concurrency_default_is_spelled_out() {
        let text = FULL.replace(", \"max_concurrent_requests\": 24", "");
        let policy = crate::policy::parse(&text, std::path::Path::new("x")).unwrap();
        let doc = PolicyDocument::from_policy(&policy);
        assert_eq!(doc.idp.max_concurrent_requests, 8);
        assert!(doc.to_json().contains("\"max_concurrent_requests\": 8"));
    }

    #[test]
    fn inline_secrets_are_kept_but_never_debug_printed() {
        let text = FULL.replace("{\"env\": \"ACME_SECRET\"}", "\"labsecret_inline\"");
        let doc = PolicyDocument::from_policy(
            &crate::policy::parse(&text, std::path::Path::new("x")).unwrap(),
        );
        assert!(doc.has_inline_secret());
        assert!(doc.to_json().contains("labsecret_inline"));
        assert!(!format!("{doc:?}").contains("labsecret_inline"));
    }
}
