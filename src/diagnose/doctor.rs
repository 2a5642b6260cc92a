//! `lanyard doctor`: everything support needs in one report — environment (OS, version,
//! keyring reachable, log file), policy checks, session and connector states, clock offsets,
//! the last traces as timelines with causes and fixes, decoded token summaries, and
//! optionally the readiness check — under an incident id. Holds no secret by construction
//! (every part is a view type); `bundle` redacts and sweeps it once more before writing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::clock::{self, ClockCheck};
use super::inspect::{self, TokenKind, TokenView};
use super::readiness::{self, ReadinessReport};
use super::timeline::{self, Timeline};
use crate::engine::{EngineError, Lanyard};
use crate::http::{Http, check_endpoint};
use crate::secret::Secret;
use crate::view::status::StatusView;

pub const DOCTOR_VERSION: u32 = 1;

/// Flows whose traces the engine saves besides the connectors'.
pub const SESSION_TRACES: &[&str] = &["sign-in", "session-refresh", "sign-out"];

#[derive(Debug, Clone, Default)]
pub struct DoctorOptions {
    /// Run the readiness check against every connector with a token (network traffic).
    pub readiness: bool,
    /// Verify JWT access-token signatures against their issuer's JWKS (network traffic).
    pub verify_signatures: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct KeyringCheck {
    pub backend: String,
    pub reachable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Environment {
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub os_release: Option<String>,
    pub arch: String,
    pub app_version: String,
    pub keyring: KeyringCheck,
    pub state_dir: String,
    pub log_file: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PolicyCheck {
    pub source: String,
    pub idp_issuer: String,
    pub connectors: usize,
    /// Problems found beyond what loading already refuses (a policy that fails to load
    /// never reaches the doctor: `Lanyard::open` reports it).
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct NamedToken {
    /// The connector id, or `idp` for the ID token.
    pub connector: String,
    pub token: TokenView,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct DoctorReport {
    #[cfg_attr(test, ts(type = "1"))]
    pub version: u32,
    /// Quote it in the ticket; it names this report (`LY-XXXX-XXXX-XXXX`).
    pub incident_id: String,
    /// RFC 3339.
    #[cfg_attr(test, ts(type = "string"))]
    pub generated_at: DateTime<Utc>,
    pub environment: Environment,
    pub policy: PolicyCheck,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub status: Option<StatusView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub status_error: Option<String>,
    pub clock: ClockCheck,
    pub timelines: Vec<Timeline>,
    pub tokens: Vec<NamedToken>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readiness: Vec<ReadinessReport>,
}

/// The report with the default options (no extra network traffic).
pub async fn doctor(engine: &Lanyard) -> DoctorReport {
    doctor_with(engine, &DoctorOptions::default()).await
}

pub async fn doctor_with(engine: &Lanyard, opts: &DoctorOptions) -> DoctorReport {
    let http = Http::new(crate::clock::system());
    let (status, status_error) = match engine.status() {
        Ok(s) => (Some(s), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let clock = clock_check(engine);
    let mut timelines = Vec::new();
    for name in names(engine) {
        let t = timeline_with_clock(engine, &name, status.as_ref(), &clock);
        if t.outcome != timeline::Outcome::Empty {
            timelines.push(t);
        }
    }
    let (tokens, held) = token_views(engine, &http, opts.verify_signatures).await;
    let mut ready = Vec::new();
    if opts.readiness {
        for c in &engine.policy().connectors {
            // Only the connector's own token, and only to its own server.
            let own = held.iter().find(|(id, _)| *id == c.id).map(|(_, t)| t);
            ready.push(readiness::check(&http, &c.mcp_url, own).await);
        }
    }
    DoctorReport {
        version: DOCTOR_VERSION,
        incident_id: incident_id(),
        generated_at: Utc::now(),
        environment: environment(engine),
        policy: policy_check(engine),
        status,
        status_error,
        clock,
        timelines,
        tokens,
        readiness: ready,
    }
}

/// The session's and each connector's token, decoded, and the connector tokens held. With
/// `verify`, signatures are checked only against the issuer known for each token — the
/// policy's IdP, or the connector's authorization server as recorded when its grant was
/// made — never one the token names for itself.
async fn token_views(
    engine: &Lanyard,
    http: &Http,
    verify: bool,
) -> (Vec<NamedToken>, Vec<(String, Secret)>) {
    let view = |token: Secret, kind: TokenKind, issuer: Option<String>| async move {
        if verify {
            inspect::inspect(http, &token, kind, issuer.as_deref()).await
        } else {
            inspect::decode(&token, kind, Utc::now())
        }
    };
    let mut tokens = Vec::new();
    if let Ok(Some(id_token)) = engine.id_token() {
        let issuer = Some(engine.policy().idp.issuer.clone());
        tokens.push(NamedToken {
            connector: "idp".into(),
            token: view(id_token, TokenKind::IdToken, issuer).await,
        });
    }
    let recorded = engine.state_dir().load().unwrap_or_default().connectors;
    let mut held = Vec::new();
    for c in &engine.policy().connectors {
        if let Ok(Some(token)) = engine.access_token(&c.id) {
            let issuer = recorded
                .get(c.id.as_str())
                .and_then(|r| r.as_issuer.clone());
            tokens.push(NamedToken {
                connector: c.id.to_string(),
                token: view(token.clone(), TokenKind::AccessToken, issuer).await,
            });
            held.push((c.id.to_string(), token));
        }
    }
    (tokens, held)
}

/// A short reference to quote in a ticket, e.g. `LY-0D07-4FB1-E7B7` (48 random bits).
/// Short on purpose: a 36-character UUID reads as a token to the bundle's redaction.
pub fn incident_id() -> String {
    let hex = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .to_ascii_uppercase();
    format!("LY-{}-{}-{}", &hex[0..4], &hex[4..8], &hex[8..12])
}

/// The timeline of one flow (`"sign-in"` or a connector id) with its recorded error,
/// display name and clock notes: what the app's Details view shows.
pub fn timeline_for(engine: &Lanyard, name: &str) -> Result<Timeline, EngineError> {
    let status = engine.status()?;
    if !SESSION_TRACES.contains(&name) && !engine.policy().connectors.iter().any(|c| c.id == name) {
        return Err(EngineError::UnknownConnector(name.to_string()));
    }
    Ok(timeline_with_clock(
        engine,
        name,
        Some(&status),
        &clock_check(engine),
    ))
}

/// The clock check over every saved trace, with servers named after what they are.
pub fn clock_check(engine: &Lanyard) -> ClockCheck {
    let mut steps = Vec::new();
    for name in names(engine) {
        steps.extend(engine.trace(&name));
    }
    let mut labels = BTreeMap::new();
    for c in &engine.policy().connectors {
        if let Some(o) = clock::origin_of(c.mcp_url.as_str()) {
            labels.insert(o, c.name.clone());
        }
    }
    if let Some(o) = clock::origin_of(&engine.policy().idp.issuer) {
        labels.insert(o, "your company's sign-in service (IdP)".to_string());
    }
    clock::check(&steps, &labels)
}

fn names(engine: &Lanyard) -> Vec<String> {
    SESSION_TRACES
        .iter()
        .map(|s| s.to_string())
        .chain(engine.policy().connectors.iter().map(|c| c.id.to_string()))
        .collect()
}

fn timeline_with_clock(
    engine: &Lanyard,
    name: &str,
    status: Option<&StatusView>,
    clock: &ClockCheck,
) -> Timeline {
    let view = status.and_then(|s| s.connectors.iter().find(|c| c.id == name));
    let who = view.map(|v| v.name.as_str());
    let mut t = timeline::build(
        name,
        &engine.trace(name),
        view.and_then(|v| v.error.as_ref()),
        who,
    );
    let mut failed_url = None;
    for s in &mut t.steps {
        if let Some(x) = s.explanation.as_mut() {
            clock::explain_time(x, clock, &s.url);
            if s.verdict == timeline::Verdict::Failed {
                failed_url = Some(s.url.clone());
            }
        }
    }
    if let Some(f) = t.failure.as_mut() {
        clock::explain_time(f, clock, failed_url.as_deref().unwrap_or(""));
    }
    t
}

fn environment(engine: &Lanyard) -> Environment {
    let keyring = match engine.access_token("__lanyard_doctor_probe__") {
        Ok(_) => KeyringCheck {
            backend: engine.store_backend().to_string(),
            reachable: true,
            error: None,
        },
        Err(e) => KeyringCheck {
            backend: engine.store_backend().to_string(),
            reachable: false,
            error: Some(crate::trace::scrub(&e.to_string())),
        },
    };
    Environment {
        os: std::env::consts::OS.to_string(),
        os_release: os_release(),
        arch: std::env::consts::ARCH.to_string(),
        app_version: env!("CARGO_PKG_VERSION").to_string(),
        keyring,
        state_dir: engine.state_dir().root().display().to_string(),
        log_file: super::logs::log_file_path().display().to_string(),
    }
}

/// `PRETTY_NAME` from os-release on Linux; `None` elsewhere (no extra crate for it).
fn os_release() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
}

fn policy_check(engine: &Lanyard) -> PolicyCheck {
    let policy = engine.policy();
    let mut problems = Vec::new();
    let insecure = |what: &str, url: &str, problems: &mut Vec<String>| match url::Url::parse(url) {
        Ok(u) if check_endpoint(&u).is_err() => {
            problems.push(format!("{what} {url} is plain http outside loopback"))
        }
        Ok(_) => {}
        Err(_) => problems.push(format!("{what} {url} is not a URL")),
    };
    insecure("idp.issuer", &policy.idp.issuer, &mut problems);
    if let Some(s) = &policy.idp.client_secret
        && let Err(e) = s.resolve()
    {
        problems.push(format!("the IdP client secret cannot be read: {e}"));
    }
    let mut seen = std::collections::HashSet::new();
    for c in &policy.connectors {
        if !seen.insert(c.mcp_url.as_str()) {
            problems.push(format!("connector {} repeats mcp_url {}", c.id, c.mcp_url));
        }
        insecure(
            &format!("connector {} mcp_url", c.id),
            c.mcp_url.as_str(),
            &mut problems,
        );
        if let Some(s) = &c.client_secret
            && let Err(e) = s.resolve()
        {
            problems.push(format!(
                "connector {}'s client secret cannot be read: {e}",
                c.id
            ));
        }
    }
    PolicyCheck {
        source: policy.source.display().to_string(),
        idp_issuer: policy.idp.issuer.clone(),
        connectors: policy.connectors.len(),
        problems: problems.iter().map(|p| crate::trace::scrub(p)).collect(),
    }
}
