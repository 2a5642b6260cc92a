//! Discovery against in-test servers: URL order, the issuer and resource checks, the cache.

use super::stub_server::{Reply, Stub, http};
use super::*;
use serde_json::json;
use std::sync::Arc;

fn prm(resource: &str, issuer: &str) -> Reply {
    Reply::json(
        200,
        json!({"resource": resource, "authorization_servers": [issuer], "scopes_supported": ["read", "write"]}),
    )
}

fn asm(issuer: &str, base: &str) -> Reply {
    Reply::json(
        200,
        json!({"issuer": issuer, "token_endpoint": format!("{base}/token"),
               "revocation_endpoint": format!("{base}/revoke"),
               "grant_types_supported": [JWT_BEARER_GRANT],
               "authorization_grant_profiles_supported": [ID_JAG_PROFILE],
               "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"]}),
    )
}

fn unauthorized(challenge: &str) -> Reply {
    Reply::status(401).with_header("www-authenticate", challenge.to_string())
}

async fn run(stub: &Stub, path: &str) -> Result<ConnectorMetadata, DiscoveryError> {
    discover(
        &http(),
        &stub.url(path),
        &MetadataCache::default(),
        &Trace::new(),
    )
    .await
}

#[tokio::test]
async fn challenge_header_leads_to_prm_then_as_metadata() {
    let stub = Stub::start(|r, base| match r.path.as_str() {
        "/mcp" => unauthorized(&format!(
            r#"Bearer error="invalid_token", resource_metadata="{base}/meta/prm", scope="read write""#
        )),
        "/meta/prm" => prm(&format!("{base}/mcp"), base),
        "/.well-known/oauth-authorization-server" => asm(base, base),
        _ => Reply::status(404),
    })
    .await;
    let trace = Trace::new();
    let meta = discover(
        &http(),
        &stub.url("/mcp"),
        &MetadataCache::default(),
        &trace,
    )
    .await
    .unwrap();
    assert_eq!(
        stub.paths(),
        [
            "/mcp",
            "/meta/prm",
            "/.well-known/oauth-authorization-server"
        ]
    );
    assert_eq!(meta.resource, format!("{}/mcp", stub.base));
    assert_eq!(meta.as_issuer, stub.base);
    assert_eq!(meta.token_endpoint.as_str(), format!("{}/token", stub.base));
    assert_eq!(
        meta.challenge_scopes.as_deref(),
        Some(&["read".to_string(), "write".to_string()][..])
    );
    assert_eq!(meta.scopes_supported, ["read", "write"]);
    assert!(meta.supports_id_jag);

    let probe = &stub.requests()[0];
    assert_eq!(probe.method, "POST");
    assert_eq!(
        probe.header("accept"),
        Some("application/json, text/event-stream")
    );
    assert!(probe.header("authorization").is_none());
    assert!(
        probe.body.contains("\"method\":\"initialize\""),
        "{}",
        probe.body
    );
    let kinds: Vec<StepKind> = trace.steps().iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            StepKind::McpProbe,
            StepKind::ProtectedResourceMetadata,
            StepKind::AuthorizationServerMetadata
        ]
    );
}

#[tokio::test]
async fn without_header_tries_path_inserted_then_root() {
    let stub = Stub::start(|r, base| match r.path.as_str() {
        "/v2/mcp" => Reply::status(401),
        "/.well-known/oauth-protected-resource" => prm(&format!("{base}/v2/mcp"), base),
        "/.well-known/oauth-authorization-server" => asm(base, base),
        _ => Reply::status(404),
    })
    .await;
    let meta = run(&stub, "/v2/mcp").await.unwrap();
    assert_eq!(
        stub.paths(),
        [
            "/v2/mcp",
            "/.well-known/oauth-protected-resource/v2/mcp",
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-authorization-server"
        ]
    );
    assert_eq!(meta.challenge_scopes, None);
}

#[tokio::test]
async fn issuer_with_path_uses_path_inserted_urls_in_spec_order() {
    let stub = Stub::start(|r, base| match r.path.as_str() {
        "/mcp" => Reply::status(401),
        "/.well-known/oauth-protected-resource/mcp" => {
            prm(&format!("{base}/mcp"), &format!("{base}/tenant1"))
        }
        "/tenant1/.well-known/openid-configuration" => asm(&format!("{base}/tenant1"), base),
        _ => Reply::status(404),
    })
    .await;
    let meta = run(&stub, "/mcp").await.unwrap();
    assert_eq!(
        &stub.paths()[2..],
        [
            "/.well-known/oauth-authorization-server/tenant1",
            "/.well-known/openid-configuration/tenant1",
            "/tenant1/.well-known/openid-configuration"
        ]
    );
    assert_eq!(meta.as_issuer, format!("{}/tenant1", stub.base));
}

