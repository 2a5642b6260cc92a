//! Shared set-up: a lab per test, an engine on a temporary state folder, a browser command
//! that follows redirects to the loopback callback like a real browser would.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use lanyard::clock::{ManualClock, SharedClock};
use lanyard::protocol::oidc::{Browser, SignInOptions};
use lanyard::{Lanyard, Options};
use lanyard_lab::{Lab, LabOptions};

pub const CANARY: &str = "labsecret_";
pub const JWT_PREFIX: &str = "eyJ";

pub async fn lab_for(user: &str) -> Lab {
    lab_with(LabOptions {
        auto_login: Some(user.to_string()),
        ..LabOptions::default()
    })
    .await
}

pub async fn lab_with(opts: LabOptions) -> Lab {
    Lab::start(opts).await.expect("the lab starts")
}

/// Every RFC 7009 revocation at the lab answers 500 until the faults are cleared.
pub fn fail_revocations(lab: &Lab) {
    lab.set_faults(lanyard_lab::Faults {
        leg_fault: Some(lanyard_lab::LegFault {
            leg: lanyard_lab::Leg::Revocation,
            kind: lanyard_lab::LegFaultKind::Error500,
            delay_ms: None,
        }),
        ..lanyard_lab::Faults::default()
    });
}

pub struct Env {
    pub engine: Arc<Lanyard>,
    pub state: tempfile::TempDir,
}

pub fn engine(lab: &Lab) -> Env {
    engine_with(lab.policy_path(), None)
}

pub fn engine_with(policy: &Path, clock: Option<SharedClock>) -> Env {
    let state = tempfile::tempdir().expect("temp state dir");
    let engine = Lanyard::open(Options {
        policy_path: Some(policy.to_path_buf()),
        state_dir: Some(state.path().to_path_buf()),
        clock,
        store: None, // the real OS keyring
        http_timeout: Some(Duration::from_secs(10)),
    })
    .expect("engine opens (is the test running under scripts/with-keyring.sh?)");
    Env {
        engine: Arc::new(engine),
        state,
    }
}

pub fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(chrono::Utc::now()))
}

/// The way tests and SSH users sign in: a command that follows redirects to our callback.
pub fn curl_browser() -> Browser {
    Browser::Command("curl -fsSL -o /dev/null".to_string())
}

pub fn sign_in_options(browser: Browser) -> SignInOptions {
    SignInOptions {
        browser,
        timeout: Duration::from_secs(30),
        cancel: None,
        login_hint: None,
        prompt: None,
    }
}

/// Every file under `dir`, as text, for canary checks.
pub fn all_text_under(dir: &Path) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push_str(&String::from_utf8_lossy(&bytes));
                out.push('\n');
            }
        }
    }
    out
}

pub fn assert_no_secrets(what: &str, text: &str) {
    assert!(
        !text.contains(CANARY),
        "{what} contains a lab token (prefix {CANARY})"
    );
    assert!(!text.contains(JWT_PREFIX), "{what} contains a JWT");
}
