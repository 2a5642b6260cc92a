//! The loopback redirect listener (RFC 8252 §7.3): bound on `127.0.0.1:0` before the browser
//! opens, it waits for the one authorization response that carries our `state`.
//!
//! A request with a wrong or missing `state` gets a 400 page and is otherwise ignored (RFC 6749
//! §10.12: anything on this machine can hit the port; it must not end or hijack the sign-in).
//! Such stray requests are recorded in the trace without their query values, and only the
//! first few, so a local process cannot flood the trace or plant text in it.
//! The response with our `state` is terminal: its RFC 9207 `iss` is checked, an `error=` ends
//! the sign-in, and a code is handed to `sign_in`, whose final verdict (after the code exchange
//! and ID-token checks) becomes the page the browser shows. Pages never echo the code, state
//! or any other query value.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Html;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot, watch};

use super::error::LoginError;
use crate::clock::SharedClock;
use crate::redact::{redact_url, url_without_query_values};
use crate::secret::Secret;
use crate::trace::{Step, StepKind, Trace};

/// How long the browser's request is held open waiting for the code exchange to finish.
const VERDICT_WAIT: Duration = Duration::from_secs(60);
/// After shutdown, how long an in-flight page may take before the server task is dropped.
const DRAIN: Duration = Duration::from_secs(5);
/// Stray requests recorded in the trace at most (then one note that more were ignored).
const MAX_STRAYS_RECORDED: usize = 16;

/// What the response with our `state` must satisfy.
#[derive(Clone)]
pub(crate) struct Expected {
    pub state: Secret,
    pub issuer: String,
    /// The IdP advertises `authorization_response_iss_parameter_supported`.
    pub iss_required: bool,
}

/// The page the browser gets once the sign-in is decided.
pub(crate) struct Reply(oneshot::Sender<Page>);

impl Reply {
    pub fn success(self) {
        let _ = self.0.send(Page::success());
    }

    pub fn failure(self, err: &LoginError) {
        let _ = self.0.send(Page::failure(err));
    }
}

type Delivery = Result<(Secret, Reply), LoginError>;

pub(crate) struct CallbackListener {
    port: u16,
    deliveries: mpsc::Receiver<Delivery>,
    shutdown: watch::Sender<bool>,
}

struct Shared {
    expected: Expected,
    done: AtomicBool,
    strays: AtomicUsize,
    deliveries: mpsc::Sender<Delivery>,
    trace: Trace,
    clock: SharedClock,
    port: u16,
}

impl CallbackListener {
    pub async fn bind(
        expected: Expected,
        trace: Trace,
        clock: SharedClock,
    ) -> Result<Self, LoginError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| LoginError::Callback(format!("cannot listen on 127.0.0.1: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| LoginError::Callback(format!("cannot read the listening port: {e}")))?
            .port();
        let (tx, rx) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            expected,
            done: AtomicBool::new(false),
            strays: AtomicUsize::new(0),
            deliveries: tx,
            trace,
            clock,
            port,
        });
        let app = axum::Router::new()
            .route("/callback", axum::routing::get(callback))
            .with_state(shared);
        let (shutdown, mut stop) = watch::channel(false);
        let mut stop_drain = stop.clone();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            });
            // Graceful shutdown lets the final page go out; the drain cap stops an idle
            // keep-alive connection from holding the task forever.
            tokio::select! {
                _ = serve => {}
                _ = async { let _ = stop_drain.wait_for(|s| *s).await; tokio::time::sleep(DRAIN).await } => {}
            }
        });
        Ok(Self {
            port,
            deliveries: rx,
            shutdown,
        })
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    /// Waits for the response carrying our `state`: a code (with the `Reply` for the page) or
    /// the error it carried. Stray requests never reach here.
    pub async fn next(&mut self) -> Result<(Secret, Reply), LoginError> {
        match self.deliveries.recv().await {
            Some(delivery) => delivery,
            None => Err(LoginError::Callback("the loopback listener stopped".into())),
        }
    }
}

impl Drop for CallbackListener {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

impl Shared {
    /// The callback as a step of the sign-in's trace.
    fn record(&self, status: u16, url: String, note: Option<&str>) {
        self.trace.push(Step {
            kind: StepKind::Callback,
            method: "GET".into(),
            url,
            status: Some(status),
            duration_ms: 0,
            started_at: self.clock.now(),
            server_date: None,
            oauth_error: None,
            note: note.map(str::to_string),
            claims: None,
        });
    }

