//! Redacted step records of every HTTP exchange: what support needs to see, never a secret.
//!
//! A `Trace` is a cheap, cloneable sink; `crate::http::Http` appends one `Step` per request.
//! URLs keep their query parameter *names* but lose the values of anything not on a short
//! safe-list, and free text from servers is passed through `scrub` (the one redaction,
//! `crate::redact`) before it is stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

use crate::protocol::oauth_error::OAuthError;

/// Which leg of the flow a request belongs to (one vocabulary for CLI, app and bundle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    IdpDiscovery,
    Jwks,
    Authorization,
    Callback,
    Token,
    /// RFC 8628 §3.1: asking the IdP for a device code (sign-in without a local browser).
    DeviceAuthorization,
    /// RFC 8628 §3.4: one poll of the token endpoint while the person approves elsewhere.
    DevicePoll,
    Refresh,
    McpProbe,
    ProtectedResourceMetadata,
    AuthorizationServerMetadata,
    TokenExchange,
    JwtBearer,
    McpInitialize,
    McpToolsList,
    McpToolCall,
    Revocation,
}

/// How the device flow's note on its last poll begins when the code outlived its
/// `expires_in` before the IdP said `expired_token` itself (read by the timeline).
pub const DEVICE_CODE_EXPIRED: &str = "the device code expired before it was approved";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub kind: StepKind,
    pub method: String,
    /// The URL with secret-bearing query values replaced by `…`.
    pub url: String,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub started_at: DateTime<Utc>,
    /// The server's `Date` header: the basis of the clock-skew check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_error: Option<OAuthError>,
    /// A short human note (transport error, check that failed), already scrubbed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Decoded, non-secret claims of what this step asked for and got (requested audience,
    /// resource, scope; the ID-JAG's claims; the granted scope), for support's "key claims"
    /// view. Never a token: `Trace::attach_claims` scrubs strings and fingerprints `jti`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default)]
pub struct Trace(Arc<Mutex<Vec<Step>>>);

impl Trace {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&self, mut step: Step) {
        step.note = step.note.map(|n| scrub(&n));
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(step);
    }

    /// Adds a note to the most recent step of `kind` (e.g. why a 200 was still refused).
    pub fn annotate_last(&self, kind: StepKind, note: &str) {
        let mut steps = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(step) = steps.iter_mut().rev().find(|s| s.kind == kind) {
            step.note = Some(scrub(note));
        }
    }

    /// Merges decoded, non-secret claims into the most recent step of `kind` (objects are
    /// merged key by key, so a request's "requested" and a response's "id_jag" can both land
    /// on one step). String values are scrubbed and any `jti` becomes a fingerprint.
    pub fn attach_claims(&self, kind: StepKind, claims: serde_json::Value) {
        let claims = safe_claims(claims);
        let mut steps = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(step) = steps.iter_mut().rev().find(|s| s.kind == kind) {
            match (&mut step.claims, claims) {
                (Some(serde_json::Value::Object(old)), serde_json::Value::Object(new)) => {
                    old.extend(new);
                }
                (slot, new) => *slot = Some(new),
            }
        }
    }

    pub fn steps(&self) -> Vec<Step> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

pub use crate::redact::redact_url;

/// Claims made safe to store: strings scrubbed, `jti` (a replay handle) fingerprinted.
fn safe_claims(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(scrub(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(safe_claims).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| match (k.as_str(), &v) {
                    ("jti", Value::String(s)) => (k, Value::String(crate::secret::fingerprint(s))),
                    _ => (k, safe_claims(v)),
                })
                .collect(),
        ),
        other => other,
    }
}

/// Free text from a server or a library, made safe to store: `redact::redact` (every secret
/// this process holds, in any encoding, and anything credential-shaped).
pub fn scrub(text: &str) -> String {
    crate::redact::redact(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_codes_but_keeps_names() {
        let url = url::Url::parse(
            "http://127.0.0.1:5/callback?code=labsecret_code_abc&state=xyz&scope=openid+email",
        )
        .unwrap();
        let shown = redact_url(&url);
        assert!(!shown.contains("labsecret"), "{shown}");
        assert!(!shown.contains("xyz"), "{shown}");
        assert!(shown.contains("code=%E2%80%A6"), "{shown}");
        assert!(shown.contains("scope=openid+email"), "{shown}");
    }

    #[test]
    fn scrub_replaces_jwts_and_long_tokens() {
        let jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
        let text = format!("bad token {jwt} and labsecret_at_0123456789abcdef0123456789abcdef.");
        let s = scrub(&text);
        assert!(!s.contains("eyJ"), "{s}");
        assert!(!s.contains("labsecret"), "{s}");
        assert!(s.starts_with("bad token [sha256:"), "{s}");
    }

    #[test]
    fn attach_claims_merges_scrubs_and_fingerprints_jti() {
        let trace = Trace::new();
        let step = Step {
            kind: StepKind::TokenExchange,
            method: "POST".into(),
            url: "http://127.0.0.1:1/token".into(),
            status: Some(200),
            duration_ms: 1,
            started_at: chrono::Utc::now(),
            server_date: None,
            oauth_error: None,
            note: None,
            claims: None,
        };
        trace.push(step);
        trace.attach_claims(
            StepKind::TokenExchange,
            serde_json::json!({"requested": {"scope": "a b"}}),
        );
        trace.attach_claims(
            StepKind::TokenExchange,
            serde_json::json!({"id_jag": {"jti": "labsecret_jti_1", "note": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"}}),
        );
        let claims = trace.steps()[0].claims.clone().unwrap();
        assert_eq!(claims["requested"]["scope"], "a b");
        let text = claims.to_string();
        assert!(
            !text.contains("labsecret") && !text.contains("eyJ"),
            "{text}"
        );
        assert!(
            claims["id_jag"]["jti"]
                .as_str()
                .unwrap()
                .starts_with("sha256:")
        );
    }

    #[test]
    fn scrub_masks_opaque_tokens_and_secrets_the_process_holds() {
        // A client secret from the policy, echoed back by a careless server: lower-case
        // words and digits, which no length rule catches.
        let client_secret = crate::secret::Secret::new("hunter2-correct-horse");
        let echoed = format!(
            "invalid_request: received body \"grant_type=x&client_secret={}&client_id=c\"",
            url::form_urlencoded::byte_serialize(client_secret.expose().as_bytes())
                .collect::<String>()
        );
        for (text, secret) in [
            (echoed.as_str(), "hunter2"),
            ("bad client hunter2-correct-horse.", "hunter2"),
            // RFC 6749 §4.1.4's 22-character access token.
            ("token 2YotnFZFEjr1zCsicMWpAA refused", "2YotnFZ"),
            ("first\ntGzv3JOkF0XG5Qx2TlKWIAxyzQ1234567\nlast", "tGzv3"),
            ("Authorization: Basic bXk6czNjcg==", "bXk6czNjcg"),
            ("body client_secret=s3cr3t&x=1", "s3cr3t"),
            (
                "GET https://mcp.example/t/tGzv3JOkF0XG5Qx2TlKWIA/mcp",
                "tGzv3",
            ),
        ] {
            let out = scrub(text);
            assert!(!out.contains(secret), "{secret} survived: {out}");
        }
    }

    #[test]
    fn scrub_keeps_ordinary_sentences_and_urls() {
        let text = "Audience validation failed for https://mcp.linear.example/mcp/v1/abc123def";
        assert_eq!(scrub(text), text);
    }
}
