//! `lanyard pilot …`: the admin's what-if grant matrix and the shareable pilot report. Thin:
//! parse, call `lanyard::pilot`, render. Test users sign in in throw-away profiles; the
//! caller's own state folder and keyring items are never touched.

use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::time::Duration;

use lanyard::pilot::report::{self, ReportInputs};
use lanyard::pilot::{
    Expectations, Matrix, MatrixControl, MatrixOptions, MatrixProgress, ProfileStore,
    ProgressPhase, profile,
};
use lanyard::protocol::oidc::Browser;
use lanyard::{EngineError, Lanyard};

use crate::pilot_render;

#[derive(Subcommand)]
pub enum PilotAction {
    /// Sign in each test user in turn (in a throw-away profile) and show who gets which
    /// connector. Exit 0 all as expected, 4 a mismatch or a user who could not sign in, 2
    /// unreadable input.
    Matrix {
        /// Test users, comma-separated: the IdP is asked to sign in each one (login_hint).
        #[arg(long, value_delimiter = ',', required = true)]
        users: Vec<String>,
        /// Expected grants: JSON {"users": {EMAIL: [ID…]}} and/or {"groups", "members"}, or
        /// CSV lines `user,connector`.
        #[arg(long)]
        expect: Option<PathBuf>,
        #[command(flatten)]
        sign_in: SignInArgs,
    },
    /// Write one self-contained HTML page: environment, policy check, readiness, the grant
    /// matrix, legacy tokens and timings. With the global --json FILE (`--json out.json`), its
    /// data too.
    Report {
        /// The HTML file to write.
        #[arg(long)]
        out: PathBuf,
        /// With the global --json flag: where to write the report's data (JSON).
        #[arg(value_name = "JSON_FILE")]
        json_file: Option<PathBuf>,
        /// Run the matrix for these users first (as `pilot matrix --users`).
        #[arg(long, value_delimiter = ',', conflicts_with = "matrix")]
        users: Vec<String>,
        /// Compare the matrix with these expected grants (with --users).
        #[arg(long, requires = "users")]
        expect: Option<PathBuf>,
        /// A matrix saved earlier with `lanyard pilot matrix --json > FILE`.
        #[arg(long)]
        matrix: Option<PathBuf>,
        /// Skip the readiness checks (they send requests to every connector).
        #[arg(long)]
        no_readiness: bool,
        /// The home folder scanned for legacy tokens (default: yours).
        #[arg(long, env = "LANYARD_LEGACY_HOME")]
        home: Option<PathBuf>,
        #[command(flatten)]
        sign_in: SignInArgs,
    },
}

