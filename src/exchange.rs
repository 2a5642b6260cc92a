//! The two token requests of zero-touch access: the IdP's RFC 8693 token exchange (ID token or
//! IdP refresh token → ID-JAG, ema-protocol §1) and the connector AS's RFC 7523 jwt-bearer
//! grant (ID-JAG → access token, ema-protocol §3).
//!
//! Form bodies are built in one fixed order so request-shape tests can compare them byte for
//! byte. Every token is wrapped in `Secret` as soon as it is parsed; errors carry the server's
//! OAuth error (scrubbed) and never a token.

use chrono::{DateTime, Duration, Utc};

use crate::client_auth::{ClientAuth, ClientAuthError};
use crate::discovery::{ConnectorMetadata, JWT_BEARER_GRANT};
use crate::http::{Http, HttpError, HttpResponse};
use crate::oauth_error::OAuthError;
use crate::policy::AuthMethod;
use crate::secret::Secret;
use crate::trace::{StepKind, Trace};

pub use crate::jwt_peek::IdJagClaims;

pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ID_JAG_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id-jag";
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const REFRESH_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:refresh_token";

/// What the IdP is asked to exchange for an ID-JAG.
#[derive(Debug, Clone, Copy)]
pub enum SubjectToken<'a> {
    IdToken(&'a Secret),
    RefreshToken(&'a Secret),
}

impl SubjectToken<'_> {
    fn parts(&self) -> (&Secret, &'static str) {
        match self {
            Self::IdToken(t) => (t, ID_TOKEN_TYPE),
            Self::RefreshToken(t) => (t, REFRESH_TOKEN_TYPE),
        }
    }
}

/// An ID-JAG: a single-use credential (EMA §7.4.2 `jti` replay), held as a secret.
#[derive(Debug, Clone)]
pub struct IdJag(pub Secret);

impl IdJag {
    /// Unverified claims for traces and display (see `jwt_peek`).
    pub fn claims(&self) -> IdJagClaims {
        IdJagClaims::dangerous_unverified(&self.0)
    }
}

#[derive(Debug, Clone)]
pub struct IssuedIdJag {
    pub id_jag: Secret,
    pub expires_in: Option<u64>,
    pub scope: Option<String>,
    /// Unverified peek, for traces; holds no token.
    pub claims: IdJagClaims,
}

#[derive(Debug, Clone)]
pub struct RedeemedToken {
    pub access_token: Secret,
    /// From `expires_in` at receipt, else the JWT `exp`, else `None` (unknown).
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    pub token_type: String,
}

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
    #[error("issued_token_type is {0:?}, expected {ID_JAG_TOKEN_TYPE}")]
    WrongIssuedTokenType(Option<String>),
}

impl ExchangeError {
    /// The OAuth error code, if the server sent one.
    pub fn oauth_code(&self) -> Option<&str> {
        match self {
            Self::OAuth { error, .. } | Self::WantsClientIdInBody { error, .. } => {
                Some(&error.error)
            }
            _ => None,
        }
    }
}

/// RFC 8693 token exchange at the IdP for an ID-JAG naming `audience` (the AS issuer) and
/// `resource` (the PRM resource, always sent: ema-protocol §1.2).
#[allow(
    clippy::too_many_arguments,
    reason = "the engine's call shape; each is a distinct protocol input"
)]
pub async fn request_id_jag(
    http: &Http,
    idp_token_endpoint: &url::Url,
    idp_auth: &ClientAuth,
    subject: SubjectToken<'_>,
    audience: &str,
    resource: &str,
    scopes: &[String],
    trace: &Trace,
) -> Result<IssuedIdJag, ExchangeError> {
    let (subject_token, subject_type) = subject.parts();
    let scope = scopes.join(" ");
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", TOKEN_EXCHANGE_GRANT),
        ("requested_token_type", ID_JAG_TOKEN_TYPE),
        ("audience", audience),
        ("resource", resource),
    ];
    if !scope.is_empty() {
        form.push(("scope", &scope));
    }
    form.push(("subject_token", subject_token.expose()));
    form.push(("subject_token_type", subject_type));
    // RFC 7523 allows the token endpoint as a client assertion's audience; Okta requires it.
    let applied = idp_auth.apply(idp_token_endpoint.as_str(), http.clock().now())?;
    let response = post(
        http,
        idp_token_endpoint,
        form,
        applied,
        StepKind::TokenExchange,
        trace,
    )
    .await?;
    // What was asked for, on the step, whatever the answer: support compares it with the
    // ID-JAG's claims (diagnose::timeline "key claims").
    trace.attach_claims(
        StepKind::TokenExchange,
        serde_json::json!({"requested": {"audience": audience, "resource": resource, "scope": scope}}),
    );
    if !response.is_success() {
        return Err(failure(&response));
    }
    let raw = parse_token_response(&response)?;
    if raw.issued_token_type.as_deref() != Some(ID_JAG_TOKEN_TYPE) {
        trace.annotate_last(
            StepKind::TokenExchange,
            "issued_token_type is not id-jag: refused",
        );
        return Err(ExchangeError::WrongIssuedTokenType(
            raw.issued_token_type.map(|t| crate::trace::scrub(&t)),
        ));
    }
    // token_type is informational (N_A, n_a, Bearer or missing are all seen in the wild).
    let id_jag = raw.access_token;
    let claims = IdJagClaims::dangerous_unverified(&id_jag);
    if let Some(jti) = &claims.jti_fingerprint {
        trace.annotate_last(StepKind::TokenExchange, &format!("ID-JAG jti {jti}"));
    }
    // `IdJagClaims` holds no token (the jti only as a fingerprint).
    if let Ok(decoded) = serde_json::to_value(&claims) {
        trace.attach_claims(
            StepKind::TokenExchange,
            serde_json::json!({"id_jag": decoded}),
        );
    }
    Ok(IssuedIdJag {
        id_jag,
        expires_in: seconds(raw.expires_in.as_ref()),
        scope: raw.scope,
        claims,
    })
}

