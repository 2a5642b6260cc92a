//! The MCP server's resource-server check (RFC 6750, RFC 9728 §5.1, ema-protocol §5): a bearer
//! token in the header only, known, unexpired, unrevoked, and issued for this MCP resource.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::ConnectorCtx;

// long: RFC 6750 §3's checks in order, each answering with its own WWW-Authenticate error.
pub async fn require_bearer(
    State(ctx): State<ConnectorCtx>,
    request: Request,
    next: Next,
) -> Response {
    let connector = ctx.connector();
    let challenge = |extra: &str| {
        let mut parts = Vec::new();
        if !extra.is_empty() {
            parts.push(extra.to_string());
        }
        if connector.spec.challenge_names_metadata {
            parts.push(format!(r#"resource_metadata="{}""#, connector.prm_url()));
        }
        parts.push(format!(r#"scope="{}""#, connector.spec.scopes.join(" ")));
        format!("Bearer {}", parts.join(", "))
    };
    let in_query = request.uri().query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token")
    });
    if in_query {
        let why = "access tokens are accepted only in the Authorization header";
        return refuse(
            StatusCode::BAD_REQUEST,
            challenge(&format!(
                r#"error="invalid_request", error_description="{why}""#
            )),
            "invalid_request",
            why,
        );
    }
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let Some(token) = token else {
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        if let Ok(v) = HeaderValue::from_str(&challenge("")) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        return response;
    };
    let now = ctx.lab.clock.timestamp();
    let verdict = match ctx.lab.store().access.get(&token) {
        None => Err("the access token is unknown or revoked"),
        Some(g) if g.expires_at <= now => Err("the access token has expired"),
        Some(g) if g.resource != connector.mcp_url => {
            Err("the access token was issued for another resource")
        }
        Some(g) => Ok(g.scope.clone()),
    };
    match verdict {
        Ok(scope) => {
            let write_scope = format!("{}:write", connector.spec.id);
            if scope.contains(&write_scope) {
                return next.run(request).await;
            }
            // Buffer the JSON-RPC body to see whether it calls a tool that changes things.
            let (parts, body) = request.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
                return refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    String::new(),
                    "invalid_request",
                    "body too large",
                );
            };
            if let Some(tool) = called_tool(&bytes).filter(|t| changes_things(t)) {
                let why = format!("{tool} needs the {write_scope} scope");
                let extra = format!(r#"error="insufficient_scope", error_description="{why}""#);
                let mut parts_list = vec![extra];
                if connector.spec.challenge_names_metadata {
                    parts_list.push(format!(r#"resource_metadata="{}""#, connector.prm_url()));
                }
                parts_list.push(format!(r#"scope="{}""#, connector.spec.scopes.join(" ")));
                return refuse(
                    StatusCode::FORBIDDEN,
                    format!("Bearer {}", parts_list.join(", ")),
                    "insufficient_scope",
                    &why,
                );
            }
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(why) => refuse(
            StatusCode::UNAUTHORIZED,
            challenge(&format!(
                r#"error="invalid_token", error_description="{why}""#
            )),
            "invalid_token",
            why,
        ),
    }
}

/// Same cap as rmcp's own (4 MiB).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// The tool name of a single JSON-RPC `tools/call` request, if that is what the body is.
fn called_tool(body: &[u8]) -> Option<String> {
    let message: serde_json::Value = serde_json::from_slice(body).ok()?;
    if message.get("method")?.as_str()? != "tools/call" {
        return None;
    }
    Some(message.get("params")?.get("name")?.as_str()?.to_string())
}

/// Tools that write need the connector's `:write` scope.
fn changes_things(tool: &str) -> bool {
    ["create_", "post_", "execute_", "export_"]
        .iter()
        .any(|p| tool.starts_with(p))
}

fn refuse(status: StatusCode, challenge: String, error: &str, why: &str) -> Response {
    let mut response = (
        status,
        axum::Json(json!({"error": error, "error_description": why})),
    )
        .into_response();
    if !challenge.is_empty()
        && let Ok(v) = HeaderValue::from_str(&challenge)
    {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_called_tool() {
        let body =
            br#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_issue"}}"#;
        assert_eq!(called_tool(body).as_deref(), Some("create_issue"));
        assert_eq!(
            called_tool(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
            None
        );
        assert!(changes_things("create_issue") && !changes_things("list_issues"));
    }
}
