//! Requests to the IdP's token and revocation endpoints: the authorization-code exchange
//! (RFC 6749 §4.1.3 + RFC 7636), the refresh grant (§6) and RFC 7009 revocation.
//!
//! Written by hand over `Http` + `ClientAuth` instead of `openidconnect`'s `exchange_code` /
//! `exchange_refresh_token`: `oauth2` has no `private_key_jwt`, no "client_id in the body with
//! Basic" quirk, and would parse the response into types that implement `Serialize`. Here the
//! form body is exactly what `ClientAuth::apply` says and every token becomes a `Secret` the
//! moment it is parsed. The POST and the response parsing are `token_endpoint`'s, shared with
//! the token exchange and jwt-bearer legs; this file adds what is the IdP's own: which grant,
//! and how a refusal reads for the session.

use super::error::LoginError;
use super::metadata::from_http;
use crate::http::{Http, HttpResponse};
use crate::protocol::client_auth::ClientAuth;
use crate::protocol::oauth_error::{ErrorCode, OAuthError};
use crate::protocol::token_endpoint::{self, ExchangeError};
use crate::secret::Secret;
use crate::trace::{StepKind, Trace};

/// The tokens a successful token response carried, already wrapped.
pub(crate) struct Issued {
    pub id_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
}

/// What a request is for: decides the step kind and how a refusal is reported.
#[derive(Clone, Copy)]
pub(crate) enum Grant {
    Code,
    /// RFC 8628 §3.4: one poll for a device code.
    DeviceCode,
    Refresh,
}

pub(crate) struct Endpoint<'a> {
    pub http: &'a Http,
    pub url: &'a url::Url,
    pub auth: &'a ClientAuth,
    /// The `aud` of a private_key_jwt assertion: the IdP's issuer (see `ClientAuth::apply`).
    pub audience: &'a str,
}

impl Endpoint<'_> {
    /// One POST with client authentication; 5xx and `temporarily_unavailable` become
    /// `Unreachable`, any other answer is the caller's to read.
    pub(crate) async fn post(
        &self,
        trace: &Trace,
        kind: StepKind,
        params: &[(&str, &str)],
    ) -> Result<HttpResponse, LoginError> {
        let applied = self
            .auth
            .apply(self.audience, self.http.clock().now())
            .map_err(|e| LoginError::ClientAuth(e.to_string()))?;
        let form = params.to_vec();
        let response = token_endpoint::post(self.http, self.url, form, applied, kind, trace)
            .await
            .map_err(|e| match e {
                ExchangeError::Http(e) => from_http(e),
                other => LoginError::ClientAuth(other.to_string()),
            })?;
        if response.status >= 500
            || response
                .oauth_error()
                .is_some_and(|e| e.error == "temporarily_unavailable")
        {
            return Err(LoginError::Unreachable(format!(
                "the IdP answered HTTP {}",
                response.status
            )));
        }
        Ok(response)
    }

    /// Code exchange or refresh; returns the wrapped tokens or the classified refusal.
    pub async fn grant(
        &self,
        trace: &Trace,
        grant: Grant,
        params: &[(&str, &str)],
    ) -> Result<Issued, LoginError> {
        let kind = match grant {
            Grant::Code => StepKind::Token,
            Grant::DeviceCode => StepKind::DevicePoll,
            Grant::Refresh => StepKind::Refresh,
        };
        let response = self.post(trace, kind, params).await?;
        if !response.is_success() {
            let err = response.oauth_error();
            return Err(match (grant, err) {
                (Grant::Refresh, Some(e)) if e.code() == ErrorCode::InvalidGrant => {
                    LoginError::SessionExpired(Some(e))
                }
                (Grant::Refresh, Some(e)) => LoginError::TokenRejected(e),
                (Grant::Refresh, None) => LoginError::TokenRejected(not_oauth(response.status)),
                (Grant::Code | Grant::DeviceCode, e) => {
                    LoginError::CodeExchange(e.unwrap_or_else(|| not_oauth(response.status)))
                }
            });
        }
        let issued = token_endpoint::parse_token_response(&response).map_err(|e| {
            let why = format!("the token response is not usable: {e}");
            trace.annotate_last(kind, &why);
            LoginError::InvalidResponse(why)
        })?;
        Ok(Issued {
            id_token: issued.id_token,
            refresh_token: issued.refresh_token,
        })
    }

    /// RFC 7009 §2.1; a 200 means revoked (or already invalid, which is the same to us).
    pub async fn revoke(
        &self,
        trace: &Trace,
        token: &Secret,
        hint: &str,
    ) -> Result<(), LoginError> {
        let params = [("token", token.expose()), ("token_type_hint", hint)];
        let response = self.post(trace, StepKind::Revocation, &params).await?;
        if response.is_success() {
            return Ok(());
        }
        Err(LoginError::TokenRejected(
            response
                .oauth_error()
                .unwrap_or_else(|| not_oauth(response.status)),
        ))
    }
}

/// A stand-in error body when the server's answer was not RFC 6749 JSON.
pub(crate) fn not_oauth(status: u16) -> OAuthError {
    OAuthError {
        error: "invalid_response".into(),
        error_description: Some(format!("HTTP {status} without an OAuth error body")),
        error_uri: None,
    }
}
