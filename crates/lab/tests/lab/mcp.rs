//! MCP servers: 401 challenges, header-only bearer, audience binding, a real initialize.

use crate::common::*;
use serde_json::Value;

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"lab-test","version":"1"}}}"#;

fn www_authenticate(resp: &reqwest::Response) -> String {
    resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn unauthenticated_requests_get_the_right_challenge() {
    let lab = ada_lab().await;
    let linear = connector(&lab, "linear");
    let resp = http()
        .post(&linear.mcp_url)
        .body(INIT)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let origin = linear.mcp_url.trim_end_matches("/mcp");
    assert_eq!(
        www_authenticate(&resp),
        format!(
            r#"Bearer resource_metadata="{origin}/.well-known/oauth-protected-resource/mcp", scope="linear:read linear:write""#
        )
    );
    let granola = connector(&lab, "granola");
    let resp = http()
        .post(&granola.mcp_url)
        .body(INIT)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        www_authenticate(&resp),
        r#"Bearer scope="granola:read granola:write""#
    );

    let resp = http()
        .post(&linear.mcp_url)
        .bearer_auth("labsecret_at_nope")
        .body(INIT)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(www_authenticate(&resp).starts_with(r#"Bearer error="invalid_token""#));
}

#[tokio::test]
async fn tokens_work_only_in_the_header_and_only_for_their_resource() {
    let lab = ada_lab().await;
    let token = access_token(&lab, "linear").await;
    let linear = connector(&lab, "linear");
    let resp = http()
        .post(format!("{}?access_token={token}", linear.mcp_url))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(INIT)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(www_authenticate(&resp).contains(r#"error="invalid_request""#));

    let supabase = connector(&lab, "supabase");
    let resp = http()
        .post(&supabase.mcp_url)
        .bearer_auth(&token)
        .body(INIT)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(www_authenticate(&resp).contains(r#"error="invalid_token""#));
}

/// The first JSON-RPC message in a JSON or SSE response body.
fn rpc_message(body: &str) -> Value {
    if let Ok(v) = serde_json::from_str(body) {
        return v;
    }
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("jsonrpc").is_some())
        .expect("a JSON-RPC message in the SSE stream")
}

#[tokio::test]
async fn a_valid_token_initializes_and_lists_tools() {
    let lab = ada_lab().await;
    let token = access_token(&lab, "linear").await;
    let linear = connector(&lab, "linear");
    let post = |body: &'static str, session: Option<String>| {
        let mut req = http()
            .post(&linear.mcp_url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body);
        if let Some(s) = session {
            req = req
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", "2025-06-18");
        }
        req.send()
    };
    let resp = post(INIT, None).await.unwrap();
    assert_eq!(resp.status(), 200);
    let session = resp
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_string());
    let init = rpc_message(&resp.text().await.unwrap());
    assert!(
        init["result"]["serverInfo"]["name"]
            .as_str()
            .unwrap()
            .starts_with("Linear")
    );
    let note = post(
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        session.clone(),
    )
    .await
    .unwrap();
    assert!(note.status().is_success());
    let resp = post(
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        session.clone(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let list = rpc_message(&resp.text().await.unwrap());
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "list_issues",
            "create_issue",
            "search_issues",
            "list_projects"
        ]
    );
}

#[tokio::test]
async fn a_read_only_token_may_not_call_a_writing_tool() {
    let lab = ada_lab().await;
    let tokens = sign_in(&lab).await;
    let jag = id_jag(&lab, tokens["id_token"].as_str().unwrap(), "linear").await;
    let resp = redeem(&lab, "linear", &jag, &[("scope", "linear:read")]).await;
    let token = resp.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let linear = connector(&lab, "linear");
    let resp = http()
        .post(&linear.mcp_url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"create_issue","arguments":{}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let challenge = www_authenticate(&resp);
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(challenge.contains("resource_metadata="), "{challenge}");
}
