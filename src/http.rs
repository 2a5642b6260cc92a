//! The one place that builds the HTTP client and sends requests.
//!
//! Every request: refuses plain-http endpoints that are not loopback, never follows
//! redirects (a redirected token request would carry secrets to a host we did not choose),
//! caps the response size, has a timeout, marks its `Authorization` header sensitive, and
//! appends a redacted `Step` to the trace. Transport errors are turned into text without the
//! URL (reqwest's Display includes it). `localhost` is resolved by this client itself, to
//! 127.0.0.1 and ::1 only, so the name can never reach another machine through DNS.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

use crate::clock::SharedClock;
use crate::protocol::oauth_error::OAuthError;
use crate::redact::redact_url;
use crate::trace::{Step, StepKind, Trace};

/// At most this many requests in flight to one origin (scheme, host, port) unless
/// `Http::limit_origin` says otherwise: resolving many connectors at once must not hammer one
/// IdP or vendor. The policy's `idp.max_concurrent_requests` replaces it for the IdP's origins.
pub const DEFAULT_PER_HOST_CONCURRENCY: usize = 8;

/// Bodies larger than this are refused: metadata and token responses are a few KiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("refused to use {0}: plain http is only allowed on loopback")]
    InsecureEndpoint(String),
    /// A server named a loopback address while the policy's URL it came from is not loopback.
    #[error("refused to use {0}: a remote server may not point Lanyard at this machine")]
    LoopbackNotNamed(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("response larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("transport error: {0}")]
    Transport(String),
}

impl HttpError {
    fn from_reqwest(err: reqwest::Error, timeout: Duration) -> Self {
        if err.is_timeout() {
            return Self::Timeout(timeout);
        }
        let kind = if err.is_connect() {
            "connect"
        } else {
            "transport"
        };
        // Walk the source chain for the root cause, without the URL reqwest prepends.
        let mut cause = String::new();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            cause = s.to_string();
            source = s.source();
        }
        if cause.is_empty() {
            cause = err.without_url().to_string();
        }
        let cause = crate::redact::redact(&cause);
        if kind == "connect" {
            Self::Connect(cause)
        } else {
            Self::Transport(cause)
        }
    }
}

/// A response as read. Not `Debug`-derived: the body may be a token response.
#[derive(Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
    pub server_date: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .field("server_date", &self.server_date)
            .finish_non_exhaustive()
    }
}

impl HttpResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn oauth_error(&self) -> Option<OAuthError> {
        OAuthError::from_body(&self.body)
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone, Debug)]
pub struct Http {
    client: reqwest::Client,
    clock: SharedClock,
    timeout: Duration,
    per_host: Arc<Mutex<PerHost>>,
}

/// The per-origin caps, shared by every clone of one `Http`, keyed by the origin's ASCII
/// serialisation.
#[derive(Debug, Default)]
struct PerHost {
    /// Set by `limit_origin`; an origin not listed gets `DEFAULT_PER_HOST_CONCURRENCY`.
    limits: HashMap<String, usize>,
    /// Created on an origin's first request, with its limit at that moment.
    semaphores: HashMap<String, Arc<Semaphore>>,
}

impl PerHost {
    fn limit(&self, origin: &str) -> usize {
        self.limits
            .get(origin)
            .copied()
            .unwrap_or(DEFAULT_PER_HOST_CONCURRENCY)
    }
}

