//! Loopback-only admin endpoints on the IdP listener (`/lab/*`): health, fault knobs, the
//! grants the lab still honours, the connectors' endpoints, client registration for tests,
//! and approving or denying RFC 8628 device authorizations without the page.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use crate::catalogue::ClientMethod;
use crate::faults::FaultsPatch;
use crate::idp::device::{self, Decision, DeviceError};
use crate::keys;
use crate::state::{ClientRegistration, LabState};

pub fn router(state: Arc<LabState>) -> Router {
    Router::new()
        .route("/lab/health", get(health))
        .route("/lab/faults", get(get_faults).post(post_faults))
        .route("/lab/grants", get(grants))
        .route("/lab/connectors", get(connectors))
        .route("/lab/clients", post(register_client))
        .route("/lab/device", get(device_requests))
        .route("/lab/device/approve", post(device_approve))
        .route("/lab/device/deny", post(device_deny))
        .with_state(state)
}

async fn health() -> Response {
    axum::Json(json!({"ok": true})).into_response()
}

async fn get_faults(State(state): State<Arc<LabState>>) -> Response {
    axum::Json(state.faults()).into_response()
}

async fn post_faults(State(state): State<Arc<LabState>>, body: axum::body::Bytes) -> Response {
    let patch: FaultsPatch = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return bad_request(&format!("faults body: {e}")),
    };
    match apply_faults(&state, patch) {
        Ok(()) => axum::Json(state.faults()).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

/// Shared by `POST /lab/faults` and `Lab::set_faults`.
pub fn apply_faults(state: &LabState, patch: FaultsPatch) -> Result<(), String> {
    let (next, rotate) = state.faults().patched(patch);
    if rotate {
        state.rotate_key().map_err(|e| e.to_string())?;
        tracing::info!(kid = %state.key().kid(), "rotated the IdP signing key");
    }
    state.set_faults(next);
    Ok(())
}

async fn grants(State(state): State<Arc<LabState>>) -> Response {
    axum::Json(state.grants()).into_response()
}

/// Each connector's MCP URL and authorization-server endpoints (for `seed-legacy`).
async fn connectors(State(state): State<Arc<LabState>>) -> Response {
    let list: Vec<serde_json::Value> = state
        .connectors
        .iter()
        .map(|c| {
            json!({
                "id": c.spec.id,
                "name": c.spec.name,
                "mcp_url": c.mcp_url,
                "issuer": c.issuer,
                "authorization_endpoint": c.authorization_endpoint(),
                "token_endpoint": c.token_endpoint(),
                "revocation_endpoint": c.revocation_endpoint(),
            })
        })
        .collect();
    axum::Json(list).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientBody {
    issuer: String,
    client_id: String,
    method: ClientMethod,
    #[serde(default)]
    jwk: Option<serde_json::Value>,
    #[serde(default)]
    secret: Option<String>,
}

async fn register_client(State(state): State<Arc<LabState>>, body: axum::body::Bytes) -> Response {
    let body: ClientBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(&format!("client body: {e}")),
    };
    if !state.knows_issuer(&body.issuer) {
        return bad_request("issuer is neither the IdP nor a connector authorization server");
    }
    match body.method {
        ClientMethod::ClientSecretBasic | ClientMethod::ClientSecretPost
            if body.secret.is_none() =>
        {
            return bad_request("this method needs a secret");
        }
        ClientMethod::PrivateKeyJwt => match &body.jwk {
            None => return bad_request("private_key_jwt needs a jwk"),
            Some(jwk) if keys::decoding_key_from_jwk(jwk).is_err() => {
                return bad_request("jwk is not a P-256 public key");
            }
            Some(_) => {}
        },
        _ => {}
    }
    state.register_client(
        &body.issuer,
        &body.client_id,
        ClientRegistration {
            method: body.method,
            secret: body.secret,
            jwk: body.jwk,
        },
    );
    tracing::info!(issuer = %body.issuer, client_id = %body.client_id, method = body.method.as_str(), "registered client");
    (
        StatusCode::CREATED,
        axum::Json(json!({"client_id": body.client_id})),
    )
        .into_response()
}

async fn device_requests(State(state): State<Arc<LabState>>) -> Response {
    axum::Json(device::requests(&state)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceBody {
    user_code: String,
    /// The directory user who approves (approve only).
    #[serde(default)]
    user: Option<String>,
}

async fn device_approve(State(state): State<Arc<LabState>>, body: axum::body::Bytes) -> Response {
    let body: DeviceBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(&format!("device body: {e}")),
    };
    let Some(email) = body.user else {
        return bad_request("approve needs the user who approves, e.g. \"ada@lab.example\"");
    };
    device_decision(&state, &body.user_code, Decision::Approve { email })
}

async fn device_deny(State(state): State<Arc<LabState>>, body: axum::body::Bytes) -> Response {
    let body: DeviceBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(&format!("device body: {e}")),
    };
    device_decision(&state, &body.user_code, Decision::Deny)
}

/// 200 with the request as it now stands; 404, 410, 409 or 400 naming what was wrong.
fn device_decision(state: &LabState, user_code: &str, decision: Decision) -> Response {
    match device::decide(state, user_code, decision) {
        Ok(request) => axum::Json(request).into_response(),
        Err(e) => {
            let (status, error) = match &e {
                DeviceError::UnknownCode(_) => (StatusCode::NOT_FOUND, "unknown_user_code"),
                DeviceError::Expired(_) => (StatusCode::GONE, "expired"),
                DeviceError::AlreadyDecided(_) => (StatusCode::CONFLICT, "already_decided"),
                DeviceError::UnknownUser(_) => (StatusCode::BAD_REQUEST, "unknown_user"),
            };
            let body = json!({"error": error, "error_description": e.to_string()});
            (status, axum::Json(body)).into_response()
        }
    }
}

fn bad_request(why: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": "invalid_request", "error_description": why})),
    )
        .into_response()
}
