//! `lanyard pilot` against the real lab and the real keyring: the matrix of the four directory
//! users equals the directory's groups, an expected-grants file with one over-grant and one
//! under-grant exits 4 naming both, a stranger is a row "not signed in" and the run goes on,
//! the admin's own state and keyring items are untouched, and the report carries no token and
//! renders in headless Chromium.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::{Cli, assert_clean, lab, text};

const USERS: &str = "ada@lab.example,grace@lab.example,sam@lab.example,pat@lab.example";

/// product.md's directory table, as connector ids.
const DIRECTORY: &[(&str, &[&str])] = &[
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

/// Runs the CLI off the async runtime (it blocks while the in-process lab serves it).
async fn run(policy: &Path, state: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let (p, s) = (policy.to_path_buf(), state.to_path_buf());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, PathBuf)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_path_buf()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let cli = Cli {
            policy: &p,
            state: &s,
        };
        cli.run_with(&refs, &env)
    })
    .await
    .unwrap()
}

fn granted(row: &Value) -> BTreeSet<String> {
    row["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["state"] == "granted")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn row<'a>(m: &'a Value, user: &str) -> &'a Value {
    m["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user"] == user)
        .unwrap()
}

/// Login as the admin, snapshot, `pilot matrix`, snapshot — inside a private Secret Service
/// (scripts/with-keyring.sh run afresh), so the snapshots list every Lanyard item there is,
/// with label, value, times and attributes, and no other test's items come and go meanwhile.
const UNTOUCHED_SCRIPT: &str = r#"set -eu
snap() { secret-tool search --all --unlock service lanyard >"$W/items.$1" 2>"$W/attrs.$1" || true; }
"$LANYARD" login >"$W/login.out" 2>&1
cp "$LANYARD_STATE_DIR/state.json" "$W/state.before"
snap before
rc=0; "$LANYARD" pilot matrix --users "$USERS" --json >"$W/matrix.json" 2>"$W/matrix.err" || rc=$?
echo "$rc" >"$W/matrix.rc"
snap after
"#;