    /// A request that is not our response: recorded (without its values) up to a cap, so a
    /// local page hammering the port cannot grow the trace.
    fn stray(&self, request_url: Option<&url::Url>, note: &str) {
        let seen = self.strays.fetch_add(1, Ordering::SeqCst);
        if seen < MAX_STRAYS_RECORDED {
            let shown = request_url.map(url_without_query_values);
            self.record(400, shown.unwrap_or_else(|| "/callback".into()), Some(note));
        } else if seen == MAX_STRAYS_RECORDED {
            let note = "more stray requests arrived; they are ignored and not recorded";
            self.record(400, "/callback".into(), Some(note));
        }
    }
}

async fn callback(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> (StatusCode, Html<String>) {
    let query = query.unwrap_or_default();
    let request_url = url::Url::parse(&format!(
        "http://127.0.0.1:{}/callback?{query}",
        shared.port
    ))
    .ok();
    let record = |status: u16, url: String, note: Option<&str>| shared.record(status, url, note);
    let stray = |note: &str| shared.stray(request_url.as_ref(), note);

    let mut params = std::collections::HashMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if params.insert(k.into_owned(), v.into_owned()).is_some() {
            stray("a parameter was repeated; ignored");
            return Page::stray().into_response();
        }
    }
    let ours = params
        .get("state")
        .is_some_and(|s| same_secret(s, shared.expected.state.expose()));
    if !ours {
        stray("state missing or not ours; ignored, still waiting");
        return Page::stray().into_response();
    }
    if shared.done.swap(true, Ordering::SeqCst) {
        stray("the sign-in already received its response");
        return Page::already_done().into_response();
    }
    let shown = request_url
        .as_ref()
        .map(redact_url)
        .unwrap_or_else(|| "/callback".into());

    let outcome = judge(&shared.expected, &params);
    match outcome {
        Err(err) => {
            record(400, shown, Some(&err.to_string()));
            let page = Page::failure(&err);
            let _ = shared.deliveries.send(Err(err)).await;
            page.into_response()
        }
        Ok(code) => {
            record(200, shown, None);
            let (tx, rx) = oneshot::channel();
            if shared.deliveries.send(Ok((code, Reply(tx)))).await.is_err() {
                return Page::abandoned().into_response();
            }
            match tokio::time::timeout(VERDICT_WAIT, rx).await {
                Ok(Ok(page)) => page.into_response(),
                _ => Page::abandoned().into_response(),
            }
        }
    }
}

/// The checks on the response that carries our state, in RFC 9207 order: `iss` first, so an
/// `error=` from a mixed-up IdP is not believed either.
pub(super) fn judge(
    expected: &Expected,
    params: &std::collections::HashMap<String, String>,
) -> Result<Secret, LoginError> {
    match params.get("iss") {
        Some(iss) if *iss != expected.issuer => {
            return Err(LoginError::IssMismatch {
                expected: expected.issuer.clone(),
                found: Some(crate::trace::scrub(iss)),
            });
        }
        None if expected.iss_required => {
            return Err(LoginError::IssMismatch {
                expected: expected.issuer.clone(),
                found: None,
            });
        }
        _ => {}
    }
    if let Some(error) = params.get("error") {
        return Err(LoginError::Authorization {
            error: crate::trace::scrub(error),
            description: params
                .get("error_description")
                .map(|d| crate::trace::scrub(d)),
        });
    }
    match params.get("code") {
        Some(code) if !code.is_empty() => Ok(Secret::new(code.clone())),
        _ => Err(LoginError::Callback(
            "the response had neither a code nor an error".into(),
        )),
    }
}

/// Compares digests so the comparison time does not depend on where the values differ.
pub(super) fn same_secret(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

pub(crate) struct Page {
    status: StatusCode,
    title: &'static str,
    body: String,
}

impl Page {
    fn success() -> Self {
        Self {
            status: StatusCode::OK,
            title: "Signed in to Lanyard",
            body: "Signed in to Lanyard — you can close this tab.".into(),
        }
    }

    fn failure(err: &LoginError) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            title: "Lanyard sign-in failed",
            body: format!("Sign-in failed: {err}. {}", err.hint()),
        }
    }

