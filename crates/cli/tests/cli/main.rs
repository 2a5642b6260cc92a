//! The `lanyard` binary as a user runs it: against the real lab, with the real keyring (run
//! under scripts/with-keyring.sh), checking the contract — output, JSON v1, exit codes — and
//! that no token ever appears in what it prints, even with debug logs on.

mod faults;
mod pilot;
mod policy;

use std::path::Path;
use std::process::{Command, Output};

use lanyard_lab::{Faults, Lab, LabOptions};

const CANARY: &str = "labsecret_";

mod remote_login;

struct Cli<'a> {
    policy: &'a Path,
    state: &'a Path,
}

impl Cli<'_> {
    fn run(&self, args: &[&str]) -> Output {
        self.run_with::<&str>(args, &[])
    }

    fn run_with<V: AsRef<std::ffi::OsStr>>(&self, args: &[&str], env: &[(String, V)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_lanyard"))
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("LANYARD_POLICY", self.policy)
            .env("LANYARD_STATE_DIR", self.state)
            .env("LANYARD_BROWSER_COMMAND", "curl -fsSL -o /dev/null")
            .env("LANYARD_LOG", "debug")
            .env("LANYARD_LOG_DIR", self.state.join("logs"))
            .output()
            .expect("lanyard runs")
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_clean(o: &Output) {
    let t = text(o);
    assert!(!t.contains(CANARY), "output contains a lab token:\n{t}");
    assert!(!t.contains("eyJ"), "output contains a JWT:\n{t}");
}

async fn lab() -> Lab {
    Lab::start(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        ..LabOptions::default()
    })
    .await
    .expect("lab starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_status_refresh_logout_as_a_user_would() {
    let lab = lab().await;
    let state = tempfile::tempdir().unwrap();
    let cli = Cli {
        policy: lab.policy_path(),
        state: state.path(),
    };

    let status = cli.run(&["status"]);
    assert_eq!(
        status.status.code(),
        Some(3),
        "not signed in yet: {}",
        text(&status)
    );
    assert!(text(&status).contains("Run `lanyard login`"));

    let login = tokio::task::spawn_blocking({
        let (p, s) = (lab.policy_path().to_path_buf(), state.path().to_path_buf());
        move || {
            Cli {
                policy: &p,
                state: &s,
            }
            .run(&["login", "--json"])
        }
    })
    .await
    .unwrap();
    assert_clean(&login);
    assert_eq!(login.status.code(), Some(0), "{}", text(&login));
    let v: serde_json::Value =
        serde_json::from_slice(&login.stdout).expect("login --json prints the status JSON");
    assert_eq!(v["version"], 1);
    assert_eq!(v["session"]["state"], "signed_in");
    assert_eq!(v["session"]["email"], "ada@lab.example");
    let state_of = |v: &serde_json::Value, id: &str| {
        v["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(state_of(&v, "linear")["state"], "granted");
    assert!(state_of(&v, "linear")["tools"].as_u64().unwrap() > 0);
    assert_eq!(state_of(&v, "asana")["state"], "denied");
    assert_eq!(state_of(&v, "asana")["error"]["code"], "invalid_target");
    assert_eq!(state_of(&v, "asana")["error"]["stage"], "token_exchange");
    assert_eq!(state_of(&v, "slack")["state"], "unsupported");
    assert!(
        state_of(&v, "linear").get("error").is_none(),
        "error only when there is a cause"
    );

    // Human status: short lines with state, time left and a hint for denials.
    let human = cli.run(&["status"]);
    assert_clean(&human);
    assert_eq!(human.status.code(), Some(0));
    let out = String::from_utf8_lossy(&human.stdout);
    assert!(out.contains("Signed in as ada@lab.example"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("Linear") && l.contains("granted") && l.contains("left")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("Asana") && l.contains("Not granted by your organisation")),
        "{out}"
    );
    assert!(out.contains("→ "), "denials carry a hint: {out}");

    let json = cli.run(&["status", "--json"]);
    let v2: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        v2["connectors"], v["connectors"],
        "status --json reads back what login resolved"
    );

    let refresh = tokio::task::spawn_blocking({
        let (p, s) = (lab.policy_path().to_path_buf(), state.path().to_path_buf());
        move || {
            Cli {
                policy: &p,
                state: &s,
            }
            .run(&["refresh", "linear"])
        }
    })
    .await
    .unwrap();
    assert_clean(&refresh);
    assert_eq!(refresh.status.code(), Some(0), "{}", text(&refresh));

    let unknown = cli.run(&["refresh", "nope"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown).contains("no connector \"nope\""),
        "{}",
        text(&unknown)
    );

    // The IdP goes down: the next refresh reports it and exits 4 (attention needed).
    lab.set_faults(Faults {
        idp_down: true,
        ..Faults::default()
    });
    let down = tokio::task::spawn_blocking({
        let (p, s) = (lab.policy_path().to_path_buf(), state.path().to_path_buf());
        move || {
            Cli {
                policy: &p,
                state: &s,
            }
            .run(&["refresh"])
        }
    })
    .await
    .unwrap();
    assert_clean(&down);
    assert_eq!(down.status.code(), Some(4), "{}", text(&down));
    assert!(String::from_utf8_lossy(&down.stdout).contains("retrying"));

    // Support runs the doctor: the cause is named, and the bundle is safe to attach.
    let bundle = state.path().join("bundle.json");
    let doctor = tokio::task::spawn_blocking({
        let (p, s, b) = (
            lab.policy_path().to_path_buf(),
            state.path().to_path_buf(),
            bundle.clone(),
        );
        move || {
            Cli {
                policy: &p,
                state: &s,
            }
            .run(&["doctor", "--bundle", b.to_str().unwrap()])
        }
    })
    .await
    .unwrap();
    assert_clean(&doctor);
    let report = String::from_utf8_lossy(&doctor.stdout).to_string();
    assert!(report.contains("incident LY-"), "{report}");
    assert!(report.contains("keyring os-keyring: reachable"), "{report}");
    assert!(
        report.contains("cause:") && report.contains("admin:"),
        "a failure is explained:\n{report}"
    );
    assert!(
        report.contains("temporarily_unavailable"),
        "the IdP's own code is shown:\n{report}"
    );
    let bundle_text = std::fs::read_to_string(&bundle).expect("bundle written");
    assert!(
        !bundle_text.contains(CANARY) && !bundle_text.contains("eyJ"),
        "bundle is clean"
    );
    let parsed: serde_json::Value = serde_json::from_str(&bundle_text).unwrap();
    assert!(parsed["incident_id"].as_str().unwrap().starts_with("LY-"));
    lab.set_faults(Faults::default());

    let logout = tokio::task::spawn_blocking({
        let (p, s) = (lab.policy_path().to_path_buf(), state.path().to_path_buf());
        move || {
            Cli {
                policy: &p,
                state: &s,
            }
            .run(&["logout"])
        }
    })
    .await
    .unwrap();
    assert_clean(&logout);
    assert_eq!(logout.status.code(), Some(0), "{}", text(&logout));
    assert!(text(&logout).contains("revoked"), "{}", text(&logout));
    assert_eq!(cli.run(&["status"]).status.code(), Some(3));

    // Debug logs went to the rotating log file too, and hold no token either.
    let log =
        std::fs::read_to_string(state.path().join("logs").join("lanyard.log")).expect("log file");
    assert!(
        log.contains("resolved"),
        "the file log has the engine's records"
    );
    assert!(
        !log.contains(CANARY) && !log.contains("eyJ"),
        "log file is clean"
    );
}

#[test]
fn a_bad_policy_names_the_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"idp": {"issuer": "https://idp.example", "client_id": "c", "scope": ["openid"]}, "connectors": []}"#,
    )
    .unwrap();
    let out = Cli {
        policy: &policy,
        state: dir.path(),
    }
    .run(&["status"]);
    assert_eq!(out.status.code(), Some(2));
    let t = text(&out);
    assert!(t.contains("at `idp.scope`: unknown field"), "{t}");
    assert!(t.contains("what to do"), "{t}");
}

