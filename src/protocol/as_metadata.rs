//! RFC 8414 authorization-server metadata: the one fetch that discovery, the readiness check
//! and legacy revocation share. It owns the candidate URLs in the MCP spec's order, the GET
//! loop, the typed document and the issuer comparison, so the three cannot drift apart (they
//! did: one retried after a transport error, one accepted any 2xx, one ignored bodies that
//! were not JSON).
//!
//! Who may name which host is the caller's business (`check_derived` against the URL that
//! named the issuer): this module fetches from the issuer it is given.

use serde::Deserialize;
use url::Url;

use crate::http::{Http, HttpError};
use crate::redact::redact_url;
use crate::trace::{StepKind, Trace};

/// The fields of RFC 8414 metadata Lanyard reads; absent lists stay `None` so callers can
/// tell "omitted" (RFC 8414 §2 defaults apply) from "empty".
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizationServerMetadata {
    pub issuer: Option<String>,
    pub token_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub grant_types_supported: Option<Vec<String>>,
    #[serde(default)]
    pub authorization_grant_profiles_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// A document found for an issuer, and where.
#[derive(Debug, Clone)]
pub struct Found {
    pub url: Url,
    pub metadata: AuthorizationServerMetadata,
}

/// Why no usable metadata came back. The texts are whole sentences callers show as they are.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The request itself failed; the other candidates are on the same host, so it stops.
    #[error("authorization-server metadata: {0}")]
    Transport(#[source] HttpError),
    /// Nothing answered 200 and at least one candidate answered 5xx: an outage, reported as
    /// unreachable rather than as a misconfigured server.
    #[error("authorization-server metadata answered HTTP {status}")]
    ServerError { status: u16 },
    #[error("no authorization-server metadata at {}", list(tried))]
    NotFound { tried: Vec<Url> },
    /// A 200 whose body is not the metadata JSON object.
    #[error("invalid authorization-server metadata: {why}")]
    Invalid { why: String },
}

/// How strictly the document's `issuer` must equal the issuer it was fetched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerComparison {
    /// RFC 8414 §3.3: character for character, trailing slash included. The default: the
    /// ID-JAG's audience is this issuer, so a look-alike must not pass.
    Exact,
    /// Equal up to one trailing slash. Only for issuers another application stored, which
    /// clients write both ways; the document's own value is what is trusted afterwards.
    IgnoringTrailingSlash,
}

impl AuthorizationServerMetadata {
    /// Whether the document's `issuer` is `expected` under `how`; a missing issuer never is.
    pub fn issuer_is(&self, expected: &str, how: IssuerComparison) -> bool {
        let Some(found) = self.issuer.as_deref() else {
            return false;
        };
        match how {
            IssuerComparison::Exact => found == expected,
            IssuerComparison::IgnoringTrailingSlash => {
                found.trim_end_matches('/') == expected.trim_end_matches('/')
            }
        }
    }
}

/// AS metadata URLs in the MCP spec's order (ema-protocol §4.2): RFC 8414 path insertion,
/// OIDC path insertion, then OIDC path appending for issuers with a path.
pub fn candidate_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    if path.is_empty() {
        return vec![
            well_known(issuer, "oauth-authorization-server", ""),
            well_known(issuer, "openid-configuration", ""),
        ];
    }
    let mut appended = issuer.clone();
    appended.set_path(&format!("{path}/.well-known/openid-configuration"));
    appended.set_query(None);
    appended.set_fragment(None);
    vec![
        well_known(issuer, "oauth-authorization-server", path),
        well_known(issuer, "openid-configuration", path),
        appended,
    ]
}

/// GETs each candidate of `issuer` in order; the first 200 wins and is parsed. 404 and other
/// 4xx move on; a transport error stops (the next candidate is on the same host); 5xx moves
/// on but is reported if nothing else is found.
pub async fn fetch(http: &Http, issuer: &Url, trace: &Trace) -> Result<Found, FetchError> {
    let candidates = candidate_urls(issuer);
    let mut server_error = None;
    for url in &candidates {
        let response = http
            .send(trace, StepKind::AuthorizationServerMetadata, http.get(url))
            .await
            .map_err(FetchError::Transport)?;
        match response.status {
            200 => {
                let metadata = response.json().map_err(|e| {
                    trace.annotate_last(
                        StepKind::AuthorizationServerMetadata,
                        "not valid metadata JSON",
                    );
                    FetchError::Invalid { why: e.to_string() }
                })?;
                let url = url.clone();
                return Ok(Found { url, metadata });
            }
            s if s >= 500 => server_error = Some(s),
            _ => {}
        }
    }
    match server_error {
        Some(status) => Err(FetchError::ServerError { status }),
        None => Err(FetchError::NotFound { tried: candidates }),
    }
}

