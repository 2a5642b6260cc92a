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

/// The `error` codes Lanyard acts on, typed so a decision is a `match`, not a string compare
/// (RFC 6749 §5.2, RFC 8693 §2.2.2 `invalid_target`, RFC 8628 §3.5 for the device flow,
/// RFC 9470 `insufficient_user_authentication`). Any other code is `Other`: still shown and
/// stored as the server sent it (`OAuthError::error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    InvalidTarget,
    AccessDenied,
    InsufficientUserAuthentication,
    TemporarilyUnavailable,
    ServerError,
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    Other,
}

impl ErrorCode {
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            "invalid_target" => Self::InvalidTarget,
            "access_denied" => Self::AccessDenied,
            "insufficient_user_authentication" => Self::InsufficientUserAuthentication,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            "server_error" => Self::ServerError,
            "authorization_pending" => Self::AuthorizationPending,
            "slow_down" => Self::SlowDown,
            "expired_token" => Self::ExpiredToken,
            _ => Self::Other,
        }
    }
}

impl OAuthError {
    /// The code, typed.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::parse(&self.error)
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_exactly_and_anything_else_is_other() {
        assert_eq!(ErrorCode::parse("invalid_grant"), ErrorCode::InvalidGrant);
        assert_eq!(ErrorCode::parse("slow_down"), ErrorCode::SlowDown);
        for other in ["Invalid_Grant", "invalid_grant ", "", "custom_code"] {
            assert_eq!(ErrorCode::parse(other), ErrorCode::Other, "{other:?}");
        }
        let e = OAuthError::from_body(br#"{"error":"access_denied"}"#).unwrap();
        assert_eq!(e.code(), ErrorCode::AccessDenied);
    }
}
