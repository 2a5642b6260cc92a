//! `verify` against a minimal streamable-HTTP JSON-RPC server: success, and how 401/403/5xx
//! and a dead port surface.

use super::*;
use crate::protocol::discovery::stub_server::{Captured, Reply, Stub, http};
use serde_json::json;

pub(crate) const TOKEN: &str = "labsecret_at_0123456789abcdef0123456789abcdef";

/// A stateless MCP server with two tools that wants `Bearer TOKEN`.
pub(crate) fn mcp_server(r: &Captured, _: &str) -> Reply {
    if r.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return Reply::status(401).with_header(
            "www-authenticate",
            r#"Bearer error="invalid_token", resource_metadata="/prm""#,
        );
    }
    if r.method != "POST" {
        return Reply::status(405);
    }
    let msg: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
    let id = msg.get("id").cloned();
    match msg["method"].as_str() {
        Some("initialize") => Reply::json(
            200,
            json!({"jsonrpc": "2.0", "id": id, "result": {
                "protocolVersion": msg["params"]["protocolVersion"], "capabilities": {"tools": {}},
                "serverInfo": {"name": "stub", "version": "1"}}}),
        ),
        Some("tools/list") => Reply::json(
            200,
            json!({"jsonrpc": "2.0", "id": id, "result": {"tools": [
                {"name": "search", "inputSchema": {"type": "object"}},
                {"name": "create_issue", "inputSchema": {"type": "object"}}]}}),
        ),
        _ => Reply::status(202),
    }
}

#[tokio::test]
async fn counts_tools_and_records_both_steps_without_the_token() {
    let stub = Stub::start(mcp_server).await;
    let trace = Trace::new();
    let tools = verify(&http(), &stub.url("/mcp"), &Secret::new(TOKEN), &trace)
        .await
        .unwrap();
    assert_eq!(tools, 2);
    let init = stub
        .requests()
        .into_iter()
        .find(|r| r.body.contains("\"initialize\""))
        .unwrap();
    assert!(init.body.contains("\"name\":\"lanyard\""), "{}", init.body);
    let steps = trace.steps();
    let kinds: Vec<StepKind> = steps.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [StepKind::McpInitialize, StepKind::McpToolsList]);
    assert!(
        steps
            .iter()
            .all(|s| s.status == Some(200) && s.note.is_none())
    );
    assert!(!serde_json::to_string(&steps).unwrap().contains("labsecret"));
}

#[tokio::test]
async fn rejected_token_is_unauthorized_with_the_challenge_error() {
    let stub = Stub::start(mcp_server).await;
    let trace = Trace::new();
    let err = verify(
        &http(),
        &stub.url("/mcp"),
        &Secret::new("labsecret_at_wrong"),
        &trace,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, McpError::Unauthorized { error: Some(ref e) } if e == "invalid_token"),
        "{err:?}"
    );
    let steps = trace.steps();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].status, Some(401));
    assert!(!format!("{err} {:?}", steps).contains("labsecret"));
}

#[tokio::test]
async fn forbidden_unchallenged_401_and_server_errors() {
    let forbidden = Stub::start(|_, _| {
        Reply::status(403).with_header(
            "www-authenticate",
            r#"Bearer error="insufficient_scope", scope="admin""#,
        )
    })
    .await;
    let err = verify(
        &http(),
        &forbidden.url("/mcp"),
        &Secret::new(TOKEN),
        &Trace::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, McpError::Forbidden { error: Some(ref e) } if e == "insufficient_scope"),
        "{err:?}"
    );

    let bare = Stub::start(|_, _| Reply::status(401)).await;
    let err = verify(
        &http(),
        &bare.url("/mcp"),
        &Secret::new(TOKEN),
        &Trace::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, McpError::Unauthorized { error: None }),
        "{err:?}"
    );

    let down = Stub::start(|_, _| Reply::status(503)).await;
    let err = verify(
        &http(),
        &down.url("/mcp"),
        &Secret::new(TOKEN),
        &Trace::new(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), Some(503), "{err:?}");
}

#[tokio::test]
async fn dead_port_is_a_transport_error_and_plain_http_elsewhere_is_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = Url::parse(&format!("http://{}/mcp", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let err = verify(&http(), &url, &Secret::new(TOKEN), &Trace::new())
        .await
        .unwrap_err();
    assert!(matches!(err, McpError::Transport(_)), "{err:?}");

    let trace = Trace::new();
    let err = verify(
        &http(),
        &Url::parse("http://mcp.example/mcp").unwrap(),
        &Secret::new(TOKEN),
        &trace,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, McpError::InsecureEndpoint(_)), "{err:?}");
    assert_eq!(trace.steps().len(), 1);
}

#[test]
fn the_transport_config_never_shows_the_token_in_debug() {
    let url = Url::parse("http://127.0.0.1:9/mcp").unwrap();
    let config = transport_config(&url, &Secret::new(TOKEN)).unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
}