/// `origin + /.well-known/<name> + path` (RFC 8414 §3.1 / RFC 9728 §3.1 path insertion).
pub(crate) fn well_known(base: &Url, name: &str, path: &str) -> Url {
    let mut url = base.clone();
    url.set_path(&format!("/.well-known/{name}{path}"));
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// Redacted, comma-separated: for messages naming the URLs that were tried.
pub(crate) fn list(urls: &[Url]) -> String {
    urls.iter().map(redact_url).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::discovery::stub_server::{Reply, Stub, http};
    use serde_json::json;

    #[test]
    fn candidates_without_a_path() {
        let urls = candidate_urls(&Url::parse("https://as.example/").unwrap());
        let urls: Vec<&str> = urls.iter().map(Url::as_str).collect();
        assert_eq!(
            urls,
            [
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration"
            ]
        );
    }

    #[test]
    fn issuer_comparison_is_exact_unless_asked() {
        let doc = |issuer: &str| AuthorizationServerMetadata {
            issuer: Some(issuer.into()),
            ..Default::default()
        };
        let exact = IssuerComparison::Exact;
        let loose = IssuerComparison::IgnoringTrailingSlash;
        assert!(doc("https://as.example").issuer_is("https://as.example", exact));
        assert!(!doc("https://as.example/").issuer_is("https://as.example", exact));
        assert!(doc("https://as.example/").issuer_is("https://as.example", loose));
        assert!(!doc("https://as.example/x").issuer_is("https://as.example", loose));
        assert!(!AuthorizationServerMetadata::default().issuer_is("", exact));
    }

    #[tokio::test]
    async fn first_200_in_spec_order_wins_and_is_typed() {
        let stub = Stub::start(|req, base| match req.path.as_str() {
            "/.well-known/oauth-authorization-server/t1" => Reply::status(404),
            "/.well-known/openid-configuration/t1" => Reply::json(
                200,
                json!({"issuer": format!("{base}/t1"), "revocation_endpoint": format!("{base}/r"),
                       "grant_types_supported": ["a"]}),
            ),
            _ => Reply::status(500),
        })
        .await;
        let issuer = stub.url("/t1");
        let found = fetch(&http(), &issuer, &Trace::new()).await.unwrap();
        assert_eq!(found.url.path(), "/.well-known/openid-configuration/t1");
        assert!(
            found
                .metadata
                .issuer_is(issuer.as_str(), IssuerComparison::Exact)
        );
        assert_eq!(found.metadata.grant_types_supported, Some(vec!["a".into()]));
        assert_eq!(found.metadata.token_endpoint_auth_methods_supported, None);
        assert_eq!(stub.paths().len(), 2, "stops at the first 200");
    }

    #[tokio::test]
    async fn an_outage_is_not_a_missing_document() {
        let down = Stub::start(|req, _| {
            if req.path.contains("oauth-authorization-server") {
                Reply::status(503)
            } else {
                Reply::status(404)
            }
        })
        .await;
        let err = fetch(&http(), &down.url("/"), &Trace::new())
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::ServerError { status: 503 }),
            "{err}"
        );

        let missing = Stub::start(|_, _| Reply::status(404)).await;
        let err = fetch(&http(), &missing.url("/"), &Trace::new())
            .await
            .unwrap_err();
        assert!(matches!(&err, FetchError::NotFound { tried } if tried.len() == 2));
        assert!(
            err.to_string()
                .starts_with("no authorization-server metadata at ")
        );
    }

    #[tokio::test]
    async fn a_200_that_is_not_metadata_is_invalid() {
        let stub = Stub::start(|_, _| Reply {
            status: 200,
            headers: vec![("content-type", "text/html".into())],
            body: "<html>sign in</html>".into(),
        })
        .await;
        let err = fetch(&http(), &stub.url("/"), &Trace::new())
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::Invalid { .. }), "{err}");
    }
}
