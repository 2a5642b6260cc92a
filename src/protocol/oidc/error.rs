//! Why a sign-in, refresh or revocation at the IdP failed: one closed enum with a stable
//! `code()` for the hosts to branch on and a `hint()` sentence for the person.
//!
//! No variant carries a token, authorization code, `state` value or URL query value; the
//! free text that does appear (an IdP's `error_description`, a transport error) has already
//! been passed through `trace::scrub`.

use std::time::Duration;

use crate::protocol::oauth_error::{ErrorCode, OAuthError};

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The discovery document names a different issuer than the policy (RFC 8414 §3.3).
    #[error(
        "the IdP's discovery document says its issuer is \"{found}\", but the policy says \"{expected}\""
    )]
    IssuerMismatch { expected: String, found: String },
    #[error("refused an insecure IdP endpoint: {0}")]
    Insecure(String),
    #[error("IdP discovery failed: {0}")]
    Discovery(String),
    /// The IdP does not advertise PKCE S256 (MCP authorization: clients MUST refuse).
    #[error("the IdP does not advertise PKCE with S256 (code_challenge_methods_supported)")]
    PkceUnsupported,
    /// The IdP sent the browser back with `error=` (RFC 6749 §4.1.2.1).
    #[error("the IdP refused the sign-in: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Authorization {
        error: String,
        description: Option<String>,
    },
    /// A pasted redirect URL (paste-back) carries another `state`. The loopback listener never
    /// produces this: it ignores stray callbacks and keeps waiting.
    #[error(
        "this URL is from another sign-in attempt (its state does not match the sign-in Lanyard just started)"
    )]
    StateMismatch,
    /// RFC 9207: the authorization response names another issuer, or none when one is required.
    #[error("the sign-in response came from issuer {}, expected \"{expected}\"", found.as_deref().map(|f| format!("\"{f}\"")).unwrap_or_else(|| "(none)".into()))]
    IssMismatch {
        expected: String,
        found: Option<String>,
    },
    #[error("sign-in was not completed within {0:?}")]
    Timeout(Duration),
    #[error("sign-in was cancelled")]
    Cancelled,
    /// The token endpoint refused the authorization code.
    #[error("the IdP refused to exchange the sign-in code: {0}")]
    CodeExchange(OAuthError),
    #[error("the IdP's ID token failed verification: {0}")]
    IdToken(IdTokenCheck),
    /// `invalid_grant` on refresh: the refresh token is spent, revoked or expired.
    #[error("the IdP session has expired{}", .0.as_ref().map(|e| format!(" ({e})")).unwrap_or_default())]
    SessionExpired(Option<OAuthError>),
    /// A refresh or revocation refused for a reason other than an expired session
    /// (e.g. `invalid_client`): a configuration problem.
    #[error("the IdP refused the request: {0}")]
    TokenRejected(OAuthError),
    /// A 2xx answer that is not a usable token response.
    #[error("the IdP's token response was not usable: {0}")]
    InvalidResponse(String),
    /// Transport failure, timeout or 5xx: worth retrying later.
    #[error("cannot reach the IdP: {0}")]
    Unreachable(String),
    #[error("could not open the browser: {0}")]
    Browser(String),
    #[error("the sign-in callback failed: {0}")]
    Callback(String),
    /// The device flow was asked for, but the IdP advertises no `device_authorization_endpoint`.
    #[error(
        "the IdP does not offer sign-in with a device code (no device_authorization_endpoint in its discovery document)"
    )]
    DeviceUnsupported,
    /// The device authorization endpoint refused to start (RFC 8628 §3.2).
    #[error("the IdP refused to start sign-in with a device code: {0}")]
    DeviceAuthorization(OAuthError),
    /// `access_denied` while polling (RFC 8628 §3.5): the request was denied at the IdP.
    #[error("the sign-in was denied at the IdP's approval page{}", .0.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    DeviceDenied(Option<String>),
    /// `expired_token` while polling (RFC 8628 §3.5), or the code outlived its `expires_in`.
    #[error("the code expired before it was approved")]
    DeviceCodeExpired,
    /// The configured client authentication cannot be produced (missing secret or key).
    #[error("client authentication is not usable: {0}")]
    ClientAuth(String),
}

/// Which ID-token check failed. Never carries the token or its claims' secret values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenCheck {
    #[error("it is not a well-formed signed JWT")]
    Malformed,
    #[error("its algorithm is not one of ES256, RS256, PS256, EdDSA")]
    Algorithm,
    #[error("no key in the IdP's JWKS matches its kid")]
    UnknownKey,
    #[error("its signature does not verify")]
    Signature,
    #[error("its issuer is not the configured IdP")]
    Issuer,
    #[error("its audience does not name this client (or names an untrusted extra audience)")]
    Audience,
    #[error("it has expired (or the clock is more than 60 s off)")]
    Expired,
    #[error("it was issued in the future (is the clock right?)")]
    IssuedInFuture,
    #[error("its nonce does not match the sign-in request")]
    Nonce,
    #[error("{0}")]
    Other(String),
}

