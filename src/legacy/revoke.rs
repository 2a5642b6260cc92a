//! RFC 7009 revocation of a legacy grant (ema-protocol §6): find the authorization server's
//! `revocation_endpoint` (RFC 8414 metadata from the issuer, else discovery from the MCP
//! server), then revoke the refresh token first (`token_type_hint=refresh_token`; it takes the
//! grant's access tokens with it on a conforming server), then the access token, with the
//! client authentication the stored client registration allows.

use std::time::Duration;

use url::Url;

use super::clients::Credentials;
use super::receipt::Revocation;
use crate::http::{Http, HttpResponse, check_derived};
use crate::protocol::as_metadata::{self, AuthorizationServerMetadata, IssuerComparison};
use crate::protocol::discovery::{self, MetadataCache};
use crate::secret::Secret;
use crate::trace::{StepKind, Trace};

/// What a revocation attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Revoked,
    /// The server advertises no revocation endpoint: only local removal is possible.
    NoEndpoint,
    /// Worth retrying later (server down, 5xx, 503); `retry_after` is how long the server asked
    /// to be left alone (`Retry-After` on a 503 or 429), if it said.
    Failed {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Refused for good (`invalid_client`, other 4xx): retrying cannot help.
    Refused(String),
}

impl Outcome {
    /// What the receipt says, and how long a busy server asked to wait.
    pub(crate) fn into_revocation(self) -> (Revocation, Option<Duration>) {
        match self {
            Outcome::Revoked => (Revocation::Revoked, None),
            Outcome::NoEndpoint => (Revocation::NoEndpoint, None),
            Outcome::Failed {
                reason,
                retry_after,
            } => (
                Revocation::Failed {
                    reason,
                    permanent: false,
                },
                retry_after,
            ),
            Outcome::Refused(reason) => (
                Revocation::Failed {
                    reason,
                    permanent: true,
                },
                None,
            ),
        }
    }
}

/// Why one revocation request did not succeed.
struct Failure {
    reason: String,
    permanent: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    fn retry(reason: String) -> Self {
        Failure {
            reason,
            permanent: false,
            retry_after: None,
        }
    }

    fn outcome(self) -> Outcome {
        if self.permanent {
            Outcome::Refused(self.reason)
        } else {
            Outcome::Failed {
                reason: self.reason,
                retry_after: self.retry_after,
            }
        }
    }
}

/// Who we are at the authorization server, and where it is.
pub(crate) struct Grant<'a> {
    pub issuer: Option<&'a str>,
    pub server_url: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub creds: &'a Credentials,
}

pub(crate) async fn revoke(http: &Http, trace: &Trace, grant: &Grant<'_>) -> Outcome {
    if grant.creds.refresh.is_none() && grant.creds.access.is_none() {
        return Outcome::Revoked; // nothing was held, so nothing can persist
    }
    let endpoint = match revocation_endpoint(http, trace, grant.issuer, grant.server_url).await {
        Ok(Some(e)) => e,
        Ok(None) => return Outcome::NoEndpoint,
        Err(why) => {
            return Failure {
                permanent: why.is_final(),
                ..Failure::retry(why.to_string())
            }
            .outcome();
        }
    };
    let mut revoked_refresh = false;
    if let Some(rt) = &grant.creds.refresh {
        match post(http, trace, &endpoint, grant, rt, "refresh_token").await {
            Ok(()) => revoked_refresh = true,
            Err(why) => return why.outcome(),
        }
    }
    if let Some(at) = &grant.creds.access
        && let Err(why) = post(http, trace, &endpoint, grant, at, "access_token").await
        && !revoked_refresh
    {
        // With the refresh token revoked the grant is gone; a server that cannot revoke
        // access tokens on their own (RFC 7009 makes that a SHOULD) does not undo that.
        return why.outcome();
    }
    Outcome::Revoked
}