#[tokio::test]
async fn issuer_mismatch_is_refused_even_for_a_trailing_slash() {
    let stub = Stub::start(|r, base| match r.path.as_str() {
        "/mcp" => Reply::status(401),
        "/.well-known/oauth-protected-resource/mcp" => prm(&format!("{base}/mcp"), base),
        "/.well-known/oauth-authorization-server" => asm(&format!("{base}/"), base),
        _ => Reply::status(404),
    })
    .await;
    match run(&stub, "/mcp").await {
        Err(DiscoveryError::IssuerMismatch { expected, found }) => {
            assert_eq!(expected, stub.base);
            assert_eq!(found, format!("{}/", stub.base));
        }
        other => panic!("expected IssuerMismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn prm_resource_for_another_server_is_refused() {
    let stub = Stub::start(|r, base| match r.path.as_str() {
        "/mcp" => Reply::status(401),
        "/.well-known/oauth-protected-resource/mcp" => prm(&format!("{base}/other"), base),
        _ => Reply::status(404),
    })
    .await;
    assert!(matches!(
        run(&stub, "/mcp").await,
        Err(DiscoveryError::ResourceMismatch { .. })
    ));
}

#[test]
fn resource_may_be_a_same_origin_path_prefix() {
    let mcp = Url::parse("https://mcp.example/v1/mcp").unwrap();
    for ok in [
        "https://mcp.example/v1/mcp",
        "https://mcp.example/",
        "https://mcp.example/v1",
        "https://mcp.example/v1/mcp/",
    ] {
        assert!(resource_allowed(ok, &mcp), "{ok}");
    }
    for bad in [
        "https://mcp.example/v1/mc",
        "https://other.example/v1/mcp",
        "http://mcp.example/v1/mcp",
        "nope",
    ] {
        assert!(!resource_allowed(bad, &mcp), "{bad}");
    }
}

#[tokio::test]
async fn cross_origin_resource_metadata_is_ignored() {
    // `localhost` reaches the same socket but is another origin than 127.0.0.1.
    let stub = Stub::start(|r, base| match r.path.as_str() {
        "/mcp" => unauthorized(&format!(
            r#"Bearer resource_metadata="{}/evil-prm""#,
            base.replace("127.0.0.1", "localhost")
        )),
        "/evil-prm" => prm(&format!("{base}/mcp"), base),
        _ => Reply::status(404),
    })
    .await;
    let err = run(&stub, "/mcp").await.unwrap_err();
    assert!(
        matches!(err, DiscoveryError::ResourceMetadataCrossOrigin { .. }),
        "{err:?}"
    );
    assert!(
        !stub.paths().contains(&"/evil-prm".to_string()),
        "{:?}",
        stub.paths()
    );
}

#[tokio::test]
async fn open_server_and_broken_metadata() {
    let open =
        Stub::start(|_, _| Reply::json(200, json!({"jsonrpc": "2.0", "id": 0, "result": {}})))
            .await;
    assert!(matches!(
        run(&open, "/mcp").await,
        Err(DiscoveryError::NoAuthRequired)
    ));

    let insecure = Stub::start(|r, base| match r.path.as_str() {
        "/mcp" => Reply::status(401),
        "/.well-known/oauth-protected-resource/mcp" => prm(&format!("{base}/mcp"), base),
        "/.well-known/oauth-authorization-server" => Reply::json(
            200,
            json!({"issuer": base, "token_endpoint": "http://as.example/token", "grant_types_supported": []}),
        ),
        _ => Reply::status(404),
    })
    .await;
    assert!(matches!(
        run(&insecure, "/mcp").await,
        Err(DiscoveryError::InsecureEndpoint { .. })
    ));

    let down = Stub::start(|r, _| match r.path.as_str() {
        "/mcp" => Reply::status(401),
        _ => Reply::status(503),
    })
    .await;
    assert!(matches!(
        run(&down, "/mcp").await,
        Err(DiscoveryError::UnexpectedStatus { status: 503, .. })
    ));

    let missing = Stub::start(|r, _| match r.path.as_str() {
        "/mcp" => Reply::status(401),
        _ => Reply::status(404),
    })
    .await;
    assert!(matches!(
        run(&missing, "/mcp").await,
        Err(DiscoveryError::ProtectedResourceMetadataNotFound { .. })
    ));
}

#[tokio::test]
async fn jwt_bearer_alone_counts_as_support_and_nothing_does_not() {
    for (grants, expected) in [
        (json!([JWT_BEARER_GRANT]), true),
        (json!(["authorization_code"]), false),
    ] {
        let grants = grants.clone();
        let stub = Stub::start(move |r, base| match r.path.as_str() {
            "/mcp" => Reply::status(401),
            "/.well-known/oauth-protected-resource/mcp" => prm(&format!("{base}/mcp"), base),
            "/.well-known/oauth-authorization-server" => Reply::json(
                200,
                json!({"issuer": base, "token_endpoint": format!("{base}/token"), "grant_types_supported": grants}),
            ),
            _ => Reply::status(404),
        })
        .await;
        assert_eq!(run(&stub, "/mcp").await.unwrap().supports_id_jag, expected);
    }
}

#[tokio::test]
async fn cache_reuses_for_an_hour_and_can_be_invalidated() {
    let stub = Stub::start(|r, base| match r.path.as_str() {
        "/mcp" => Reply::status(401),
        "/.well-known/oauth-protected-resource/mcp" => prm(&format!("{base}/mcp"), base),
        "/.well-known/oauth-authorization-server" => asm(base, base),
        _ => Reply::status(404),
    })
    .await;
    let clock = Arc::new(crate::clock::ManualClock::new(Utc::now()));
    let http = Http::new(clock.clone());
    let cache = MetadataCache::default();
    let url = stub.url("/mcp");
    let trace = Trace::new();
    discover(&http, &url, &cache, &trace).await.unwrap();
    let first = stub.requests().len();
    discover(&http, &url, &cache, &trace).await.unwrap();
    assert_eq!(
        stub.requests().len(),
        first,
        "second call must be served from the cache"
    );
    clock.advance(Duration::minutes(61));
    discover(&http, &url, &cache, &trace).await.unwrap();
    assert_eq!(stub.requests().len(), 2 * first, "stale after an hour");
    cache.invalidate(&url);
    discover(&http, &url, &cache, &trace).await.unwrap();
    assert_eq!(stub.requests().len(), 3 * first);

    assert!(!cache.wants_client_id_in_body("https://as"));
    cache.set_wants_client_id_in_body("https://as");
    assert!(cache.wants_client_id_in_body("https://as"));
    assert!(!cache.wants_client_id_in_body("https://as/"));
}

#[tokio::test]
async fn a_server_that_lets_initialize_through_is_still_found_by_well_known_metadata() {
    // 200 to the unauthenticated initialize (tools are protected), or a 400 from a stateless
    // 2026-07-28 server: the RFC 9728 document still leads to the authorization server.
    for probe_status in [200_u16, 400] {
        let stub = Stub::start(move |r, base| match r.path.as_str() {
            "/mcp" if probe_status == 200 => {
                Reply::json(200, json!({"jsonrpc": "2.0", "id": 0, "result": {}}))
            }
            "/mcp" => Reply::status(400),
            "/.well-known/oauth-protected-resource/mcp" => prm(&format!("{base}/mcp"), base),
            "/.well-known/oauth-authorization-server" => asm(base, base),
            _ => Reply::status(404),
        })
        .await;
        let meta = run(&stub, "/mcp").await.unwrap();
        assert!(meta.supports_id_jag, "probe {probe_status}");
        assert_eq!(meta.challenge_scopes, None);
    }
}

#[test]
fn a_remote_authorization_server_may_not_send_lanyard_to_loopback() {
    let prm: ProtectedResource = serde_json::from_value(json!({
        "resource": "https://mcp.example/mcp", "authorization_servers": ["https://as.example"]
    }))
    .unwrap();
    let asm: AuthorizationServerMetadata = serde_json::from_value(json!({
        "issuer": "https://as.example", "token_endpoint": "http://127.0.0.1:8080/token",
        "grant_types_supported": [JWT_BEARER_GRANT]
    }))
    .unwrap();
    let built = build(
        prm,
        asm,
        "https://as.example".into(),
        None,
        chrono::Utc::now(),
    );
    assert!(
        matches!(
            built,
            Err(DiscoveryError::Http {
                source: HttpError::LoopbackNotNamed(_),
                ..
            })
        ),
        "{built:?}"
    );
}
