//! `lanyard policy check`: the static check (every problem in the file, with key paths), then —
//! when the file is sound — the live check: the IdP's discovery as sign-in does it, and each
//! connector's discovery, grant profile, auth method, revocation endpoint and pinned issuer as
//! the engine does it, plus the readiness check's challenge probe. One problem per line, each
//! with what to change and where (the diagnostics catalogue's admin wording where it has one).

use serde::Serialize;
use std::path::Path;

use super::onboard::{refused_by_discovery, require_zero_touch};
use super::problem::{Found, Problem, Severity};
use super::{idp, managed, static_check};
use crate::diagnose::catalogue::{Endpoint, explain};
use crate::diagnose::readiness::{self, CheckId, CheckOutcome};
use crate::http::Http;
use crate::policy::{ConnectorConfig, Policy};
use crate::protocol::discovery::{ConnectorMetadata, DiscoveryError, MetadataCache, discover_for};
use crate::protocol::oidc::LoginError;
use crate::trace::Trace;

pub const REPORT_VERSION: u32 = 1;

/// What `policy check --json` prints (version 1).
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub version: u32,
    pub policy: String,
    /// Whether the live checks ran (they need a policy without static errors).
    pub live: bool,
    pub connectors: usize,
    pub problems: Vec<Problem>,
}

