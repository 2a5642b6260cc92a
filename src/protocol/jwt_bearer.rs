//! RFC 7523 jwt-bearer at the connector's authorization server: the ID-JAG becomes the
//! connector's access token (ema-protocol §3), with the expiry worked out from `expires_in`,
//! else the JWT `exp`, else "unknown".

use chrono::{DateTime, Duration, Utc};

use crate::http::{Http, HttpResponse};
use crate::policy::AuthMethod;
use crate::protocol::client_auth::ClientAuth;
use crate::protocol::discovery::{ConnectorMetadata, JWT_BEARER_GRANT};
use crate::protocol::oauth_error::{ErrorCode, OAuthError};
use crate::secret::Secret;
use crate::trace::{StepKind, Trace};

use super::token_endpoint::{ExchangeError, failure, parse_token_response, post, seconds};

#[derive(Debug, Clone)]
pub struct RedeemedToken {
    pub access_token: Secret,
    /// From `expires_in` at receipt, else the JWT `exp`, else `None` (unknown).
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    pub token_type: String,
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
        return Err(refused(&response, auth));
    }
    let raw = parse_token_response(&response)?;
    let expires_at = seconds(raw.expires_in.as_ref())
        .and_then(|s| i64::try_from(s).ok())
        .and_then(Duration::try_seconds)
        .map(|d| now + d)
        .or_else(|| crate::protocol::jwt_peek::dangerous_unverified_exp(&raw.access_token));
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

/// The error for a refused redemption, with the Basic-without-body-client_id rejection told
/// apart so the caller can retry with `client_id` in the body.
fn refused(response: &HttpResponse, auth: &ClientAuth) -> ExchangeError {
    let err = failure(response);
    if let ExchangeError::OAuth { status, error } = &err
        && wants_client_id_in_body(*status, error, auth)
    {
        return ExchangeError::WantsClientIdInBody {
            status: *status,
            error: error.clone(),
        };
    }
    err
}

/// The quirk of the Python MCP SDK's AS ("Missing client_id") and its relatives.
fn wants_client_id_in_body(status: u16, error: &OAuthError, auth: &ClientAuth) -> bool {
    matches!(status, 400 | 401)
        && matches!(
            error.code(),
            ErrorCode::InvalidRequest | ErrorCode::InvalidClient
        )
        && error
            .error_description
            .as_deref()
            .is_some_and(|d| d.to_ascii_lowercase().contains("client_id"))
        && auth.method == AuthMethod::ClientSecretBasic
        && !auth.client_id_in_body_with_basic
}
