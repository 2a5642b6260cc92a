//! The OAuth 2.0 device authorization grant (RFC 8628) for sign-in without a browser on this
//! machine: ask the IdP's `device_authorization_endpoint` for a device code and a user code,
//! show the person where to approve it, then poll the token endpoint until they do.
//!
//! Polling follows RFC 8628 §3.5: wait `interval` (default 5 s) before each poll,
//! `authorization_pending` keeps the pace, `slow_down` adds 5 s for good, `access_denied` and
//! `expired_token` end the sign-in. A code past its `expires_in` is not polled again. A
//! network blip does not end a sign-in the person may be in the middle of approving: a few
//! unreachable polls in a row are retried at the same pace. The overall timeout and cancel
//! wrap all of this in `IdpClient::sign_in`.
//!
//! The ID token is verified exactly as in the code flow (signature, `iss`, `aud`, `exp`/`iat`)
//! except the nonce: the device flow sends none, which OIDC allows wherever it does not define
//! one (as for a refresh, OIDC Core §12.2).

use std::time::Duration;

use serde::Deserialize;

use super::error::LoginError;
use super::remote::{Prompt, Remote};
use super::token::{Grant, Issued, not_oauth};
use super::{IdpClient, SessionTokens};
use crate::protocol::oauth_error::ErrorCode;
use crate::secret::Secret;
use crate::trace::{DEVICE_CODE_EXPIRED, StepKind, Trace};

/// RFC 8628 §3.4.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 §3.2: the interval when the IdP names none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 §3.5: what each `slow_down` adds to the interval, for the rest of the sign-in.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// Unreachable polls in a row that are retried before the sign-in gives up.
const UNREACHABLE_RETRIES: u32 = 3;

/// A started device authorization. Only `device_code` is secret: the user code and the URLs
/// are for the person to see.
#[derive(Debug)]
pub(crate) struct Started {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
}

/// RFC 8628 §3.2; no `Debug`, dropped right after parsing. Some IdPs (Google) spell the URI
/// member `verification_url`.
#[derive(Deserialize)]
struct Wire {
    device_code: String,
    user_code: String,
    #[serde(alias = "verification_url")]
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    expires_in: u64,
    #[serde(default)]
    interval: Option<u64>,
}

/// Parses and checks a device authorization response. What will be shown to the person must
/// be a plain http(s) URL and a code without control characters (nothing that could drive the
/// terminal it is printed on).
pub(crate) fn parse(body: &[u8]) -> Result<Started, LoginError> {
    let bad = |why: &str| LoginError::InvalidResponse(format!("device authorization: {why}"));
    let wire: Wire = serde_json::from_slice(body).map_err(|e| {
        bad(match e.classify() {
            serde_json::error::Category::Data => "a required member is missing or mistyped",
            _ => "not a JSON object",
        })
    })?;
    if wire.device_code.is_empty() {
        return Err(bad("the device_code is empty"));
    }
    let printable = |s: &str| !s.is_empty() && !s.chars().any(char::is_control);
    if !printable(&wire.user_code) || wire.user_code.len() > 64 {
        return Err(bad("the user_code is not a short printable code"));
    }
    let web_url = |s: &str| {
        printable(s) && url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "https" | "http"))
    };
    if !web_url(&wire.verification_uri) {
        return Err(bad("the verification_uri is not an http(s) URL"));
    }
    let complete = wire.verification_uri_complete.filter(|u| web_url(u));
    if wire.expires_in == 0 {
        return Err(bad("expires_in is zero"));
    }
    Ok(Started {
        device_code: Secret::new(wire.device_code),
        user_code: wire.user_code,
        verification_uri: wire.verification_uri,
        verification_uri_complete: complete,
        expires_in: Duration::from_secs(wire.expires_in),
        // A zero interval would poll in a tight loop.
        interval: wire
            .interval
            .map_or(DEFAULT_INTERVAL, |s| Duration::from_secs(s.max(1))),
    })
}

/// After a poll the IdP refused: the interval to wait before the next one, or why the
/// sign-in ends. `unreachable` counts unreachable polls in a row.
pub(crate) fn after_refusal(
    refusal: LoginError,
    interval: Duration,
    unreachable: &mut u32,
) -> Result<Duration, LoginError> {
    if let LoginError::Unreachable(why) = refusal {
        *unreachable += 1;
        return if *unreachable > UNREACHABLE_RETRIES {
            Err(LoginError::Unreachable(why))
        } else {
            Ok(interval)
        };
    }
    *unreachable = 0;
    let LoginError::CodeExchange(e) = refusal else {
        return Err(refusal);
    };
    match e.code() {
        ErrorCode::AuthorizationPending => Ok(interval),
        ErrorCode::SlowDown => Ok(interval + SLOW_DOWN_STEP),
        ErrorCode::AccessDenied => Err(LoginError::DeviceDenied(e.error_description)),
        ErrorCode::ExpiredToken => Err(LoginError::DeviceCodeExpired),
        _ => Err(LoginError::CodeExchange(e)),
    }
}

