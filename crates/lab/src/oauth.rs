//! OAuth 2.0 wire helpers shared by the IdP and the connector ASes: RFC 6749 §5.2 error
//! responses, strict form parsing, `no-store` JSON, PKCE S256, and lab token minting.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use rand::RngCore as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
pub const GRANT_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const GRANT_JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const TOKEN_TYPE_ID_JAG: &str = "urn:ietf:params:oauth:token-type:id-jag";
pub const TOKEN_TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const TOKEN_TYPE_REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
pub const PROFILE_ID_JAG: &str = "urn:ietf:params:oauth:grant-profile:id-jag";
pub const TYP_ID_JAG: &str = "oauth-id-jag+jwt";
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An RFC 6749 §5.2 error, rendered as JSON with `Cache-Control: no-store`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: Option<String>,
    /// Set for 401 `invalid_client` when the client tried HTTP authentication (RFC 6749 §5.2).
    pub www_authenticate: Option<String>,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            description: Some(description.into()),
            www_authenticate: None,
        }
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new("invalid_request", d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new("invalid_grant", d)
    }
    pub fn invalid_target(d: impl Into<String>) -> Self {
        Self::new("invalid_target", d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new("invalid_scope", d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            www_authenticate: Some(r#"Basic realm="lanyard-lab""#.into()),
            ..Self::new("invalid_client", d)
        }
    }
    pub fn unsupported_grant_type(grant: &str) -> Self {
        Self::new(
            "unsupported_grant_type",
            format!("grant_type {grant} is not supported here"),
        )
    }
    pub fn temporarily_unavailable() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            description: None,
            ..Self::new("temporarily_unavailable", "")
        }
    }
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.error});
        if let Some(d) = &self.description {
            body["error_description"] = Value::String(d.clone());
        }
        let mut response = no_store_json(self.status, body);
        if let Some(challenge) = self.www_authenticate
            && let Ok(v) = HeaderValue::from_str(&challenge)
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response
    }
}

/// JSON with the RFC 6749 §5.1 caching headers; used for every token and error response.
pub fn no_store_json(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A form body with each parameter at most once (RFC 6749 §3.1: repeated parameters are an error).
#[derive(Debug, Default)]
pub struct Form(HashMap<String, String>);

impl Form {
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        Self::from_pairs(url::form_urlencoded::parse(body).into_owned())
    }

    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, OAuthError> {
        let mut map = HashMap::new();
        for (k, v) in pairs {
            if map.insert(k.clone(), v).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {k} is repeated"
                )));
            }
        }
        Ok(Self(map))
    }

    /// The value, treating an empty value as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn require(&self, key: &str) -> Result<&str, OAuthError> {
        self.get(key)
            .ok_or_else(|| OAuthError::invalid_request(format!("missing {key}")))
    }
}

/// RFC 7636 S256: `BASE64URL(SHA256(verifier)) == challenge`.
pub fn pkce_s256_matches(verifier: &str, challenge: &str) -> bool {
    let digest = Sha256::digest(verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) == challenge
}

/// An opaque lab token: `labsecret_<kind>_<256 random bits>` (the canary prefix tests grep for).
pub fn mint(kind: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "labsecret_{kind}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Space-separated scope string to a list, dropping empties.
pub fn split_scope(scope: Option<&str>) -> Vec<String> {
    scope
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Keeps `requested` entries that `allowed` contains, in requested order.
pub fn intersect(requested: &[String], allowed: &[String]) -> Vec<String> {
    requested
        .iter()
        .filter(|s| allowed.contains(s))
        .cloned()
        .collect()
}

/// Constant-time comparison for client secrets.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_the_rfc_7636_vector() {
        assert!(pkce_s256_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_s256_matches(
            "other",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let err =
            Form::from_pairs([("a".into(), "1".into()), ("a".into(), "2".into())]).unwrap_err();
        assert_eq!(err.error, "invalid_request");
    }

    #[test]
    fn minted_tokens_carry_the_canary_and_differ() {
        let a = mint("at");
        assert!(a.starts_with("labsecret_at_"));
        assert_ne!(a, mint("at"));
    }

    #[test]
    fn scope_intersection_keeps_only_allowed() {
        let got = intersect(&split_scope(Some("a  b c")), &["c".into(), "a".into()]);
        assert_eq!(got, vec!["a".to_string(), "c".to_string()]);
    }
}
