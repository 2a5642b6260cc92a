//! OIDC sign-in to the company IdP: discovery, the interactive authorization-code + PKCE flow
//! over a loopback redirect, ID-token verification, refresh and revocation of the IdP session.
//!
//! What comes from `openidconnect`: provider-metadata and JWKS types, the JWKS fetch (over our
//! traced `Http`, see `http_adapter`), the authorization URL with PKCE S256, `state` and
//! `nonce`, and `IdTokenVerifier`. What is by hand and why: discovery's issuer comparison
//! (`metadata`) and the token-endpoint requests (`token`: private_key_jwt, exact form bodies,
//! tokens as `Secret`).

mod browser;
mod callback;
mod device;
mod error;
mod http_adapter;
mod id_token;
pub(crate) mod metadata;
mod paste;
mod remote;
mod token;

#[cfg(test)]
mod remote_tests;
#[cfg(test)]
pub(crate) mod test_idp;
#[cfg(test)]
mod tests;

pub use browser::Browser;
pub use error::{IdTokenCheck, LoginError};
pub use id_token::CLOCK_SKEW_SECS;
pub use remote::{PasteReader, Prompt, Remote, RemoteFlow};

use chrono::{DateTime, Utc};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet};
use openidconnect::{
    AuthUrl, ClientId, CsrfToken, IssuerUrl, LoginHint, Nonce, PkceCodeChallenge, RedirectUrl,
    Scope,
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::http::Http;
use crate::policy::IdpConfig;
use crate::protocol::client_auth::ClientAuth;
use crate::secret::Secret;
use crate::trace::{Step, StepKind, Trace, redact_url};
use callback::{CallbackListener, Expected};
use metadata::Endpoints;
use token::{Endpoint, Grant};

/// Who signed in, from a verified ID token. Safe to show and to store in the state file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
}

/// The result of an interactive sign-in. Not `Serialize`: it holds tokens.
#[derive(Debug, Clone)]
pub struct SessionTokens {
    pub id_token: Secret,
    pub refresh_token: Option<Secret>,
    pub identity: Identity,
}

/// The result of a refresh, not yet verified. `id_token` is `None` when the IdP sent no new
/// ID token (OIDC Core §12.2; keep the previous one); `refresh_token` is `None` when not rotated.
#[derive(Debug, Clone)]
pub struct RefreshedTokens {
    pub id_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
}

/// How to run the interactive sign-in.
#[derive(Debug)]
pub struct SignInOptions {
    pub browser: Browser,
    /// Upper bound for the whole sign-in, browser time included.
    pub timeout: Duration,
    /// Sending `()` cancels the sign-in (`LoginError::Cancelled`). Dropping the sender without
    /// sending does not cancel: hosts that never cancel can pass `None` or forget the sender.
    pub cancel: Option<tokio::sync::oneshot::Receiver<()>>,
    /// OIDC `login_hint`: whom the IdP should sign in (the admin pilot names each test user).
    pub login_hint: Option<String>,
    /// OIDC `prompt`, e.g. `login` for a fresh sign-in even when the IdP has a session.
    pub prompt: Option<String>,
}

/// A discovered IdP, ready to sign in, refresh and verify. Cheap to clone.
#[derive(Clone, Debug)]
pub struct IdpClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: Http,
    issuer: String,
    scopes: Vec<String>,
    auth: ClientAuth,
    endpoints: Endpoints,
    /// Replaced when a token names a `kid` we do not know (key rotation).
    jwks: RwLock<CoreJsonWebKeySet>,
}

