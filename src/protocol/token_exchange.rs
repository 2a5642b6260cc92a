//! RFC 8693 token exchange at the IdP: the employee's ID token (or IdP refresh token) becomes
//! an ID-JAG for one connector (ema-protocol §1). The ID-JAG is wrapped in `Secret` as soon as
//! it is parsed; only its unverified claims (jti as a fingerprint) reach the trace.

use crate::http::Http;
use crate::protocol::client_auth::ClientAuth;
use crate::secret::Secret;
use crate::trace::{StepKind, Trace};

use super::token_endpoint::{ExchangeError, failure, parse_token_response, post, seconds};

pub use crate::protocol::jwt_peek::IdJagClaims;

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
    let claims = record_claims(trace, &id_jag);
    Ok(IssuedIdJag {
        id_jag,
        expires_in: seconds(raw.expires_in.as_ref()),
        scope: raw.scope,
        claims,
    })
}

/// The ID-JAG's claims, also put on the step for support's "key claims"; read unverified,
/// for display only.
fn record_claims(trace: &Trace, id_jag: &Secret) -> IdJagClaims {
    let claims = IdJagClaims::dangerous_unverified(id_jag);
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
    claims
}
