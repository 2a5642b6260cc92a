//! The pilot against the real lab in-process: the matrix of the directory users, a user who
//! cannot sign in, an unreachable connector, Skip and Cancel, the admin's state untouched,
//! and a report that carries no token.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lanyard_lab::{Lab, LabOptions};

use super::matrix::{MatrixControl, MatrixOptions, MatrixProgress, ProgressPhase, run_matrix};
use super::profile::ProfileStore;
use super::report::{self, ReportInputs};
use super::*;
use crate::protocol::oidc::{Browser, SignInOptions};
use crate::store::MemoryStore;
use crate::view::connector::ConnectorState;

/// product.md's directory: who the lab's group policy grants what.
pub const EXPECTED: &[(&str, &[&str])] = &[
    (
        "ada@lab.example",
        &["atlassian", "granola", "linear", "supabase"],
    ),
    (
        "grace@lab.example",
        &["atlassian", "granola", "figma", "canva"],
    ),
    ("sam@lab.example", &["atlassian", "granola", "asana"]),
    ("pat@lab.example", &["atlassian", "granola"]),
];

async fn lab() -> Lab {
    Lab::start(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        ..LabOptions::default()
    })
    .await
    .expect("lab starts")
}

fn curl() -> Browser {
    Browser::Command("curl -fsSL -o /dev/null".into())
}

fn options(users: &[&str], parent: &Path, browser: Browser) -> MatrixOptions {
    MatrixOptions {
        users: users.iter().map(|u| u.to_string()).collect(),
        browser,
        sign_in_timeout: Duration::from_secs(20),
        store: ProfileStore::Memory,
        parent: Some(parent.to_path_buf()),
        device_key: None,
        http_timeout: Some(Duration::from_secs(10)),
    }
}

fn granted(row: &MatrixRow) -> BTreeSet<&str> {
    row.connectors
        .iter()
        .filter(|c| c.state == ConnectorState::Granted)
        .map(|c| c.id.as_str())
        .collect()
}

fn cell<'a>(row: &'a MatrixRow, id: &str) -> &'a MatrixCell {
    row.connectors.iter().find(|c| c.id == id).unwrap()
}

