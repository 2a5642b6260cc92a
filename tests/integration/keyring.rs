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
    assert!(store.get(&items::access_token("linear")).unwrap().is_some());
    assert!(
        store.get(&items::access_token("asana")).unwrap().is_none(),
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
