//! The what-if grant matrix: each test user signs in in turn (the authorization request
//! carries `login_hint` and `prompt=login`, so the IdP asks for that user), in a throw-away
//! profile, and every connector is resolved. The result is the user × connector matrix of
//! `lanyard pilot matrix --json` (version 1, product.md), compared with the admin's
//! expectations when there are any.
//!
//! A user whose sign-in fails or is skipped becomes a row with `signed_in: false` and the run
//! goes on; an unreachable connector is a cell like any other.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::expect::{Expectations, user_key};
use super::profile::{ProfileOptions, ProfileStore, ThrowawayProfile};
use super::timing::FlowTiming;
use crate::engine::EngineError;
use crate::policy::Policy;
use crate::protocol::oidc::{Browser, LoginError, SignInOptions};
use crate::secret::Secret;
use crate::view::connector::ConnectorState;
use crate::view::status::StatusView;

pub const MATRIX_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Mismatch {
    /// Granted, but the admin did not expect it: someone got a connector nobody intended.
    OverGrant,
    /// Expected, but not granted.
    UnderGrant,
}

impl Mismatch {
    pub fn label(self) -> &'static str {
        match self {
            Self::OverGrant => "over-grant",
            Self::UnderGrant => "under-grant",
        }
    }
}

/// One user × connector cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct MatrixCell {
    pub id: String,
    pub state: ConnectorState,
    /// The IdP's or the connector's error code (`invalid_target`, …) when there is a cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub code: Option<String>,
    /// Whether the expected-grants file says this user should get it (only with `--expect`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub expected: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub mismatch: Option<Mismatch>,
}

/// Why a user is "not signed in".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RowError {
    /// The IdP's error (`login_required`, `access_denied`) or Lanyard's (`cancelled`, `timeout`,
    /// `wrong_user`, …).
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct MatrixRow {
    pub user: String,
    pub signed_in: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub error: Option<RowError>,
    /// Every policy connector, in policy order; empty when the user did not sign in.
    pub connectors: Vec<MatrixCell>,
}

/// A policy connector as the matrix's column header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ConnectorColumn {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "PilotMatrix"))]
pub struct Matrix {
    #[cfg_attr(test, ts(type = "1"))]
    pub version: u32,
    pub users: Vec<MatrixRow>,
    #[serde(default)]
    pub columns: Vec<ConnectorColumn>,
    /// Problems with the expected-grants file, and clean-up that did not complete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Time per leg for each user's sign-in and connectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timings: Vec<FlowTiming>,
    /// The admin cancelled the run: rows after that are "not signed in" (`cancelled`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
    /// Whether an expected-grants file was compared.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compared: bool,
}

impl Matrix {
    /// No rows yet; one column per policy connector, in policy order.
    pub fn empty(policy: &Policy) -> Self {
        Self {
            version: MATRIX_VERSION,
            users: Vec::new(),
            columns: policy
                .connectors
                .iter()
                .map(|c| ConnectorColumn {
                    id: c.id.to_string(),
                    name: c.name.clone(),
                })
                .collect(),
            problems: Vec::new(),
            timings: Vec::new(),
            cancelled: false,
            compared: false,
        }
    }

    pub fn mismatches(&self) -> impl Iterator<Item = (&MatrixRow, &MatrixCell, Mismatch)> {
        self.users.iter().flat_map(|r| {
            r.connectors
                .iter()
                .filter_map(move |c| c.mismatch.map(|m| (r, c, m)))
        })
    }

    /// 0 all as expected (or nothing to compare, everyone signed in); 4 a mismatch, a problem
    /// with the file, or a user who could not sign in.
    pub fn exit_code(&self) -> u8 {
        let incomplete = self.users.iter().any(|r| !r.signed_in);
        if self.mismatches().next().is_some() || !self.problems.is_empty() || incomplete {
            4
        } else {
            0
        }
    }

