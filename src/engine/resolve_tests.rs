//! `resolve_connector` against one in-test server playing IdP, AS and MCP server.

use super::*;
use crate::policy::AuthMethod;
use crate::protocol::discovery::stub_server::{Captured, Reply, Stub, http};
use crate::protocol::discovery::{ID_JAG_PROFILE, JWT_BEARER_GRANT};
use crate::protocol::mcp::tests::{TOKEN, mcp_server};
use crate::protocol::token_exchange::ID_JAG_TOKEN_TYPE;
use crate::secret::Secret;
use crate::trace::StepKind;
use crate::view::connector::ConnectorState;
use serde_json::json;

#[derive(Clone, Copy, PartialEq)]
enum AsMode {
    Ok,
    WantsClientIdInBody,
    InvalidGrant,
    NoIdJag,
}

#[derive(Clone, Copy)]
struct World {
    idp_error: Option<&'static str>,
    as_mode: AsMode,
    token: &'static str,
}

impl Default for World {
    fn default() -> Self {
        Self {
            idp_error: None,
            as_mode: AsMode::Ok,
            token: TOKEN,
        }
    }
}

fn handler(w: World) -> impl Fn(&Captured, &str) -> Reply + Send + Sync + 'static {
    move |r, base| {
        let jag = crate::protocol::jwt_peek::unsigned_jwt(
            json!({"typ": "oauth-id-jag+jwt"}),
            json!({"aud": format!("{base}/as"), "jti": uuid::Uuid::new_v4().to_string()}),
        );
        match r.path.as_str() {
            "/mcp" if r.header("authorization").is_none() => Reply::status(401).with_header(
                "www-authenticate",
                format!(r#"Bearer resource_metadata="{base}/.well-known/oauth-protected-resource/mcp", scope="issues:read""#),
            ),
            "/mcp" => mcp_server(r, base),
            "/.well-known/oauth-protected-resource/mcp" => Reply::json(
                200,
                json!({"resource": format!("{base}/mcp"), "authorization_servers": [format!("{base}/as")],
                       "scopes_supported": ["issues:read", "issues:write"]}),
            ),
            "/.well-known/oauth-authorization-server/as" => {
                let grants = if w.as_mode == AsMode::NoIdJag { json!(["authorization_code"]) } else { json!([JWT_BEARER_GRANT]) };
                let profiles = if w.as_mode == AsMode::NoIdJag { json!([]) } else { json!([ID_JAG_PROFILE]) };
                Reply::json(
                    200,
                    json!({"issuer": format!("{base}/as"), "token_endpoint": format!("{base}/as/token"),
                           "grant_types_supported": grants, "authorization_grant_profiles_supported": profiles}),
                )
            }
            "/idp/token" => match w.idp_error {
                Some(code) => Reply::json(400, json!({"error": code})),
                None => Reply::json(
                    200,
                    json!({"access_token": jag.expose(), "issued_token_type": ID_JAG_TOKEN_TYPE,
                           "token_type": "N_A", "expires_in": 300}),
                ),
            },
            "/as/token" => match w.as_mode {
                AsMode::WantsClientIdInBody if !r.body.contains("client_id=") => Reply::json(
                    400,
                    json!({"error": "invalid_request", "error_description": "Missing client_id"}),
                ),
                AsMode::InvalidGrant => Reply::json(400, json!({"error": "invalid_grant"})),
                _ => Reply::json(200, json!({"access_token": w.token, "token_type": "Bearer", "expires_in": 3600})),
            },
            _ => Reply::status(404),
        }
    }
}

fn connector(stub: &Stub) -> ConnectorConfig {
    ConnectorConfig {
        id: crate::policy::ConnectorId::parse("linear").unwrap(),
        name: "Linear".into(),
        mcp_url: stub.url("/mcp"),
        client_id: "lanyard-at-linear".into(),
        client_secret: None,
        token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
        scopes: None,
        as_issuer: None,
        token_endpoint_origin: None,
    }
}

struct Run {
    resolution: Resolution,
    trace: Trace,
}

async fn resolve(stub: &Stub, cache: &MetadataCache) -> Run {
    let http = http();
    let idp_token_endpoint = stub.url("/idp/token");
    let idp_auth = ClientAuth::new(
        "lanyard",
        AuthMethod::ClientSecretPost,
        Some(Secret::new("idp-secret")),
    );
    let ctx = ConnectorContext {
        http: &http,
        cache,
        idp_issuer: &stub.base,
        idp_token_endpoint: &idp_token_endpoint,
        idp_auth: &idp_auth,
    };
    let auth = ClientAuth::new(
        "lanyard-at-linear",
        AuthMethod::ClientSecretBasic,
        Some(Secret::new("as-secret")),
    );
    let id_token = Secret::new("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2ln");
    let trace = Trace::new();
    let resolution = resolve_connector(
        &ctx,
        &connector(stub),
        &auth,
        SubjectToken::IdToken(&id_token),
        &trace,
    )
    .await;
    Run { resolution, trace }
}

fn count(stub: &Stub, path: &str) -> usize {
    stub.paths().iter().filter(|p| p.as_str() == path).count()
}

fn assert_no_secrets(trace: &Trace) {
    let text = serde_json::to_string(&trace.steps()).unwrap();
    assert!(
        !text.contains("labsecret") && !text.contains("eyJ") && !text.contains("secret"),
        "{text}"
    );
}

