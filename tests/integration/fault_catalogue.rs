//! The fault catalogue's protocol rows (docs/security-tests.md): each leg Lanyard walks on a
//! renewal answering 500, slowly (past the client's timeout), with an HTML page where JSON
//! belongs, or with a body over the 1 MiB cap. Each row: what the user sees, and proof that
//! nothing was lost — the session and the still-valid token are kept, the state file agrees
//! with the keyring, and the next renewal after the fault recovers.

use chrono::Duration;
use lanyard::clock::SharedClock;
use lanyard::store::{KeyringStore, SecretStore, items};
use lanyard::view::connector::ConnectorState;
use lanyard::view::status::SessionState;
use lanyard_lab::{Faults, LabOptions, Leg, LegFault, LegFaultKind};

use crate::support::*;

const LEGS: [(Leg, &str); 8] = [
    (Leg::IdpDiscovery, "IdP discovery"),
    (Leg::IdpJwks, "IdP key set"),
    (Leg::IdpRefresh, "IdP refresh"),
    (Leg::TokenExchange, "token exchange (ID-JAG)"),
    (Leg::ResourceMetadata, "protected-resource metadata"),
    (Leg::AsMetadata, "AS metadata"),
    (Leg::JwtBearer, "jwt-bearer at the AS"),
    (Leg::Mcp, "MCP server"),
];

const KINDS: [(LegFaultKind, &str); 4] = [
    (LegFaultKind::Error500, "500"),
    (LegFaultKind::Slow, "slow (1.5 s > 1 s timeout)"),
    (LegFaultKind::Garbage, "HTML 200"),
    (LegFaultKind::Oversized, "2 MiB body"),
];

/// A renewal on `leg` answering garbage must not cost the still-valid token (issue 10, fault
/// catalogue defect 1: it was recorded `misconfigured` and the token deleted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_renewal_keeps_the_still_valid_token() {
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
    let granted = first.connectors.iter().find(|c| c.id == "linear").unwrap();
    let token = env.engine.access_token("linear").unwrap().expect("granted");
    lab.set_faults(Faults {
        leg_fault: Some(LegFault {
            leg: Leg::JwtBearer,
            kind: LegFaultKind::Garbage,
            delay_ms: None,
        }),
        ..Faults::default()
    });
    clock.advance(Duration::seconds(500)); // inside the renewal margin, still valid
    env.engine.renew_due().await.unwrap();
    let kept = env.engine.access_token("linear").unwrap();
    assert_eq!(
        kept.as_ref().map(|t| t.expose()),
        Some(token.expose()),
        "the still-valid token is kept"
    );
    let status = env.engine.status().unwrap();
    let linear = status.connectors.iter().find(|c| c.id == "linear").unwrap();
    assert_eq!(
        linear.expires_at, granted.expires_at,
        "its expiry stays shown"
    );
    assert!(
        linear.error.is_some(),
        "the failed renewal is shown: {linear:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_leg_answering_badly_loses_nothing() {
    // ID tokens of 90 s and a clock 40 s ahead: every refresh walks the whole ladder (IdP
    // refresh → exchange → jwt-bearer → MCP), and a fresh engine per row (as each CLI command
    // is) discovers the IdP and the connector again.
    let lab = lab_with(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        token_lifetime_secs: Some(90),
        ..LabOptions::default()
    })
    .await;
    let clock = manual_clock();
    let first = engine_with(lab.policy_path(), Some(clock.clone() as SharedClock));
    first
        .engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap();
    clock.advance(Duration::seconds(40));
    let state_dir = first.state.path().to_path_buf();
    let keyring = KeyringStore::open(&state_dir).unwrap();
    let mut rows = Vec::new();
    for (leg, leg_name) in LEGS {
        for (kind, kind_name) in KINDS {
            let what = format!("{leg_name} answers {kind_name}");
            let before = lanyard::store::connector_token(&keyring, "linear").unwrap();
            assert!(before.is_some(), "{what}: granted before the fault");
            lab.set_faults(Faults {
                leg_fault: Some(LegFault {
                    leg,
                    kind,
                    delay_ms: Some(1500),
                }),
                ..Faults::default()
            });
            let engine = reopen(&lab, &state_dir, &clock);
            let outcome = engine.refresh(Some("linear")).await;
            let saw = match &outcome {
                Err(e) => format!("error `{}`: {}", e.code(), e.hint()),
                Ok(status) => {
                    let c = status.connectors.iter().find(|c| c.id == "linear").unwrap();
                    match &c.error {
                        Some(e) => format!("{:?} `{}`: {}", c.state, e.code, e.hint),
                        None => format!("{:?}", c.state),
                    }
                }
            };
            // Nothing lost: the session, the token, and a state file that agrees.
            let status = engine.status().expect("state parses");
            assert_eq!(
                status.session.state,
                SessionState::SignedIn,
                "{what}: {saw}"
            );
            assert!(
                keyring.get(items::REFRESH_TOKEN).unwrap().is_some(),
                "{what}: the refresh token is kept"
            );
            assert!(
                lanyard::store::connector_token(&keyring, "linear")
                    .unwrap()
                    .is_some(),
                "{what}: the still-valid access token is kept ({saw})"
            );
            for c in &status.connectors {
                if c.state == ConnectorState::Granted {
                    assert!(
                        lanyard::store::connector_token(&keyring, &c.id)
                            .unwrap()
                            .is_some(),
                        "{what}: {} granted without a token",
                        c.id
                    );
                }
            }
            lab.set_faults(Faults::default());
            let healed = reopen(&lab, &state_dir, &clock)
                .refresh(Some("linear"))
                .await
                .expect("recovers");
            let linear = healed.connectors.iter().find(|c| c.id == "linear").unwrap();
            assert_eq!(linear.state, ConnectorState::Granted, "{what}: recovers");
            rows.push(format!(
                "| {leg_name} answers {kind_name} during a renewal | {saw} | nothing; the next renewal recovers |"
            ));
        }
    }
    for row in rows {
        println!("{row}");
    }
}

fn reopen(
    lab: &lanyard_lab::Lab,
    state_dir: &std::path::Path,
    clock: &std::sync::Arc<lanyard::clock::ManualClock>,
) -> lanyard::Lanyard {
    lanyard::Lanyard::open(lanyard::Options {
        policy_path: Some(lab.policy_path().to_path_buf()),
        state_dir: Some(state_dir.to_path_buf()),
        clock: Some(clock.clone() as SharedClock),
        store: None,
        http_timeout: Some(std::time::Duration::from_secs(1)),
    })
    .expect("engine opens")
}