impl CheckReport {
    /// No error (warnings allowed): the policy works as written.
    pub fn ok(&self) -> bool {
        !self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

/// The policy could not be read at all (`policy check` exits 2).
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error(transparent)]
    Source(#[from] managed::ManagedError),
    #[error("{path}: {source}")]
    NotJson {
        path: String,
        source: static_check::NotJson,
    },
}

/// Checks the policy at `path` (JSON or any export form); `live` adds the network checks.
pub async fn check_file(http: &Http, path: &Path, live: bool) -> Result<CheckReport, Unreadable> {
    let text = managed::read_text(path)?;
    let shown = path.display().to_string();
    let mut problems = static_check::check_text(&text).map_err(|source| Unreadable::NotJson {
        path: shown.clone(),
        source,
    })?;
    let parsed = crate::policy::parse(&text, path)
        .ok()
        .filter(|_| !problems.iter().any(|p| p.severity == Severity::Error));
    let connectors = parsed.as_ref().map_or_else(
        || super::policy_file::existing_connectors(&text).len(),
        |p| p.connectors.len(),
    );
    let ran_live = live && parsed.is_some();
    if let (true, Some(policy)) = (live, parsed) {
        problems.extend(live_check(http, &policy).await);
    }
    Ok(CheckReport {
        version: REPORT_VERSION,
        policy: shown,
        live: ran_live,
        connectors,
        problems,
    })
}

/// The network checks of a sound policy: the IdP, then every connector at once.
pub async fn live_check(http: &Http, policy: &Policy) -> Vec<Problem> {
    let idp = check_idp(http, policy);
    let connectors = futures::future::join_all(
        policy
            .connectors
            .iter()
            .enumerate()
            .map(|(i, c)| check_connector(http, i, c)),
    );
    let (mut problems, per_connector) = futures::join!(idp, connectors);
    problems.extend(per_connector.into_iter().flatten());
    problems
}

async fn check_idp(http: &Http, policy: &Policy) -> Vec<Problem> {
    let cfg = &policy.idp;
    let live = |path: &str, code: &str, message: String, fix: String| {
        Problem::at(path, code, message).fix(fix).live()
    };
    let facts = match idp::inspect(http, &cfg.issuer, &Trace::new()).await {
        Ok(f) => f,
        Err(e) => {
            let fix = match &e {
                LoginError::IssuerMismatch { found, .. } => format!(
                    "set idp.issuer to exactly \"{found}\" (trailing slash included) if that IdP is the right one"
                ),
                other => explain(Endpoint::Discovery, other.code(), None, None).admin,
            };
            return vec![live("idp.issuer", e.code(), e.to_string(), fix)];
        }
    };
    let mut out = Vec::new();
    if !facts.supports_token_exchange() {
        out.push(live(
            "idp.issuer",
            "no_token_exchange",
            format!("the IdP does not advertise the token exchange ({}) in grant_types_supported", idp::TOKEN_EXCHANGE_GRANT),
            "enable Enterprise-Managed Authorization / Cross App Access (RFC 8693 token exchange for ID-JAGs) for Lanyard's application at the IdP".into(),
        ));
    }
    let method = cfg.token_endpoint_auth_method.as_str();
    if !facts
        .token_endpoint_auth_methods_supported
        .iter()
        .any(|m| m == method)
    {
        out.push(live(
            "idp.token_endpoint_auth_method",
            "auth_method_unsupported",
            format!("the IdP does not support {method} at its token endpoint"),
            format!(
                "use one of: {}",
                facts.token_endpoint_auth_methods_supported.join(", ")
            ),
        ));
    }
    out
}

async fn check_connector(http: &Http, i: usize, c: &ConnectorConfig) -> Vec<Problem> {
    let at = |key: &str| {
        if key.is_empty() {
            format!("connectors[{i}]")
        } else {
            format!("connectors[{i}].{key}")
        }
    };
    let problem = |key: &str, code: &str, message: String, fix: String| {
        Problem::at(at(key), code, message)
            .fix(fix)
            .live()
            .connector(Some(&c.id))
    };
    let meta = match discover_for(http, c, &MetadataCache::new(), &Trace::new()).await {
        Ok(m) => m,
        Err(e) => {
            let key = match &e {
                DiscoveryError::AsIssuerNotAllowed { .. } => "as_issuer",
                DiscoveryError::TokenEndpointOtherOrigin { .. } => "token_endpoint_origin",
                _ => "mcp_url",
            };
            let refusal = refused_by_discovery(e);
            let fix = explain(Endpoint::Discovery, refusal.code(), None, Some(&c.name)).admin;
            return vec![problem(key, refusal.code(), refusal.to_string(), fix)];
        }
    };
    let mut out = Vec::new();
    if let Err(refusal) = require_zero_touch(&meta) {
        // A warning: the engine shows such a connector as `unsupported`, which may be meant.
        out.push(
            problem(
                "mcp_url",
                refusal.code(),
                refusal.to_string(),
                refusal.fix(),
            )
            .warning(),
        );
    }
    out.extend(advertised_problems(&meta, c, problem));
    out.extend(readiness_problems(http, c, &at("")).await);
    out
}

/// What the AS's metadata says it cannot do for this connector: the configured client
/// authentication, and RFC 7009 revocation.
fn advertised_problems(
    meta: &ConnectorMetadata,
    c: &ConnectorConfig,
    problem: impl Fn(&str, &str, String, String) -> Problem,
) -> Vec<Problem> {
    let mut out = Vec::new();
    let method = c.token_endpoint_auth_method.as_str();
    if !meta
        .token_endpoint_auth_methods_supported
        .iter()
        .any(|m| m == method)
    {
        out.push(problem(
            "token_endpoint_auth_method",
            "auth_method_unsupported",
            format!(
                "authorization server {} does not support {method}",
                meta.as_issuer
            ),
            format!(
                "use one of: {}",
                meta.token_endpoint_auth_methods_supported.join(", ")
            ),
        ));
    }
    if meta.revocation_endpoint.is_none() {
        out.push(problem(
            "",
            "no_revocation",
            format!("authorization server {} has no revocation endpoint (RFC 7009)", meta.as_issuer),
            format!("Lanyard cannot revoke {}'s tokens at sign-out or legacy disconnect; ask the vendor for RFC 7009 revocation", c.name),
        ).warning());
    }
    out
}

/// The readiness check's token-free probes, for what discovery does not already cover: a 401
/// with a Bearer challenge to a missing or invalid token.
async fn readiness_problems(http: &Http, c: &ConnectorConfig, at: &str) -> Vec<Problem> {
    let report = readiness::check(http, &c.mcp_url, None).await;
    report
        .checks
        .into_iter()
        .filter(|check| check.id == CheckId::UnauthorizedChallenge && check.outcome == CheckOutcome::Fail)
        .map(|check| {
            Problem::at(at, "no_challenge", format!("{}: {}", check.title, check.detail))
                .fix(format!("{}'s MCP server must answer 401 with WWW-Authenticate: Bearer … (RFC 6750 §3) so clients can find its metadata", c.name))
                .live()
                .connector(Some(&c.id))
        })
        .collect()
}

/// Problems found by each check, for summaries.
pub fn count(report: &CheckReport, found: Found) -> usize {
    report.problems.iter().filter(|p| p.found == found).count()
}