#[tokio::test]
async fn granted_end_to_end_with_challenge_scopes() {
    let stub = Stub::start(handler(World::default())).await;
    let run = resolve(&stub, &MetadataCache::default()).await;
    let Resolution::Granted(grant) = run.resolution else {
        panic!("{:?}", run.resolution)
    };
    assert_eq!(grant.tools, Some(2));
    assert_eq!(grant.scopes, ["issues:read"]);
    assert_eq!(grant.as_issuer, format!("{}/as", stub.base));
    assert_eq!(grant.resource, format!("{}/mcp", stub.base));
    assert!(grant.expires_at.is_some());
    let kinds: Vec<StepKind> = run.trace.steps().iter().map(|s| s.kind).collect();
    assert_eq!(
        &kinds[..],
        [
            StepKind::McpProbe,
            StepKind::ProtectedResourceMetadata,
            StepKind::AuthorizationServerMetadata,
            StepKind::TokenExchange,
            StepKind::JwtBearer,
            StepKind::McpInitialize,
            StepKind::McpToolsList
        ]
    );
    assert_no_secrets(&run.trace);
    let exchange = stub
        .requests()
        .into_iter()
        .find(|r| r.path == "/idp/token")
        .unwrap();
    assert!(
        exchange.body.contains("&scope=issues%3Aread&"),
        "{}",
        exchange.body
    );
}

#[tokio::test]
async fn idp_denial_stops_before_the_authorization_server() {
    let stub = Stub::start(handler(World {
        idp_error: Some("invalid_target"),
        ..World::default()
    }))
    .await;
    let run = resolve(&stub, &MetadataCache::default()).await;
    let Resolution::Failed { state, error, .. } = run.resolution else {
        panic!("expected a failure")
    };
    assert_eq!(state, ConnectorState::Denied);
    assert_eq!(error.code, "invalid_target");
    assert!(error.hint.contains("If you need Linear"), "{}", error.hint);
    assert_eq!(count(&stub, "/as/token"), 0);
}

#[tokio::test]
async fn client_id_quirk_retries_once_with_a_fresh_id_jag_and_is_remembered() {
    let stub = Stub::start(handler(World {
        as_mode: AsMode::WantsClientIdInBody,
        ..World::default()
    }))
    .await;
    let cache = MetadataCache::default();
    let run = resolve(&stub, &cache).await;
    assert!(
        matches!(run.resolution, Resolution::Granted(_)),
        "{:?}",
        run.resolution
    );
    assert_eq!(
        (count(&stub, "/idp/token"), count(&stub, "/as/token")),
        (2, 2)
    );
    assert!(cache.wants_client_id_in_body(&format!("{}/as", stub.base)));
    let assertions: Vec<String> = stub
        .requests()
        .into_iter()
        .filter(|r| r.path == "/as/token")
        .map(|r| {
            r.body
                .split('&')
                .find(|kv| kv.starts_with("assertion="))
                .unwrap()
                .to_string()
        })
        .collect();
    assert_ne!(
        assertions[0], assertions[1],
        "each attempt must use a fresh ID-JAG"
    );

    // Next time: client_id in the body from the start.
    resolve(&stub, &cache).await;
    assert_eq!(
        (count(&stub, "/idp/token"), count(&stub, "/as/token")),
        (3, 3)
    );
}

#[tokio::test]
async fn as_invalid_grant_is_retried_once_then_misconfigured() {
    let stub = Stub::start(handler(World {
        as_mode: AsMode::InvalidGrant,
        ..World::default()
    }))
    .await;
    let run = resolve(&stub, &MetadataCache::default()).await;
    let Resolution::Failed { state, error, .. } = run.resolution else {
        panic!("expected a failure")
    };
    assert_eq!(
        (state, error.stage, error.code.as_str()),
        (
            ConnectorState::Misconfigured,
            Stage::JwtBearer,
            "invalid_grant"
        )
    );
    assert_eq!(
        (count(&stub, "/idp/token"), count(&stub, "/as/token")),
        (2, 2)
    );
}

#[tokio::test]
async fn without_id_jag_support_no_token_is_requested() {
    let stub = Stub::start(handler(World {
        as_mode: AsMode::NoIdJag,
        ..World::default()
    }))
    .await;
    let run = resolve(&stub, &MetadataCache::default()).await;
    assert_eq!(run.resolution.state(), ConnectorState::Unsupported);
    assert_eq!(count(&stub, "/idp/token"), 0);
}

#[tokio::test]
async fn mcp_refusing_a_fresh_token_is_misconfigured_and_metadata_is_forgotten() {
    let stub = Stub::start(handler(World {
        token: "labsecret_at_not_accepted",
        ..World::default()
    }))
    .await;
    let cache = MetadataCache::default();
    let run = resolve(&stub, &cache).await;
    let Resolution::Failed { state, error, .. } = run.resolution else {
        panic!("expected a failure")
    };
    assert_eq!(
        (state, error.stage),
        (ConnectorState::Misconfigured, Stage::Mcp)
    );
    assert_eq!(error.code, "invalid_token");
    assert!(cache.get(&stub.url("/mcp"), chrono::Utc::now()).is_none());
    assert_no_secrets(&run.trace);
}
