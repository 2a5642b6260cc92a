//! Test-only: a tiny HTTP server on 127.0.0.1:0 that answers from a closure and records every
//! request (method, path, headers, raw body) so tests can assert the exact wire shape.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::{Arc, Mutex};
use url::Url;

#[derive(Debug, Clone)]
pub(crate) struct Captured {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, value: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: value.to_string(),
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: vec![],
            body: String::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

type Handler = dyn Fn(&Captured, &str) -> Reply + Send + Sync;

pub(crate) struct Stub {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base: String,
    pub requests: Arc<Mutex<Vec<Captured>>>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Stub {
    /// Starts a server; `handler(request, base)` builds each reply.
    pub async fn start(handler: impl Fn(&Captured, &str) -> Reply + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<Captured>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (log, b) = (requests.clone(), base.clone());
        let app = axum::Router::new().fallback(move |req: Request| {
            let (log, handler, base) = (log.clone(), handler.clone(), b.clone());
            async move {
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX)
                    .await
                    .unwrap_or_default();
                let captured = Captured {
                    method: parts.method.to_string(),
                    path: parts
                        .uri
                        .path_and_query()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    headers: parts.headers,
                    body: String::from_utf8_lossy(&bytes).into_owned(),
                };
                let reply = handler(&captured, &base);
                log.lock().unwrap().push(captured);
                let mut response =
                    Response::builder().status(StatusCode::from_u16(reply.status).unwrap());
                for (k, v) in reply.headers {
                    response = response.header(k, v);
                }
                response.body(Body::from(reply.body)).unwrap()
            }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Self {
            base,
            requests,
            _shutdown: tx,
        }
    }

    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.base)).unwrap()
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.requests.lock().unwrap().clone()
    }

    pub fn paths(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.path).collect()
    }
}

pub(crate) fn http() -> crate::http::Http {
    crate::http::Http::new(crate::clock::system())
}
