//! The pilot report: one self-contained HTML page an admin can share (and its data as JSON):
//! the environment, the policy check, each connector's readiness, the grant matrix with its
//! mismatches, the legacy per-user tokens on this machine, and the time each leg took.
//!
//! Built only from view types (no `Secret` can be in it), then every string is redacted with
//! the support bundle's rules and the written text is swept for token shapes (`labsecret_`,
//! `eyJ…`): a report that fails the sweep is not written.

use chrono::Utc;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::matrix::Matrix;
pub use super::report_data::{
    ConnectorReadiness, LegacySummary, PilotReport, PolicyCheckSection, PolicyProblem,
    REPORT_VERSION,
};
use super::timing::FlowTiming;
use crate::admin::check;
use crate::diagnose::bundle::{self, BundleError};
use crate::diagnose::doctor;
use crate::diagnose::readiness;
use crate::engine::Lanyard;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("could not build the report: {0}")]
    Serialize(String),
    /// The sweep found a token-shaped value; nothing was written.
    #[error("refused to write the report: {0}")]
    SecretLeft(#[from] BundleError),
    #[error("could not write {path}: {why}")]
    Write { path: String, why: String },
}

/// The admin's policy check on the policy `admin` runs with: static, and live when `live`
/// (IdP and every connector's server). Falls back to the doctor's static checks when the
/// file can no longer be read (moved or edited since the engine loaded it).
pub async fn policy_check(admin: &Lanyard, live: bool) -> PolicyCheckSection {
    let http = crate::http::Http::new(crate::clock::system());
    match check::check_file(&http, &admin.policy().source, live).await {
        Ok(report) => PolicyCheckSection::from(&report),
        Err(e) => {
            tracing::warn!(error = %e, "policy check: the policy file can't be read again");
            PolicyCheckSection::from(&doctor::doctor(admin).await.policy)
        }
    }
}

/// What the host supplies; the rest is gathered from the admin's engine (read only).
#[derive(Debug, Clone, Default)]
pub struct ReportInputs {
    pub matrix: Option<Matrix>,
    /// A fuller policy check than the doctor's (`lanyard policy check`), when available.
    pub policy_check: Option<PolicyCheckSection>,
    /// The folder whose MCP clients are scanned for legacy tokens.
    pub legacy_home: PathBuf,
    /// Run the readiness checks (network requests to every connector).
    pub readiness: bool,
}

/// Gathers the report. Reads the admin's state, traces and tokens; changes nothing.
pub async fn gather(admin: &Lanyard, inputs: ReportInputs) -> PilotReport {
    let doctor = doctor::doctor(admin).await;
    let policy_check = match inputs.policy_check {
        Some(given) => given,
        None => policy_check(admin, inputs.readiness).await,
    };
    let readiness = if inputs.readiness {
        readiness_all(admin).await
    } else {
        Vec::new()
    };
    // Traces, the state file and every MCP client's files under the home folder: file work,
    // done where the runtime knows this worker blocks.
    let (timings, timings_source, legacy) = off_the_runtime(|| {
        let (timings, source) = match &inputs.matrix {
            Some(m) if !m.timings.is_empty() => (m.timings.clone(), "the matrix run".to_string()),
            _ => (
                own_timings(admin),
                "this machine's last sign-in and renewals".to_string(),
            ),
        };
        (
            timings,
            source,
            legacy_summary(admin, inputs.legacy_home.clone()),
        )
    });
    PilotReport {
        version: REPORT_VERSION,
        generated_at: Utc::now(),
        idp_issuer: admin.policy().idp.issuer.clone(),
        environment: doctor.environment,
        policy_check,
        readiness,
        matrix: inputs.matrix,
        timings,
        timings_source,
        legacy,
    }
}

/// Runs file work from async code. On a multi-thread runtime (the app's, the CLI's)
/// `block_in_place` moves this worker's other tasks (renewals, the window's commands) to
/// another worker first, so they keep running; `gather` borrows the engine, which rules out
/// `spawn_blocking`. A current-thread runtime can't do that (and would panic): there the work
/// runs inline, as nothing else is scheduled beside it anyway.
fn off_the_runtime<T>(job: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(job),
        _ => job(),
    }
}