/// The same browser mechanisms as `lanyard login`.
#[derive(Args)]
pub struct SignInArgs {
    /// Don't open a browser: print each sign-in URL to open elsewhere.
    #[arg(long)]
    no_browser: bool,
    /// Run `CMD <authorization-url>` instead of the system browser.
    #[arg(long, env = "LANYARD_BROWSER_COMMAND")]
    browser_command: Option<String>,
    /// Per user: give up waiting for the browser after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

impl SignInArgs {
    fn browser(&self) -> Browser {
        match (self.no_browser, &self.browser_command) {
            (true, _) => Browser::Print(std::sync::Arc::new(|url: &str| {
                eprintln!("Open this address in a browser to sign in the test user:\n\n  {url}\n");
            })),
            (false, Some(cmd)) if !cmd.trim().is_empty() => Browser::Command(cmd.clone()),
            _ => Browser::System,
        }
    }
}

pub async fn run(engine: &Lanyard, action: PilotAction, json: bool) -> Result<u8, EngineError> {
    match action {
        PilotAction::Matrix {
            users,
            expect,
            sign_in,
        } => Ok(matrix_command(engine, &users, expect.as_deref(), &sign_in, json).await),
        PilotAction::Report {
            out,
            json_file,
            users,
            expect,
            matrix: saved,
            no_readiness,
            home,
            sign_in,
        } => {
            // `--json` is the global flag; the file after it lands here (see `json_file`).
            if json != json_file.is_some() {
                eprintln!(
                    "lanyard: write the report's data with `--json FILE` (both, or neither)."
                );
                return Ok(2);
            }
            let m = match (&saved, users.is_empty()) {
                (Some(path), _) => match read_matrix(path) {
                    Some(m) => Some(m),
                    None => return Ok(2),
                },
                (None, true) => None,
                (None, false) => {
                    let Some(expected) = read_expect(expect.as_deref()) else {
                        return Ok(2);
                    };
                    let Some(m) = matrix(engine, &users, expected.as_ref(), &sign_in, false).await
                    else {
                        return Ok(2);
                    };
                    Some(m)
                }
            };
            let inputs = ReportInputs {
                matrix: m,
                policy_check: None,
                legacy_home: home.or_else(home_dir).unwrap_or_default(),
                readiness: !no_readiness,
            };
            Ok(report_command(engine, inputs, &out, json_file.as_deref()).await)
        }
    }
}

async fn matrix_command(
    engine: &Lanyard,
    users: &[String],
    expect: Option<&Path>,
    sign_in: &SignInArgs,
    json: bool,
) -> u8 {
    let Some(expected) = read_expect(expect) else {
        return 2;
    };
    let Some(m) = matrix(engine, users, expected.as_ref(), sign_in, json).await else {
        return 2;
    };
    if json {
        crate::render::json_line(&m);
    } else {
        pilot_render::matrix(&m);
    }
    m.exit_code()
}

/// Writes the report: 0 nothing to report, 4 mismatches or policy problems, 1 not written.
async fn report_command(
    engine: &Lanyard,
    inputs: ReportInputs,
    html: &Path,
    json: Option<&Path>,
) -> u8 {
    let r = report::gather(engine, inputs).await;
    if let Err(e) = report::write(&r, html, json) {
        eprintln!("lanyard: {e}");
        return 1;
    }
    pilot_render::report_written(&r, html, json);
    let matrix_code = r.matrix.as_ref().map_or(0, Matrix::exit_code);
    if matrix_code != 0 || r.policy_check.errors() > 0 {
        4
    } else {
        0
    }
}

/// `Some(None)`: no file given; `None`: the file is unusable (already reported).
fn read_expect(path: Option<&Path>) -> Option<Option<Expectations>> {
    let Some(path) = path else {
        return Some(None);
    };
    match Expectations::load(path) {
        Ok(e) => Some(Some(e)),
        Err(e) => {
            eprintln!("lanyard: {e}");
            None
        }
    }
}

fn read_matrix(path: &Path) -> Option<Matrix> {
    let parsed = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str::<Matrix>(&t).map_err(|e| e.to_string()));
    match parsed {
        Ok(m) => Some(m),
        Err(why) => {
            eprintln!(
                "lanyard: cannot use the saved matrix {}: {why}",
                path.display()
            );
            None
        }
    }
}

/// Runs the matrix with progress on stderr; Ctrl-C cancels the rest of the run (the
/// throw-away profiles are still removed).
async fn matrix(
    engine: &Lanyard,
    users: &[String],
    expected: Option<&Expectations>,
    sign_in: &SignInArgs,
    quiet: bool,
) -> Option<Matrix> {
    let users: Vec<String> = users
        .iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    if users.is_empty() {
        eprintln!("lanyard: --users names nobody: give test users' emails, comma-separated.");
        return None;
    }
    let opts = MatrixOptions {
        users,
        browser: sign_in.browser(),
        sign_in_timeout: Duration::from_secs(sign_in.timeout),
        store: ProfileStore::OsKeyring,
        parent: None,
        device_key: profile::admin_device_key(engine),
        http_timeout: None,
    };
    let control = MatrixControl::default();
    let on_ctrl_c = {
        let control = control.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                control.cancel();
            }
        })
    };
    let progress = move |p: &MatrixProgress| {
        if !quiet {
            progress_line(p)
        }
    };
    let mut m = lanyard::pilot::run_matrix(engine.policy(), &opts, &control, &progress).await;
    on_ctrl_c.abort();
    if let Some(e) = expected {
        m.compare(e);
    }
    Some(m)
}

fn progress_line(p: &MatrixProgress) {
    let n = format!("({}/{})", p.index + 1, p.total);
    match p.phase {
        ProgressPhase::SigningIn => eprintln!("Signing in {} {n} …", p.user),
        ProgressPhase::Done => eprintln!("  {} granted", p.granted.unwrap_or(0)),
        ProgressPhase::NotSignedIn => eprintln!(
            "  not signed in: {}",
            p.error.as_ref().map_or("", |e| e.code.as_str())
        ),
    }
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}
