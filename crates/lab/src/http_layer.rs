//! Middleware on every listener: the `--latency-ms` delay and a `Date` header from the lab
//! clock (so clients can measure the skew from any response).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Duration;

use crate::state::LabState;

pub async fn lab_http(
    State(state): State<Arc<LabState>>,
    request: Request,
    next: Next,
) -> Response {
    if state.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(state.latency_ms)).await;
    }
    let mut response = next.run(request).await;
    if let Ok(date) = HeaderValue::from_str(&state.clock.http_date()) {
        // Set here, so hyper does not add its own (real-clock) Date.
        response.headers_mut().insert(header::DATE, date);
    }
    response
}