fn recorder() -> (
    Arc<Mutex<Vec<MatrixProgress>>>,
    impl Fn(&MatrixProgress) + Send + Sync,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (seen, move |p: &MatrixProgress| {
        sink.lock().unwrap().push(p.clone())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_matrix_of_the_directory_users_equals_its_groups_and_goes_on_past_a_stranger() {
    let lab = lab().await;
    let policy = crate::policy::load(lab.policy_path()).unwrap();
    let parent = tempfile::tempdir().unwrap();
    let users = [
        "ada@lab.example",
        "nobody@lab.example",
        "grace@lab.example",
        "sam@lab.example",
        "pat@lab.example",
    ];
    let (seen, sink) = recorder();
    let m = run_matrix(
        &policy,
        &options(&users, parent.path(), curl()),
        &MatrixControl::default(),
        &sink,
    )
    .await;

    assert_eq!(m.users.len(), 5);
    let stranger = &m.users[1];
    assert!(!stranger.signed_in && stranger.connectors.is_empty());
    assert_eq!(stranger.error.as_ref().unwrap().code, "login_required");
    for (user, expected) in EXPECTED {
        let row = m.users.iter().find(|r| r.user == *user).unwrap();
        assert!(row.signed_in, "{user}: {:?}", row.error);
        assert_eq!(granted(row), expected.iter().copied().collect(), "{user}");
        assert_eq!(row.connectors.len(), 8, "every connector is a cell");
        assert_eq!(cell(row, "slack").state, ConnectorState::Unsupported);
    }
    let ada = &m.users[0];
    assert_eq!(cell(ada, "asana").state, ConnectorState::Denied);
    assert_eq!(cell(ada, "asana").code.as_deref(), Some("invalid_target"));
    assert!(cell(ada, "linear").code.is_none());
    assert_eq!(m.exit_code(), 4, "a user could not sign in");

    let phases: Vec<(usize, ProgressPhase)> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|p| (p.index, p.phase))
        .collect();
    assert_eq!(phases.len(), 10);
    assert_eq!(phases[2], (1, ProgressPhase::SigningIn));
    assert_eq!(phases[3], (1, ProgressPhase::NotSignedIn));
    assert!(m.timings.iter().any(|t| t.user == "ada@lab.example"
        && t.flow == "linear"
        && t.legs.contains_key(&LegGroup::TokenExchange)));
    assert_eq!(
        std::fs::read_dir(parent.path()).unwrap().count(),
        0,
        "every throw-away profile folder is gone"
    );
    let json = serde_json::to_string(&m).unwrap();
    assert!(
        !json.contains("labsecret_") && !json.contains("eyJ"),
        "{json}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_connector_is_a_cell_and_the_admin_state_is_untouched() {
    let lab = lab().await;
    let dir = tempfile::tempdir().unwrap();
    let mut raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lab.policy_path()).unwrap()).unwrap();
    let linear = raw["connectors"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["id"] == "linear")
        .unwrap();
    linear["mcp_url"] = "http://127.0.0.1:9/linear/mcp".into();
    let policy_path = dir.path().join("policy.json");
    std::fs::write(&policy_path, raw.to_string()).unwrap();

    // The admin, signed in as ada in their own state folder.
    let admin_dir = dir.path().join("admin");
    let admin = crate::Lanyard::open(crate::Options {
        policy_path: Some(policy_path.clone()),
        state_dir: Some(admin_dir.clone()),
        store: Some(Arc::new(MemoryStore::new())),
        http_timeout: Some(Duration::from_secs(5)),
        ..crate::Options::default()
    })
    .unwrap();
    admin
        .sign_in(SignInOptions {
            browser: curl(),
            timeout: Duration::from_secs(20),
            cancel: None,
            login_hint: None,
            prompt: None,
        })
        .await
        .unwrap();
    let before = std::fs::read(admin_dir.join("state.json")).unwrap();
    let id_token = admin.id_token().unwrap().unwrap();

    let parent = dir.path().join("profiles");
    std::fs::create_dir(&parent).unwrap();
    let m = run_matrix(
        admin.policy(),
        &options(&["grace@lab.example"], &parent, curl()),
        &MatrixControl::default(),
        &|_| {},
    )
    .await;
    let grace = &m.users[0];
    assert!(grace.signed_in);
    assert_eq!(cell(grace, "linear").state, ConnectorState::Unreachable);
    assert_eq!(cell(grace, "figma").state, ConnectorState::Granted);

    assert_eq!(std::fs::read(admin_dir.join("state.json")).unwrap(), before);
    assert_eq!(admin.id_token().unwrap().unwrap(), id_token);
    assert_eq!(
        admin.status().unwrap().session.email.as_deref(),
        Some("ada@lab.example")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_ends_one_sign_in_and_cancel_ends_the_run() {
    let lab = lab().await;
    let policy = crate::policy::load(lab.policy_path()).unwrap();
    let parent = tempfile::tempdir().unwrap();
    // A browser that never comes back: only Skip or Cancel can end the wait.
    let silent = Browser::Print(Arc::new(|_: &str| {}));
    let users = ["ada@lab.example", "grace@lab.example", "sam@lab.example"];

    let control = MatrixControl::default();
    let on_progress = {
        let control = control.clone();
        move |p: &MatrixProgress| match (p.index, p.phase) {
            (0, ProgressPhase::SigningIn) => control.skip_current(),
            (1, ProgressPhase::SigningIn) => control.cancel(),
            _ => {}
        }
    };
    let m = run_matrix(
        &policy,
        &options(&users, parent.path(), silent),
        &control,
        &on_progress,
    )
    .await;
    let codes: Vec<&str> = m
        .users
        .iter()
        .map(|r| r.error.as_ref().unwrap().code.as_str())
        .collect();
    assert_eq!(codes, ["cancelled", "cancelled", "cancelled"]);
    assert!(m.cancelled);
    assert!(m.users.iter().all(|r| !r.signed_in));
    assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
}

fn sample_matrix() -> Matrix {
    let cell = |id: &str, state| MatrixCell {
        id: id.into(),
        state,
        code: (state == ConnectorState::Denied).then(|| "invalid_target".into()),
        expected: None,
        mismatch: None,
    };
    let row = |user: &str, cells: Vec<MatrixCell>| MatrixRow {
        user: user.into(),
        signed_in: true,
        error: None,
        connectors: cells,
    };
    Matrix {
        version: 1,
        users: vec![
            row(
                "ada@lab.example",
                vec![
                    cell("linear", ConnectorState::Granted),
                    cell("asana", ConnectorState::Denied),
                ],
            ),
            row(
                "sam@lab.example",
                vec![
                    cell("linear", ConnectorState::Denied),
                    cell("asana", ConnectorState::Granted),
                ],
            ),
        ],
        columns: ["linear", "asana"]
            .map(|id| matrix::ConnectorColumn {
                id: id.into(),
                name: id.to_uppercase(),
            })
            .to_vec(),
        problems: vec![],
        timings: vec![],
        cancelled: false,
        compared: false,
    }
}

#[test]
fn comparing_marks_over_and_under_grants_cell_by_cell() {
    let mut m = sample_matrix();
    let expected = Expectations::parse(
        r#"{"users": {"ada@lab.example": ["linear", "asana"], "sam@lab.example": []}}"#,
        "e.json",
    )
    .unwrap();
    m.compare(&expected);
    let kinds: Vec<_> = m
        .mismatches()
        .map(|(r, c, k)| (r.user.as_str(), c.id.as_str(), k))
        .collect();
    assert_eq!(
        kinds,
        [
            ("ada@lab.example", "asana", Mismatch::UnderGrant),
            ("sam@lab.example", "asana", Mismatch::OverGrant)
        ]
    );
    assert_eq!(m.users[0].connectors[0].expected, Some(true));
    assert_eq!(m.users[1].connectors[0].expected, Some(false));
    assert_eq!(m.exit_code(), 4);
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["users"][1]["connectors"][1]["mismatch"], "over_grant");
    assert!(json["users"][1]["connectors"][0].get("mismatch").is_none());

    let mut fine = sample_matrix();
    fine.compare(
        &Expectations::parse("ada@lab.example,linear\nsam@lab.example,asana\n", "e.csv").unwrap(),
    );
    assert_eq!(fine.mismatches().count(), 0);
    assert_eq!(fine.exit_code(), 0);
}

fn sample_report(matrix: Matrix) -> report::PilotReport {
    report::PilotReport {
        version: 1,
        generated_at: chrono::Utc::now(),
        idp_issuer: "http://127.0.0.1:1/idp".into(),
        environment: crate::diagnose::doctor::Environment {
            os: "linux".into(),
            os_release: None,
            arch: "x86_64".into(),
            app_version: "0.1.0".into(),
            keyring: crate::diagnose::doctor::KeyringCheck {
                backend: "memory".into(),
                reachable: true,
                error: None,
            },
            state_dir: "/tmp/x".into(),
            log_file: "/tmp/x/log".into(),
        },
        policy_check: report::PolicyCheckSection {
            source: "/etc/lanyard/policy.json".into(),
            checked_by: "test".into(),
            problems: vec![report::PolicyProblem {
                path: Some("idp.client_secret".into()),
                message: "secret labsecret_cs_leaked is set but unused".into(),
                fix: Some("remove it".into()),
                warning: false,
            }],
        },
        readiness: vec![],
        matrix: Some(matrix),
        timings: vec![],
        timings_source: "test".into(),
        legacy: report::LegacySummary::default(),
    }
}

#[test]
fn the_report_carries_no_canary_escapes_markup_and_marks_mismatches_in_words() {
    // The leaked client secret is one the process holds (read from the policy): redaction
    // knows it from the registry, whatever its shape.
    let _held = crate::secret::Secret::new("labsecret_cs_leaked");
    let mut m = sample_matrix();
    m.users[0].user = "<script>alert(1)</script>@lab.example".into();
    m.users.push(MatrixRow {
        user: "pat@lab.example".into(),
        signed_in: false,
        error: Some(RowError {
            code: "login_required".into(),
            message: "id_token eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1LXBhdCJ9.c2lnbmF0dXJl leaked"
                .into(),
        }),
        connectors: vec![],
    });
    m.compare(&Expectations::parse(r#"{"users": {"sam@lab.example": []}}"#, "e.json").unwrap());
    let r = sample_report(m);
    let html = report::to_html(&r).unwrap();
    assert!(
        !html.contains("labsecret_") && !html.contains("eyJ"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "markup is escaped");
    assert!(html.contains("⚠ over-grant") && html.contains("✗ Not signed in"));
    assert!(html.contains("@media print"));
    for remote in ["src=", "href=\"http", "@import", "url("] {
        assert!(!html.contains(remote), "self-contained: {remote}");
    }
    let json = report::to_json(&r).unwrap();
    assert!(
        !json.contains("labsecret_") && !json.contains("eyJ"),
        "{json}"
    );

    let dir = tempfile::tempdir().unwrap();
    let (h, j) = (dir.path().join("r.html"), dir.path().join("r.json"));
    report::write(&r, &h, Some(&j)).unwrap();
    assert_eq!(std::fs::read_to_string(&h).unwrap(), html);
    let back: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    assert_eq!(
        back["matrix"]["users"][1]["connectors"][1]["mismatch"],
        "over_grant"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gather_reads_the_admins_engine_and_runs_readiness() {
    let lab = lab().await;
    let dir = tempfile::tempdir().unwrap();
    let admin = crate::Lanyard::open(crate::Options {
        policy_path: Some(lab.policy_path().to_path_buf()),
        state_dir: Some(dir.path().join("admin")),
        store: Some(Arc::new(MemoryStore::new())),
        ..crate::Options::default()
    })
    .unwrap();
    let r = report::gather(
        &admin,
        ReportInputs {
            matrix: Some(sample_matrix()),
            policy_check: None,
            legacy_home: dir.path().join("home"),
            readiness: true,
        },
    )
    .await;
    assert_eq!(r.readiness.len(), 8);
    let slack = r.readiness.iter().find(|c| c.id == "slack").unwrap();
    assert!(!slack.report.ready, "Slack's AS has no ID-JAG profile");
    assert!(
        r.readiness
            .iter()
            .find(|c| c.id == "linear")
            .unwrap()
            .report
            .ready
    );
    assert_eq!(r.legacy.found_now, 0);
    let html = report::to_html(&r).unwrap();
    assert!(html.contains("Connector readiness") && html.contains("✓ Ready"));
}
