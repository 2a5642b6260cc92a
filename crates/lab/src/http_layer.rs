//! Middleware on every listener: the `--latency-ms` delay, the `leg_fault` knob (one protocol
//! leg answering 500, slowly, with garbage or with an oversized body) and a `Date` header
//! from the lab clock (so clients can measure the skew from any response).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;

use crate::faults::{Leg, LegFaultKind};
use crate::state::LabState;

/// Form bodies the lab reads to tell token grants apart are small; larger ones pass unread.
const FORM_PEEK_LIMIT: usize = 64 * 1024;

pub async fn lab_http(
    State(state): State<Arc<LabState>>,
    request: Request,
    next: Next,
) -> Response {
    if state.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(state.latency_ms)).await;
    }
    let mut response = match state.faults().leg_fault {
        Some(fault) => {
            let (leg, request) = leg_of(request).await;
            match leg.filter(|l| fault.leg.covers(*l)) {
                Some(_) => misbehave(fault.kind, fault.delay_ms, request, next).await,
                None => next.run(request).await,
            }
        }
        None => next.run(request).await,
    };
    if let Ok(date) = HeaderValue::from_str(&state.clock.http_date()) {
        // Set here, so hyper does not add its own (real-clock) Date.
        response.headers_mut().insert(header::DATE, date);
    }
    response
}

async fn misbehave(
    kind: LegFaultKind,
    delay_ms: Option<u64>,
    request: Request,
    next: Next,
) -> Response {
    match kind {
        LegFaultKind::Error500 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(
                serde_json::json!({"error": "server_error", "error_description": "lab leg_fault"}),
            ),
        )
            .into_response(),
        LegFaultKind::Slow => {
            tokio::time::sleep(Duration::from_millis(delay_ms.unwrap_or(30_000))).await;
            next.run(request).await
        }
        LegFaultKind::Garbage => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Please sign in to the network</body></html>",
        )
            .into_response(),
        LegFaultKind::Oversized => {
            let mut body = Vec::with_capacity(2 * 1024 * 1024 + 2);
            body.push(b'[');
            body.resize(2 * 1024 * 1024, b' ');
            body.push(b']');
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    }
}

/// Which leg a request is on; token requests are told apart by their `grant_type`, so their
/// body is read and put back.
async fn leg_of(request: Request) -> (Option<Leg>, Request) {
    let path = request.uri().path().to_string();
    if path.starts_with("/lab/") {
        return (None, request);
    }
    let idp = path.starts_with("/idp/") || path.ends_with("/idp");
    let leg = if path.starts_with("/.well-known/oauth-protected-resource") {
        Some(Leg::ResourceMetadata)
    } else if path.contains("/.well-known/") {
        Some(if idp {
            Leg::IdpDiscovery
        } else {
            Leg::AsMetadata
        })
    } else if path == "/idp/jwks" {
        Some(Leg::IdpJwks)
    } else if path.ends_with("/revoke") {
        Some(Leg::Revocation)
    } else if path.starts_with("/mcp") {
        Some(Leg::Mcp)
    } else if path.ends_with("/token") {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, FORM_PEEK_LIMIT)
            .await
            .unwrap_or_default();
        let grant = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let request = Request::from_parts(parts, Body::from(bytes));
        return (token_leg(idp, &grant), request);
    } else {
        None
    };
    (leg, request)
}

fn token_leg(idp: bool, grant: &str) -> Option<Leg> {
    match (idp, grant) {
        (true, "authorization_code") => Some(Leg::SignIn),
        (true, "refresh_token") => Some(Leg::IdpRefresh),
        (true, "urn:ietf:params:oauth:grant-type:token-exchange") => Some(Leg::TokenExchange),
        (true, _) => Some(Leg::IdpToken),
        (false, "urn:ietf:params:oauth:grant-type:jwt-bearer") => Some(Leg::JwtBearer),
        (false, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_grants_are_told_apart() {
        assert_eq!(token_leg(true, "refresh_token"), Some(Leg::IdpRefresh));
        assert_eq!(
            token_leg(false, "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            Some(Leg::JwtBearer)
        );
        assert_eq!(token_leg(false, "authorization_code"), None);
    }
}