/// What the timeline says about a poll the IdP refused and Lanyard will repeat.
fn poll_note(code: Option<ErrorCode>, next: Duration) -> String {
    let next = next.as_secs();
    match code {
        Some(ErrorCode::AuthorizationPending) => format!("not approved yet; next poll in {next} s"),
        Some(ErrorCode::SlowDown) => {
            format!("the IdP asked to poll more slowly; next poll in {next} s")
        }
        _ => format!("no answer from the IdP; polling again in {next} s"),
    }
}

impl IdpClient {
    /// The whole device flow: start, show the code, poll, verify the ID token.
    pub(super) async fn device_sign_in(
        &self,
        remote: &Remote,
        endpoint: &url::Url,
        trace: &Trace,
    ) -> Result<SessionTokens, LoginError> {
        let started = self.start_device_authorization(endpoint, trace).await?;
        (remote.show)(&Prompt::DeviceCode {
            verification_uri: &started.verification_uri,
            verification_uri_complete: started.verification_uri_complete.as_deref(),
            user_code: &started.user_code,
            expires_in: started.expires_in,
        });
        let issued = self.poll_device_code(&started, trace).await?;
        let id_token = issued.id_token.ok_or_else(|| {
            LoginError::InvalidResponse("the token response has no id_token".into())
        })?;
        let identity = self
            .verify(&id_token, None, StepKind::DevicePoll, trace)
            .await?;
        Ok(SessionTokens {
            id_token,
            refresh_token: issued.refresh_token,
            identity,
        })
    }

    /// RFC 8628 §3.1: `client_id` (or the configured client authentication) and `scope`.
    async fn start_device_authorization(
        &self,
        endpoint: &url::Url,
        trace: &Trace,
    ) -> Result<Started, LoginError> {
        let scope = self.scope();
        let client = self.token_endpoint_client(endpoint);
        let response = client
            .post(trace, StepKind::DeviceAuthorization, &[("scope", &scope)])
            .await?;
        if !response.is_success() {
            let refusal = response
                .oauth_error()
                .unwrap_or_else(|| not_oauth(response.status));
            return Err(LoginError::DeviceAuthorization(refusal));
        }
        let started = parse(&response.body);
        match &started {
            Ok(s) => trace.annotate_last(
                StepKind::DeviceAuthorization,
                &format!(
                    "device code shown to the person; polling every {} s",
                    s.interval.as_secs()
                ),
            ),
            Err(e) => trace.annotate_last(StepKind::DeviceAuthorization, &e.to_string()),
        }
        started
    }

    /// Polls the token endpoint until the person approves, denies, or the code expires.
    async fn poll_device_code(
        &self,
        started: &Started,
        trace: &Trace,
    ) -> Result<Issued, LoginError> {
        let expires_at = tokio::time::Instant::now() + started.expires_in;
        let endpoint = self.token_endpoint_client(&self.inner.endpoints.token);
        let params = [
            ("grant_type", DEVICE_CODE_GRANT),
            ("device_code", started.device_code.expose()),
        ];
        let mut interval = started.interval;
        let mut unreachable = 0;
        loop {
            tokio::time::sleep(interval).await;
            let refusal = match endpoint.grant(trace, Grant::DeviceCode, &params).await {
                Ok(issued) => return Ok(issued),
                Err(refusal) => refusal,
            };
            let code = match &refusal {
                LoginError::CodeExchange(e) => Some(e.code()),
                _ => None,
            };
            interval = after_refusal(refusal, interval, &mut unreachable)?;
            // The IdP normally says `expired_token` itself; this stops polling if it never does.
            if tokio::time::Instant::now() >= expires_at {
                trace.annotate_last(
                    StepKind::DevicePoll,
                    &format!("{DEVICE_CODE_EXPIRED} (its expires_in passed)"),
                );
                return Err(LoginError::DeviceCodeExpired);
            }
            trace.annotate_last(StepKind::DevicePoll, &poll_note(code, interval));
        }
    }

