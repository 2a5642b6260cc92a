//! `lanyard login --no-browser | --device | --paste` as a person on an SSH session uses it,
//! against the real lab: the device code approved, denied or left to expire at the lab's
//! RFC 8628 endpoint, and paste-back with stdin — a good address, another attempt's address,
//! and a code that was already redeemed. Prompts go to stderr; stdout stays the status JSON.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use lanyard_lab::{DeviceDecision, Lab, LabOptions};

use super::CANARY;

async fn lab(interval_secs: u64, lifetime_secs: u64) -> Lab {
    Lab::start(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        device_poll_interval_secs: Some(interval_secs),
        device_code_lifetime_secs: Some(lifetime_secs),
        ..LabOptions::default()
    })
    .await
    .expect("lab starts")
}

/// A running `lanyard login`: stderr read line by line as it comes, stdin held open.
struct Login {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    stderr: Vec<String>,
    stdout: std::thread::JoinHandle<String>,
}

/// What a finished login printed.
struct Done {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Login {
    fn spawn(policy: &Path, state: &Path, args: &[&str]) -> Login {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lanyard"))
            .args(args)
            .args(["--timeout", "60"])
            .env("LANYARD_POLICY", policy)
            .env("LANYARD_STATE_DIR", state)
            // Set as in the other CLI tests: --no-browser and friends must win over it.
            .env("LANYARD_BROWSER_COMMAND", "curl -fsSL -o /dev/null")
            .env("LANYARD_LOG", "debug")
            .env("LANYARD_LOG_DIR", state.join("logs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lanyard runs");
        let (tx, lines) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        Login {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr: Vec::new(),
            stdout,
        }
    }

    /// The first stderr line (from now on) that `matches`; panics after 30 s.
    fn line(&mut self, matches: impl Fn(&str) -> bool) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    self.stderr.push(line.clone());
                    if matches(&line) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "no such line ({e}); stderr so far:\n{}",
                    self.stderr.join("\n")
                ),
            }
        }
    }

    fn paste(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{text}").unwrap();
        stdin.flush().unwrap();
    }

    fn finish(mut self) -> Done {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        self.stderr.extend(self.lines.iter());
        let done = Done {
            code: status.code(),
            stdout: self.stdout.join().unwrap(),
            stderr: self.stderr.join("\n"),
        };
        let all = format!("{}{}", done.stdout, done.stderr);
        assert!(!all.contains(CANARY), "output contains a lab token:\n{all}");
        assert!(!all.contains("eyJ"), "output contains a JWT:\n{all}");
        done
    }
}

/// The user code the CLI printed, checked against what the lab holds.
fn printed_user_code(login: &mut Login, lab: &Lab) -> String {
    let line = login.line(|l| l.contains("check that it shows the code"));
    let code = line.split_whitespace().last().unwrap().to_string();
    let pending = lab.device_requests();
    assert!(
        pending
            .iter()
            .any(|r| r.user_code == code && r.status == "pending"),
        "{code} vs {pending:?}"
    );
    code
}

