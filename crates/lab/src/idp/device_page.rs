//! The RFC 8628 verification page (`/idp/device`): a person enters (or follows a link with)
//! the user code, picks who they are, and approves or denies. Plain HTML forms, no scripts
//! and no remote assets.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::sync::Arc;

use super::device::{self, Decision};
use crate::html::escape;
use crate::oauth::Form;
use crate::state::LabState;

/// `GET /idp/device[?user_code=…]`.
pub async fn show(State(state): State<Arc<LabState>>, RawQuery(query): RawQuery) -> Response {
    let typed: Option<String> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "user_code")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let action = device::verification_uri(&state);
    let Some(typed) = typed else {
        return page(StatusCode::OK, &entry_form(&action, ""));
    };
    match device::request(&state, &typed) {
        Some(r) if r.status == "pending" => {
            page(StatusCode::OK, &decision_form(&state, &action, &r))
        }
        Some(r) => {
            let why = format!("The code {} is {}.", r.user_code, r.status);
            page(StatusCode::BAD_REQUEST, &with_entry(&why, &action))
        }
        None => {
            let why = format!("No sign-in request has the code {typed}.");
            page(StatusCode::BAD_REQUEST, &with_entry(&why, &action))
        }
    }
}

/// `POST /idp/device` with `user_code`, `action` (`approve`/`deny`) and, to approve, `user`.
pub async fn submit(
    State(state): State<Arc<LabState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let action = device::verification_uri(&state);
    let Ok(form) = Form::parse(&headers, &body) else {
        return page(
            StatusCode::BAD_REQUEST,
            &with_entry("The form could not be read.", &action),
        );
    };
    let user_code = form.get("user_code").unwrap_or("");
    let decision = match (form.get("action"), form.get("user")) {
        (Some("approve"), Some(email)) => Decision::Approve {
            email: email.to_string(),
        },
        (Some("deny"), _) => Decision::Deny,
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                &with_entry("Choose a user and Approve, or Deny.", &action),
            );
        }
    };
    match device::decide(&state, user_code, decision) {
        Ok(r) if r.status == "approved" => page(
            StatusCode::OK,
            &format!(
                "<p>Approved: {} is signed in on the device. You can close this page.</p>",
                escape(r.user.as_deref().unwrap_or(""))
            ),
        ),
        Ok(_) => page(
            StatusCode::OK,
            "<p>Denied: the device will not be signed in.</p>",
        ),
        Err(e) => page(
            StatusCode::BAD_REQUEST,
            &with_entry(&e.to_string(), &action),
        ),
    }
}

fn entry_form(action: &str, value: &str) -> String {
    format!(
        "<form method=\"get\" action=\"{a}\"><p><label>Code shown on your device \
         <input name=\"user_code\" value=\"{v}\" autocomplete=\"off\" autofocus></label></p>\
         <p><button type=\"submit\">Continue</button></p></form>",
        a = escape(action),
        v = escape(value),
    )
}

fn with_entry(message: &str, action: &str) -> String {
    format!("<p>{}</p>{}", escape(message), entry_form(action, ""))
}

fn decision_form(state: &LabState, action: &str, r: &device::DeviceRequest) -> String {
    let options: String = state
        .directory
        .emails()
        .map(|e| {
            let selected = if state.auto_login.as_deref() == Some(e) {
                " selected"
            } else {
                ""
            };
            format!("<option value=\"{0}\"{selected}>{0}</option>", escape(e))
        })
        .collect();
    format!(
        "<p><strong>{client}</strong> asks to sign in with the scopes <code>{scope}</code>.</p>\
         <p>Code: <strong>{code}</strong></p>\
         <form method=\"post\" action=\"{a}\">\
         <input type=\"hidden\" name=\"user_code\" value=\"{code}\">\
         <p><label>Sign in as <select name=\"user\">{options}</select></label></p>\
         <p><button type=\"submit\" name=\"action\" value=\"approve\">Approve</button> \
         <button type=\"submit\" name=\"action\" value=\"deny\">Deny</button></p></form>",
        client = escape(&r.client_id),
        scope = escape(&r.scope),
        code = escape(&r.user_code),
        a = escape(action),
    )
}

fn page(status: StatusCode, body: &str) -> Response {
    let mut response = (
        status,
        Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\">\
             <title>Lab IdP device sign-in</title></head>\
             <body><h1>Lab IdP device sign-in</h1>{body}</body></html>"
        )),
    )
        .into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}