/// Makes rustls' `ring` provider the process default, once, before any client is built:
/// reqwest is built without a provider of its own (see Cargo.toml) and refuses to build a
/// client when none is installed. Another provider installed first (a test's) is kept.
pub fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only when a provider is already installed, which is all this asks for.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Http {
    pub fn new(clock: SharedClock) -> Self {
        Self::with_timeout(clock, Duration::from_secs(20))
    }

    pub fn with_timeout(clock: SharedClock, timeout: Duration) -> Self {
        install_tls_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("lanyard/", env!("CARGO_PKG_VERSION")))
            .resolve_to_addrs(
                "localhost",
                &[
                    SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                    SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
                ],
            )
            .build()
            // Building only fails if the TLS backend cannot initialise, which is a broken build.
            .expect("the HTTP client must build");
        Self {
            client,
            clock,
            timeout,
            per_host: Arc::default(),
        }
    }

    /// At most `n` requests in flight to `url`'s origin (at least 1, so a request can never
    /// wait forever), for this client and its clones, instead of the default. Meant to be set
    /// before the first request there: the engine does it at open for the IdP's issuer, and
    /// when the IdP's discovery names endpoints on other origins, before requesting them. If
    /// the origin's semaphore already exists with another limit it is dropped, and the next
    /// request creates one with `n`; requests holding a permit of the old one finish under
    /// it, so only while they do can up to old + `n` be in flight. The same limit again
    /// changes nothing (a second semaphore would let another `n` through).
    pub fn limit_origin(&self, url: &url::Url, n: usize) {
        let origin = url.origin().ascii_serialization();
        let n = n.max(1);
        let mut map = self.per_host.lock().unwrap_or_else(|e| e.into_inner());
        if map.limit(&origin) != n {
            map.semaphores.remove(&origin);
        }
        map.limits.insert(origin, n);
    }

    /// How many requests may be in flight to `url`'s origin.
    pub fn origin_limit(&self, url: &url::Url) -> usize {
        let map = self.per_host.lock().unwrap_or_else(|e| e.into_inner());
        map.limit(&url.origin().ascii_serialization())
    }

    /// A permit for one request to `url`'s origin; held for the request's duration.
    pub async fn host_permit(&self, url: &url::Url) -> tokio::sync::OwnedSemaphorePermit {
        let origin = url.origin().ascii_serialization();
        let semaphore = {
            let mut map = self.per_host.lock().unwrap_or_else(|e| e.into_inner());
            let limit = map.limit(&origin);
            map.semaphores
                .entry(origin)
                .or_insert_with(|| Arc::new(Semaphore::new(limit)))
                .clone()
        };
        // The semaphore is never closed, so acquiring cannot fail.
        semaphore
            .acquire_owned()
            .await
            .expect("per-host semaphore is never closed")
    }

    /// The underlying client, for libraries that take one (rmcp). Same policy applies.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn get(&self, url: &url::Url) -> reqwest::RequestBuilder {
        self.client
            .get(url.clone())
            .header("accept", "application/json")
    }

    pub fn post_form(&self, url: &url::Url, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.client
            .post(url.clone())
            .header("accept", "application/json")
            .form(form)
    }

    /// Sends a request, records it in `trace` as a step of `kind`, and returns the response
    /// whatever its status: callers decide what a 4xx means.
    pub async fn send(
        &self,
        trace: &Trace,
        kind: StepKind,
        request: reqwest::RequestBuilder,
    ) -> Result<HttpResponse, HttpError> {
        let request = self.prepare(request)?;
        let method = request.method().to_string();
        let url = request.url().clone();
        let shown = redact_url(&url);
        let started_at = self.clock.now();
        if let Err(err) = check_endpoint(&url) {
            trace.push(step(
                kind,
                &method,
                &shown,
                None,
                0,
                started_at,
                Some(err.to_string()),
            ));
            return Err(err);
        }
        let permit = self.host_permit(&url).await;
        let t0 = Instant::now();
        let result = self.read(request).await;
        drop(permit);
        let ms = t0.elapsed().as_millis() as u64;
        match result {
            Ok(response) => {
                let mut s = step(
                    kind,
                    &method,
                    &shown,
                    Some(response.status),
                    ms,
                    started_at,
                    None,
                );
                s.server_date = response.server_date;
                if !response.is_success() {
                    s.oauth_error = response.oauth_error();
                }
                trace.push(s);
                Ok(response)
            }
            Err(err) => {
                trace.push(step(
                    kind,
                    &method,
                    &shown,
                    None,
                    ms,
                    started_at,
                    Some(err.to_string()),
                ));
                Err(err)
            }
        }
    }

    /// Builds the request as it will go on the wire, its credentials marked sensitive (kept
    /// out of `Debug` and of HTTP/2 header compression tables), whoever added them.
    fn prepare(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Request, HttpError> {
        let mut request = request
            .build()
            .map_err(|e| HttpError::from_reqwest(e, self.timeout))?;
        for (name, value) in request.headers_mut().iter_mut() {
            if name == reqwest::header::AUTHORIZATION {
                value.set_sensitive(true);
            }
        }
        Ok(request)
    }

    async fn read(&self, request: reqwest::Request) -> Result<HttpResponse, HttpError> {
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| HttpError::from_reqwest(e, self.timeout))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if response
            .content_length()
            .is_some_and(|n| n as usize > MAX_BODY_BYTES)
        {
            return Err(HttpError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| HttpError::from_reqwest(e, self.timeout))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(HttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let server_date = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .map(|d| d.with_timezone(&Utc));
        Ok(HttpResponse {
            status,
            headers,
            body,
            server_date,
        })
    }
}

fn step(
    kind: StepKind,
    method: &str,
    url: &str,
    status: Option<u16>,
    duration_ms: u64,
    started_at: DateTime<Utc>,
    note: Option<String>,
) -> Step {
    Step {
        kind,
        method: method.to_string(),
        url: url.to_string(),
        status,
        duration_ms,
        started_at,
        server_date: None,
        oauth_error: None,
        note,
        claims: None,
    }
}

/// https anywhere; plain http only to loopback (the lab, RFC 8252 callbacks).
pub fn check_endpoint(url: &url::Url) -> Result<(), HttpError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        _ => Err(HttpError::InsecureEndpoint(redact_url(url))),
    }
}

