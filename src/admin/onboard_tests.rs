//! Onboarding's choices (auth method, id, name) and refusals, against in-test servers.

use super::*;
use crate::protocol::discovery::stub_server::{Reply, Stub, http};
use serde_json::json;

fn meta(methods: &[&str], grants: &[&str], profiles: &[&str]) -> ConnectorMetadata {
    ConnectorMetadata {
        resource: "https://mcp.example/mcp".into(),
        as_issuer: "https://as.example".into(),
        token_endpoint: Url::parse("https://as.example/token").unwrap(),
        revocation_endpoint: None,
        grant_types_supported: grants.iter().map(|s| s.to_string()).collect(),
        grant_profiles_supported: profiles.iter().map(|s| s.to_string()).collect(),
        token_endpoint_auth_methods_supported: methods.iter().map(|s| s.to_string()).collect(),
        challenge_scopes: None,
        scopes_supported: vec![],
        supports_id_jag: true,
        fetched_at: chrono::Utc::now(),
    }
}

#[test]
fn the_auth_method_is_one_the_server_supports() {
    use AuthMethod as M;
    let all = meta(&["client_secret_post", "private_key_jwt", "none"], &[], &[]);
    assert_eq!(choose_auth_method(&all, None, false).unwrap(), M::None);
    assert_eq!(
        choose_auth_method(&all, None, true).unwrap(),
        M::ClientSecretPost
    );
    let no_none = meta(&["client_secret_basic", "private_key_jwt"], &[], &[]);
    assert_eq!(
        choose_auth_method(&no_none, None, false).unwrap(),
        M::PrivateKeyJwt
    );
    assert_eq!(
        choose_auth_method(&no_none, Some(M::ClientSecretBasic), true).unwrap(),
        M::ClientSecretBasic
    );

    let e = choose_auth_method(&no_none, Some(M::ClientSecretPost), true).unwrap_err();
    assert!(matches!(e, Refusal::AuthMethodUnsupported { .. }));
    assert!(
        e.to_string()
            .contains("client_secret_basic, private_key_jwt"),
        "{e}"
    );
    assert!(e.fix().contains("--auth-method"));
    let secret_only = meta(&["client_secret_basic"], &[], &[]);
    assert!(matches!(
        choose_auth_method(&secret_only, None, false),
        Err(Refusal::SecretNeeded { .. })
    ));
    assert!(matches!(
        choose_auth_method(&all, Some(M::None), true),
        Err(Refusal::SecretUnused { .. })
    ));
    assert!(matches!(
        choose_auth_method(&meta(&["none"], &[], &[]), None, true),
        Err(Refusal::NoUsableAuthMethod { .. })
    ));
}

#[test]
fn zero_touch_needs_the_grant_and_the_profile() {
    let both = meta(&[], &[JWT_BEARER_GRANT], &[ID_JAG_PROFILE]);
    assert!(require_zero_touch(&both).is_ok());
    let grant_only = meta(&[], &[JWT_BEARER_GRANT], &[]);
    let e = require_zero_touch(&grant_only).unwrap_err();
    assert!(e.to_string().starts_with("not zero-touch yet"), "{e}");
    assert!(e.to_string().contains("ID-JAG grant profile"), "{e}");
    assert_eq!(e.code(), "no_id_jag_support");
    let neither = meta(&[], &["authorization_code"], &[]);
    assert!(
        require_zero_touch(&neither)
            .unwrap_err()
            .to_string()
            .contains("nor")
    );
}

#[test]
fn ids_and_names() {
    assert_eq!(slug("Linear"), "linear");
    assert_eq!(slug("Google Drive (beta)"), "google-drive-beta");
    assert_eq!(slug("***"), "connector");
    assert_eq!(
        host_name(&Url::parse("https://mcp.linear.app/mcp").unwrap()),
        "linear"
    );
    assert_eq!(
        host_name(&Url::parse("https://api.asana.com/v2").unwrap()),
        "asana"
    );
    assert_eq!(
        host_name(&Url::parse("http://127.0.0.1:9/mcp").unwrap()),
        "127.0.0.1"
    );
    let existing = [Existing {
        id: "linear".into(),
        mcp_url: "https://mcp.linear.app/mcp".into(),
    }];
    assert!(matches!(
        check_id("Linear", &existing),
        Err(Refusal::DuplicateId { .. })
    ));
    assert!(matches!(
        check_id("sign-out", &existing),
        Err(Refusal::ReservedId { .. })
    ));
    assert!(matches!(
        check_id("a b", &existing),
        Err(Refusal::BadId { .. })
    ));
    assert!(check_id("asana", &existing).is_ok());
}

fn server(
    profiles: serde_json::Value,
) -> impl Fn(&crate::protocol::discovery::stub_server::Captured, &str) -> Reply {
    move |r, base| match r.path.as_str() {
        "/mcp" => Reply::status(401).with_header("www-authenticate", "Bearer"),
        "/.well-known/oauth-protected-resource/mcp" => Reply::json(
            200,
            json!({"resource": format!("{base}/mcp"), "authorization_servers": [base],
                   "scopes_supported": ["notes:read"], "resource_name": "Acme Notes"}),
        ),
        "/.well-known/oauth-authorization-server" => Reply::json(
            200,
            json!({"issuer": base, "token_endpoint": format!("{base}/token"),
                   "grant_types_supported": [JWT_BEARER_GRANT],
                   "authorization_grant_profiles_supported": profiles,
                   "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"]}),
        ),
        _ => Reply::status(404),
    }
}

fn request(stub: &Stub) -> AddRequest {
    AddRequest {
        mcp_url: stub.url("/mcp"),
        client_id: Some("lanyard".into()),
        client_secret_env: None,
        auth_method: None,
        id: None,
        name: None,
    }
}

#[tokio::test]
async fn a_server_becomes_a_complete_entry() {
    let stub = Stub::start(server(json!([ID_JAG_PROFILE]))).await;
    let entry = onboard(&http(), &request(&stub), &[], &Trace::new())
        .await
        .unwrap();
    assert_eq!(entry.id, "acme-notes");
    assert_eq!(entry.name, "Acme Notes", "from the PRM's resource_name");
    assert_eq!(entry.as_issuer.as_deref(), Some(stub.base.as_str()));
    assert_eq!(entry.scopes, Some(vec!["notes:read".to_string()]));
    assert_eq!(entry.token_endpoint_auth_method, AuthMethod::None);
    assert!(entry.client_secret.is_none());

    let existing = [Existing {
        id: "notes".into(),
        mcp_url: stub.url("/mcp").to_string(),
    }];
    let e = onboard(&http(), &request(&stub), &existing, &Trace::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Refusal::DuplicateUrl { .. }), "{e}");
}

#[tokio::test]
async fn servers_that_cannot_be_zero_touch_are_refused_with_a_fix() {
    let stub = Stub::start(server(json!([]))).await;
    let e = onboard(&http(), &request(&stub), &[], &Trace::new())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not zero-touch yet"), "{e}");

    let no_prm = Stub::start(|r, _| match r.path.as_str() {
        "/mcp" => Reply::status(401).with_header("www-authenticate", "Bearer"),
        _ => Reply::status(404),
    })
    .await;
    let e = onboard(&http(), &request(&no_prm), &[], &Trace::new())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "no_resource_metadata");
    assert!(e.fix().contains("oauth-protected-resource"), "{}", e.fix());
}