/// RFC 7523 jwt-bearer at the connector's AS. `auth`'s private_key_jwt audience is the AS
/// issuer. A Basic-without-body-client_id rejection comes back as `WantsClientIdInBody`.
pub async fn redeem_id_jag(
    http: &Http,
    meta: &ConnectorMetadata,
    auth: &ClientAuth,
    id_jag: &Secret,
    scopes: &[String],
    trace: &Trace,
) -> Result<RedeemedToken, ExchangeError> {
    let scope = scopes.join(" ");
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", JWT_BEARER_GRANT),
        ("assertion", id_jag.expose()),
    ];
    if !scope.is_empty() {
        form.push(("scope", &scope));
    }
    form.push(("resource", &meta.resource));
    let now = http.clock().now();
    let applied = auth.apply(&meta.as_issuer, now)?;
    let response = post(
        http,
        &meta.token_endpoint,
        form,
        applied,
        StepKind::JwtBearer,
        trace,
    )
    .await?;
    trace.attach_claims(
        StepKind::JwtBearer,
        serde_json::json!({"requested": {"resource": &meta.resource, "scope": &scope, "client_id": &auth.client_id}}),
    );
    if !response.is_success() {
        let err = failure(&response);
        if let ExchangeError::OAuth { status, error } = &err
            && wants_client_id_in_body(*status, error, auth)
        {
            return Err(ExchangeError::WantsClientIdInBody {
                status: *status,
                error: error.clone(),
            });
        }
        return Err(err);
    }
    let raw = parse_token_response(&response)?;
    let expires_at = seconds(raw.expires_in.as_ref())
        .and_then(|s| i64::try_from(s).ok())
        .and_then(Duration::try_seconds)
        .map(|d| now + d)
        .or_else(|| crate::jwt_peek::dangerous_unverified_exp(&raw.access_token));
    let scopes = match raw.scope {
        Some(s) => s
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        None => scopes.to_vec(),
    };
    trace.attach_claims(
        StepKind::JwtBearer,
        serde_json::json!({"granted": {"scope": &scopes, "expires_at": expires_at,
                                       "token_type": raw.token_type.as_deref().unwrap_or("Bearer")}}),
    );
    Ok(RedeemedToken {
        access_token: raw.access_token,
        expires_at,
        scopes,
        token_type: raw.token_type.unwrap_or_else(|| "Bearer".into()),
    })
}

/// The quirk of the Python MCP SDK's AS ("Missing client_id") and its relatives.
fn wants_client_id_in_body(status: u16, error: &OAuthError, auth: &ClientAuth) -> bool {
    matches!(status, 400 | 401)
        && matches!(error.error.as_str(), "invalid_request" | "invalid_client")
        && error
            .error_description
            .as_deref()
            .is_some_and(|d| d.to_ascii_lowercase().contains("client_id"))
        && auth.method == AuthMethod::ClientSecretBasic
        && !auth.client_id_in_body_with_basic
}

async fn post(
    http: &Http,
    endpoint: &url::Url,
    mut form: Vec<(&str, &str)>,
    applied: crate::client_auth::Applied,
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

fn failure(response: &HttpResponse) -> ExchangeError {
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

/// The token response, with the token already wrapped. Deliberately not `Debug`.
struct TokenResponse {
    access_token: Secret,
    issued_token_type: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
    scope: Option<String>,
}

fn parse_token_response(response: &HttpResponse) -> Result<TokenResponse, ExchangeError> {
    #[derive(serde::Deserialize)]
    struct Raw {
        access_token: Option<String>,
        issued_token_type: Option<String>,
        token_type: Option<String>,
        expires_in: Option<serde_json::Value>,
        scope: Option<String>,
    }
    // serde_json's messages name positions and types, never the values.
    let raw: Raw = response
        .json()
        .map_err(|e| ExchangeError::InvalidResponse(format!("not JSON ({e})")))?;
    let access_token = raw
        .access_token
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .ok_or_else(|| ExchangeError::InvalidResponse("no access_token".into()))?;
    Ok(TokenResponse {
        access_token,
        issued_token_type: raw.issued_token_type,
        token_type: raw.token_type,
        expires_in: raw.expires_in,
        scope: raw.scope,
    })
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
#[path = "exchange_tests.rs"]
mod tests;
