//! The RFC 6749 §5.2 error body, kept typed from the wire to the person who reads it.
//! Its text is redacted on parsing: servers echo requests (client secrets included) in it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct OAuthError {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub error_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub error_uri: Option<String>,
}

impl OAuthError {
    /// Parses a JSON error body; `None` when the body is not an OAuth error.
    pub fn from_body(body: &[u8]) -> Option<Self> {
        let parsed: Self = serde_json::from_slice(body).ok()?;
        if parsed.error.is_empty() {
            return None;
        }
        Some(Self {
            error: crate::redact::redact(&parsed.error),
            error_description: parsed.error_description.map(|d| crate::redact::redact(&d)),
            // Also shown and kept in traces: a server may put the request in it too.
            error_uri: parsed.error_uri.map(|u| crate::redact::redact(&u)),
        })
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error_description {
            Some(d) => write!(f, "{}: {}", self.error, d),
            None => f.write_str(&self.error),
        }
    }
}
