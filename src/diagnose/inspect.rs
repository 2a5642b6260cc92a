//! Token inspector: the ID token and JWT access tokens decoded (header, claims, times in UTC,
//! local and relative form) with the signature checked against the issuer's published JWKS,
//! or marked unverifiable. The view never holds the token: no encoded form, no signature,
//! and identifiers that act as handles (`jti`, `nonce`, `at_hash`, `c_hash`) as fingerprints.
//!
//! A token names its own issuer, so it could steer the inspector to any URL: key sets are
//! only fetched for the issuer the caller expects (one the policy names), and its `jwks_uri`
//! may point at this machine only when that issuer is on loopback itself.

use chrono::{DateTime, Local, Utc};
use serde::{Deserialize, Serialize};

use crate::http::{Http, check_derived};
use crate::protocol::jwt_peek::{dangerous_unverified_claims, dangerous_unverified_header};
use crate::secret::{Secret, fingerprint};
use crate::trace::{StepKind, Trace, scrub};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    IdToken,
    AccessToken,
    IdJag,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SignatureCheck {
    /// Verified against a key the issuer publishes.
    Verified {
        issuer: String,
        kid: Option<String>,
        alg: String,
    },
    /// The issuer's key set was found and the signature does not verify.
    Invalid { why: String },
    /// Could not be checked (opaque token, no key set, unknown key, not asked).
    Unverifiable { why: String },
}

/// One time claim in three forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct TimeClaim {
    pub claim: String,
    pub utc: String,
    pub local: String,
    /// "in 54 min", "3 min ago".
    pub relative: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct TokenView {
    pub kind: TokenKind,
    /// `jwt` or `opaque`.
    pub format: String,
    /// Lets support say "the same token" without seeing it.
    pub fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "Record<string, unknown>"))]
    pub header: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "Record<string, unknown>"))]
    pub claims: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<TimeClaim>,
    pub signature: SignatureCheck,
}

/// Claims whose values are handles, not information: shown as fingerprints.
const HANDLE_CLAIMS: &[&str] = &["jti", "nonce", "at_hash", "c_hash", "sid"];
const TIME_CLAIMS: &[&str] = &["iat", "nbf", "exp", "auth_time"];

/// Decodes without checking the signature (`Unverifiable { why: "not checked" }`).
pub fn decode(token: &Secret, kind: TokenKind, now: DateTime<Utc>) -> TokenView {
    let (Some(header), Some(claims)) = (
        dangerous_unverified_header(token),
        dangerous_unverified_claims(token),
    ) else {
        return TokenView {
            kind,
            format: "opaque".into(),
            fingerprint: token.fingerprint(),
            header: None,
            claims: None,
            times: Vec::new(),
            signature: SignatureCheck::Unverifiable {
                why: "an opaque token has no signature to check".into(),
            },
        };
    };
    let times = TIME_CLAIMS
        .iter()
        .filter_map(|name| {
            let at = DateTime::from_timestamp(claims.get(*name)?.as_i64()?, 0)?;
            Some(TimeClaim {
                claim: (*name).to_string(),
                utc: at.to_rfc3339(),
                local: at.with_timezone(&Local).to_rfc3339(),
                relative: relative(at, now),
            })
        })
        .collect();
    TokenView {
        kind,
        format: "jwt".into(),
        fingerprint: token.fingerprint(),
        header: Some(safe_map(header)),
        claims: Some(safe_map(claims)),
        times,
        signature: SignatureCheck::Unverifiable {
            why: "not checked".into(),
        },
    }
}

/// Decodes and verifies the signature against the JWKS of `expected_issuer`, the issuer the
/// policy names for this token. With none, or a token from another issuer, nothing is fetched.
pub async fn inspect(
    http: &Http,
    token: &Secret,
    kind: TokenKind,
    expected_issuer: Option<&str>,
) -> TokenView {
    let mut view = decode(token, kind, http.clock().now());
    if view.format == "jwt" {
        view.signature = verify(http, token, expected_issuer).await;
    }
    view
}