impl IdpClient {
    /// Discovery at `{issuer}/.well-known/openid-configuration` (issuer compared exactly, PKCE
    /// S256 required), then the JWKS. Every origin of the IdP gets the policy's
    /// `max_concurrent_requests` on `http` before its first request here: the issuer's (the
    /// engine sets it at open already; the same limit again changes nothing) and those of
    /// the endpoints discovery names, which may be other hosts (a separate token host).
    pub async fn discover(
        http: &Http,
        config: &IdpConfig,
        auth: ClientAuth,
        trace: &Trace,
    ) -> Result<IdpClient, LoginError> {
        let limit = |url: &url::Url| http.limit_origin(url, config.max_concurrent_requests);
        limit(&metadata::discovery_url(&config.issuer)?);
        let endpoints = metadata::fetch(http, &config.issuer, trace).await?;
        endpoints.requested().for_each(limit);
        let jwks = id_token::fetch_jwks(http, &endpoints.jwks, trace).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                http: http.clone(),
                issuer: config.issuer.clone(),
                scopes: config.scopes.clone(),
                auth,
                endpoints,
                jwks: RwLock::new(jwks),
            }),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    pub fn token_endpoint(&self) -> &url::Url {
        &self.inner.endpoints.token
    }

    pub fn revocation_endpoint(&self) -> Option<&url::Url> {
        self.inner.endpoints.revocation.as_ref()
    }

    pub fn auth(&self) -> &ClientAuth {
        &self.inner.auth
    }

    /// Whether the IdP says its token exchange takes a refresh token as `subject_token`. Only a
    /// non-standard metadata list can say so (see `metadata::ExtraMetadata`); usually false.
    pub fn supports_refresh_token_subject(&self) -> bool {
        self.inner.endpoints.refresh_token_subject
    }

    fn token_endpoint_client<'a>(&'a self, url: &'a url::Url) -> Endpoint<'a> {
        Endpoint {
            http: &self.inner.http,
            url,
            auth: &self.inner.auth,
            audience: &self.inner.issuer,
        }
    }

    /// Interactive sign-in: loopback listener first, then the browser, then one good callback,
    /// the code exchange and the ID-token checks. See `callback` for what a stray request gets.
    pub async fn sign_in(
        &self,
        opts: SignInOptions,
        trace: &Trace,
    ) -> Result<SessionTokens, LoginError> {
        let SignInOptions {
            browser,
            timeout,
            cancel,
            login_hint,
            prompt,
        } = opts;
        let hints = Hints { login_hint, prompt };
        let cancelled = async move {
            let sent = match cancel {
                Some(rx) => rx.await.is_ok(),
                None => false,
            };
            if !sent {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            biased;
            result = self.interactive(&browser, &hints, trace) => result,
            _ = tokio::time::sleep(timeout) => Err(LoginError::Timeout(timeout)),
            _ = cancelled => Err(LoginError::Cancelled),
        }
    }

    // long: the authorization-code flow in protocol order (state, listener, PKCE, browser
    // hand-off, callback or paste-back, redeem, the browser's verdict page); each step feeds
    // the next, and splitting would pass half the flow's state between functions.
    async fn interactive(
        &self,
        browser: &Browser,
        hints: &Hints,
        trace: &Trace,
    ) -> Result<SessionTokens, LoginError> {
        let inner = &self.inner;
        let remote = browser.remote();
        let advertised = inner.endpoints.device_authorization.as_ref();
        if let (Some(r), Some(endpoint)) = (remote, remote::device_endpoint(remote, advertised)?) {
            return self.device_sign_in(r, endpoint, trace).await;
        }
        let state = CsrfToken::new_random();
        let expected = Expected {
            state: Secret::new(state.secret().clone()),
            issuer: inner.issuer.clone(),
            iss_required: inner.endpoints.iss_parameter_supported,
        };
        let pasted_expected = expected.clone();
        let mut listener =
            CallbackListener::bind(expected, trace.clone(), inner.http.clock().clone()).await?;
        let redirect_uri = listener.redirect_uri();
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth_url, nonce) = self.authorization_url(&redirect_uri, state, challenge, hints)?;

        trace.push(Step {
            kind: StepKind::Authorization,
            method: "GET".into(),
            url: redact_url(&auth_url),
            status: None,
            duration_ms: 0,
            started_at: inner.http.clock().now(),
            server_date: None,
            oauth_error: None,
            note: Some(format!("handed to the browser ({})", browser_name(browser))),
            claims: None,
        });
        let launched = browser::launch(browser, auth_url.as_str())?;

        // Paste-back races the listener: whichever brings this sign-in's response first wins.
        let pasted = async {
            match (remote, url::Url::parse(&redirect_uri)) {
                (Some(r), Ok(uri)) => {
                    let clock = inner.http.clock();
                    paste::next_code(r, &pasted_expected, &uri, trace, clock).await
                }
                _ => std::future::pending().await,
            }
        };
        let (code, reply) = tokio::select! {
            biased;
            delivered = listener.next() => delivered.map(|(code, reply)| (code, Some(reply)))?,
            code = pasted => (code?, None),
            why = launched.failed() => return Err(LoginError::Browser(why)),
        };
        let outcome = self
            .redeem(
                &code,
                verifier.secret(),
                &redirect_uri,
                nonce.secret(),
                trace,
            )
            .await;
        match (&outcome, reply) {
            (Ok(_), Some(reply)) => reply.success(),
            (Err(e), Some(reply)) => reply.failure(e),
            (_, None) => {}
        }
        outcome
    }

    fn authorization_url(
        &self,
        redirect_uri: &str,
        state: CsrfToken,
        challenge: PkceCodeChallenge,
        hints: &Hints,
    ) -> Result<(url::Url, Nonce), LoginError> {
        let inner = &self.inner;
        let bad = |what: &str| {
            LoginError::Discovery(format!("cannot build the authorization URL ({what})"))
        };
        let client = CoreClient::new(
            ClientId::new(inner.auth.client_id.clone()),
            IssuerUrl::new(inner.issuer.clone()).map_err(|_| bad("issuer"))?,
            CoreJsonWebKeySet::default(),
        )
        .set_auth_uri(AuthUrl::from_url(inner.endpoints.authorization.clone()))
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_string()).map_err(|_| bad("redirect_uri"))?,
        );
        // The crate always adds `openid`; adding it again would repeat it in `scope`.
        let scopes = inner
            .scopes
            .iter()
            .filter(|s| *s != "openid")
            .map(|s| Scope::new(s.clone()));
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || state,
                Nonce::new_random,
            )
            .add_scopes(scopes)
            .set_pkce_challenge(challenge);
        if let Some(hint) = &hints.login_hint {
            request = request.set_login_hint(LoginHint::new(hint.clone()));
        }
        if let Some(prompt) = &hints.prompt {
            request = request.add_extra_param("prompt", prompt.clone());
        }
        let (url, _state, nonce) = request.url();
        Ok((url, nonce))
    }

    /// Code exchange (RFC 6749 §4.1.3 + PKCE verifier), then the ID token's checks.
    async fn redeem(
        &self,
        code: &Secret,
        verifier: &str,
        redirect_uri: &str,
        nonce: &str,
        trace: &Trace,
    ) -> Result<SessionTokens, LoginError> {
        let params = [
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ];
        let endpoint = self.token_endpoint_client(&self.inner.endpoints.token);
        let issued = endpoint.grant(trace, Grant::Code, &params).await?;
        let id_token = issued.id_token.ok_or_else(|| {
            LoginError::InvalidResponse("the token response has no id_token".into())
        })?;
        let identity = self
            .verify(&id_token, Some(nonce), StepKind::Token, trace)
            .await?;
        Ok(SessionTokens {
            id_token,
            refresh_token: issued.refresh_token,
            identity,
        })
    }

    /// refresh_token grant. Persists and verifies nothing: the caller stores a rotated refresh
    /// token first (the old one is already spent) and then verifies the new ID token with
    /// `verify_refreshed_id_token` — a failed verification must not lose the rotated token.
    pub async fn refresh(
        &self,
        refresh_token: &Secret,
        trace: &Trace,
    ) -> Result<RefreshedTokens, LoginError> {
        let params = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        let endpoint = self.token_endpoint_client(&self.inner.endpoints.token);
        let issued = endpoint.grant(trace, Grant::Refresh, &params).await?;
        // Some IdPs echo the same refresh token back; that is not a rotation.
        let refresh_token = issued.refresh_token.filter(|new| new != refresh_token);
        Ok(RefreshedTokens {
            id_token: issued.id_token,
            refresh_token,
        })
    }

    /// Verifies the ID token a refresh returned (no nonce: OIDC Core §12.2).
    pub async fn verify_refreshed_id_token(
        &self,
        id_token: &Secret,
        trace: &Trace,
    ) -> Result<Identity, LoginError> {
        self.verify(id_token, None, StepKind::Refresh, trace).await
    }

    /// Verifies an ID token stored earlier (signature, iss, aud, exp/iat with skew).
    pub async fn verify_id_token(
        &self,
        id_token: &Secret,
        nonce: Option<&str>,
        trace: &Trace,
    ) -> Result<Identity, LoginError> {
        self.verify(id_token, nonce, StepKind::Jwks, trace).await
    }

    /// Verifies against the cached JWKS; on an unknown `kid`, refetches the JWKS once.
    async fn verify(
        &self,
        token: &Secret,
        nonce: Option<&str>,
        step: StepKind,
        trace: &Trace,
    ) -> Result<Identity, LoginError> {
        let inner = &self.inner;
        let expect = id_token::Expectations {
            issuer: &inner.issuer,
            client_id: &inner.auth.client_id,
            now: inner.http.clock().now(),
            nonce,
        };
        let first = {
            let jwks = inner.jwks.read().unwrap_or_else(|e| e.into_inner());
            id_token::verify(&jwks, token, &expect)
        };
        let result = match first {
            Err(IdTokenCheck::UnknownKey) => {
                let fresh = id_token::fetch_jwks(&inner.http, &inner.endpoints.jwks, trace).await?;
                let result = id_token::verify(&fresh, token, &expect);
                *inner.jwks.write().unwrap_or_else(|e| e.into_inner()) = fresh;
                result
            }
            other => other,
        };
        result.map_err(|check| {
            trace.annotate_last(step, &format!("ID token refused: {check}"));
            LoginError::IdToken(check)
        })
    }

    /// RFC 7009 revocation of the IdP refresh token; `Ok(false)` when the IdP has no endpoint.
    pub async fn revoke_refresh_token(
        &self,
        refresh_token: &Secret,
        trace: &Trace,
    ) -> Result<bool, LoginError> {
        let Some(url) = self.inner.endpoints.revocation.as_ref() else {
            return Ok(false);
        };
        self.token_endpoint_client(url)
            .revoke(trace, refresh_token, "refresh_token")
            .await?;
        Ok(true)
    }
}

/// The optional OIDC authorization-request parameters of `SignInOptions`.
struct Hints {
    login_hint: Option<String>,
    prompt: Option<String>,
}

fn browser_name(browser: &Browser) -> &'static str {
    match browser {
        Browser::System => "system browser",
        Browser::Command(_) => "browser command",
        Browser::Print(_) => "printed for the user",
        Browser::Remote(_) => "printed for paste-back",
    }
}
