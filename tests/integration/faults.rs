//! The IdP goes down: connectors keep their tokens and last good expiry, show `unreachable`,
//! and recover on their own when it comes back. A denial by policy is not retried.

use chrono::Duration;
use lanyard::clock::SharedClock;
use lanyard::view::connector::ConnectorState::{Denied, Granted, Unreachable};
use lanyard_lab::{Faults, LabOptions};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idp_down_keeps_tokens_and_recovers() {
    let lab = lab_with(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        token_lifetime_secs: Some(600),
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
    let exp = first
        .connectors
        .iter()
        .find(|c| c.id == "linear")
        .unwrap()
        .expires_at;

    lab.set_faults(Faults {
        idp_down: true,
        ..Faults::default()
    });
    // Inside the renewal margin (2 min before expiry); the token itself is still valid.
    clock.advance(Duration::seconds(500));
    env.engine.renew_due().await.unwrap();
    let down = env.engine.status().unwrap();
    let linear = down.connectors.iter().find(|c| c.id == "linear").unwrap();
    assert_eq!(linear.state, Unreachable, "{:?}", linear.error);
    assert_eq!(linear.expires_at, exp, "the last good expiry stays visible");
    assert!(
        env.engine.access_token("linear").unwrap().is_some(),
        "the token is kept"
    );
    assert_eq!(down.exit_code(), 4, "status says something needs attention");
    for id in ["atlassian", "granola", "supabase"] {
        assert_eq!(
            down.connectors.iter().find(|c| c.id == id).unwrap().state,
            Unreachable,
            "{id}"
        );
    }
    // A policy decision is not re-asked on a timer: the denial stays as it was.
    assert_eq!(
        down.connectors
            .iter()
            .find(|c| c.id == "asana")
            .unwrap()
            .state,
        Denied
    );

    lab.set_faults(Faults::default());
    clock.advance(Duration::seconds(10)); // past the first backoff (5-6 s)
    env.engine.renew_due().await.unwrap();
    let back = env.engine.status().unwrap();
    let linear = back.connectors.iter().find(|c| c.id == "linear").unwrap();
    assert_eq!(linear.state, Granted, "{:?}", linear.error);
    assert_eq!(
        back.connectors
            .iter()
            .find(|c| c.id == "asana")
            .unwrap()
            .state,
        Denied
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_all_turns_grants_into_denials_with_the_idp_code() {
    let lab = lab_for("ada@lab.example").await;
    let env = engine(&lab);
    env.engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap();
    lab.set_faults(Faults {
        deny_all: true,
        ..Faults::default()
    });
    let status = env.engine.refresh(None).await.unwrap();
    let linear = status.connectors.iter().find(|c| c.id == "linear").unwrap();
    assert_eq!(linear.state, Denied);
    assert_eq!(linear.error.as_ref().unwrap().code, "access_denied");
    assert!(
        env.engine.access_token("linear").unwrap().is_none(),
        "a denied grant is not kept"
    );
}
