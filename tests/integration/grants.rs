//! Sign in through the real loopback callback; each directory user gets exactly the
//! connectors their groups grant, denials carry the IdP's code, Slack is unsupported.

use lanyard::view::connector::ConnectorState::{self, *};
use lanyard::view::status::{SessionState, StatusView};

use crate::support::*;

fn state_of(status: &StatusView, id: &str) -> ConnectorState {
    status
        .connectors
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{id} listed"))
        .state
}

async fn sign_in_as(user: &str) -> StatusView {
    let lab = lab_for(user).await;
    let env = engine(&lab);
    let status = env
        .engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .expect("sign-in works");
    assert_eq!(lab.jti_replays(), 0, "Lanyard never reuses an ID-JAG");
    // `status` afterwards reads the same thing from the state file alone.
    assert_eq!(env.engine.status().unwrap(), status);
    // And so does `lanyard status`, which opens no engine (no keyring, no HTTP client).
    let without_engine = lanyard::Lanyard::status_of(lanyard::Options {
        policy_path: Some(lab.policy_path().to_path_buf()),
        state_dir: Some(env.state.path().to_path_buf()),
        ..lanyard::Options::default()
    })
    .expect("status without an engine");
    assert_eq!(without_engine, status);
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ada_gets_engineering_and_everyone_connectors() {
    let status = sign_in_as("ada@lab.example").await;
    assert_eq!(status.session.state, SessionState::SignedIn);
    assert_eq!(status.session.email.as_deref(), Some("ada@lab.example"));
    assert!(
        status.session.renewable,
        "offline_access gives a refresh token"
    );
    let now = chrono::Utc::now();
    for id in ["atlassian", "granola", "linear", "supabase"] {
        let c = status.connectors.iter().find(|c| c.id == id).unwrap();
        assert_eq!(c.state, Granted, "{id}: {:?}", c.error);
        assert!(
            c.expires_at.is_some_and(|e| e > now),
            "{id} has a future expiry"
        );
        assert!(c.tools.is_some_and(|n| n > 0), "{id} lists tools");
        assert!(!c.scopes.is_empty(), "{id} has scopes");
        assert!(c.error.is_none());
    }
    for id in ["asana", "canva", "figma"] {
        let c = status.connectors.iter().find(|c| c.id == id).unwrap();
        assert_eq!(c.state, Denied, "{id}");
        let e = c.error.as_ref().expect("a denial has a cause");
        assert_eq!(e.code, "invalid_target", "{id} carries the IdP's own code");
        assert!(!e.hint.is_empty());
        assert!(c.expires_at.is_none() && c.tools.is_none());
    }
    assert_eq!(state_of(&status, "slack"), Unsupported);
    assert_eq!(status.exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grace_sam_and_pat_get_their_groups() {
    let cases: [(&str, &[&str]); 3] = [
        (
            "grace@lab.example",
            &["atlassian", "granola", "figma", "canva"],
        ),
        ("sam@lab.example", &["atlassian", "granola", "asana"]),
        ("pat@lab.example", &["atlassian", "granola"]),
    ];
    for (user, granted) in cases {
        let status = sign_in_as(user).await;
        for c in &status.connectors {
            let expected = if c.id == "slack" {
                Unsupported
            } else if granted.contains(&c.id.as_str()) {
                Granted
            } else {
                Denied
            };
            assert_eq!(c.state, expected, "{user}: {}", c.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_one_connector_and_logout() {
    let lab = lab_for("ada@lab.example").await;
    let env = engine(&lab);
    let first = env
        .engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap();
    let before = first
        .connectors
        .iter()
        .find(|c| c.id == "linear")
        .unwrap()
        .clone();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let after = env.engine.refresh(Some("linear")).await.unwrap();
    let linear = after.connectors.iter().find(|c| c.id == "linear").unwrap();
    assert_eq!(linear.state, Granted);
    assert!(
        linear.expires_at > before.expires_at,
        "a new token was obtained"
    );
    assert!(env.engine.refresh(Some("nope")).await.is_err());

    let ema_grants = lab.grants().iter().filter(|g| g.kind == "ema").count();
    assert!(ema_grants >= 4);
    let report = env.engine.logout().await.unwrap();
    assert_eq!(report.revoked_at_idp, Some(true));
    let status = env.engine.status().unwrap();
    assert_eq!(status.session.state, SessionState::SignedOut);
    assert_eq!(status.exit_code(), 3);
    assert!(
        env.engine.access_token("linear").unwrap().is_none(),
        "tokens forgotten"
    );
}
