//! Client authentication at a token endpoint (RFC 6749 §2.3.1, RFC 7523 §2.2), one code path
//! for the IdP and every connector's authorization server.
//!
//! Hand-written rather than delegated to `oauth2`: the token exchange and jwt-bearer grants are
//! custom grants there, and we need the exact form body (for request-shape tests), the
//! "client_id in the body with Basic" quirk, and `private_key_jwt` with a device key.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use std::sync::Arc;

use crate::policy::AuthMethod;
use crate::protocol::device_key::DeviceKey;
use crate::secret::Secret;

pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

#[derive(Debug, Clone)]
pub struct ClientAuth {
    pub client_id: String,
    pub method: AuthMethod,
    pub secret: Option<Secret>,
    pub key: Option<Arc<DeviceKey>>,
    /// Some servers (the Python MCP SDK's) insist on `client_id` in the form even with Basic.
    pub client_id_in_body_with_basic: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientAuthError {
    #[error("{0} needs a client secret, and none is configured")]
    MissingSecret(&'static str),
    #[error("private_key_jwt needs this device's key, and none is available")]
    MissingKey,
    #[error("could not sign the client assertion: {0}")]
    Signing(String),
}

/// What to add to a token-endpoint request: form fields, and maybe an `Authorization` header.
/// The form may hold `client_secret` or `client_assertion`, so `Debug` shows field names only.
pub struct Applied {
    pub form: Vec<(String, String)>,
    pub authorization: Option<Secret>,
}

impl std::fmt::Debug for Applied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.form.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Applied")
            .field("form", &names)
            .field("authorization", &self.authorization)
            .finish()
    }
}

impl ClientAuth {
    pub fn new(client_id: impl Into<String>, method: AuthMethod, secret: Option<Secret>) -> Self {
        Self {
            client_id: client_id.into(),
            method,
            secret,
            key: None,
            client_id_in_body_with_basic: false,
        }
    }

    pub fn with_key(mut self, key: Option<Arc<DeviceKey>>) -> Self {
        self.key = key;
        self
    }

    /// Authentication for a request to `token_endpoint` of the server whose issuer is
    /// `audience` (the `aud` of a private_key_jwt assertion; RFC 7523 allows either, and the
    /// issuer is what the ID-JAG draft's examples use).
    pub fn apply(&self, audience: &str, now: DateTime<Utc>) -> Result<Applied, ClientAuthError> {
        let id = ("client_id".to_string(), self.client_id.clone());
        match self.method {
            AuthMethod::None => Ok(Applied {
                form: vec![id],
                authorization: None,
            }),
            AuthMethod::ClientSecretPost => {
                let secret = self
                    .secret
                    .as_ref()
                    .ok_or(ClientAuthError::MissingSecret("client_secret_post"))?;
                Ok(Applied {
                    form: vec![id, ("client_secret".into(), secret.expose().to_string())],
                    authorization: None,
                })
            }
            AuthMethod::ClientSecretBasic => {
                let secret = self
                    .secret
                    .as_ref()
                    .ok_or(ClientAuthError::MissingSecret("client_secret_basic"))?;
                let form = if self.client_id_in_body_with_basic {
                    vec![id]
                } else {
                    vec![]
                };
                Ok(Applied {
                    form,
                    authorization: Some(basic(&self.client_id, secret)),
                })
            }
            AuthMethod::PrivateKeyJwt => {
                let key = self.key.as_ref().ok_or(ClientAuthError::MissingKey)?;
                let assertion = key
                    .client_assertion(&self.client_id, audience, now)
                    .map_err(|e| ClientAuthError::Signing(e.to_string()))?;
                Ok(Applied {
                    form: vec![
                        id,
                        ("client_assertion_type".into(), CLIENT_ASSERTION_TYPE.into()),
                        ("client_assertion".into(), assertion.expose().to_string()),
                    ],
                    authorization: None,
                })
            }
        }
    }
}

/// RFC 6749 §2.3.1: form-urlencode id and secret, then base64 `id:secret`.
pub fn basic(client_id: &str, secret: &Secret) -> Secret {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(client_id), enc(secret.expose()));
    Secret::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_form_encodes_before_base64() {
        // RFC 6749 §2.3.1: "a:b c" must be sent as a%3Ab+c.
        let header = basic("my:client", &Secret::new("s e/cret"));
        let b64 = header.expose().strip_prefix("Basic ").unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "my%3Aclient:s+e%2Fcret"
        );
    }

    #[test]
    fn each_method_puts_credentials_where_it_should() {
        let now = Utc::now();
        let none = ClientAuth::new("c", AuthMethod::None, None)
            .apply("https://as", now)
            .unwrap();
        assert_eq!(none.form, vec![("client_id".to_string(), "c".to_string())]);
        assert!(none.authorization.is_none());

        let s = Some(Secret::new("s"));
        let post = ClientAuth::new("c", AuthMethod::ClientSecretPost, s.clone())
            .apply("x", now)
            .unwrap();
        assert_eq!(post.form.len(), 2);
        assert_eq!(post.form[1], ("client_secret".to_string(), "s".to_string()));

        let mut b = ClientAuth::new("c", AuthMethod::ClientSecretBasic, s);
        let applied = b.apply("x", now).unwrap();
        assert!(applied.form.is_empty());
        assert_eq!(applied.authorization.unwrap().expose(), "Basic Yzpz");
        b.client_id_in_body_with_basic = true;
        assert_eq!(
            b.apply("x", now).unwrap().form,
            vec![("client_id".to_string(), "c".to_string())]
        );

        let missing = ClientAuth::new("c", AuthMethod::PrivateKeyJwt, None).apply("x", now);
        assert!(matches!(missing, Err(ClientAuthError::MissingKey)));
    }

    #[test]
    fn applied_debug_never_shows_a_secret() {
        let now = Utc::now();
        let secret = Some(Secret::new("labsecret_cs_debug"));
        for method in [AuthMethod::ClientSecretPost, AuthMethod::ClientSecretBasic] {
            let applied = ClientAuth::new("c", method, secret.clone())
                .apply("x", now)
                .unwrap();
            let shown = format!("{applied:?}");
            assert!(!shown.contains("labsecret_cs_debug"), "{shown}");
            assert!(!shown.contains("Basic "), "{shown}");
        }
    }
}
