//! No lab token (prefix `labsecret_`) or JWT ever reaches the state folder, the traces, the
//! status view or the engine's logs; nor do secrets that look like nothing in particular when
//! a server echoes them back.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::support::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// Current-thread: the capturing subscriber is thread-local, and every engine future runs here.
#[tokio::test]
async fn no_secret_in_state_traces_status_or_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("lanyard=trace,info")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let lab = lab_for("ada@lab.example").await;
    let env = engine(&lab);
    let status = env
        .engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap();
    env.engine.refresh(None).await.unwrap();

    let state_text = all_text_under(env.state.path());
    assert!(
        state_text.contains("linear"),
        "the state folder was written"
    );
    assert_no_secrets("state folder", &state_text);
    assert_no_secrets("status view", &serde_json::to_string(&status).unwrap());
    for name in ["sign-in", "linear", "asana", "slack"] {
        let steps = env.engine.trace(name);
        assert!(!steps.is_empty(), "{name} has a trace");
        assert_no_secrets(name, &serde_json::to_string(&steps).unwrap());
    }
    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert_no_secrets("logs", &log_text);
    env.engine.logout().await.unwrap();
    assert_no_secrets(
        "state folder after logout",
        &all_text_under(env.state.path()),
    );
}

/// A client secret of plain words (nothing a shape rule would catch) and an RFC 6749-style
/// 22-character refresh token: neither lab-shaped.
const PLANTED_CLIENT_SECRET: &str = "violet-harbor-lantern-4821";
const PLANTED_REFRESH_TOKEN: &str = "tGzv3JOkF0XG5Qx2TlKWIA";

/// Secrets that do not look like lab tokens, echoed back by the lab's token endpoints in
/// `error_description` (its `echo_request` fault repeats the form body and `Authorization`
/// header), never reach the state folder, traces, status, logs or a support bundle.
// Current-thread: the capturing subscriber is thread-local, and every engine future runs here.
#[tokio::test]
async fn echoed_secrets_that_look_like_nothing_never_reach_any_output() {
    use lanyard::clock::SharedClock;
    use lanyard::store::{KeyringStore, SecretStore, items};
    use std::time::Duration;

    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("lanyard=trace,info")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let lab = lab_for("ada@lab.example").await;
    let clock = manual_clock();
    let env = engine_with(lab.policy_path(), Some(clock.clone() as SharedClock));
    env.engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .expect("sign-in");

    // The same profile, its IdP client secret and refresh token swapped for the planted ones.
    let mut policy: serde_json::Value =
        serde_json::from_slice(&std::fs::read(lab.policy_path()).unwrap()).unwrap();
    let idp_client_id = policy["idp"]["client_id"].as_str().unwrap().to_string();
    let planted_dir = tempfile::tempdir().unwrap();
    let secret_file = planted_dir.path().join("idp.secret");
    std::fs::write(&secret_file, PLANTED_CLIENT_SECRET).unwrap();
    policy["idp"]["client_secret"] = serde_json::json!({"file": secret_file});
    let policy_path = planted_dir.path().join("policy.json");
    std::fs::write(&policy_path, policy.to_string()).unwrap();
    KeyringStore::open(env.state.path())
        .unwrap()
        .set(
            items::REFRESH_TOKEN,
            &lanyard::secret::Secret::new(PLANTED_REFRESH_TOKEN),
        )
        .unwrap();
    let planted = lanyard::Lanyard::open(lanyard::Options {
        policy_path: Some(policy_path),
        state_dir: Some(env.state.path().to_path_buf()),
        clock: Some(clock.clone() as SharedClock),
        store: None,
        http_timeout: Some(Duration::from_secs(10)),
    })
    .unwrap();

    // Until the lab has the fault this test cannot run: say so rather than pass.
    let faults: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/lab/faults", lab.base()))
        .json(&serde_json::json!({"echo_request": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(
        faults["echo_request"], true,
        "the lab has no echo_request fault (POST /lab/faults answered {faults})"
    );

    // The ID token has expired: the refresh token is spent at the echoing IdP.
    clock.advance(chrono::Duration::hours(3));
    let _ = planted.refresh(None).await;
    // A new sign-in: the code exchange (code, code_verifier, Basic credentials) is echoed.
    assert!(
        planted
            .sign_in(sign_in_options(curl_browser()))
            .await
            .is_err()
    );

    let echo_in = |steps: &[lanyard::trace::Step]| {
        steps
            .iter()
            .filter_map(|s| s.oauth_error.as_ref())
            .filter_map(|e| e.error_description.clone())
            .find(|d| d.contains("echo_request fault"))
    };
    let refresh_steps = planted.trace("session-refresh");
    let echoed = echo_in(&refresh_steps).expect("the IdP echoed the refresh request");
    assert!(echoed.contains("refresh_token=[sha256:"), "{echoed}");
    let echoed = echo_in(&planted.trace("sign-in")).expect("the IdP echoed the code exchange");
    assert!(
        echoed.contains("code=[sha256:") && echoed.contains("code_verifier=[sha256:"),
        "{echoed}"
    );

    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{idp_client_id}:{PLANTED_CLIENT_SECRET}"),
    );
    let report = lanyard::diagnose::doctor::doctor(&planted).await;
    let outputs = [
        ("state folder", all_text_under(env.state.path())),
        (
            "status",
            serde_json::to_string(&planted.status().unwrap()).unwrap(),
        ),
        (
            "sign-in trace",
            serde_json::to_string(&planted.trace("sign-in")).unwrap(),
        ),
        (
            "session-refresh trace",
            serde_json::to_string(&refresh_steps).unwrap(),
        ),
        (
            "logs",
            String::from_utf8(logs.0.lock().unwrap().clone()).unwrap(),
        ),
        (
            "support bundle",
            lanyard::diagnose::bundle::to_bundle_json(&report).expect("the sweep passes"),
        ),
    ];
    for (what, text) in outputs {
        for secret in [PLANTED_CLIENT_SECRET, PLANTED_REFRESH_TOKEN, &basic] {
            assert!(!text.contains(secret), "{what} contains {secret}");
        }
        assert_no_secrets(what, &text);
    }
}
