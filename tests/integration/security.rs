//! What must be refused: an IdP whose discovery document names another issuer, a forged
//! callback with the wrong `state`, plain-http endpoints off loopback, and a replayed ID-JAG.

use lanyard::policy;
use lanyard::protocol::oidc::Browser;

use crate::support::*;

fn rewrite_policy(
    lab: &lanyard_lab::Lab,
    dir: &std::path::Path,
    edit: impl Fn(&mut serde_json::Value),
) -> std::path::PathBuf {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(lab.policy_path()).unwrap()).unwrap();
    edit(&mut v);
    let path = dir.join("policy.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_mismatch_is_refused_before_sign_in() {
    let lab = lab_for("ada@lab.example").await;
    let dir = tempfile::tempdir().unwrap();
    // One trailing slash is enough: issuers are compared character for character.
    let path = rewrite_policy(&lab, dir.path(), |v| {
        let issuer = v["idp"]["issuer"].as_str().unwrap().to_string();
        v["idp"]["issuer"] = format!("{issuer}/").into();
    });
    let env = engine_with(&path, None);
    let err = env
        .engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "issuer_mismatch", "{err}");
    assert_eq!(
        env.engine.status().unwrap().exit_code(),
        3,
        "still signed out"
    );
}

#[test]
fn plain_http_off_loopback_is_refused_by_the_policy() {
    let text =
        r#"{"idp": {"issuer": "http://idp.example.com", "client_id": "c"}, "connectors": []}"#;
    let err = policy::parse(text, std::path::Path::new("p.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("idp.issuer") && err.contains("https"), "{err}");
    let text = r#"{"idp": {"issuer": "https://idp.example.com", "client_id": "c"},
                   "connectors": [{"id": "x", "mcp_url": "http://10.0.0.5/mcp", "client_id": "c"}]}"#;
    let err = policy::parse(text, std::path::Path::new("p.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("connectors[0].mcp_url"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_callback_with_the_wrong_state_is_refused() {
    let lab = lab_for("ada@lab.example").await;
    let env = engine(&lab);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("forged-status");
    // A "browser" that first forges a callback with a wrong state (as a malicious page could),
    // then follows the real authorization URL.
    let script = dir.path().join("browser.sh");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
redirect=$(python3 -c 'import sys,urllib.parse as u; print(u.parse_qs(u.urlparse(sys.argv[1]).query)["redirect_uri"][0])' "$1")
curl -s -o /dev/null -w '%{{http_code}}' "$redirect?code=labsecret_code_forged&state=forged" > {log}
exec curl -fsSL -o /dev/null "$1"
"#,
            log = log.display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let status = env
        .engine
        .sign_in(sign_in_options(Browser::Command(
            script.display().to_string(),
        )))
        .await
        .expect("the real callback still completes the sign-in");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "400",
        "the forged callback got a 400"
    );
    assert_eq!(status.exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_id_jag_is_refused_by_the_connector() {
    use lanyard::protocol::client_auth::ClientAuth;
    use lanyard::protocol::discovery::{MetadataCache, discover};
    use lanyard::protocol::jwt_bearer::redeem_id_jag;
    use lanyard::protocol::token_exchange::{SubjectToken, request_id_jag};
    use lanyard::store::{KeyringStore, SecretStore, items};

    let lab = lab_for("ada@lab.example").await;
    let env = engine(&lab);
    env.engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap();
    let pol = env.engine.policy().clone();
    let id_token = KeyringStore::open(env.state.path())
        .unwrap()
        .get(items::ID_TOKEN)
        .unwrap()
        .unwrap();

    let http = lanyard::http::Http::new(lanyard::clock::system());
    let trace = lanyard::trace::Trace::new();
    let linear = pol.connectors.iter().find(|c| c.id == "linear").unwrap();
    let meta = discover(&http, &linear.mcp_url, &MetadataCache::default(), &trace)
        .await
        .unwrap();
    let idp_secret = pol.idp.client_secret.as_ref().map(|s| s.resolve().unwrap());
    let idp_auth = ClientAuth::new(
        &pol.idp.client_id,
        pol.idp.token_endpoint_auth_method,
        idp_secret,
    );
    let token_endpoint = url::Url::parse(&format!("{}/token", lab.ready().idp_issuer)).unwrap();
    let issued = request_id_jag(
        &http,
        &token_endpoint,
        &idp_auth,
        SubjectToken::IdToken(&id_token),
        &meta.as_issuer,
        &meta.resource,
        &[],
        &trace,
    )
    .await
    .unwrap();
    let secret = linear.client_secret.as_ref().map(|s| s.resolve().unwrap());
    let auth = ClientAuth::new(&linear.client_id, linear.token_endpoint_auth_method, secret);
    redeem_id_jag(&http, &meta, &auth, &issued.id_jag, &[], &trace)
        .await
        .expect("first use works");
    let replay = redeem_id_jag(&http, &meta, &auth, &issued.id_jag, &[], &trace).await;
    assert!(replay.is_err(), "the same ID-JAG twice is refused");
    assert_eq!(lab.jti_replays(), 1);
    let last = trace.steps().into_iter().last().unwrap();
    assert_eq!(last.oauth_error.unwrap().error, "invalid_grant");
}