    /// Marks every cell of a signed-in user as expected or not, and each mismatch; records the
    /// file's problems. A user the file does not name is expected to get nothing.
    pub fn compare(&mut self, expected: &Expectations) {
        let users: Vec<String> = self.users.iter().map(|r| r.user.clone()).collect();
        let ids: Vec<String> = self.columns.iter().map(|c| c.id.clone()).collect();
        self.problems.extend(expected.problems(&users, &ids));
        self.compared = true;
        let none = Default::default();
        for row in self.users.iter_mut().filter(|r| r.signed_in) {
            let wanted = expected.expected(&row.user).unwrap_or(&none);
            for cell in &mut row.connectors {
                let is_expected = wanted.contains(&cell.id);
                let granted = cell.state == ConnectorState::Granted;
                cell.expected = Some(is_expected);
                cell.mismatch = match (granted, is_expected) {
                    (true, false) => Some(Mismatch::OverGrant),
                    (false, true) => Some(Mismatch::UnderGrant),
                    _ => None,
                };
            }
        }
    }
}

/// Cancel the whole run, or skip the user signing in now.
#[derive(Debug, Clone, Default)]
pub struct MatrixControl(Arc<ControlInner>);

#[derive(Debug, Default)]
struct ControlInner {
    cancelled: AtomicBool,
    current: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

impl MatrixControl {
    /// Ends the current user's sign-in (their row: not signed in, `cancelled`); the run goes on.
    pub fn skip_current(&self) {
        let sender = self
            .0
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(tx) = sender {
            let _ = tx.send(());
        }
    }

