//! ID token verification (OIDC Core §3.1.3.7) with `openidconnect`'s `IdTokenVerifier`:
//! signature against the IdP's JWKS, an asymmetric-only algorithm allow-list, exact `iss`,
//! `aud` naming our client id, `exp`/`iat` with 60 s of skew measured on the `Http`'s clock
//! (so tests move time with `ManualClock`), and the `nonce` we sent.
//!
//! The crate has no skew setting, so skew is applied by handing it a clock 60 s in the past
//! for `exp` and checking `iat` against a clock 60 s in the future ourselves.

use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    ClaimsVerificationError, ClientId, IssuerUrl, JsonWebKeySetUrl, Nonce,
    SignatureVerificationError,
};

use super::Identity;
use super::error::{IdTokenCheck, LoginError};
use super::http_adapter::TracedHttp;
use super::metadata::from_http;
use crate::http::Http;
use crate::secret::Secret;
use crate::trace::{StepKind, Trace};

pub const CLOCK_SKEW_SECS: i64 = 60;

/// What an ID token must match.
pub(crate) struct Expectations<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub now: DateTime<Utc>,
    /// `None` for a token verified later (startup) or from a refresh, where no nonce was sent.
    pub nonce: Option<&'a str>,
}

/// The verifier reports a future `iat` through the same variant as expiry; this tells them apart.
const ISSUED_IN_FUTURE: &str = "issued in the future";

pub(crate) fn verify(
    jwks: &CoreJsonWebKeySet,
    token: &Secret,
    expect: &Expectations<'_>,
) -> Result<Identity, IdTokenCheck> {
    let parsed: CoreIdToken = token
        .expose()
        .parse()
        .map_err(|_| IdTokenCheck::Malformed)?;
    let issuer = IssuerUrl::new(expect.issuer.to_string()).map_err(|_| IdTokenCheck::Issuer)?;
    let skewed_now = expect.now - Duration::seconds(CLOCK_SKEW_SECS);
    let latest_iat = expect.now + Duration::seconds(CLOCK_SKEW_SECS);
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(expect.client_id.to_string()),
        issuer,
        jwks.clone(),
    )
    .set_allowed_algs([
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::RsaSsaPssSha256,
        CoreJwsSigningAlgorithm::EdDsa,
    ])
    .set_time_fn(move || skewed_now)
    .set_issue_time_verifier_fn(move |iat| {
        if iat > latest_iat {
            Err(ISSUED_IN_FUTURE.to_string())
        } else {
            Ok(())
        }
    });
    let expected_nonce = expect.nonce.map(|n| Nonce::new(n.to_string()));
    let claims = match &expected_nonce {
        Some(n) => parsed.claims(&verifier, n),
        None => parsed.claims(&verifier, |_: Option<&Nonce>| Ok(())),
    }
    .map_err(classify)?;
    Ok(Identity {
        issuer: claims.issuer().as_str().to_string(),
        subject: claims.subject().as_str().to_string(),
        email: claims.email().map(|e| e.as_str().to_string()),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string()),
        expires_at: claims.expiration(),
        issued_at: claims.issue_time(),
    })
}

/// Maps the crate's error onto which check failed, dropping its text (which can quote claims).
fn classify(err: ClaimsVerificationError) -> IdTokenCheck {
    match err {
        ClaimsVerificationError::Expired(why) if why == ISSUED_IN_FUTURE => {
            IdTokenCheck::IssuedInFuture
        }
        ClaimsVerificationError::Expired(_) => IdTokenCheck::Expired,
        ClaimsVerificationError::InvalidAudience(_) => IdTokenCheck::Audience,
        ClaimsVerificationError::InvalidIssuer(_) => IdTokenCheck::Issuer,
        ClaimsVerificationError::InvalidNonce(_) => IdTokenCheck::Nonce,
        ClaimsVerificationError::SignatureVerification(sig) => match sig {
            SignatureVerificationError::NoMatchingKey => IdTokenCheck::UnknownKey,
            SignatureVerificationError::DisallowedAlg(_)
            | SignatureVerificationError::UnsupportedAlg(_) => IdTokenCheck::Algorithm,
            _ => IdTokenCheck::Signature,
        },
        ClaimsVerificationError::Unsupported(_) => IdTokenCheck::Other(
            "its JOSE header uses an unsupported feature (typ, cty or crit)".into(),
        ),
        _ => IdTokenCheck::Other("a claim is invalid".into()),
    }
}

/// Fetches the IdP's key set through the traced adapter.
pub(crate) async fn fetch_jwks(
    http: &Http,
    url: &url::Url,
    trace: &Trace,
) -> Result<CoreJsonWebKeySet, LoginError> {
    let client = TracedHttp::new(http, trace, StepKind::Jwks);
    let jwks_url = JsonWebKeySetUrl::from_url(url.clone());
    CoreJsonWebKeySet::fetch_async(&jwks_url, &client)
        .await
        .map_err(|e| match e {
            openidconnect::DiscoveryError::Request(http_err) => from_http(http_err),
            openidconnect::DiscoveryError::Response(status, _, _) if status.is_server_error() => {
                LoginError::Unreachable(format!(
                    "the IdP answered HTTP {} for its JWKS",
                    status.as_u16()
                ))
            }
            openidconnect::DiscoveryError::Response(status, _, why) => {
                LoginError::Discovery(format!(
                    "the IdP's JWKS could not be used (HTTP {}: {why})",
                    status.as_u16()
                ))
            }
            openidconnect::DiscoveryError::Parse(p) => {
                LoginError::Discovery(format!("the IdP's JWKS is invalid at `{}`", p.path()))
            }
            other => {
                LoginError::Discovery(format!("the IdP's JWKS could not be fetched ({other})"))
            }
        })
}
