//! DANGEROUS, UNVERIFIED look inside a JWT (ID-JAG, JWT access token) for display and
//! expiry only. Nothing read here is trusted for a security decision: the connector's
//! authorization server verifies the ID-JAG, and the MCP server verifies its access token
//! (ema-protocol §2, "the client MAY decode it without verification for display").

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::secret::{Secret, fingerprint};

/// Decodes the payload of a compact JWS without checking its signature. `None` if the value
/// is not three base64url segments with a JSON object in the middle (e.g. an opaque token).
pub fn dangerous_unverified_claims(
    jwt: &Secret,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    segment(jwt.expose(), 1)
}

/// Decodes the JOSE header of a compact JWS without checking anything.
pub fn dangerous_unverified_header(
    jwt: &Secret,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    segment(jwt.expose(), 0)
}

/// The `exp` claim of a JWT, unverified; `None` for opaque tokens or a missing/odd `exp`.
pub fn dangerous_unverified_exp(jwt: &Secret) -> Option<DateTime<Utc>> {
    let claims = dangerous_unverified_claims(jwt)?;
    timestamp(claims.get("exp")?)
}

fn segment(jwt: &str, index: usize) -> Option<serde_json::Map<String, serde_json::Value>> {
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[index].trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

fn timestamp(value: &serde_json::Value) -> Option<DateTime<Utc>> {
    let secs = value
        .as_i64()
        .or_else(|| value.as_f64().map(|f| f as i64))?;
    DateTime::from_timestamp(secs, 0)
}

/// What support may see of an ID-JAG: claims that say where it is for and until when, the
/// `jti` only as a fingerprint, never the token. Unverified, so for traces and display.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdJagClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// `aud` as a list (the claim may be a string or a one-element array).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aud: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti_fingerprint: Option<String>,
}

impl IdJagClaims {
    /// Peeks at an ID-JAG without verifying it. Unknown shapes give empty fields.
    pub fn dangerous_unverified(id_jag: &Secret) -> Self {
        let Some(claims) = dangerous_unverified_claims(id_jag) else {
            return Self::default();
        };
        let header = dangerous_unverified_header(id_jag).unwrap_or_default();
        let text =
            |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(crate::trace::scrub);
        Self {
            typ: text(header.get("typ")),
            iss: text(claims.get("iss")),
            aud: strings(claims.get("aud")),
            client_id: text(claims.get("client_id")),
            resource: strings(claims.get("resource")),
            scope: text(claims.get("scope")),
            exp: claims.get("exp").and_then(timestamp),
            iat: claims.get("iat").and_then(timestamp),
            jti_fingerprint: claims.get("jti").and_then(|v| v.as_str()).map(fingerprint),
        }
    }
}

fn strings(value: Option<&serde_json::Value>) -> Vec<String> {
    match value {
        Some(serde_json::Value::String(s)) => vec![crate::trace::scrub(s)],
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str())
            .map(crate::trace::scrub)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
pub(crate) fn unsigned_jwt(header: serde_json::Value, claims: serde_json::Value) -> Secret {
    let enc = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap())
    };
    Secret::new(format!("{}.{}.c2lnbmF0dXJl", enc(header), enc(claims)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn peeks_id_jag_claims_without_the_jti() {
        let jwt = unsigned_jwt(
            json!({"typ": "oauth-id-jag+jwt", "alg": "ES256"}),
            json!({"iss": "https://idp", "aud": ["https://as"], "resource": "https://mcp/mcp",
                   "scope": "a b", "exp": 1_700_000_300, "iat": 1_700_000_000,
                   "jti": "labsecret_jti_1", "client_id": "c", "sub": "u1"}),
        );
        let c = IdJagClaims::dangerous_unverified(&jwt);
        assert_eq!(c.typ.as_deref(), Some("oauth-id-jag+jwt"));
        assert_eq!(c.aud, ["https://as"]);
        assert_eq!(c.resource, ["https://mcp/mcp"]);
        assert_eq!(c.exp.unwrap().timestamp(), 1_700_000_300);
        let shown = serde_json::to_string(&c).unwrap();
        assert!(
            !shown.contains("labsecret") && !shown.contains("eyJ"),
            "{shown}"
        );
        assert!(c.jti_fingerprint.unwrap().starts_with("sha256:"));
    }

    #[test]
    fn opaque_and_malformed_tokens_give_nothing() {
        assert!(dangerous_unverified_claims(&Secret::new("labsecret_at_abc")).is_none());
        assert!(dangerous_unverified_claims(&Secret::new("a.b.c")).is_none());
        assert!(dangerous_unverified_exp(&Secret::new("x.eyJ9.y")).is_none());
        assert_eq!(
            IdJagClaims::dangerous_unverified(&Secret::new("nope")),
            IdJagClaims::default()
        );
        let no_exp = unsigned_jwt(json!({}), json!({"exp": "soon"}));
        assert!(dangerous_unverified_exp(&no_exp).is_none());
    }
}