    /// Ends the current sign-in and every one after it.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.skip_current();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    fn arm(&self) -> tokio::sync::oneshot::Receiver<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        *self.0.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        rx
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ProgressPhase {
    SigningIn,
    Done,
    NotSignedIn,
}

/// Sent before and after each user's turn (the app shows it per user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "PilotProgress"))]
pub struct MatrixProgress {
    /// 0-based position in the list of users.
    pub index: usize,
    pub total: usize,
    pub user: String,
    pub phase: ProgressPhase,
    /// With `done`: how many connectors were granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub granted: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub error: Option<RowError>,
}

#[derive(Debug, Clone)]
pub struct MatrixOptions {
    pub users: Vec<String>,
    pub browser: Browser,
    /// Per user: how long to wait for their sign-in in the browser.
    pub sign_in_timeout: Duration,
    pub store: ProfileStore,
    /// Where throw-away profile folders go (default: the system temp folder).
    pub parent: Option<PathBuf>,
    /// The admin's device key for `private_key_jwt` policies (see `profile::admin_device_key`).
    pub device_key: Option<Secret>,
    pub http_timeout: Option<Duration>,
}

/// Runs the matrix for `opts.users` against `policy`'s connectors. Never fails as a whole:
/// each user's trouble is their row, each connector's trouble its cell.
pub async fn run_matrix(
    policy: &Policy,
    opts: &MatrixOptions,
    control: &MatrixControl,
    progress: &(dyn Fn(&MatrixProgress) + Send + Sync),
) -> Matrix {
    let mut matrix = Matrix::empty(policy);
    let total = opts.users.len();
    for (index, user) in opts.users.iter().enumerate() {
        let report = |phase, granted, error: Option<RowError>| {
            progress(&MatrixProgress {
                index,
                total,
                user: user.clone(),
                phase,
                granted,
                error,
            })
        };
        let turn = if control.is_cancelled() {
            Turn::failed(cancelled())
        } else {
            // Armed before the progress event, so a Skip sent in answer to it is not lost.
            let cancel = control.arm();
            report(ProgressPhase::SigningIn, None, None);
            one_user(policy, opts, cancel, user).await
        };
        let Turn {
            row,
            timings,
            cleanup,
        } = turn;
        match &row.error {
            None => {
                let granted = row
                    .connectors
                    .iter()
                    .filter(|c| c.state == ConnectorState::Granted)
                    .count();
                report(ProgressPhase::Done, Some(granted), None);
            }
            Some(e) => report(ProgressPhase::NotSignedIn, None, Some(e.clone())),
        }
        matrix.problems.extend(cleanup);
        matrix.timings.extend(timings);
        matrix.users.push(MatrixRow {
            user: user.clone(),
            ..row
        });
    }
    matrix.cancelled = control.is_cancelled();
    matrix
}

struct Turn {
    row: MatrixRow,
    timings: Vec<FlowTiming>,
    cleanup: Option<String>,
}

impl Turn {
    fn failed(error: RowError) -> Self {
        Self {
            row: MatrixRow {
                user: String::new(),
                signed_in: false,
                error: Some(error),
                connectors: Vec::new(),
            },
            timings: Vec::new(),
            cleanup: None,
        }
    }
}

fn cancelled() -> RowError {
    RowError {
        code: "cancelled".into(),
        message: "the pilot run was cancelled before this user signed in".into(),
    }
}

/// One user's turn: a fresh profile, the sign-in for them, the cells, the clean-up.
async fn one_user(
    policy: &Policy,
    opts: &MatrixOptions,
    cancel: tokio::sync::oneshot::Receiver<()>,
    user: &str,
) -> Turn {
    let profile = match ThrowawayProfile::open(&ProfileOptions {
        policy_path: policy.source.clone(),
        parent: opts.parent.clone(),
        store: opts.store,
        device_key: opts.device_key.clone(),
        http_timeout: opts.http_timeout,
    }) {
        Ok(p) => p,
        Err(e) => {
            return Turn::failed(RowError {
                code: "profile_unavailable".into(),
                message: crate::trace::scrub(&e.to_string()),
            });
        }
    };
    let signed = profile
        .engine()
        .sign_in(SignInOptions {
            browser: opts.browser.clone(),
            timeout: opts.sign_in_timeout,
            cancel: Some(cancel),
            login_hint: Some(user.to_string()),
            prompt: Some("login".into()),
        })
        .await;
    let mut turn = match signed {
        Ok(status) => match wrong_user(&status, user) {
            Some(error) => Turn::failed(error),
            None => Turn {
                row: row_of(&status),
                timings: timings_of(profile.engine(), user, policy),
                cleanup: None,
            },
        },
        Err(e) => Turn::failed(row_error(&e)),
    };
    if let Err(e) = profile.discard().await {
        turn.cleanup = Some(format!(
            "the throw-away profile for {user} was not fully removed: {e}"
        ));
    }
    turn
}

/// The IdP may ignore `login_hint` (a browser already signed in as someone else): a row must
/// never be labelled with the wrong person.
fn wrong_user(status: &StatusView, user: &str) -> Option<RowError> {
    let email = status.session.email.as_deref()?;
    (user_key(email) != user_key(user)).then(|| RowError {
        code: "wrong_user".into(),
        message: format!("the IdP signed in {email} instead of {user}"),
    })
}

fn row_of(status: &StatusView) -> MatrixRow {
    MatrixRow {
        user: String::new(),
        signed_in: true,
        error: None,
        connectors: status
            .connectors
            .iter()
            .map(|c| MatrixCell {
                id: c.id.clone(),
                state: c.state,
                code: c.error.as_ref().map(|e| e.code.clone()),
                expected: None,
                mismatch: None,
            })
            .collect(),
    }
}

fn timings_of(engine: &crate::Lanyard, user: &str, policy: &Policy) -> Vec<FlowTiming> {
    std::iter::once("sign-in".to_string())
        .chain(policy.connectors.iter().map(|c| c.id.to_string()))
        .map(|flow| FlowTiming::from_steps(user, &flow, &engine.trace(&flow)))
        .filter(|t| !t.legs.is_empty())
        .collect()
}

fn row_error(e: &EngineError) -> RowError {
    let code = match e {
        // The IdP's own word (`login_required`, `access_denied`) says most to an admin.
        EngineError::Login(LoginError::Authorization { error, .. }) => error.clone(),
        other => other.code().to_string(),
    };
    RowError {
        code,
        message: crate::trace::scrub(&e.to_string()),
    }
}
