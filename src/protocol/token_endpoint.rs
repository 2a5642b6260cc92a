//! One POST to an OAuth token endpoint and one token-response type, shared by every token
//! leg: the IdP's code exchange, device-code poll and refresh (`oidc::token`), the token
//! exchange at the IdP and jwt-bearer at the connector's AS.
//!
//! Form bodies are built in one fixed order so request-shape tests can compare them byte for
//! byte. Every token is wrapped in `Secret` as soon as it is parsed; errors carry the server's
//! OAuth error (scrubbed) and never a token.

use crate::http::{Http, HttpError, HttpResponse};
use crate::protocol::client_auth::{Applied, ClientAuthError};
use crate::protocol::oauth_error::{ErrorCode, OAuthError};
use crate::secret::Secret;
use crate::trace::{StepKind, Trace};

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("client authentication: {0}")]
    ClientAuth(#[from] ClientAuthError),
    #[error("HTTP {status}: {error}")]
    OAuth { status: u16, error: OAuthError },
    /// The AS wants `client_id` in the form even with Basic: retry once with a fresh ID-JAG.
    #[error("HTTP {status}: {error} (the server wants client_id in the body with Basic)")]
    WantsClientIdInBody { status: u16, error: OAuthError },
    #[error("HTTP {status} without an OAuth error body")]
    Status { status: u16 },
    #[error("the token response is not usable: {0}")]
    InvalidResponse(String),
    #[error("issued_token_type is {0:?}, expected urn:ietf:params:oauth:token-type:id-jag")]
    WrongIssuedTokenType(Option<String>),
}

impl ExchangeError {
    /// The OAuth error code, if the server sent one.
    pub fn oauth_code(&self) -> Option<ErrorCode> {
        match self {
            Self::OAuth { error, .. } | Self::WantsClientIdInBody { error, .. } => {
                Some(error.code())
            }
            _ => None,
        }
    }
}

/// POSTs a token request: `form` first, then the client authentication's form fields and
/// header (marked sensitive by `Http`).
pub(super) async fn post(
    http: &Http,
    endpoint: &url::Url,
    mut form: Vec<(&str, &str)>,
    applied: Applied,
    kind: StepKind,
    trace: &Trace,
) -> Result<HttpResponse, ExchangeError> {
    for (k, v) in &applied.form {
        form.push((k, v));
    }
    let mut request = http.post_form(endpoint, &form);
    if let Some(authorization) = &applied.authorization {
        request = request.header("authorization", authorization.expose());
    }
    Ok(http.send(trace, kind, request).await?)
}

pub(super) fn failure(response: &HttpResponse) -> ExchangeError {
    match response.oauth_error() {
        Some(error) => ExchangeError::OAuth {
            status: response.status,
            error,
        },
        None => ExchangeError::Status {
            status: response.status,
        },
    }
}

/// The token response, with the tokens already wrapped. Deliberately not `Debug`.
pub(super) struct TokenResponse {
    pub(super) access_token: Secret,
    /// OIDC: the IdP's code exchange and refresh return one (never the connector legs).
    pub(super) id_token: Option<Secret>,
    pub(super) refresh_token: Option<Secret>,
    pub(super) issued_token_type: Option<String>,
    pub(super) token_type: Option<String>,
    pub(super) expires_in: Option<serde_json::Value>,
    pub(super) scope: Option<String>,
}

pub(super) fn parse_token_response(
    response: &HttpResponse,
) -> Result<TokenResponse, ExchangeError> {
    #[derive(serde::Deserialize)]
    struct Raw {
        access_token: Option<String>,
        id_token: Option<String>,
        refresh_token: Option<String>,
        issued_token_type: Option<String>,
        token_type: Option<String>,
        expires_in: Option<serde_json::Value>,
        scope: Option<String>,
    }
    let raw: Raw = response
        .json()
        .map_err(|e| ExchangeError::InvalidResponse(format!("not JSON ({})", e.classify_name())))?;
    let wrap = |v: Option<String>| v.filter(|t| !t.is_empty()).map(Secret::new);
    let access_token = wrap(raw.access_token)
        .ok_or_else(|| ExchangeError::InvalidResponse("no access_token".into()))?;
    Ok(TokenResponse {
        access_token,
        id_token: wrap(raw.id_token),
        refresh_token: wrap(raw.refresh_token),
        issued_token_type: raw.issued_token_type,
        token_type: raw.token_type,
        expires_in: raw.expires_in,
        scope: raw.scope,
    })
}

/// serde_json's error category, without the message (which can quote the body).
trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "invalid JSON",
            serde_json::error::Category::Data => "unexpected members",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}

/// `expires_in` as a positive number of seconds: a JSON number or a numeric string (the
/// Python SDK sends either). Zero, negative or garbage means "not said".
pub fn seconds(value: Option<&serde_json::Value>) -> Option<u64> {
    let n = match value? {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (1.0..1e12).contains(&n).then_some(n as u64)
}

#[cfg(test)]
#[path = "token_endpoint_tests.rs"]
mod tests;