/// Every connector's readiness, at once; the admin's own tokens (if signed in) enable the
/// token checks, as in the Diagnostics page.
async fn readiness_all(admin: &Lanyard) -> Vec<ConnectorReadiness> {
    let http = crate::http::Http::new(crate::clock::system());
    let connectors = &admin.policy().connectors;
    let tokens: Vec<_> = connectors
        .iter()
        .map(|c| admin.access_token(&c.id).ok().flatten())
        .collect();
    let checks = connectors.iter().enumerate().map(|(i, c)| {
        // Only the connector's own token: readiness never hands one operator's token to
        // another's server (issue 10 item 1).
        let own = tokens[i].as_ref();
        let http = http.clone();
        async move {
            ConnectorReadiness {
                id: c.id.to_string(),
                name: c.name.clone(),
                report: readiness::check(&http, &c.mcp_url, own).await,
            }
        }
    });
    futures::future::join_all(checks).await
}

fn own_timings(admin: &Lanyard) -> Vec<FlowTiming> {
    let who = admin
        .status()
        .ok()
        .and_then(|s| s.session.email)
        .unwrap_or_else(|| "this machine".into());
    std::iter::once("sign-in".to_string())
        .chain(admin.policy().connectors.iter().map(|c| c.id.to_string()))
        .map(|flow| FlowTiming::from_steps(&who, &flow, &admin.trace(&flow)))
        .filter(|t| !t.legs.is_empty())
        .collect()
}

fn legacy_summary(admin: &Lanyard, home: PathBuf) -> LegacySummary {
    let ctx = admin.legacy_context(home);
    let scan = ctx.scan();
    let mut by_client = BTreeMap::new();
    for e in &scan.entries {
        *by_client.entry(e.client.label().to_string()).or_insert(0) += 1;
    }
    let audit = crate::legacy::audit_log(admin.state_dir().root());
    let counted = |action: &str| {
        audit
            .iter()
            .filter(|r| r.action == action && !r.dry_run && r.removed_locally)
            .count()
    };
    LegacySummary {
        found_now: scan.entries.len(),
        covered_now: scan.entries.iter().filter(|e| e.covered_by_ema).count(),
        by_client,
        disconnected: counted("disconnect"),
        restored: counted("restore"),
        problems: scan.problems,
    }
}

/// Every string of `value` (keys too) through the support bundle's redaction.
fn redact_value(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(bundle::redact(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(redact_value).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (bundle::redact(&k), redact_value(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The report with every string redacted: what both the HTML and the JSON are made from.
pub fn redacted(report: &PilotReport) -> Result<PilotReport, ReportError> {
    let value = serde_json::to_value(report).map_err(|e| ReportError::Serialize(e.to_string()))?;
    serde_json::from_value(redact_value(value)).map_err(|e| ReportError::Serialize(e.to_string()))
}

/// The HTML page, redacted and swept.
pub fn to_html(report: &PilotReport) -> Result<String, ReportError> {
    let html = super::report_html::render(&redacted(report)?);
    bundle::canary_sweep(&html)?;
    Ok(html)
}

/// The report's data as pretty JSON, redacted and swept.
pub fn to_json(report: &PilotReport) -> Result<String, ReportError> {
    let text = serde_json::to_string_pretty(&redacted(report)?)
        .map_err(|e| ReportError::Serialize(e.to_string()))?;
    bundle::canary_sweep(&text)?;
    Ok(text)
}

/// Writes the HTML (and the JSON, if asked) atomically; nothing is written if either fails
/// the sweep.
pub fn write(report: &PilotReport, html: &Path, json: Option<&Path>) -> Result<(), ReportError> {
    let page = to_html(report)?;
    let data = json.map(|_| to_json(report)).transpose()?;
    let put = |path: &Path, text: &str| {
        crate::store::state::write_atomic(path, text.as_bytes()).map_err(|e| ReportError::Write {
            path: path.display().to_string(),
            why: e.to_string(),
        })
    };
    put(html, &page)?;
    if let (Some(path), Some(text)) = (json, data) {
        put(path, &text)?;
    }
    Ok(())
}
