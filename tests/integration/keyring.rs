//! The real Secret Service (gnome-keyring in a private D-Bus session): secrets round-trip,
//! are namespaced per state folder, and sign-in stores tokens there — never in the state file.

use lanyard::secret::Secret;
use lanyard::store::{KeyringStore, SecretStore, items};

use crate::support::*;

#[test]
fn secret_service_round_trip_and_namespacing() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let store_a = KeyringStore::open(a.path()).expect("Secret Service reachable");
    let store_b = KeyringStore::open(b.path()).unwrap();
    let value = Secret::new("labsecret_test_roundtrip");
    store_a.set("probe", &value).unwrap();
    assert_eq!(store_a.get("probe").unwrap(), Some(value));
    assert_eq!(
        store_b.get("probe").unwrap(),
        None,
        "another profile can't see it"
    );
    store_a.delete("probe").unwrap();
    assert_eq!(store_a.get("probe").unwrap(), None);
    store_a.delete("probe").unwrap();
    assert_eq!(store_a.backend(), "os-keyring");
}

/// The tray app runs for weeks, and the keyring daemon can restart under it (a crash, an
/// upgrade). The keyring crate keeps one Secret Service session per process, which dies with
/// the daemon; the store opens a new one and tries again (store/secret_service_session.rs).
/// Killing the daemon would fail every test running beside this one, so the test runs itself
/// again, alone, in a keyring session of its own (scripts/with-keyring.sh, whose D-Bus
/// activation brings the daemon back unlocked).
#[test]
fn a_keyring_daemon_restarted_under_a_running_process_is_reconnected() {
    const NAME: &str = "keyring::a_keyring_daemon_restarted_under_a_running_process_is_reconnected";
    if std::env::var_os("LANYARD_OWN_KEYRING_SESSION").is_none() {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/with-keyring.sh");
        let out = std::process::Command::new("bash")
            .arg(script)
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env("LANYARD_OWN_KEYRING_SESSION", "1")
            .env_remove("LANYARD_IN_KEYRING_SESSION")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "in its own keyring session: {text}");
        assert!(text.contains("1 passed"), "the test did not run: {text}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = KeyringStore::open(dir.path()).unwrap();
    let value = Secret::new("labsecret_test_daemon_restart");
    store.set("probe", &value).unwrap();
    let daemon = secrets_daemon().expect("a keyring daemon owns org.freedesktop.secrets");
    let killed = std::process::Command::new("kill")
        .args(["-9", &daemon.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while secrets_daemon() == Some(daemon) {
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon outlived SIGKILL"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Same process, same store: the item is read through a new daemon's new session.
    assert_eq!(store.get("probe").unwrap(), Some(value));
    let restarted = secrets_daemon().expect("D-Bus activation started a daemon");
    assert_ne!(restarted, daemon);
    store
        .set("probe", &Secret::new("labsecret_test_after"))
        .unwrap();
    store.delete("probe").unwrap();
    assert_eq!(store.get("probe").unwrap(), None);
}

/// The pid of the process that owns `org.freedesktop.secrets` on this session bus, if any.
fn secrets_daemon() -> Option<u32> {
    let out = std::process::Command::new("gdbus")
        .args([
            "call",
            "--session",
            "--dest",
            "org.freedesktop.DBus",
            "--object-path",
            "/org/freedesktop/DBus",
            "--method",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            "org.freedesktop.secrets",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_once("uint32 ")?
        .1
        .trim_end_matches([',', ')', '\n'])
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_keeps_tokens_in_the_keyring_and_survives_a_restart() {
    let lab = lab_for("ada@lab.example").await;
    let env = engine(&lab);
    env.engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap();
    let store = KeyringStore::open(env.state.path()).unwrap();
    assert!(store.get(items::ID_TOKEN).unwrap().is_some());
    assert!(store.get(items::REFRESH_TOKEN).unwrap().is_some());
    assert!(
        lanyard::store::connector_token(&store, "linear")
            .unwrap()
            .is_some()
    );
    assert!(
        lanyard::store::connector_token(&store, "asana")
            .unwrap()
            .is_none(),
        "no token for a denial"
    );

    // A new process on the same state folder: status is instant and a refresh works
    // with what the keyring kept.
    let again = engine_with(lab.policy_path(), None);
    drop(again);
    let reopened = lanyard::Lanyard::open(lanyard::Options {
        policy_path: Some(lab.policy_path().to_path_buf()),
        state_dir: Some(env.state.path().to_path_buf()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(reopened.status().unwrap().exit_code(), 0);
    let refreshed = reopened.refresh(Some("granola")).await.unwrap();
    assert_eq!(refreshed.exit_code(), 0);
}

/// Every connector token of a profile lives in one keyring item (one write per renewal round,
/// store/connector_tokens.rs); the per-connector items of earlier versions are still read
/// until a renewal replaces them, and one for a connector that lost access is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_tokens_share_one_item_and_older_items_are_read_then_retired() {
    use lanyard::store::ConnectorTokens;
    use lanyard::view::connector::ConnectorState;

    let lab = lab_for("ada@lab.example").await;
    let env = engine(&lab);
    let store = KeyringStore::open(env.state.path()).unwrap();
    let old = |id: &str| Secret::new(format!("labsecret_at_{id}_from_an_older_version"));
    for id in ["linear", "asana"] {
        store.set(&items::access_token(id), &old(id)).unwrap();
    }
    assert_eq!(
        env.engine.access_token("linear").unwrap(),
        Some(old("linear")),
        "an older version's item is read while the shared item has no entry"
    );

    let status = env
        .engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap();
    let granted: Vec<_> = status
        .connectors
        .iter()
        .filter(|c| c.state == ConnectorState::Granted)
        .map(|c| c.id.clone())
        .collect();
    assert!(granted.len() >= 2, "{granted:?}");
    let shared = ConnectorTokens::load(&store).unwrap();
    assert_eq!(shared.len(), granted.len(), "one entry per grant");
    for id in &granted {
        assert_eq!(
            env.engine.access_token(id).unwrap().as_ref(),
            shared.get(id),
            "{id}"
        );
    }
    let linear = env.engine.access_token("linear").unwrap().unwrap();
    assert_ne!(linear, old("linear"), "the renewal's token wins");
    for id in ["linear", "asana"] {
        assert!(
            store.get(&items::access_token(id)).unwrap().is_none(),
            "the first write of the shared item retired {id}'s older item"
        );
    }
    assert!(env.engine.access_token("asana").unwrap().is_none());

    env.engine.logout().await.unwrap();
    assert!(store.get(items::CONNECTOR_TOKENS).unwrap().is_none());
}