    fn stray() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            title: "Not a Lanyard sign-in",
            body: "This response does not belong to the sign-in Lanyard started. Start the sign-in again from Lanyard.".into(),
        }
    }

    fn already_done() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            title: "Already handled",
            body: "Lanyard already received this sign-in. You can close this tab.".into(),
        }
    }

    fn abandoned() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            title: "Lanyard stopped waiting",
            body: "Lanyard is no longer waiting for this sign-in. Return to Lanyard and try again."
                .into(),
        }
    }

    fn into_response(self) -> (StatusCode, Html<String>) {
        let html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
             <style>body{{font:16px system-ui,sans-serif;margin:4em auto;max-width:32em}}</style></head>\
             <body><h1>{t}</h1><p>{b}</p></body></html>",
            t = escape(self.title),
            b = escape(&self.body),
        );
        (self.status, Html(html))
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "http://127.0.0.1:9/idp";

    async fn listener(iss_required: bool) -> (CallbackListener, Trace) {
        let trace = Trace::new();
        let expected = Expected {
            state: Secret::new("st4te"),
            issuer: ISSUER.into(),
            iss_required,
        };
        (
            CallbackListener::bind(expected, trace.clone(), crate::clock::system())
                .await
                .unwrap(),
            trace,
        )
    }

    fn get(l: &CallbackListener, query: &str) -> tokio::task::JoinHandle<(u16, String)> {
        let url = format!("{}?{query}", l.redirect_uri());
        tokio::spawn(async move {
            let r = reqwest::get(url).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    }

    #[tokio::test]
    async fn stray_requests_get_400_and_the_right_state_wins() {
        let (mut l, trace) = listener(false).await;
        let (status, page) = get(&l, "code=labsecret_code_evil&state=wrong")
            .await
            .unwrap();
        assert_eq!(status, 400);
        assert!(page.contains("does not belong"), "{page}");
        assert_eq!(get(&l, "code=labsecret_code_evil").await.unwrap().0, 400);

        let browser = get(&l, "code=labsecret_code_good&state=st4te");
        let (code, reply) = l.next().await.unwrap();
        assert_eq!(code.expose(), "labsecret_code_good");
        reply.success();
        let (status, page) = browser.await.unwrap();
        assert_eq!(status, 200);
        assert!(
            page.contains("Signed in to Lanyard — you can close this tab"),
            "{page}"
        );
        assert!(
            !page.contains("labsecret") && !page.contains("st4te"),
            "{page}"
        );

        // A replay after the decision is refused.
        assert_eq!(
            get(&l, "code=labsecret_code_good&state=st4te")
                .await
                .unwrap()
                .0,
            400
        );
        let steps = serde_json::to_string(&trace.steps()).unwrap();
        assert!(
            !steps.contains("labsecret") && !steps.contains("st4te"),
            "{steps}"
        );
        assert_eq!(
            trace
                .steps()
                .iter()
                .filter(|s| s.kind == StepKind::Callback)
                .count(),
            4
        );
    }

    #[tokio::test]
    async fn stray_requests_are_capped_and_lose_their_query_values() {
        let (_l, trace) = listener(false).await;
        for i in 0..(MAX_STRAYS_RECORDED + 10) {
            let q = format!("state=nope{i}&error_description=stray-value-{i}&scope=mine{i}");
            assert_eq!(get(&_l, &q).await.unwrap().0, 400);
        }
        let steps = trace.steps();
        assert_eq!(steps.len(), MAX_STRAYS_RECORDED + 1, "{steps:#?}");
        let text = serde_json::to_string(&steps).unwrap();
        assert!(
            !text.contains("stray-value") && !text.contains("mine"),
            "{text}"
        );
        assert!(text.contains("error_description"), "names are kept: {text}");
    }

    #[tokio::test]
    async fn error_callback_with_our_state_ends_the_login() {
        let (mut l, _) = listener(false).await;
        let browser = get(
            &l,
            "error=access_denied&error_description=not+assigned&state=st4te",
        );
        let err = l.next().await.err().unwrap();
        match &err {
            LoginError::Authorization { error, description } => {
                assert_eq!(error, "access_denied");
                assert_eq!(description.as_deref(), Some("not assigned"));
            }
            other => panic!("{other:?}"),
        }
        let (status, page) = browser.await.unwrap();
        assert_eq!(status, 400);
        assert!(
            page.contains("access_denied") && !page.contains("st4te"),
            "{page}"
        );
    }

    #[tokio::test]
    async fn iss_is_checked_when_present_or_required() {
        let (mut l, _) = listener(false).await;
        let _b = get(
            &l,
            "code=labsecret_code_1&state=st4te&iss=http%3A%2F%2Fevil.example",
        );
        match l.next().await.err().unwrap() {
            LoginError::IssMismatch { found, .. } => {
                assert_eq!(found.as_deref(), Some("http://evil.example"))
            }
            other => panic!("{other:?}"),
        }

        let (mut l, _) = listener(true).await;
        let _b = get(&l, "code=labsecret_code_1&state=st4te");
        assert!(matches!(
            l.next().await,
            Err(LoginError::IssMismatch { found: None, .. })
        ));

        let (mut l, _) = listener(true).await;
        let b = get(
            &l,
            &format!(
                "code=labsecret_code_1&state=st4te&iss={}",
                urlencode(ISSUER)
            ),
        );
        let (code, reply) = l.next().await.unwrap();
        assert_eq!(code.expose(), "labsecret_code_1");
        reply.failure(&LoginError::Timeout(Duration::from_secs(1)));
        let (status, page) = b.await.unwrap();
        assert_eq!(status, 400);
        assert!(
            page.contains("Sign-in failed") && !page.contains("labsecret"),
            "{page}"
        );
    }

    #[tokio::test]
    async fn a_dropped_listener_stops_listening() {
        let (l, _) = listener(false).await;
        let uri = l.redirect_uri();
        drop(l);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(reqwest::get(format!("{uri}?state=x")).await.is_err());
    }

    fn urlencode(s: &str) -> String {
        url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
    }
}
