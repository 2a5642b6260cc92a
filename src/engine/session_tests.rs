//! The session against the in-test IdP (`oidc::test_idp`, rotating refresh tokens that are
//! refused once spent): rotation is never lost, and two engines on one state folder — two
//! processes, as far as the session lock can tell — never spend the same refresh token.

use std::sync::Arc;
use std::time::Duration;

use crate::protocol::oidc::test_idp::{CLIENT_ID, TestIdp};
use crate::protocol::oidc::{Browser, SignInOptions};
use crate::secret::Secret;
use crate::store::{MemoryStore, SecretStore, items};
use crate::trace::Trace;
use crate::{Lanyard, Options};

struct Setup {
    idp: TestIdp,
    store: Arc<MemoryStore>,
    state: tempfile::TempDir,
    policy: tempfile::NamedTempFile,
}

async fn setup() -> Setup {
    let idp = TestIdp::start(crate::clock::system()).await;
    let policy = tempfile::NamedTempFile::new().unwrap();
    let doc = serde_json::json!({
        "idp": {"issuer": idp.issuer, "client_id": CLIENT_ID, "token_endpoint_auth_method": "none"},
        "connectors": [{"id": "linear", "name": "Linear", "mcp_url": "http://127.0.0.1:9/mcp", "client_id": "c"}]
    });
    std::fs::write(policy.path(), doc.to_string()).unwrap();
    Setup {
        idp,
        store: Arc::new(MemoryStore::default()),
        state: tempfile::tempdir().unwrap(),
        policy,
    }
}

fn engine(s: &Setup) -> Lanyard {
    let store: Arc<dyn SecretStore> = s.store.clone();
    Lanyard::open(Options {
        policy_path: Some(s.policy.path().to_path_buf()),
        state_dir: Some(s.state.path().to_path_buf()),
        store: Some(store),
        http_timeout: Some(Duration::from_secs(10)),
        ..Options::default()
    })
    .unwrap()
}

async fn signed_in(s: &Setup) -> Lanyard {
    let engine = engine(s);
    engine
        .session
        .sign_in(SignInOptions {
            browser: Browser::Command("curl -fsSL -o /dev/null".into()),
            timeout: Duration::from_secs(20),
            cancel: None,
            login_hint: None,
            prompt: None,
        })
        .await
        .expect("sign in");
    engine
}

fn refresh_token(s: &Setup) -> Secret {
    s.store
        .get(items::REFRESH_TOKEN)
        .unwrap()
        .expect("a refresh token")
}

#[tokio::test]
async fn a_rotated_refresh_token_survives_a_bad_new_id_token() {
    let s = setup().await;
    let engine = signed_in(&s).await;
    let spent = refresh_token(&s);
    // The IdP rotates the refresh token but sends an ID token for another audience.
    s.idp.set(|k| k.aud = Some("someone-else".into()));
    let refused = engine.session.subject(&Trace::new(), true).await;
    assert!(matches!(refused, Err(super::NoSubject::NeedsSignIn(_))));
    let kept = refresh_token(&s);
    assert_ne!(kept, spent, "the rotated refresh token was dropped");
    // The kept token is the live one: with a good ID token again, the session renews.
    s.idp.set(|k| k.aud = None);
    let renewed = engine.session.subject(&Trace::new(), true).await;
    assert!(matches!(renewed, Ok(super::Subject::IdToken(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_racing_refreshes_never_lose_the_session() {
    let s = setup().await;
    let first = Arc::new(signed_in(&s).await);
    // A second engine on the same state folder and keyring: its own in-process lock, so only
    // the file lock stands between them, as between the app and `lanyard refresh`.
    let second = Arc::new(engine(&s));
    for round in 0..50 {
        let (a, b) = (first.clone(), second.clone());
        let (ra, rb) = tokio::join!(
            tokio::spawn(async move { a.session.subject(&Trace::new(), true).await.is_ok() }),
            tokio::spawn(async move { b.session.subject(&Trace::new(), true).await.is_ok() }),
        );
        assert!(
            ra.unwrap() && rb.unwrap(),
            "round {round}: a refresh lost the session"
        );
    }
    let state = first.ctx.dir.load().unwrap();
    assert!(!state.session.unwrap().expired);
}

#[tokio::test]
async fn the_policys_idp_limit_is_set_at_open_and_on_the_origins_discovery_names() {
    let s = setup().await;
    // The IdP names its endpoints on another origin than its issuer (same server).
    let port = s.idp.issuer.rsplit(':').next().unwrap().to_string();
    let elsewhere = format!("http://localhost:{port}");
    s.idp.set(|k| k.endpoints_base = Some(elsewhere.clone()));
    let doc = serde_json::json!({
        "idp": {"issuer": s.idp.issuer, "client_id": CLIENT_ID, "max_concurrent_requests": 32},
        "connectors": [{"id": "linear", "mcp_url": "http://127.0.0.1:9/mcp", "client_id": "c"}]
    });
    std::fs::write(s.policy.path(), doc.to_string()).unwrap();
    let engine = engine(&s);
    let url = |u: &str| url::Url::parse(u).unwrap();
    let http = &engine.ctx.http;
    let default = crate::http::DEFAULT_PER_HOST_CONCURRENCY;
    assert_eq!(http.origin_limit(&url(&s.idp.issuer)), 32, "set at open");
    assert_eq!(
        http.origin_limit(&url(&elsewhere)),
        default,
        "unknown before discovery"
    );
    let idp = engine.session.idp_client(&Trace::new()).await.unwrap();
    assert!(idp.token_endpoint().as_str().starts_with(&elsewhere));
    assert_eq!(http.origin_limit(idp.token_endpoint()), 32);
    assert_eq!(
        http.origin_limit(&url("http://127.0.0.1:9/mcp")),
        default,
        "a connector's origin keeps the default"
    );
}