/// A snapshot's item blocks and attribute lines (secret-tool prints attributes on stderr), each
/// sorted: search order is not an item's content.
fn snapshot(dir: &Path, which: &str) -> (Vec<String>, Vec<String>) {
    let read = |name: String| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let mut items: Vec<String> = Vec::new();
    // secret-tool prints an item's `schema` line on some searches and not on others.
    let lines = read(format!("items.{which}"));
    for line in lines.lines().filter(|l| !l.starts_with("schema = ")) {
        match items.last_mut() {
            Some(block) if !line.starts_with('[') => {
                block.push('\n');
                block.push_str(line);
            }
            _ => items.push(line.to_string()),
        }
    }
    items.sort();
    let mut attributes: Vec<String> = read(format!("attrs.{which}"))
        .lines()
        .filter(|l| l.starts_with("attribute."))
        .map(str::to_string)
        .collect();
    attributes.sort();
    (items, attributes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_matrix_equals_the_directory_and_leaves_the_admin_untouched() {
    let lab = lab().await;
    let state = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let policy = lab.policy_path();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/with-keyring.sh");
    let (p, s, w) = (
        policy.to_path_buf(),
        state.path().to_path_buf(),
        work.path().to_path_buf(),
    );
    let session = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .arg(script)
            .args(["bash", "-c", UNTOUCHED_SCRIPT])
            .env_remove("LANYARD_IN_KEYRING_SESSION")
            .env("LANYARD", env!("CARGO_BIN_EXE_lanyard"))
            .env("LANYARD_POLICY", p)
            .env("LANYARD_STATE_DIR", s)
            .env("LANYARD_BROWSER_COMMAND", "curl -fsSL -o /dev/null")
            .env("USERS", USERS)
            .env("W", w)
            .output()
            .expect("with-keyring.sh runs")
    })
    .await
    .unwrap();
    let w = work.path();
    let read = |name: &str| std::fs::read_to_string(w.join(name)).unwrap_or_default();
    assert!(
        session.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&session.stderr),
        read("login.out")
    );
    for out in ["login.out", "matrix.json", "matrix.err"] {
        let t = read(out);
        assert!(
            !t.contains("labsecret_") && !t.contains("eyJ"),
            "{out}: {t}"
        );
    }
    assert_eq!(read("matrix.rc").trim(), "0", "{}", read("matrix.err"));
    let m: Value = serde_json::from_str(&read("matrix.json")).expect("--json prints the matrix");
    assert_eq!(m["version"], 1);
    assert_eq!(m["users"].as_array().unwrap().len(), 4);
    for (user, expected) in DIRECTORY {
        let r = row(&m, user);
        assert_eq!(r["signed_in"], true, "{r}");
        let want: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(granted(r), want, "{user}");
        for cell in r["connectors"].as_array().unwrap() {
            assert!(cell.get("expected").is_none() && cell.get("mismatch").is_none());
        }
    }
    let asana = &row(&m, "ada@lab.example")["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "asana")
        .unwrap()
        .clone();
    assert_eq!(
        (asana["state"].as_str(), asana["code"].as_str()),
        (Some("denied"), Some("invalid_target"))
    );

    assert!(
        std::fs::read(state.path().join("state.json")).unwrap()
            == std::fs::read(w.join("state.before")).unwrap(),
        "the admin's state.json is byte-identical"
    );
    let (before, after) = (snapshot(w, "before"), snapshot(w, "after"));
    assert!(
        before.1.iter().any(|a| a.ends_with("/idp/id_token")),
        "the snapshot sees the admin's items: {:?}",
        before.1
    );
    // Attributes name items, never hold a token: safe to show.
    assert_eq!(
        after.1, before.1,
        "the same keyring items, and no throw-away item left"
    );
    // Printed without the values on failure: the listing holds the admin's tokens.
    let masked = |items: &[String]| -> Vec<String> {
        items
            .iter()
            .map(|b| {
                b.lines()
                    .map(|l| {
                        if l.starts_with("secret = ") {
                            "secret = …"
                        } else {
                            l
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect()
    };
    assert_eq!(masked(&after.0), masked(&before.0));
    assert!(
        after.0 == before.0,
        "the admin's keyring items are identical, values and times included"
    );
    let status = run(policy, state.path(), &["status", "--json"], &[]).await;
    let v: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["session"]["email"], "ada@lab.example");

    // Human output: one block per user, states in words.
    let human = run(
        policy,
        state.path(),
        &["pilot", "matrix", "--users", "pat@lab.example"],
        &[],
    )
    .await;
    assert_clean(&human);
    assert_eq!(human.status.code(), Some(0), "{}", text(&human));
    let t = text(&human);
    assert!(t.contains("Signing in pat@lab.example (1/1)"), "{t}");
    assert!(
        t.lines()
            .any(|l| l.contains("Granola") && l.contains("✓ granted")),
        "{t}"
    );
    assert!(
        t.lines().any(|l| l.contains("Linear")
            && l.contains("✗ denied")
            && l.contains("invalid_target")),
        "{t}"
    );
}

/// Grace is not meant to have Figma (over-grant); Sam is meant to have Linear (under-grant).
fn write_expectations(dir: &Path) -> PathBuf {
    let path = dir.join("expected.json");
    std::fs::write(
        &path,
        r#"{
  "groups": {"Everyone": ["atlassian", "granola"], "Engineering": ["linear", "supabase"],
             "Design": ["canva"], "Sales": ["asana", "linear"]},
  "members": {"ada@lab.example": ["Everyone", "Engineering"], "grace@lab.example": ["Everyone", "Design"],
              "sam@lab.example": ["Everyone", "Sales"], "pat@lab.example": ["Everyone"]}
}"#,
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_grant_and_an_under_grant_are_reported_and_exit_4() {
    let lab = lab().await;
    let dir = tempfile::tempdir().unwrap();
    let expect = write_expectations(dir.path());
    let expect = expect.to_str().unwrap();
    let (policy, state) = (lab.policy_path(), dir.path().join("state"));
    let args = [
        "pilot", "matrix", "--users", USERS, "--expect", expect, "--json",
    ];
    let out = run(policy, &state, &args, &[]).await;
    assert_clean(&out);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mismatches: Vec<(String, String, String)> = m["users"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["connectors"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(move |c| {
                    c.get("mismatch").map(|k| {
                        (
                            r["user"].as_str().unwrap().into(),
                            c["id"].as_str().unwrap().into(),
                            k.as_str().unwrap().into(),
                        )
                    })
                })
        })
        .collect();
    assert_eq!(
        mismatches,
        [
            (
                "grace@lab.example".into(),
                "figma".into(),
                "over_grant".into()
            ),
            (
                "sam@lab.example".into(),
                "linear".into(),
                "under_grant".into()
            ),
        ]
    );
    let figma = row(&m, "grace@lab.example")["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "figma")
        .unwrap()
        .clone();
    assert_eq!(figma["expected"], false);

    let human = run(policy, &state, &args[..6], &[]).await;
    assert_eq!(human.status.code(), Some(4));
    let t = text(&human);
    assert!(
        t.contains("⚠ over-grant: grace@lab.example was granted Figma"),
        "{t}"
    );
    assert!(
        t.contains("⚠ under-grant: sam@lab.example was expected to get Linear"),
        "{t}"
    );

    // A file naming an unknown connector is reported; an unreadable one exits 2.
    let typo = dir.path().join("typo.csv");
    std::fs::write(&typo, "user,connector\npat@lab.example,atlassian\npat@lab.example,granola\npat@lab.example,linaer\n").unwrap();
    let out = run(
        policy,
        &state,
        &[
            "pilot",
            "matrix",
            "--users",
            "pat@lab.example",
            "--expect",
            typo.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(
        text(&out).contains("\"linaer\", which is not a connector in the policy"),
        "{}",
        text(&out)
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"users": {"pat@lab.example": "granola"}}"#).unwrap();
    let out = run(
        policy,
        &state,
        &[
            "pilot",
            "matrix",
            "--users",
            "pat@lab.example",
            "--expect",
            bad.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("at users.pat@lab.example"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_is_a_row_not_signed_in_and_the_matrix_goes_on() {
    let lab = lab().await;
    let dir = tempfile::tempdir().unwrap();
    let users = "ada@lab.example,nobody@lab.example,pat@lab.example";
    let out = run(
        lab.policy_path(),
        dir.path(),
        &["pilot", "matrix", "--users", users, "--json"],
        &[],
    )
    .await;
    assert_clean(&out);
    assert_eq!(
        out.status.code(),
        Some(4),
        "a user could not sign in: {}",
        text(&out)
    );
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    let nobody = row(&m, "nobody@lab.example");
    assert_eq!(nobody["signed_in"], false);
    assert_eq!(nobody["error"]["code"], "login_required");
    assert_eq!(nobody["connectors"], serde_json::json!([]));
    assert_eq!(row(&m, "pat@lab.example")["signed_in"], true);
    assert_eq!(granted(row(&m, "pat@lab.example")).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_has_no_token_and_renders_in_headless_chromium() {
    let lab = lab().await;
    let dir = tempfile::tempdir().unwrap();
    let (policy, state, home) = (
        lab.policy_path(),
        dir.path().join("state"),
        dir.path().join("home"),
    );
    lanyard_lab::seed_legacy(lab.base(), &home, "ada@lab.example")
        .await
        .expect("seeded");
    let login = run(policy, &state, &["login"], &[]).await;
    assert_eq!(login.status.code(), Some(0), "{}", text(&login));
    let disconnect = run(
        policy,
        &state,
        &[
            "legacy",
            "--home",
            home.to_str().unwrap(),
            "disconnect",
            "--covered",
            "--force",
        ],
        &[],
    )
    .await;
    assert_eq!(disconnect.status.code(), Some(0), "{}", text(&disconnect));

    let expect = write_expectations(dir.path());
    let (html, json) = (
        dir.path().join("pilot-report.html"),
        dir.path().join("pilot-report.json"),
    );
    let out = run(
        policy,
        &state,
        &[
            "pilot",
            "report",
            "--out",
            html.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--users",
            USERS,
            "--expect",
            expect.to_str().unwrap(),
        ],
        &[("LANYARD_LEGACY_HOME", &home)],
    )
    .await;
    assert_clean(&out);
    assert_eq!(
        out.status.code(),
        Some(4),
        "the mismatches are problems found: {}",
        text(&out)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    let data = std::fs::read_to_string(&json).unwrap();
    for text in [&page, &data] {
        assert!(
            !text.contains("labsecret_") && !text.contains("eyJ"),
            "a token reached the report"
        );
    }
    for part in [
        "Grant matrix",
        "⚠ over-grant",
        "⚠ under-grant",
        "Connector readiness",
        "Legacy per-user tokens",
        "Timings per leg",
        "Before Lanyard's disconnects",
    ] {
        assert!(page.contains(part), "{part}");
    }
    let d: Value = serde_json::from_str(&data).unwrap();
    assert!(
        d["legacy"]["disconnected"].as_u64().unwrap() >= 3,
        "{}",
        d["legacy"]
    );
    assert_eq!(d["readiness"].as_array().unwrap().len(), 8);
    assert!(!d["timings"].as_array().unwrap().is_empty());
    // The policy section is the admin's own `policy check`, live, on the policy in use.
    assert_eq!(
        d["policy_check"]["checked_by"],
        "static and live checks (lanyard policy check)"
    );
    assert_eq!(d["policy_check"]["source"], policy.display().to_string());

    let png = dir.path().join("pilot-report.png");
    let shot = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,2200",
            &format!("--screenshot={}", png.display()),
            &format!("file://{}", html.display()),
        ])
        .env("HOME", dir.path())
        .output()
        .expect("chromium runs (scripts/install-deps.sh installs it)");
    assert!(
        png.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h) = (
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (1200, 2200));
    // A blank page compresses to a few kilobytes; a rendered report with tables does not.
    assert!(
        bytes.len() > 60_000,
        "the screenshot looks empty: {} bytes",
        bytes.len()
    );
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    if shots.is_dir() {
        std::fs::copy(&png, shots.join("pilot-report.png")).unwrap();
    }
}
