//! `openidconnect`'s `AsyncHttpClient` over our traced `Http`, so requests the crate makes
//! (JWKS fetches) obey the same policy as every other request — loopback-only plain http, no
//! redirects, size cap, timeout — and land in the trace as a redacted `Step` of a chosen kind.

use std::future::Future;
use std::pin::Pin;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

use crate::http::{Http, HttpError};
use crate::trace::{StepKind, Trace};

/// One borrowed `Http` + `Trace`, tagging every request it sends with `kind`.
pub(crate) struct TracedHttp<'a> {
    pub http: &'a Http,
    pub trace: &'a Trace,
    pub kind: StepKind,
}

impl<'a> TracedHttp<'a> {
    pub fn new(http: &'a Http, trace: &'a Trace, kind: StepKind) -> Self {
        Self { http, trace, kind }
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let url = url::Url::parse(&parts.uri.to_string())
            .map_err(|e| HttpError::Transport(format!("the library built an invalid URL ({e})")))?;
        let builder = self
            .http
            .client()
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body);
        let response = self.http.send(self.trace, self.kind, builder).await?;
        let mut back = openidconnect::http::Response::builder().status(response.status);
        for (name, value) in &response.headers {
            back = back.header(name, value);
        }
        back.body(response.body)
            .map_err(|e| HttpError::Transport(format!("unreadable response head ({e})")))
    }
}

impl<'c> AsyncHttpClient<'c> for TracedHttp<'_> {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock;

    #[tokio::test]
    async fn requests_are_traced_with_the_kind_and_policy_applies() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route(
            "/jwks",
            axum::routing::get(|| async {
                ([("content-type", "application/json")], r#"{"keys":[]}"#)
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });

        let http = Http::new(clock::system());
        let trace = Trace::new();
        let client = TracedHttp::new(&http, &trace, StepKind::Jwks);
        let url = openidconnect::JsonWebKeySetUrl::new(format!("http://{addr}/jwks?k=v")).unwrap();
        let jwks = openidconnect::core::CoreJsonWebKeySet::fetch_async(&url, &client)
            .await
            .unwrap();
        assert!(jwks.keys().is_empty());
        let steps = trace.steps();
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].kind, StepKind::Jwks);
        assert_eq!(steps[0].status, Some(200));
        assert!(!steps[0].url.contains("k=v"), "{}", steps[0].url);

        // Plain http off loopback is refused by `Http`, and still recorded.
        let bad = openidconnect::JsonWebKeySetUrl::new("http://idp.example/jwks".into()).unwrap();
        assert!(
            openidconnect::core::CoreJsonWebKeySet::fetch_async(&bad, &client)
                .await
                .is_err()
        );
        assert_eq!(trace.steps().len(), 2);
        assert!(
            trace.steps()[1]
                .note
                .as_deref()
                .unwrap_or("")
                .contains("plain http")
        );
    }
}
