//! Support diagnostics against the lab: each failure the lab can inject is explained with the
//! right catalogue entry, clock skew is detected and attributed, the readiness check passes
//! on good connectors and fails exactly the matching check on each broken one, and the
//! support bundle passes the canary.

use lanyard::diagnose::catalogue::Endpoint;
use lanyard::diagnose::clock::ClockVerdict;
use lanyard::diagnose::doctor::{DoctorOptions, doctor_with, timeline_for};
use lanyard::diagnose::readiness::{self, CheckId, CheckOutcome};
use lanyard::diagnose::timeline::{Outcome, Verdict};
use lanyard::diagnose::{bundle, doctor};
use lanyard::http::Http;
use lanyard::trace::StepKind;
use lanyard_lab::{Faults, LabOptions};

use crate::support::*;

fn labo(user: &str) -> LabOptions {
    LabOptions {
        auto_login: Some(user.to_string()),
        ..LabOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_denial_is_explained_as_invalid_target_and_a_grant_shows_every_leg() {
    let lab = lab_for("ada@lab.example").await;
    let env = engine(&lab);
    env.engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .expect("sign-in");

    let asana = timeline_for(&env.engine, "asana").unwrap();
    assert_eq!(asana.outcome, Outcome::Failed);
    let why = asana.failure.clone().unwrap();
    assert_eq!(
        (why.endpoint, why.code.as_str(), why.known),
        (Endpoint::IdpTokenExchange, "invalid_target", true)
    );
    assert_eq!(why.employee, "Ask IT to give you access to Asana.");
    assert!(why.admin.contains("group assignment"), "{}", why.admin);
    let failed = asana
        .steps
        .iter()
        .find(|s| s.verdict == Verdict::Failed)
        .unwrap();
    assert_eq!(failed.kind, StepKind::TokenExchange);
    assert_eq!(failed.status, Some(400));

    let linear = timeline_for(&env.engine, "linear").unwrap();
    assert_eq!(linear.outcome, Outcome::Ok, "{linear:#?}");
    let kinds: Vec<StepKind> = linear
        .steps
        .iter()
        .filter(|s| s.verdict == Verdict::Ok)
        .map(|s| s.kind)
        .collect();
    for k in [
        StepKind::McpProbe,
        StepKind::ProtectedResourceMetadata,
        StepKind::AuthorizationServerMetadata,
        StepKind::TokenExchange,
        StepKind::JwtBearer,
        StepKind::McpInitialize,
        StepKind::McpToolsList,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing from {kinds:?}");
    }
    let slack = timeline_for(&env.engine, "slack").unwrap();
    assert_eq!(slack.failure.unwrap().code, "no_id_jag_support");
    let sign_in = timeline_for(&env.engine, "sign-in").unwrap();
    assert_eq!(sign_in.outcome, Outcome::Ok);
    assert!(
        sign_in
            .steps
            .iter()
            .any(|s| s.kind == StepKind::Callback && s.verdict == Verdict::Ok)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_faults_are_explained_access_denied_and_temporarily_unavailable() {
    let lab = lab_for("ada@lab.example").await;
    let env = engine(&lab);
    env.engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .expect("sign-in");

    lab.set_faults(Faults {
        deny_all: true,
        ..Faults::default()
    });
    env.engine.refresh(Some("linear")).await.unwrap();
    let why = timeline_for(&env.engine, "linear")
        .unwrap()
        .failure
        .unwrap();
    assert_eq!(
        (why.endpoint, why.code.as_str()),
        (Endpoint::IdpTokenExchange, "access_denied")
    );
    assert_eq!(
        why.server_description.as_deref(),
        Some("the administrator has paused all access")
    );

    lab.set_faults(Faults {
        idp_down: true,
        ..Faults::default()
    });
    env.engine.refresh(Some("linear")).await.unwrap();
    let t = timeline_for(&env.engine, "linear").unwrap();
    let why = t.failure.unwrap();
    assert!(why.known, "{why:?}");
    assert_eq!(why.code, "temporarily_unavailable", "{why:?}");
    assert!(why.employee.contains("retries"), "{}", why.employee);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_is_detected_attributed_and_explains_the_refused_id_token() {
    let lab = lab_with(LabOptions {
        clock_offset_secs: 120,
        ..labo("ada@lab.example")
    })
    .await;
    let env = engine(&lab);
    let err = env
        .engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .expect_err("iat is 120 s in the future");
    assert_eq!(err.code(), "id_token_invalid", "{err}");

    let report = doctor(&env.engine).await;
    let offset = match report.clock.verdict {
        ClockVerdict::LocalClock { offset_secs } => offset_secs,
        other => panic!("expected the local clock to be blamed, got {other:?}"),
    };
    assert!((-123..=-117).contains(&offset), "{offset}");
    let idp = report
        .clock
        .origins
        .iter()
        .find(|o| o.label.as_deref().is_some_and(|l| l.contains("IdP")))
        .unwrap();
    assert!(idp.off && (117..=123).contains(&idp.offset_secs), "{idp:?}");
    let warning = report.clock.warning.clone().unwrap();
    assert!(
        warning.contains("behind") && warning.contains("IdP"),
        "{warning}"
    );

    let sign_in = report
        .timelines
        .iter()
        .find(|t| t.name == "sign-in")
        .unwrap();
    let why = sign_in.failure.clone().unwrap();
    assert_eq!(
        (why.endpoint, why.code.as_str()),
        (Endpoint::IdToken, "issued_in_future")
    );
    let note = why.clock_note.unwrap();
    assert!(
        note.contains("ahead of this computer's")
            && note.contains("This computer's clock is the one"),
        "{note}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_passes_good_connectors_and_fails_exactly_the_broken_duty() {
    let lab = lab_with(LabOptions {
        broken_connectors: true,
        ..labo("ada@lab.example")
    })
    .await;
    let env = engine(&lab);
    env.engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .expect("sign-in");
    let http = Http::new(lanyard::clock::system());
    let token = |id: &str| env.engine.access_token(id).unwrap();
    let url = |id: &str| {
        env.engine
            .policy()
            .connectors
            .iter()
            .find(|c| c.id == id)
            .unwrap()
            .mcp_url
            .clone()
    };
    for id in ["linear", "atlassian", "granola"] {
        let own = token(id).expect("granted");
        let r = readiness::check(&http, &url(id), Some(&own)).await;
        assert!(r.ready, "{id}: {r:#?}");
        assert!(
            r.checks.iter().all(|c| c.outcome == CheckOutcome::Pass),
            "{id}: {r:#?}"
        );
        assert_eq!(r.checks.len(), 9);
    }

    // `broken-query-token` lets `?access_token=` win over the header, and `broken-audience`
    // accepts a JWT without checking its signature or audience: what a check that never
    // sends a valid token in a URL, nor another connector's token, can catch.
    let cases = [
        ("broken-no-prm", CheckId::ProtectedResourceMetadata),
        ("broken-query-token", CheckId::TokenInHeaderOnly),
        ("broken-audience", CheckId::AudienceValidated),
        ("broken-signature", CheckId::SignatureValidated),
        ("broken-challenge", CheckId::UnauthorizedChallenge),
        ("broken-no-profile", CheckId::IdJagGrantAdvertised),
        ("broken-issuer", CheckId::IssuerMatches),
        ("broken-no-revocation", CheckId::RevocationEndpoint),
    ];
    for (id, duty) in cases {
        let own = token(id);
        let r = readiness::check(&http, &url(id), own.as_ref()).await;
        assert_eq!(r.failed(), [duty], "{id}: {r:#?}");
        assert!(!r.ready);
        let text = serde_json::to_string(&r).unwrap();
        assert_no_secrets(id, &text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_support_bundle_names_each_cause_and_passes_the_canary() {
    let lab = lab_with(LabOptions {
        broken_connectors: true,
        ..labo("ada@lab.example")
    })
    .await;
    let env = engine(&lab);
    env.engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .expect("sign-in");
    lab.set_faults(Faults {
        deny_all: true,
        ..Faults::default()
    });
    env.engine.refresh(Some("granola")).await.unwrap();

    let report = doctor_with(
        &env.engine,
        &DoctorOptions {
            readiness: true,
            verify_signatures: true,
        },
    )
    .await;
    assert!(
        report.environment.keyring.reachable,
        "{:?}",
        report.environment.keyring
    );
    assert!(
        report.policy.problems.is_empty(),
        "{:?}",
        report.policy.problems
    );
    assert!(!report.tokens.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.json");
    bundle::write_bundle(&report, &path).expect("the bundle is written");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_no_secrets("support bundle", &text);
    let back: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back["incident_id"], report.incident_id.as_str());
    let cause = |name: &str| {
        back["timelines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["failure"]["code"].clone())
    };
    assert_eq!(cause("asana").unwrap(), "invalid_target");
    assert_eq!(cause("granola").unwrap(), "access_denied");
    assert_eq!(cause("broken-issuer").unwrap(), "issuer_mismatch");
    assert_eq!(cause("broken-no-prm").unwrap(), "no_resource_metadata");
    assert_eq!(
        back["readiness"].as_array().unwrap().len(),
        env.engine.policy().connectors.len()
    );
    // Nothing else the engine wrote leaks either.
    assert_no_secrets("state folder", &all_text_under(env.state.path()));
}

/// Needs the `Trace::attach_claims` calls in `src/exchange.rs` (see the diagnose report).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_claims_line_up_requested_id_jag_and_granted() {
    let lab = lab_for("ada@lab.example").await;
    let env = engine(&lab);
    env.engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .expect("sign-in");
    let t = timeline_for(&env.engine, "linear").unwrap();
    let k = &t.key_claims;
    let requested = k.requested.as_ref().expect("requested");
    let id_jag = k.id_jag.as_ref().expect("id_jag");
    assert_eq!(requested["resource"], id_jag["resource"][0], "{k:#?}");
    assert_eq!(requested["audience"], id_jag["aud"][0], "{k:#?}");
    assert!(
        id_jag["jti_fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(
        k.granted.as_ref().expect("granted")["scope"].is_array()
            || k.granted.as_ref().unwrap()["scope"].is_string()
    );
    let asana = timeline_for(&env.engine, "asana").unwrap();
    assert!(asana.key_claims.requested.is_some() && asana.key_claims.id_jag.is_none());
    assert_no_secrets("key claims", &serde_json::to_string(&t).unwrap());
}