async fn verify(http: &Http, token: &Secret, expected_issuer: Option<&str>) -> SignatureCheck {
    let unverifiable = |why: String| SignatureCheck::Unverifiable { why };
    let Some(iss) = dangerous_unverified_claims(token)
        .and_then(|c| c.get("iss").and_then(|v| v.as_str()).map(String::from))
    else {
        return unverifiable("the token names no issuer (iss)".into());
    };
    let Some(expected) = expected_issuer else {
        return unverifiable(
            "no issuer is known for this token yet, so its key set was not fetched".into(),
        );
    };
    if expected != iss {
        return unverifiable(format!(
            "issued by {}, not the expected issuer {expected}",
            scrub(&iss)
        ));
    }
    let header = match jsonwebtoken::decode_header(token.expose()) {
        Ok(h) => h,
        Err(_) => return unverifiable("the JOSE header is not usable".into()),
    };
    let jwks = match fetch_jwks(http, &iss).await {
        Ok(jwks) => jwks,
        Err(why) => return unverifiable(why.to_string()),
    };
    let key = match &header.kid {
        Some(kid) => jwks.find(kid),
        None if jwks.keys.len() == 1 => jwks.keys.first(),
        None => None,
    };
    let Some(jwk) = key else {
        return unverifiable("no key in the issuer's JWKS matches the token's kid".into());
    };
    let Ok(decoding) = jsonwebtoken::DecodingKey::from_jwk(jwk) else {
        return unverifiable("the issuer's key is of a kind Lanyard cannot use".into());
    };
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    // Only the signature is in question here; times and audience are shown, not judged.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    match jsonwebtoken::decode::<serde_json::Value>(token.expose(), &decoding, &validation) {
        Ok(_) => SignatureCheck::Verified {
            issuer: scrub(&iss),
            kid: header.kid.map(|k| scrub(&k)),
            alg: format!("{:?}", header.alg),
        },
        Err(e) => match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => SignatureCheck::Invalid {
                why: "the signature does not verify with the issuer's key".into(),
            },
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => SignatureCheck::Invalid {
                why: "the algorithm does not match the issuer's key".into(),
            },
            _ => unverifiable("the token could not be checked".into()),
        },
    }
}

/// Why the issuer's key set could not be had; the text says so in the inspection.
#[derive(Debug, thiserror::Error)]
enum JwksError {
    #[error("the issuer is not a URL")]
    IssuerNotUrl,
    #[error("the issuer's metadata names no jwks_uri")]
    NoJwksUri,
    #[error("the issuer's jwks_uri was not fetched: {0}")]
    Refused(crate::http::HttpError),
    #[error("the issuer's JWKS could not be fetched ({0})")]
    Unreachable(crate::http::HttpError),
    #[error("the issuer's JWKS answered HTTP {0}")]
    Status(u16),
    #[error("the issuer's JWKS is not a key set")]
    NotAKeySet,
    #[error("no metadata found for the issuer")]
    NoMetadata,
}

/// The issuer's key set: OIDC discovery first, then RFC 8414 metadata in the MCP order.
async fn fetch_jwks(http: &Http, issuer: &str) -> Result<jsonwebtoken::jwk::JwkSet, JwksError> {
    let issuer_url = url::Url::parse(issuer).map_err(|_| JwksError::IssuerNotUrl)?;
    let trace = Trace::new();
    let mut candidates = vec![{
        let mut u = issuer_url.clone();
        u.set_path(&format!(
            "{}/.well-known/openid-configuration",
            issuer_url.path().trim_end_matches('/')
        ));
        u
    }];
    candidates.extend(crate::protocol::as_metadata::candidate_urls(&issuer_url));
    for url in candidates {
        let Ok(response) = http
            .send(
                &trace,
                StepKind::AuthorizationServerMetadata,
                http.get(&url),
            )
            .await
        else {
            continue;
        };
        if response.status != 200 {
            continue;
        }
        let Ok(doc) = response.json::<serde_json::Value>() else {
            continue;
        };
        if doc.get("issuer").and_then(|v| v.as_str()) != Some(issuer) {
            continue;
        }
        let Some(jwks_uri) = doc
            .get("jwks_uri")
            .and_then(|v| v.as_str())
            .and_then(|u| url::Url::parse(u).ok())
        else {
            return Err(JwksError::NoJwksUri);
        };
        check_derived(&jwks_uri, &issuer_url).map_err(JwksError::Refused)?;
        let response = http
            .send(&trace, StepKind::Jwks, http.get(&jwks_uri))
            .await
            .map_err(JwksError::Unreachable)?;
        if response.status != 200 {
            return Err(JwksError::Status(response.status));
        }
        return response.json().map_err(|_| JwksError::NotAKeySet);
    }
    Err(JwksError::NoMetadata)
}