/// For a URL a server named (an issuer in metadata, a `jwks_uri`, an endpoint): as
/// `check_endpoint`, and a loopback host only when `named_by` — the URL it was found
/// through, ultimately one from the policy — is loopback too. So plain-http loopback is only
/// used when the policy itself names loopback, and a remote server cannot point Lanyard at
/// services on this machine.
pub fn check_derived(url: &url::Url, named_by: &url::Url) -> Result<(), HttpError> {
    check_endpoint(url)?;
    if is_loopback(url) && !is_loopback(named_by) {
        return Err(HttpError::LoopbackNotNamed(redact_url(url)));
    }
    Ok(())
}

/// A loopback IP literal, or `localhost`, which `Http` resolves itself to loopback only.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_client_uses_rings_tls_provider() {
        let _http = Http::new(crate::clock::system());
        let installed = rustls::crypto::CryptoProvider::get_default().expect("installed");
        let suites = |p: &rustls::crypto::CryptoProvider| -> Vec<String> {
            p.cipher_suites
                .iter()
                .map(|s| format!("{:?}", s.suite()))
                .collect()
        };
        let ring = rustls::crypto::ring::default_provider();
        assert_eq!(suites(installed), suites(&ring));
        // Not the process default by accident: ring's key exchange groups, in ring's order.
        let groups = |p: &rustls::crypto::CryptoProvider| -> Vec<String> {
            p.kx_groups
                .iter()
                .map(|g| format!("{:?}", g.name()))
                .collect()
        };
        assert_eq!(groups(installed), groups(&ring));
    }

    #[test]
    fn a_response_debug_never_shows_the_body() {
        let response = HttpResponse {
            status: 200,
            headers: reqwest::header::HeaderMap::new(),
            body: br#"{"access_token":"labsecret_at_debug_body"}"#.to_vec(),
            server_date: None,
        };
        let shown = format!("{response:?}");
        assert!(!shown.contains("labsecret_at_debug_body"), "{shown}");
        // Nor as the bytes a derived `Debug` would list.
        let bytes = format!("{:?}", &response.body[..6]);
        assert!(!shown.contains(bytes.trim_matches(['[', ']'])), "{shown}");
        assert!(shown.contains("200"), "{shown}");
    }

    #[test]
    fn every_authorization_header_is_marked_sensitive() {
        let http = Http::new(crate::clock::system());
        let url = url::Url::parse("http://127.0.0.1:9/token").unwrap();
        for value in ["Basic bGFic2VjcmV0X2Jhc2lj", "Bearer labsecret_at_hdr"] {
            let request = http
                .prepare(http.post_form(&url, &[]).header("authorization", value))
                .unwrap();
            let header = &request.headers()["authorization"];
            assert!(header.is_sensitive(), "{value}");
            let shown = format!("{request:?}");
            assert!(!shown.contains("labsecret"), "{shown}");
        }
    }

    #[test]
    fn servers_may_name_loopback_only_when_the_policy_does() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        let remote = u("https://mcp.example/mcp");
        let local = u("http://127.0.0.1:7/mcp");
        for named in [
            "http://127.0.0.1:8/as",
            "http://localhost:8/as",
            "https://127.0.0.1/as",
            "http://[::1]:8/",
        ] {
            assert!(
                matches!(
                    check_derived(&u(named), &remote),
                    Err(HttpError::LoopbackNotNamed(_))
                ),
                "{named}"
            );
            assert!(check_derived(&u(named), &local).is_ok(), "{named}");
        }
        assert!(check_derived(&u("https://as.example/"), &remote).is_ok());
        assert!(check_derived(&u("http://as.example/"), &local).is_err());
    }

    #[tokio::test]
    async fn localhost_is_resolved_to_loopback_by_the_client_itself() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let app = axum::Router::new().route("/x", axum::routing::get(|| async { "ok" }));
            let _ = axum::serve(listener, app).await;
        });
        let http = Http::new(crate::clock::system());
        let url = url::Url::parse(&format!("http://localhost:{port}/x")).unwrap();
        let r = http
            .send(&Trace::new(), StepKind::McpProbe, http.get(&url))
            .await;
        assert_eq!(r.unwrap().status, 200);
    }

    /// A loopback server that holds every request 250 ms (long enough for a busy machine to
    /// have them all in flight together) and records the most it held at once (reset by
    /// `burst`), so a test sees what the client let through, not what it intended.
    async fn holding_server() -> (u16, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let now = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let seen = max.clone();
        let hold = move || {
            let (now, max) = (now.clone(), max.clone());
            async move {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(250)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                "ok"
            }
        };
        tokio::spawn(async move {
            let app = axum::Router::new().route("/x", axum::routing::get(hold));
            let _ = axum::serve(listener, app).await;
        });
        (port, seen)
    }

    /// Sends 20 requests to `url` at once; every one must succeed.
    async fn twenty(http: &Http, url: &url::Url) {
        let trace = Trace::new();
        let sends = (0..20).map(|_| http.send(&trace, StepKind::McpProbe, http.get(url)));
        for r in futures::future::join_all(sends).await {
            assert_eq!(r.unwrap().status, 200);
        }
    }

    /// `twenty` from a zeroed count, answering the most the server held at once.
    async fn burst(http: &Http, url: &url::Url, max: &AtomicUsize) -> usize {
        max.store(0, Ordering::SeqCst);
        twenty(http, url).await;
        max.load(Ordering::SeqCst)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_in_flight_are_capped_per_origin_at_its_limit() {
        let (port, max) = holding_server().await;
        let url = url::Url::parse(&format!("http://127.0.0.1:{port}/x")).unwrap();
        let http = Http::new(crate::clock::system());
        assert_eq!(http.origin_limit(&url), DEFAULT_PER_HOST_CONCURRENCY);
        assert_eq!(burst(&http, &url, &max).await, DEFAULT_PER_HOST_CONCURRENCY);
        // Another origin (the same server by another name) has a cap of its own.
        let other = url::Url::parse(&format!("http://localhost:{port}/x")).unwrap();
        http.limit_origin(&other, 3);
        assert_eq!(burst(&http, &url, &max).await, DEFAULT_PER_HOST_CONCURRENCY);
        // Set after the origin's semaphore exists: later requests wait on one of 3.
        http.limit_origin(&url, 3);
        assert_eq!(http.origin_limit(&url), 3);
        assert_eq!(burst(&http, &url, &max).await, 3);
        // The same limit set again while 20 wait, then 20 more: still 3 at once, not 3 + 3.
        max.store(0, Ordering::SeqCst);
        let again = async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            http.clone().limit_origin(&url, 3);
            twenty(&http, &url).await;
        };
        tokio::join!(twenty(&http, &url), again);
        assert_eq!(max.load(Ordering::SeqCst), 3);
        // Above the default, set before the first request of a fresh client.
        let fresh = Http::new(crate::clock::system());
        fresh.limit_origin(&url, 12);
        assert_eq!(burst(&fresh, &url, &max).await, 12);
        fresh.limit_origin(&url, 0);
        assert_eq!(fresh.origin_limit(&url), 1, "never a cap nothing can pass");
    }

    #[test]
    fn plain_http_only_on_loopback() {
        let ok = [
            "https://idp.example/x",
            "http://127.0.0.1:9/x",
            "http://[::1]:9/",
            "http://localhost/",
        ];
        for u in ok {
            assert!(check_endpoint(&url::Url::parse(u).unwrap()).is_ok(), "{u}");
        }
        let bad = [
            "http://idp.example/x",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
        ];
        for u in bad {
            assert!(check_endpoint(&url::Url::parse(u).unwrap()).is_err(), "{u}");
        }
    }
}
