//! The pilot report's content as plain data: what `report::gather` fills in, and what both
//! `report_html` and the JSON export read. Apart from `report` so the HTML renderer and the
//! code that calls it don't depend on each other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::matrix::Matrix;
use super::timing::FlowTiming;
use crate::admin::check::CheckReport;
use crate::admin::problem::Severity;
use crate::diagnose::doctor::{self, Environment};
use crate::diagnose::readiness::ReadinessReport;

pub const REPORT_VERSION: u32 = 1;

/// One problem the policy check found, in the admin's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PolicyProblem {
    /// Where in the policy (`connectors[2].client_secret`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub path: Option<String>,
    pub message: String,
    /// What to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub fix: Option<String>,
    /// Works, but not fully (a connector not zero-touch yet, no revocation endpoint): reported,
    /// not counted as a failure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warning: bool,
}

/// The policy-check section: `lanyard policy check` (src/admin) on the policy the engine runs
/// with, or the doctor's static checks when that file can't be read again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PolicyCheckSection {
    pub source: String,
    /// Which check ran ("static checks", "static and live checks").
    pub checked_by: String,
    pub problems: Vec<PolicyProblem>,
}

impl From<&doctor::PolicyCheck> for PolicyCheckSection {
    fn from(check: &doctor::PolicyCheck) -> Self {
        Self {
            source: check.source.clone(),
            checked_by: "static checks (lanyard doctor)".into(),
            problems: check
                .problems
                .iter()
                .map(|p| PolicyProblem {
                    path: None,
                    message: p.clone(),
                    fix: None,
                    warning: false,
                })
                .collect(),
        }
    }
}

impl From<&CheckReport> for PolicyCheckSection {
    fn from(r: &CheckReport) -> Self {
        let scope = if r.live {
            "static and live checks"
        } else {
            "static checks"
        };
        Self {
            source: r.policy.clone(),
            checked_by: format!("{scope} (lanyard policy check)"),
            problems: r
                .problems
                .iter()
                .map(|p| PolicyProblem {
                    path: Some(p.path.clone()),
                    message: p.message.clone(),
                    fix: (!p.fix.is_empty()).then(|| p.fix.clone()),
                    warning: p.severity == Severity::Warning,
                })
                .collect(),
        }
    }
}

impl PolicyCheckSection {
    /// Problems that stop something from working (warnings aside).
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| !p.warning).count()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorReadiness {
    pub id: String,
    pub name: String,
    pub report: ReadinessReport,
}

/// Legacy per-user tokens on this machine: now, and before Lanyard disconnected any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacySummary {
    pub found_now: usize,
    /// Client application label → entries found now.
    pub by_client: BTreeMap<String, usize>,
    /// Entries found now that zero-touch already covers (safe to disconnect).
    pub covered_now: usize,
    /// Entries Lanyard removed (audit log), and put back.
    pub disconnected: usize,
    pub restored: usize,
    pub problems: Vec<String>,
}

impl LegacySummary {
    /// How many there were before the disconnects: what is left plus what was taken away.
    pub fn before(&self) -> usize {
        (self.found_now + self.disconnected).saturating_sub(self.restored)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PilotReport {
    pub version: u32,
    pub generated_at: DateTime<Utc>,
    pub idp_issuer: String,
    pub environment: Environment,
    pub policy_check: PolicyCheckSection,
    pub readiness: Vec<ConnectorReadiness>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<Matrix>,
    pub timings: Vec<FlowTiming>,
    /// Where the timings come from ("the matrix run", "this machine's last sign-in").
    pub timings_source: String,
    pub legacy: LegacySummary,
}