/// Why the revocation endpoint of a stored grant could not be found; its text goes on the
/// receipt.
#[derive(Debug, thiserror::Error)]
enum EndpointError {
    #[error("the authorization server is unknown (no issuer or server URL stored)")]
    UnknownServer,
    #[error("discovering the authorization server failed: {0}")]
    Discovery(#[from] discovery::DiscoveryError),
    #[error("the stored issuer is not a URL")]
    IssuerNotUrl,
    #[error("{0}")]
    Metadata(#[from] as_metadata::FetchError),
    #[error("authorization-server metadata names another issuer")]
    OtherIssuer,
    #[error("revocation_endpoint is not a URL")]
    EndpointNotUrl,
    #[error("revocation_endpoint: {0}")]
    EndpointRefused(crate::http::HttpError),
}

impl EndpointError {
    /// A fact of the stored entry, which no later try can change: retrying cannot help. What
    /// the server publishes (another issuer, a bad endpoint) may be fixed there, so it is not.
    fn is_final(&self) -> bool {
        matches!(self, Self::UnknownServer | Self::IssuerNotUrl)
    }
}

/// `Ok(None)`: the server was found and has no revocation endpoint.
async fn revocation_endpoint(
    http: &Http,
    trace: &Trace,
    issuer: Option<&str>,
    server_url: Option<&str>,
) -> Result<Option<Url>, EndpointError> {
    if let Some(issuer) = issuer {
        return from_issuer(http, trace, issuer).await;
    }
    let Some(server) = server_url.and_then(|u| Url::parse(u).ok()) else {
        return Err(EndpointError::UnknownServer);
    };
    let meta = discovery::discover(http, &server, &MetadataCache::new(), trace).await?;
    Ok(meta.revocation_endpoint)
}

/// RFC 8414 metadata straight from the issuer, issuer checked.
async fn from_issuer(
    http: &Http,
    trace: &Trace,
    issuer: &str,
) -> Result<Option<Url>, EndpointError> {
    let issuer_url = Url::parse(issuer).map_err(|_| EndpointError::IssuerNotUrl)?;
    let found = as_metadata::fetch(http, &issuer_url, trace).await?;
    endpoint_in(&found.metadata, issuer, &issuer_url)
}

/// The `revocation_endpoint` of the metadata fetched for `issuer`: https, or loopback only
/// when the issuer is loopback itself (like every URL a server names).
fn endpoint_in(
    asm: &AuthorizationServerMetadata,
    issuer: &str,
    issuer_url: &Url,
) -> Result<Option<Url>, EndpointError> {
    // The issuer was stored by another client, and clients store it both with and without
    // the trailing slash. A slash cannot name another server, and the endpoint must still be
    // derived from the issuer, so the token being revoked goes nowhere a strict match would
    // not send it.
    if !asm.issuer_is(issuer, IssuerComparison::IgnoringTrailingSlash) {
        return Err(EndpointError::OtherIssuer);
    }
    let Some(endpoint) = asm.revocation_endpoint.as_deref() else {
        return Ok(None);
    };
    let url = Url::parse(endpoint).map_err(|_| EndpointError::EndpointNotUrl)?;
    check_derived(&url, issuer_url).map_err(EndpointError::EndpointRefused)?;
    Ok(Some(url))
}

async fn post(
    http: &Http,
    trace: &Trace,
    endpoint: &Url,
    grant: &Grant<'_>,
    token: &Secret,
    hint: &str,
) -> Result<(), Failure> {
    let mut form: Vec<(&str, &str)> = vec![("token", token.expose()), ("token_type_hint", hint)];
    let creds = grant.creds;
    // RFC 7591 §2: an omitted method means client_secret_basic.
    let basic = match (&creds.client_secret, grant.client_id) {
        (Some(secret), Some(id)) if creds.auth_method.as_deref() != Some("client_secret_post") => {
            Some(crate::protocol::client_auth::basic(id, secret))
        }
        _ => None,
    };
    if basic.is_none()
        && let Some(id) = grant.client_id
    {
        form.push(("client_id", id));
        if let Some(secret) = &creds.client_secret {
            form.push(("client_secret", secret.expose()));
        }
    }
    let mut request = http.post_form(endpoint, &form);
    if let Some(b) = &basic {
        request = request.header("authorization", b.expose());
    }
    let response = http
        .send(trace, StepKind::Revocation, request)
        .await
        .map_err(|e| Failure::retry(format!("revocation request: {e}")))?;
    match response.status {
        200..=299 => Ok(()),
        503 => Err(Failure {
            retry_after: retry_after(&response, http),
            ..Failure::retry("the server is busy (HTTP 503); will retry".into())
        }),
        status => {
            let code = response
                .oauth_error()
                .map(|e| format!(" {}", e.error))
                .unwrap_or_default();
            Err(Failure {
                reason: format!("revocation endpoint answered HTTP {status}{code}"),
                // A 4xx is the server's final word on this request (invalid_client, a bad
                // request): sending it again cannot help. Timeouts and rate limits can pass.
                permanent: (400..500).contains(&status) && status != 408 && status != 429,
                retry_after: (status == 429)
                    .then(|| retry_after(&response, http))
                    .flatten(),
            })
        }
    }
}

/// RFC 9110 §10.2.3 `Retry-After`: a number of seconds, or an HTTP date (read against this
/// client's clock). RFC 7009 §2.2.1 lets a server send it with a 503.
fn retry_after(response: &HttpResponse, http: &Http) -> Option<Duration> {
    let value = response.header("retry-after")?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&chrono::Utc) - http.clock().now())
        .to_std()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::discovery::stub_server::{Reply, Stub, http};
    use serde_json::json;