impl LoginError {
    /// Stable snake_case code for hosts, the status JSON and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::IssuerMismatch { .. } => "issuer_mismatch",
            Self::Insecure(_) => "insecure_endpoint",
            Self::Discovery(_) => "discovery_failed",
            Self::PkceUnsupported => "pkce_unsupported",
            Self::Authorization { .. } => "authorization_denied",
            Self::StateMismatch => "state_mismatch",
            Self::IssMismatch { .. } => "iss_mismatch",
            Self::Timeout(_) => "timeout",
            Self::Cancelled => "cancelled",
            Self::CodeExchange(_) => "code_exchange_failed",
            Self::IdToken(_) => "id_token_invalid",
            Self::SessionExpired(_) => "session_expired",
            Self::TokenRejected(_) => "token_rejected",
            Self::InvalidResponse(_) => "invalid_response",
            Self::Unreachable(_) => "unreachable",
            Self::Browser(_) => "browser_failed",
            Self::Callback(_) => "callback_failed",
            Self::ClientAuth(_) => "client_auth_unavailable",
            Self::DeviceUnsupported => "device_flow_unsupported",
            Self::DeviceAuthorization(_) => "device_authorization_failed",
            Self::DeviceDenied(_) => "device_denied",
            Self::DeviceCodeExpired => "device_code_expired",
        }
    }

    /// One sentence telling a person what to do next.
    // long: one arm per variant (and per OAuth code that needs other advice), so a new
    // variant does not compile until it has a hint; the sentences read best side by side.
    pub fn hint(&self) -> String {
        match self {
            Self::IssuerMismatch { found, .. } => format!(
                "Ask your admin to set idp.issuer in the policy to exactly \"{found}\" (trailing slash included) if that IdP is the right one."
            ),
            Self::Insecure(_) => {
                "Ask your admin to use an https issuer; plain http is only allowed on 127.0.0.1.".into()
            }
            Self::Discovery(_) => {
                "Check that idp.issuer in the policy is right and that the IdP is online.".into()
            }
            Self::PkceUnsupported => {
                "Ask your admin to enable PKCE (S256) for Lanyard's client at the IdP.".into()
            }
            Self::Authorization { error, .. }
                if ErrorCode::parse(error) == ErrorCode::AccessDenied =>
            {
                "The IdP did not let you sign in; ask your admin to assign Lanyard to you.".into()
            }
            Self::Authorization { .. } => {
                "Ask your admin to check Lanyard's client registration at the IdP (redirect URI http://127.0.0.1/callback, PKCE, scopes).".into()
            }
            Self::StateMismatch => {
                "Paste the address from the browser tab of the sign-in you just started, or run `lanyard login` again.".into()
            }
            Self::IssMismatch { .. } => {
                "Start the sign-in again; if it repeats, tell your admin: the response may not come from your IdP.".into()
            }
            Self::Timeout(_) => {
                "Sign in again and finish in the browser window Lanyard opens.".into()
            }
            Self::Cancelled => "Sign in again when you are ready.".into(),
            Self::CodeExchange(e) if e.code() == ErrorCode::InvalidClient => {
                "Ask your admin to check Lanyard's client id and authentication method at the IdP.".into()
            }
            Self::CodeExchange(e) if e.code() == ErrorCode::InvalidGrant => {
                "The IdP no longer accepts this sign-in code: each code works once and only for a few minutes, so a URL pasted twice or too late is refused. Run `lanyard login` again and finish promptly.".into()
            }
            Self::CodeExchange(_) => "Sign in again; if it repeats, send a diagnostic bundle to support.".into(),
            Self::IdToken(IdTokenCheck::Expired | IdTokenCheck::IssuedInFuture) => {
                "Check that this computer's clock is set automatically, then sign in again.".into()
            }
            Self::IdToken(_) => {
                "Sign in again; if it repeats, ask your admin to check the IdP's signing keys and Lanyard's client id.".into()
            }
            Self::SessionExpired(_) => "Sign in again.".into(),
            Self::TokenRejected(_) => {
                "Ask your admin to check Lanyard's client authentication at the IdP.".into()
            }
            Self::InvalidResponse(_) => {
                "Sign in again; if it repeats, send a diagnostic bundle to support.".into()
            }
            Self::Unreachable(_) => {
                "Check your network connection or VPN; Lanyard will retry.".into()
            }
            Self::Browser(_) => {
                "Open the sign-in link yourself (lanyard login --no-browser prints it), or fix the browser command.".into()
            }
            Self::Callback(_) => "Start the sign-in again from Lanyard.".into(),
            Self::ClientAuth(_) => {
                "Ask your admin to provide the IdP client secret or register this device's key.".into()
            }
            Self::DeviceUnsupported => {
                "Use `lanyard login --paste` instead, or ask your admin to enable the device authorization grant for Lanyard.".into()
            }
            Self::DeviceAuthorization(_) => {
                "Ask your admin to allow the device authorization grant for Lanyard's client at the IdP, or use `lanyard login --paste`.".into()
            }
            Self::DeviceDenied(_) => {
                "Run `lanyard login` again and approve the code; if you did not deny it, tell your admin.".into()
            }
            Self::DeviceCodeExpired => "Run `lanyard login` again and approve the new code before it expires.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_snake_case_and_messages_hold_no_token() {
        let cases = [
            LoginError::IssuerMismatch {
                expected: "https://a".into(),
                found: "https://a/".into(),
            },
            LoginError::Timeout(Duration::from_secs(3)),
            LoginError::IssMismatch {
                expected: "https://a".into(),
                found: None,
            },
            LoginError::Authorization {
                error: "access_denied".into(),
                description: None,
            },
            LoginError::IdToken(IdTokenCheck::Nonce),
        ];
        let codes: Vec<_> = cases.iter().map(LoginError::code).collect();
        assert_eq!(
            codes,
            [
                "issuer_mismatch",
                "timeout",
                "iss_mismatch",
                "authorization_denied",
                "id_token_invalid"
            ]
        );
        for e in &cases {
            assert!(!e.hint().is_empty());
            assert!(e.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
        assert!(
            cases[0].to_string().contains("\"https://a/\""),
            "{}",
            cases[0]
        );
        assert!(cases[2].to_string().contains("(none)"));
    }
}