fn sign_in_trace(state: &Path) -> serde_json::Value {
    let path = state.join("traces").join("sign-in.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Every OAuth error code the token endpoint answered during the sign-in.
fn token_errors(state: &Path) -> Vec<String> {
    let trace = sign_in_trace(state);
    let steps = trace
        .as_array()
        .or_else(|| trace["steps"].as_array())
        .cloned()
        .unwrap_or_default();
    steps
        .iter()
        .filter(|s| s["kind"] == "device_poll")
        .filter_map(|s| s["oauth_error"]["error"].as_str().map(String::from))
        .collect()
}

/// The sign-in's timeline as support sees it (`lanyard doctor --json`).
fn sign_in_timeline(policy: &Path, state: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_lanyard"))
        .args(["doctor", "--json"])
        .env("LANYARD_POLICY", policy)
        .env("LANYARD_STATE_DIR", state)
        .env("LANYARD_LOG_DIR", state.join("logs"))
        .output()
        .expect("lanyard doctor runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    report["timelines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "sign-in")
        .cloned()
        .expect("a sign-in timeline")
}

fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_browser_uses_the_device_code_and_signs_in_once_approved() {
    let lab = lab(1, 600).await;
    let state = tempfile::tempdir().unwrap();
    let mut login = Login::spawn(
        lab.policy_path(),
        state.path(),
        &["login", "--no-browser", "--json"],
    );
    let link = login.line(|l| l.contains("/device?user_code="));
    assert!(
        link.trim().starts_with(lab.ready().idp_issuer.as_str()),
        "{link}"
    );
    let code = printed_user_code(&mut login, &lab);
    assert!(link.ends_with(&code), "the link carries the code: {link}");
    // Let a few polls go by unanswered: each must come at the lab's 1 s pace.
    std::thread::sleep(Duration::from_millis(3500));
    lab.decide_device(
        &code,
        DeviceDecision::Approve {
            email: "ada@lab.example".into(),
        },
    )
    .unwrap();
    let done = run_blocking(move || login.finish());
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let v: serde_json::Value = serde_json::from_str(&done.stdout).expect("status JSON");
    assert_eq!(v["session"]["state"], "signed_in");
    assert_eq!(v["session"]["email"], "ada@lab.example");
    let linear = v["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "linear")
        .unwrap();
    assert_eq!(linear["state"], "granted");

    // The lab answers slow_down to any poll that comes early; Lanyard never earned one.
    let errors = token_errors(state.path());
    assert!(errors.len() >= 2, "several pending polls: {errors:?}");
    assert!(
        errors.iter().all(|e| e == "authorization_pending"),
        "{errors:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_device_code_ends_with_a_clear_message() {
    let lab = lab(1, 600).await;
    let state = tempfile::tempdir().unwrap();
    let mut login = Login::spawn(lab.policy_path(), state.path(), &["login", "--device"]);
    let code = printed_user_code(&mut login, &lab);
    lab.decide_device(&code, DeviceDecision::Deny).unwrap();
    let done = run_blocking(move || login.finish());
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(
        done.stderr
            .contains("lanyard: the sign-in was denied at the IdP's approval page"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("(code: device_denied)"),
        "{}",
        done.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_device_code_says_to_log_in_again() {
    let lab = lab(1, 3).await;
    let state = tempfile::tempdir().unwrap();
    let mut login = Login::spawn(lab.policy_path(), state.path(), &["login", "--device"]);
    let line = login.line(|l| l.contains("The code expires in"));
    assert!(line.contains("3 s"), "{line}");
    let done = run_blocking(move || login.finish());
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(
        done.stderr
            .contains("lanyard: the code expired before it was approved"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("Run `lanyard login` again"),
        "{}",
        done.stderr
    );
    assert_eq!(
        token_errors(state.path()).last().map(String::as_str),
        Some("expired_token"),
        "the lab said so itself"
    );

    // Support's view of it: the device code asked for, the polls that waited, the one that
    // failed, with the cause and what to do.
    let (policy, dir) = (lab.policy_path().to_path_buf(), state.path().to_path_buf());
    let timeline = run_blocking(move || sign_in_timeline(&policy, &dir));
    assert_eq!(timeline["outcome"], "failed", "{timeline:#}");
    let steps: Vec<(String, String)> = timeline["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"].as_str().unwrap().starts_with("device_"))
        .map(|s| {
            (
                s["kind"].as_str().unwrap().into(),
                s["verdict"].as_str().unwrap().into(),
            )
        })
        .collect();
    let (last, waits) = steps.split_last().unwrap();
    assert_eq!(
        steps[0],
        ("device_authorization".into(), "ok".into()),
        "{steps:?}"
    );
    assert!(waits.len() >= 2, "a pending poll or more: {steps:?}");
    for wait in &waits[1..] {
        assert_eq!(
            wait,
            &("device_poll".to_string(), "info".to_string()),
            "{steps:?}"
        );
    }
    assert_eq!(last, &("device_poll".to_string(), "failed".to_string()));
    let pending = &timeline["steps"].as_array().unwrap()[1..]
        .iter()
        .find(|s| s["kind"] == "device_poll")
        .unwrap()["note"];
    assert_eq!(pending, "not approved yet; next poll in 1 s");
    assert_eq!(timeline["failure"]["code"], "expired_token");
    assert!(
        timeline["failure"]["employee"]
            .as_str()
            .unwrap()
            .contains("lanyard login --no-browser"),
        "{timeline:#}"
    );
}

/// The address the person's browser ends on: the lab's authorization endpoint signs ada in
/// (auto-login) and redirects to the loopback callback, which curl does not follow — as a
/// browser on another machine could not.
fn browser_elsewhere(authorization_url: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{redirect_url}"])
        .arg(authorization_url)
        .output()
        .unwrap();
    let location = String::from_utf8(out.stdout).unwrap();
    assert!(location.contains("/callback?"), "{location}");
    location
}

/// Starts `lanyard login --paste`, opens the printed URL "elsewhere", returns the address.
fn paste_login(policy: &Path, state: &Path) -> (Login, String) {
    let mut login = Login::spawn(policy, state, &["login", "--paste", "--json"]);
    let url = login.line(|l| l.contains("/authorize?"));
    let location = browser_elsewhere(url.trim());
    login.line(|l| l.contains("paste it here"));
    (login, location)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paste_back_signs_in_with_the_pasted_address() {
    let lab = lab(1, 600).await;
    let state = tempfile::tempdir().unwrap();
    let (policy, dir) = (lab.policy_path().to_path_buf(), state.path().to_path_buf());
    let done = run_blocking(move || {
        let (mut login, location) = paste_login(&policy, &dir);
        login.paste("this is not it");
        login.line(|l| l.contains("That is not an address"));
        login.paste(&location);
        login.finish()
    });
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let v: serde_json::Value = serde_json::from_str(&done.stdout).expect("status JSON");
    assert_eq!(v["session"]["state"], "signed_in");
    assert_eq!(v["session"]["email"], "ada@lab.example");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paste_back_refuses_another_attempts_address() {
    let lab = lab(1, 600).await;
    let state = tempfile::tempdir().unwrap();
    let (policy, dir) = (lab.policy_path().to_path_buf(), state.path().to_path_buf());
    let done = run_blocking(move || {
        let (mut login, location) = paste_login(&policy, &dir);
        login.paste(&with_state(&location, "from-an-older-attempt"));
        login.finish()
    });
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(
        done.stderr
            .contains("lanyard: this URL is from another sign-in attempt"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("(code: state_mismatch)"),
        "{}",
        done.stderr
    );
    assert!(
        !done.stderr.contains("from-an-older-attempt"),
        "no query value is echoed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paste_back_explains_a_code_that_was_already_redeemed() {
    let lab = lab(1, 600).await;
    let state = tempfile::tempdir().unwrap();
    let (policy, dir) = (lab.policy_path().to_path_buf(), state.path().to_path_buf());
    let issuer = lab.ready().idp_issuer.clone();
    let done = run_blocking(move || {
        let (mut login, location) = paste_login(&policy, &dir);
        redeem_elsewhere(&policy, &issuer, &location);
        login.paste(&location);
        login.finish()
    });
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(
        done.stderr
            .contains("lanyard: the IdP refused to exchange the sign-in code: invalid_grant"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("each code works once"),
        "{}",
        done.stderr
    );
}

/// `location` with its `state` value replaced.
fn with_state(location: &str, state: &str) -> String {
    let (base, query) = location.split_once('?').unwrap();
    let pairs: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some(("state", _)) => format!("state={state}"),
            _ => p.to_string(),
        })
        .collect();
    format!("{base}?{}", pairs.join("&"))
}

/// Someone else redeems the code first (with Lanyard's client credentials but not its PKCE
/// verifier): the lab burns a code on its first use, as RFC 6749 §4.1.2 asks.
fn redeem_elsewhere(policy: &Path, issuer: &str, location: &str) {
    let policy: serde_json::Value =
        serde_json::from_slice(&std::fs::read(policy).unwrap()).unwrap();
    let client_id = policy["idp"]["client_id"].as_str().unwrap();
    let secret_file = PathBuf::from(policy["idp"]["client_secret"]["file"].as_str().unwrap());
    let secret = std::fs::read_to_string(secret_file).unwrap();
    let (redirect_uri, query) = location.split_once('?').unwrap();
    let code = query
        .split('&')
        .find_map(|p| p.strip_prefix("code="))
        .unwrap();
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u"])
        .arg(format!("{client_id}:{}", secret.trim()))
        .args(["--data-urlencode", "grant_type=authorization_code"])
        .arg("--data-urlencode")
        .arg(format!("code={code}"))
        .arg("--data-urlencode")
        .arg(format!("redirect_uri={redirect_uri}"))
        .args([
            "--data-urlencode",
            "code_verifier=not-the-verifier-not-the-verifier-43chars",
        ])
        .arg(format!("{issuer}/token"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "400",
        "refused, and burnt"
    );
}