    fn creds(secret: Option<&str>) -> Credentials {
        Credentials {
            access: Some(Secret::new("labsecret_at_1")),
            refresh: Some(Secret::new("labsecret_rt_1")),
            client_secret: secret.map(Secret::new),
            ..Credentials::default()
        }
    }

    #[test]
    fn a_remote_issuer_may_not_name_a_revocation_endpoint_on_this_machine() {
        let remote = Url::parse("https://as.example").unwrap();
        let doc = |endpoint: &str| {
            serde_json::from_value::<AuthorizationServerMetadata>(
                json!({"issuer": "https://as.example/", "revocation_endpoint": endpoint}),
            )
            .unwrap()
        };
        for local in [
            "http://127.0.0.1:6379/revoke",
            "https://localhost/revoke",
            "http://[::1]/r",
        ] {
            let refused = endpoint_in(&doc(local), "https://as.example", &remote).unwrap_err();
            assert!(
                matches!(refused, EndpointError::EndpointRefused(_)),
                "{local}: {refused}"
            );
            assert!(refused.to_string().starts_with("revocation_endpoint: "));
        }
        let ok = endpoint_in(
            &doc("https://as.example/revoke"),
            "https://as.example",
            &remote,
        );
        assert_eq!(ok.unwrap().unwrap().as_str(), "https://as.example/revoke");
        // The lab: a loopback issuer names its own loopback endpoint.
        let lab = Url::parse("http://127.0.0.1:8711").unwrap();
        let lab_doc = serde_json::from_value::<AuthorizationServerMetadata>(json!({"issuer": "http://127.0.0.1:8711", "revocation_endpoint": "http://127.0.0.1:8711/revoke"}))
            .unwrap();
        assert!(
            endpoint_in(&lab_doc, "http://127.0.0.1:8711", &lab)
                .unwrap()
                .is_some()
        );
    }

    async fn as_stub(with_revocation: bool, revoke_status: u16) -> Stub {
        Stub::start(move |req, base| {
            if req
                .path
                .starts_with("/.well-known/oauth-authorization-server")
            {
                let mut doc = json!({"issuer": base, "token_endpoint": format!("{base}/token")});
                if with_revocation {
                    doc["revocation_endpoint"] = json!(format!("{base}/revoke"));
                }
                Reply::json(200, doc)
            } else if req.path == "/revoke" {
                Reply::status(revoke_status)
            } else {
                Reply::status(404)
            }
        })
        .await
    }

    #[tokio::test]
    async fn public_client_revokes_refresh_then_access_with_client_id_in_body() {
        let stub = as_stub(true, 200).await;
        let c = creds(None);
        let grant = Grant {
            issuer: Some(&stub.base),
            server_url: None,
            client_id: Some("legacy-cli"),
            creds: &c,
        };
        assert_eq!(
            revoke(&http(), &Trace::new(), &grant).await,
            Outcome::Revoked
        );
        let posts: Vec<_> = stub
            .requests()
            .into_iter()
            .filter(|r| r.path == "/revoke")
            .collect();
        assert_eq!(posts.len(), 2);
        assert_eq!(
            posts[0].body,
            "token=labsecret_rt_1&token_type_hint=refresh_token&client_id=legacy-cli"
        );
        assert_eq!(
            posts[1].body,
            "token=labsecret_at_1&token_type_hint=access_token&client_id=legacy-cli"
        );
        assert!(posts[0].header("authorization").is_none());
    }