    /// The scope both flows request: `openid` once, then the policy's other scopes.
    fn scope(&self) -> String {
        let others = self.inner.scopes.iter().filter(|s| *s != "openid");
        std::iter::once("openid")
            .chain(others.map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::oauth_error::OAuthError;

    fn refusal(code: &str, description: Option<&str>) -> LoginError {
        LoginError::CodeExchange(OAuthError {
            error: code.into(),
            error_description: description.map(String::from),
            error_uri: None,
        })
    }

    #[test]
    fn parses_the_response_and_keeps_the_device_code_secret() {
        let body = br#"{"device_code":"labsecret_dc_1","user_code":"BCDF-GHJK",
            "verification_uri":"https://idp.example/device",
            "verification_uri_complete":"https://idp.example/device?user_code=BCDF-GHJK",
            "expires_in":600,"interval":3}"#;
        let s = parse(body).unwrap();
        assert_eq!(s.device_code.expose(), "labsecret_dc_1");
        assert_eq!(s.user_code, "BCDF-GHJK");
        assert_eq!(s.interval, Duration::from_secs(3));
        assert_eq!(s.expires_in, Duration::from_secs(600));
        assert!(s.verification_uri_complete.is_some());
        assert!(!format!("{s:?}").contains("labsecret"), "{s:?}");

        // Google's spelling, no interval (5 s), no complete URI.
        let body = br#"{"device_code":"d","user_code":"ABC","verification_url":"https://g.example/device","expires_in":1800}"#;
        let s = parse(body).unwrap();
        assert_eq!(s.interval, DEFAULT_INTERVAL);
        assert_eq!(s.verification_uri, "https://g.example/device");
        assert!(s.verification_uri_complete.is_none());
    }

    #[test]
    fn refuses_what_cannot_be_shown_safely() {
        let cases: [&[u8]; 5] = [
            br#"{"device_code":"d","user_code":"AB\u001b[2J","verification_uri":"https://i/d","expires_in":60}"#,
            br#"{"device_code":"d","user_code":"AB","verification_uri":"javascript:alert(1)","expires_in":60}"#,
            br#"{"device_code":"","user_code":"AB","verification_uri":"https://i/d","expires_in":60}"#,
            br#"{"device_code":"d","user_code":"AB","verification_uri":"https://i/d","expires_in":0}"#,
            br#"{"user_code":"AB","verification_uri":"https://i/d","expires_in":60}"#,
        ];
        for body in cases {
            let err = parse(body).unwrap_err();
            assert!(
                matches!(err, LoginError::InvalidResponse(_)),
                "{}: {err:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn polling_follows_rfc_8628() {
        let five = Duration::from_secs(5);
        let mut unreachable = 0;
        let pending = after_refusal(
            refusal("authorization_pending", None),
            five,
            &mut unreachable,
        );
        assert_eq!(pending.unwrap(), five);
        let slowed = after_refusal(refusal("slow_down", None), five, &mut unreachable).unwrap();
        assert_eq!(slowed, Duration::from_secs(10));
        let again = after_refusal(refusal("slow_down", None), slowed, &mut unreachable);
        assert_eq!(again.unwrap(), Duration::from_secs(15), "slow_down adds up");

        match after_refusal(refusal("access_denied", Some("no")), five, &mut unreachable) {
            Err(e @ LoginError::DeviceDenied(_)) => {
                assert!(e.to_string().contains("denied") && e.to_string().contains("(no)"))
            }
            other => panic!("{other:?}"),
        }
        match after_refusal(refusal("expired_token", None), five, &mut unreachable) {
            Err(e @ LoginError::DeviceCodeExpired) => {
                assert_eq!(e.to_string(), "the code expired before it was approved");
                assert!(e.hint().contains("lanyard login"), "{}", e.hint());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            after_refusal(refusal("invalid_client", None), five, &mut unreachable),
            Err(LoginError::CodeExchange(_))
        ));
    }

    #[test]
    fn a_few_unreachable_polls_are_retried_then_given_up() {
        let five = Duration::from_secs(5);
        let mut unreachable = 0;
        let down = || LoginError::Unreachable("connection refused".into());
        for _ in 0..UNREACHABLE_RETRIES {
            assert_eq!(after_refusal(down(), five, &mut unreachable).unwrap(), five);
        }
        // An answer in between resets the count.
        after_refusal(
            refusal("authorization_pending", None),
            five,
            &mut unreachable,
        )
        .unwrap();
        assert_eq!(unreachable, 0);
        for _ in 0..UNREACHABLE_RETRIES {
            after_refusal(down(), five, &mut unreachable).unwrap();
        }
        assert!(matches!(
            after_refusal(down(), five, &mut unreachable),
            Err(LoginError::Unreachable(_))
        ));
    }
}