#[test]
fn device_key_prints_a_public_jwk_only() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"idp": {"issuer": "https://idp.example", "client_id": "c"}}"#,
    )
    .unwrap();
    let cli = Cli {
        policy: &policy,
        state: dir.path(),
    };
    let first = cli.run(&["device-key"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let jwk: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert!(jwk.get("d").is_none(), "never the private part");
    let second: serde_json::Value =
        serde_json::from_slice(&cli.run(&["device-key"]).stdout).unwrap();
    assert_eq!(
        jwk["kid"], second["kid"],
        "the key is kept in the keyring and reused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_list_dry_run_then_disconnect_covered() {
    let lab = lab().await;
    let state = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    lanyard_lab::seed_legacy(lab.base(), home.path(), "ada@lab.example")
        .await
        .expect("seeded");
    let legacy_alive = |lab: &Lab| lab.grants().iter().filter(|g| g.kind == "legacy").count();
    let before = legacy_alive(&lab);
    assert!(before >= 5, "the seed made real per-user grants: {before}");

    let (p, s, h) = (
        lab.policy_path().to_path_buf(),
        state.path().to_path_buf(),
        home.path().to_path_buf(),
    );
    let run = move |args: Vec<String>| {
        let (p, s, h) = (p.clone(), s.clone(), h.clone());
        tokio::task::spawn_blocking(move || {
            let mut full = vec![
                "legacy".to_string(),
                "--home".into(),
                h.display().to_string(),
            ];
            full.extend(args);
            let refs: Vec<&str> = full.iter().map(String::as_str).collect();
            Cli {
                policy: &p,
                state: &s,
            }
            .run(&refs)
        })
    };
    let login = tokio::task::spawn_blocking({
        let (p, s) = (lab.policy_path().to_path_buf(), state.path().to_path_buf());
        move || {
            Cli {
                policy: &p,
                state: &s,
            }
            .run(&["login"])
        }
    })
    .await
    .unwrap();
    assert_eq!(login.status.code(), Some(0), "{}", text(&login));

    let list = run(vec!["list".into(), "--json".into()]).await.unwrap();
    assert_clean(&list);
    let scan: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let entries = scan["entries"].as_array().unwrap();
    let covered = entries
        .iter()
        .filter(|e| e["covered_by_ema"] == true)
        .count();
    assert!(
        covered >= 3,
        "ada's zero-touch grants cover several legacy entries: {scan}"
    );
    let human = run(vec!["list".into()]).await.unwrap();
    assert!(
        text(&human).contains("covered by zero-touch"),
        "{}",
        text(&human)
    );

    let snapshot = all_files(home.path());
    let dry = run(vec![
        "disconnect".into(),
        "--covered".into(),
        "--dry-run".into(),
    ])
    .await
    .unwrap();
    assert_clean(&dry);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    assert_eq!(
        all_files(home.path()),
        snapshot,
        "a dry run changes nothing on disk"
    );
    assert_eq!(legacy_alive(&lab), before, "…nor at the server");

    let done = run(vec![
        "disconnect".into(),
        "--covered".into(),
        "--force".into(),
    ])
    .await
    .unwrap();
    assert_clean(&done);
    assert_eq!(done.status.code(), Some(0), "{}", text(&done));
    assert!(
        text(&done).contains("lanyard legacy restore"),
        "receipts say how to undo: {}",
        text(&done)
    );
    assert_eq!(
        legacy_alive(&lab),
        before - covered,
        "each covered grant was revoked at the server"
    );
    let after: serde_json::Value = serde_json::from_slice(
        &run(vec!["list".into(), "--json".into()])
            .await
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        after["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["covered_by_ema"] != true)
    );

    // Logout says how many backups remain and how to delete them, without asking.
    let logout = tokio::task::spawn_blocking({
        let (p, s) = (lab.policy_path().to_path_buf(), state.path().to_path_buf());
        move || {
            Cli {
                policy: &p,
                state: &s,
            }
            .run(&["logout"])
        }
    })
    .await
    .unwrap();
    assert_clean(&logout);
    assert_eq!(logout.status.code(), Some(0), "{}", text(&logout));
    let hint = format!("{covered} legacy backups of disconnected entries remain");
    assert!(text(&logout).contains(&hint), "{}", text(&logout));
    assert!(text(&logout).contains("lanyard legacy purge"));
    let purged = run(vec!["purge".into()]).await.unwrap();
    assert_eq!(purged.status.code(), Some(0), "{}", text(&purged));
    assert!(
        text(&purged).contains(&format!("Deleted {covered} legacy backups")),
        "{}",
        text(&purged)
    );
    assert!(
        std::fs::read_dir(state.path().join("legacy-backups"))
            .unwrap()
            .next()
            .is_none(),
        "no backup left"
    );
}

fn all_files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}