    #[tokio::test]
    async fn confidential_client_uses_basic_by_default() {
        let stub = as_stub(true, 200).await;
        let c = creds(Some("s3cret"));
        let grant = Grant {
            issuer: Some(&stub.base),
            server_url: None,
            client_id: Some("dcr-1"),
            creds: &c,
        };
        assert_eq!(
            revoke(&http(), &Trace::new(), &grant).await,
            Outcome::Revoked
        );
        let post = stub
            .requests()
            .into_iter()
            .find(|r| r.path == "/revoke")
            .unwrap();
        assert_eq!(
            post.body,
            "token=labsecret_rt_1&token_type_hint=refresh_token"
        );
        assert!(post.header("authorization").unwrap().starts_with("Basic "));
    }

    /// A server that answers every revocation with `status` and these headers.
    async fn busy_stub(status: u16, header: Option<&'static str>) -> Stub {
        Stub::start(move |req, base| {
            if req
                .path
                .starts_with("/.well-known/oauth-authorization-server")
            {
                Reply::json(
                    200,
                    json!({"issuer": base, "token_endpoint": format!("{base}/token"),
                           "revocation_endpoint": format!("{base}/revoke")}),
                )
            } else {
                let reply = Reply::status(status);
                match header {
                    Some(v) => reply.with_header("retry-after", v),
                    None => reply,
                }
            }
        })
        .await
    }

    #[tokio::test]
    async fn retry_after_is_read_in_seconds_or_as_a_date_on_503_and_429() {
        use chrono::TimeZone;
        let clock = std::sync::Arc::new(crate::clock::ManualClock::new(
            chrono::Utc
                .with_ymd_and_hms(2015, 10, 21, 7, 20, 0)
                .unwrap(),
        ));
        let http = crate::http::Http::new(clock);
        let c = creds(None);
        let cases = [
            (503, Some("120"), Some(120)),
            (503, Some("Wed, 21 Oct 2015 07:28:00 GMT"), Some(480)),
            (429, Some("30"), Some(30)),
            (503, None, None),
            (503, Some("soon"), None),
            // A date already past asks for nothing.
            (503, Some("Wed, 21 Oct 2015 07:00:00 GMT"), None),
        ];
        for (status, header, want) in cases {
            let stub = busy_stub(status, header).await;
            let grant = Grant {
                issuer: Some(&stub.base),
                server_url: None,
                client_id: Some("x"),
                creds: &c,
            };
            match revoke(&http, &Trace::new(), &grant).await {
                Outcome::Failed { retry_after, .. } => assert_eq!(
                    retry_after,
                    want.map(Duration::from_secs),
                    "{status} {header:?}"
                ),
                other => panic!("{status} {header:?}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn no_endpoint_and_failures() {
        let stub = as_stub(false, 200).await;
        let c = creds(None);
        let grant = Grant {
            issuer: Some(&stub.base),
            server_url: None,
            client_id: Some("x"),
            creds: &c,
        };
        assert_eq!(
            revoke(&http(), &Trace::new(), &grant).await,
            Outcome::NoEndpoint
        );
        assert!(!stub.paths().iter().any(|p| p == "/revoke"));

        let busy = as_stub(true, 503).await;
        let grant = Grant {
            issuer: Some(&busy.base),
            server_url: None,
            client_id: Some("x"),
            creds: &c,
        };
        assert!(
            matches!(revoke(&http(), &Trace::new(), &grant).await, Outcome::Failed { reason, .. } if reason.contains("503"))
        );

        let grant = Grant {
            issuer: None,
            server_url: None,
            client_id: Some("x"),
            creds: &c,
        };
        assert!(
            matches!(revoke(&http(), &Trace::new(), &grant).await, Outcome::Refused(r) if r.contains("unknown")),
            "an entry naming no server can never be revoked: not worth retrying"
        );
    }
}
