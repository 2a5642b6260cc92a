//! What the IdP's token endpoint and every connector AS's token endpoint share: the
//! `echo_request` fault, strict form parsing, client authentication (also used by the
//! revocation and device authorization endpoints), the authorization-code and rotating-refresh checks, and the
//! RFC 6749 §5.1 token response.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;

use crate::client_auth::{self, Endpoint};
use crate::oauth::{Form, OAuthError, no_store_json, pkce_s256_matches};
use crate::state::{AuthCode, LabState, RefreshGrant};

/// An authenticated token request, before its grant is looked at.
#[derive(Debug)]
pub struct TokenRequest {
    pub client_id: String,
    pub grant_type: String,
    pub form: Form,
}

/// The front half of a token endpoint: the echo fault, the form, `grant_type`, then client
/// authentication, in that order.
pub fn accept(
    state: &LabState,
    endpoint: Endpoint<'_>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenRequest, OAuthError> {
    if state.faults().echo_request {
        return Err(echo(headers, body));
    }
    let form = Form::parse(headers, body)?;
    let grant_type = form.require("grant_type")?.to_string();
    let client_id = client_auth::authenticate(state, endpoint, headers, &form)?;
    Ok(TokenRequest {
        client_id,
        grant_type,
        form,
    })
}

/// For endpoints without a `grant_type` (revocation, device authorization): the form and the
/// authenticated client id.
pub fn authenticate_client(
    state: &LabState,
    endpoint: Endpoint<'_>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(String, Form), OAuthError> {
    let form = Form::parse(headers, body)?;
    let client_id = client_auth::authenticate(state, endpoint, headers, &form)?;
    Ok((client_id, form))
}

/// The `echo_request` fault: a 400 whose description repeats the request's credentials, the
/// way careless servers do, so a client's redaction can be tested against it. Basic
/// credentials are echoed both as sent and decoded, so the secret appears literally.
fn echo(headers: &HeaderMap, body: &[u8]) -> OAuthError {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let decoded = authorization
        .as_deref()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, b64)| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .map(|raw| String::from_utf8_lossy(&raw).into_owned());
    let mut description = format!(
        "echo_request fault: received body \"{}\"; Authorization: {}",
        String::from_utf8_lossy(body),
        authorization.as_deref().unwrap_or("(none)")
    );
    if let Some(d) = decoded {
        description.push_str(&format!(" (decoded: {d})"));
    }
    OAuthError::invalid_request(description)
}

/// The back half: the token response, or the RFC 6749 §5.2 error.
pub fn respond(result: Result<TokenResponse, OAuthError>) -> Response {
    match result {
        Ok(tokens) => tokens.into_response(),
        Err(e) => e.into_response(),
    }
}

/// The checks of RFC 6749 §4.1.3 + RFC 7636 for a code issued by `issuer_of_code` (`None`: the
/// IdP, `Some(i)`: connector `i`'s AS). The code dies first: it is single-use even when the
/// attempt fails.
pub fn redeem_code(
    state: &LabState,
    issuer_of_code: Option<usize>,
    client_id: &str,
    form: &Form,
) -> Result<AuthCode, OAuthError> {
    let code = form.require("code")?;
    let redirect_uri = form.require("redirect_uri")?;
    let verifier = form.require("code_verifier")?;
    let grant = state
        .store()
        .codes
        .remove(code)
        .filter(|c| c.connector == issuer_of_code)
        .ok_or_else(|| {
            OAuthError::invalid_grant("the authorization code is unknown or already used")
        })?;
    if grant.client_id != client_id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if grant.expires_at < state.clock.timestamp() {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    if !pkce_s256_matches(verifier, &grant.code_challenge) {
        return Err(OAuthError::invalid_grant("PKCE verification failed"));
    }
    Ok(grant)
}

/// Refresh-token rotation: the presented token, if it belongs to this server and client, dies
/// here; reusing it is `invalid_grant`.
pub fn rotate_refresh(
    state: &LabState,
    issuer_of_token: Option<usize>,
    client_id: &str,
    form: &Form,
) -> Result<RefreshGrant, OAuthError> {
    let presented = form.require("refresh_token")?;
    let grant = {
        let mut store = state.store();
        let ours = store
            .refresh
            .get(presented)
            .is_some_and(|rt| rt.connector == issuer_of_token && rt.client_id == client_id);
        if ours {
            store.refresh.remove(presented)
        } else {
            None
        }
    }
    .ok_or_else(|| {
        OAuthError::invalid_grant("the refresh token is invalid, expired, revoked or already used")
    })?;
    if grant.expires_at < state.clock.timestamp() {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    Ok(grant)
}

/// An RFC 6749 §5.1 (or RFC 8693 §2.2.1) success response, always `no-store`.
#[derive(Debug)]
pub struct TokenResponse {
    pub access_token: String,
    /// `Bearer`, or `N_A` for an ID-JAG.
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: Vec<String>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    /// RFC 8693 only.
    pub issued_token_type: Option<&'static str>,
}

impl TokenResponse {
    pub fn bearer(access_token: String, expires_in: i64, scope: Vec<String>) -> Self {
        Self {
            access_token,
            token_type: "Bearer",
            expires_in,
            scope,
            refresh_token: None,
            id_token: None,
            issued_token_type: None,
        }
    }
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let mut body = json!({
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "scope": self.scope.join(" "),
        });
        if let Some(t) = self.issued_token_type {
            body["issued_token_type"] = json!(t);
        }
        if let Some(t) = self.id_token {
            body["id_token"] = json!(t);
        }
        if let Some(t) = self.refresh_token {
            body["refresh_token"] = json!(t);
        }
        no_store_json(StatusCode::OK, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_repeats_body_and_basic_credentials_decoded() {
        let mut headers = HeaderMap::new();
        // "lanyard-x:s3cr3t"
        headers.insert(
            header::AUTHORIZATION,
            "Basic bGFueWFyZC14OnMzY3IzdA==".parse().unwrap(),
        );
        let err = echo(&headers, b"grant_type=refresh_token&refresh_token=rt-42");
        assert_eq!(err.error, "invalid_request");
        let d = err.description.unwrap();
        assert!(d.contains("refresh_token=rt-42"), "{d}");
        assert!(d.contains("Basic bGFueWFyZC14OnMzY3IzdA=="), "{d}");
        assert!(d.contains("lanyard-x:s3cr3t"), "{d}");
    }

    #[test]
    fn echo_without_authorization_says_none() {
        let d = echo(&HeaderMap::new(), b"client_secret=cs-1")
            .description
            .unwrap();
        assert!(d.contains("client_secret=cs-1") && d.contains("Authorization: (none)"));
    }

    #[tokio::test]
    async fn optional_fields_appear_only_when_set() {
        let body = |t: TokenResponse| async {
            let response = t.into_response();
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
            let bytes = axum::body::to_bytes(response.into_body(), 4096)
                .await
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        };
        let plain = body(TokenResponse::bearer(
            "at".into(),
            60,
            vec!["a".into(), "b".into()],
        ))
        .await;
        assert_eq!(
            plain,
            json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60, "scope": "a b"})
        );
        let mut full = TokenResponse::bearer("at".into(), 60, vec![]);
        full.refresh_token = Some("rt".into());
        full.id_token = Some("idt".into());
        let full = body(full).await;
        assert_eq!(
            (full["refresh_token"].as_str(), full["id_token"].as_str()),
            (Some("rt"), Some("idt"))
        );
        assert!(full.get("issued_token_type").is_none());
    }
}