/// "in 54 min", "3 min ago", "in 2 h 5 min", "just now".
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (at - now).num_seconds();
    let span = |s: i64| match s {
        0..=59 => format!("{s} s"),
        60..=5399 => format!("{} min", s / 60),
        5400..=172_799 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} days", s / 86_400),
    };
    match secs {
        -4..=4 => "just now".into(),
        s if s > 0 => format!("in {}", span(s)),
        s => format!("{} ago", span(-s)),
    }
}

/// Strings scrubbed; handle claims fingerprinted.
fn safe_map(
    map: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    map.into_iter()
        .map(|(k, v)| {
            let v = match (&v, HANDLE_CLAIMS.contains(&k.as_str())) {
                (serde_json::Value::String(s), true) => serde_json::Value::String(fingerprint(s)),
                _ => safe_value(v),
            };
            (k, v)
        })
        .collect()
}

fn safe_value(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::String(s) => serde_json::Value::String(scrub(&s)),
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(safe_value).collect())
        }
        serde_json::Value::Object(m) => serde_json::Value::Object(safe_map(m)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::jwt_peek::unsigned_jwt;
    use serde_json::json;

    #[test]
    fn decodes_claims_and_times_without_the_token() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let jwt = unsigned_jwt(
            json!({"alg": "ES256", "kid": "k1", "typ": "JWT"}),
            json!({"iss": "https://idp", "sub": "u1", "aud": "lanyard", "jti": "labsecret_jti_9",
                   "nonce": "n0nce", "iat": 1_700_000_000 - 180, "exp": 1_700_000_000 + 3240}),
        );
        let v = decode(&jwt, TokenKind::IdToken, now);
        assert_eq!(v.format, "jwt");
        let claims = v.claims.as_ref().unwrap();
        assert!(claims["jti"].as_str().unwrap().starts_with("sha256:"));
        assert!(claims["nonce"].as_str().unwrap().starts_with("sha256:"));
        assert_eq!(claims["sub"], "u1");
        let exp = v.times.iter().find(|t| t.claim == "exp").unwrap();
        assert_eq!(exp.relative, "in 54 min");
        assert_eq!(
            v.times.iter().find(|t| t.claim == "iat").unwrap().relative,
            "3 min ago"
        );
        let text = serde_json::to_string(&v).unwrap();
        assert!(
            !text.contains("eyJ") && !text.contains("labsecret") && !text.contains("c2lnbmF0dXJl"),
            "{text}"
        );
        assert_eq!(v.fingerprint, jwt.fingerprint());
    }

    #[test]
    fn opaque_tokens_are_fingerprint_only() {
        let v = decode(
            &Secret::new("labsecret_at_abc"),
            TokenKind::AccessToken,
            Utc::now(),
        );
        assert_eq!(v.format, "opaque");
        assert!(v.claims.is_none());
        assert!(matches!(v.signature, SignatureCheck::Unverifiable { .. }));
        assert!(!serde_json::to_string(&v).unwrap().contains("labsecret"));
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = Utc::now();
        assert_eq!(
            relative(now + chrono::Duration::seconds(2), now),
            "just now"
        );
        assert_eq!(
            relative(now + chrono::Duration::hours(3), now),
            "in 3 h 0 min"
        );
        assert_eq!(relative(now - chrono::Duration::days(3), now), "3 days ago");
    }

    #[tokio::test]
    async fn an_issuer_nobody_named_is_never_fetched_for() {
        use crate::protocol::discovery::stub_server::{Reply, Stub, http};
        let stub = Stub::start(|_, _| Reply::status(404)).await;
        let jwt = unsigned_jwt(json!({"alg": "ES256"}), json!({"iss": stub.base}));
        let v = inspect(&http(), &jwt, TokenKind::AccessToken, None).await;
        assert!(matches!(v.signature, SignatureCheck::Unverifiable { .. }));
        assert!(stub.requests().is_empty(), "fetched {:?}", stub.paths());
    }

    #[tokio::test]
    async fn a_foreign_issuer_is_not_fetched_for() {
        let http = Http::new(crate::clock::system());
        let jwt = unsigned_jwt(
            json!({"alg": "ES256"}),
            json!({"iss": "https://evil.example"}),
        );
        let v = inspect(&http, &jwt, TokenKind::IdToken, Some("https://idp.example")).await;
        assert!(
            matches!(&v.signature, SignatureCheck::Unverifiable { why } if why.contains("not the expected issuer"))
        );
    }
}
