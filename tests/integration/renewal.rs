//! Renewal without the user, driven by an injected clock instead of sleeping: connectors are
//! renewed before expiry, the IdP refresh token is rotated and the old one stops working; once
//! everything due is renewed nothing is due (the loop sleeps); an IdP outage makes the session
//! non-renewable in the status until it lapses.

use chrono::Duration;
use lanyard::clock::{Clock, SharedClock};
use lanyard::secret::Secret;
use lanyard::store::{KeyringStore, SecretStore, items};
use lanyard::view::connector::ConnectorState::Granted;
use lanyard::view::status::SessionState;
use lanyard_lab::{Faults, LabOptions};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renews_before_expiry_and_rotates_the_refresh_token() {
    let lab = lab_with(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        token_lifetime_secs: Some(120),
        ..LabOptions::default()
    })
    .await;
    let clock = manual_clock();
    let env = engine_with(lab.policy_path(), Some(clock.clone() as SharedClock));
    let first = env
        .engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap();
    let linear_exp = first
        .connectors
        .iter()
        .find(|c| c.id == "linear")
        .unwrap()
        .expires_at
        .unwrap();

    let keyring = KeyringStore::open(env.state.path()).unwrap();
    let rt_before = keyring
        .get(items::REFRESH_TOKEN)
        .unwrap()
        .expect("refresh token kept in the keyring");

    // Nothing is due yet.
    assert_eq!(env.engine.renew_due().await.unwrap(), 0);
    let due = env.engine.next_due().expect("a renewal is scheduled");
    assert!(due < linear_exp, "renewal is scheduled before expiry");

    // 110 s later the ID token has < 60 s left and the access tokens are in their margin.
    clock.advance(Duration::seconds(110));
    let renewed = env.engine.renew_due().await.unwrap();
    assert!(
        renewed >= 4,
        "every granted connector renewed, got {renewed}"
    );

    let status = env.engine.status().unwrap();
    for c in status.connectors.iter().filter(|c| c.state == Granted) {
        assert!(
            c.expires_at.unwrap() > linear_exp,
            "{} has a newer expiry",
            c.id
        );
    }
    let rt_after = keyring.get(items::REFRESH_TOKEN).unwrap().unwrap();
    assert_ne!(
        rt_before, rt_after,
        "the IdP rotated the refresh token and Lanyard kept the new one"
    );

    // The spent refresh token is refused by the IdP.
    let refused = refresh_with(&lab, &rt_before).await;
    assert_eq!(refused.0, 400);
    assert!(refused.1.contains("invalid_grant"), "{}", refused.1);
    assert_eq!(lab.jti_replays(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_due_after_a_renewal_and_an_idp_outage_lets_the_session_lapse() {
    let lab = lab_with(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        token_lifetime_secs: Some(600),
        ..LabOptions::default()
    })
    .await;
    let clock = manual_clock();
    let env = engine_with(lab.policy_path(), Some(clock.clone() as SharedClock));
    env.engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap();

    // Inside the session's renewal margin (a fifth of 600 s), with more than a minute left.
    clock.advance(Duration::seconds(490));
    let renewed = env.engine.renew_due().await.unwrap();
    assert!(renewed >= 4, "the connectors were due too, got {renewed}");
    // Were anything still due, the renewal loop would wake at once to do nothing, forever.
    let next = env.engine.next_due().expect("renewals are scheduled");
    assert!(
        next > clock.now(),
        "everything due was renewed; next due {next}, now {}",
        clock.now()
    );
    let session = env.engine.status().unwrap().session;
    assert!(session.renewable);
    let ends = session.expires_at.unwrap();

    // The IdP goes down just before the session is due again.
    lab.set_faults(Faults {
        idp_down: true,
        ..Faults::default()
    });
    clock.set(ends - Duration::seconds(10));
    // Only the session is due (the lab dates the new ID token by its own clock, so it ends
    // before the connectors' tokens, which the manual clock dates): its failure is an error,
    // so the loop backs off instead of waking at once. Connectors during an outage: faults.rs.
    let err = env.engine.renew_due().await.expect_err("the IdP is down");
    assert_eq!(err.code(), "unreachable", "{err}");
    let down = env.engine.status().unwrap();
    assert_eq!(
        down.session.state,
        SessionState::SignedIn,
        "valid until it ends"
    );
    assert!(
        !down.session.renewable,
        "renewing fails: it won't renew by itself now"
    );
    assert_eq!(down.session.expires_at, Some(ends));
    assert!(
        down.connectors.iter().any(|c| c.state == Granted),
        "connectors keep their still-valid tokens"
    );

    clock.set(ends + Duration::seconds(1));
    let lapsed = env.engine.status().unwrap();
    assert_eq!(lapsed.session.state, SessionState::Expired);
    assert_eq!(lapsed.exit_code(), 3, "sign-in needed");
}

/// A raw refresh_token grant at the lab's IdP, as the client `lanyard-desktop`.
async fn refresh_with(lab: &lanyard_lab::Lab, rt: &Secret) -> (u16, String) {
    let policy: serde_json::Value =
        serde_json::from_slice(&std::fs::read(lab.policy_path()).unwrap()).unwrap();
    let secret_file = policy["idp"]["client_secret"]["file"].as_str().unwrap();
    let secret = std::fs::read_to_string(secret_file).unwrap();
    let token_endpoint = format!("{}/token", lab.ready().idp_issuer);
    let resp = reqwest::Client::new()
        .post(token_endpoint)
        .basic_auth("lanyard-desktop", Some(secret.trim()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt.expose()),
        ])
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}
