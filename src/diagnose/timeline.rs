//! The per-leg timeline of one flow (sign-in, or one connector) built from its saved trace:
//! each step with its verdict, duration and OAuth error, the explanation of the step that
//! failed, and the key claims across steps (requested → ID-JAG → granted), decoded, never raw.
//!
//! Claims come from `Step::claims`, which the exchange code fills with this shape:
//! `{"requested": {"audience", "resource", "scope", "client_id"}, "id_jag": IdJagClaims,
//!   "granted": {"scope", "expires_at", "token_type"}}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::catalogue::{self, Endpoint, Explanation};
use crate::protocol::oauth_error::{ErrorCode, OAuthError};
use crate::trace::{DEVICE_CODE_EXPIRED, Step, StepKind};
use crate::view::connector::ConnectorError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    /// Informational (the browser hand-off, a stray callback that was ignored).
    Info,
    /// A well-known URL that was not there, with a later candidate that was.
    Fallback,
    /// Failed, then a later attempt of the same leg succeeded.
    Recovered,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct TimelineStep {
    pub kind: StepKind,
    /// The leg, for a person ("Token exchange at the IdP").
    pub leg: String,
    pub method: String,
    /// Already redacted when recorded.
    pub url: String,
    pub status: Option<u16>,
    pub verdict: Verdict,
    /// RFC 3339.
    #[cfg_attr(test, ts(type = "string"))]
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub oauth_error: Option<OAuthError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub explanation: Option<Explanation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "TimelineOutcome"))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing was recorded.
    Empty,
    Ok,
    Failed,
}

/// What was asked for, what the IdP put in the ID-JAG, what the connector granted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct KeyClaims {
    /// As the trace recorded them: `{audience, resource, scope, client_id}` from the
    /// exchange code, though a trace file may hold any JSON value here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "unknown"))]
    pub requested: Option<serde_json::Value>,
    /// The ID-JAG's claims, handles (`jti`) as fingerprints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "unknown"))]
    pub id_jag: Option<serde_json::Value>,
    /// `{scope, expires_at, token_type}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "unknown"))]
    pub granted: Option<serde_json::Value>,
    /// Differences worth a look ("aud differs from the requested audience").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Timeline {
    /// `"sign-in"` or the connector id.
    pub name: String,
    pub outcome: Outcome,
    pub steps: Vec<TimelineStep>,
    /// Why the flow failed, when it did: from the failed step, or from the recorded error
    /// when the failure left no step behind (e.g. no ID-JAG support).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub failure: Option<Explanation>,
    pub key_claims: KeyClaims,
}

/// The leg name of a step kind.
pub fn leg(kind: StepKind) -> &'static str {
    match kind {
        StepKind::IdpDiscovery => "IdP discovery",
        StepKind::Jwks => "IdP signing keys",
        StepKind::Authorization => "Authorization (browser)",
        StepKind::Callback => "Browser callback",
        StepKind::Token => "Token (sign-in code)",
        StepKind::DeviceAuthorization => "Device authorization (code for another device)",
        StepKind::DevicePoll => "Waiting for approval (device code poll)",
        StepKind::Refresh => "Session refresh",
        StepKind::McpProbe => "MCP probe (no token)",
        StepKind::ProtectedResourceMetadata => "Protected-resource metadata",
        StepKind::AuthorizationServerMetadata => "Authorization-server metadata",
        StepKind::TokenExchange => "Token exchange at the IdP (ID-JAG)",
        StepKind::JwtBearer => "JWT-bearer at the connector",
        StepKind::McpInitialize => "MCP initialize",
        StepKind::McpToolsList => "tools/list",
        StepKind::McpToolCall => "tools/call",
        StepKind::Revocation => "Revocation",
    }
}

/// Builds the timeline of `name` from its steps. `error` is the connector's recorded error
/// (from the status), `who` its display name for the explanations.
pub fn build(
    name: &str,
    steps: &[Step],
    error: Option<&ConnectorError>,
    who: Option<&str>,
) -> Timeline {
    let mut out: Vec<TimelineStep> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (verdict, explanation) = judge(s, &steps[i + 1..], who);
            TimelineStep {
                kind: s.kind,
                leg: leg(s.kind).to_string(),
                method: s.method.clone(),
                url: s.url.clone(),
                status: s.status,
                verdict,
                started_at: s.started_at,
                duration_ms: s.duration_ms,
                oauth_error: s.oauth_error.clone(),
                note: s.note.clone(),
                explanation,
            }
        })
        .collect();
    let recorded = error.map(|e| catalogue::explain_connector_error(e, who));
    let last_failed = out.iter().rposition(|s| s.verdict == Verdict::Failed);
    let failure = match (last_failed, recorded) {
        // The recorded error is the engine's final word: prefer it, and put it on the step
        // when they agree on the code.
        (Some(i), Some(rec)) => {
            if out[i]
                .explanation
                .as_ref()
                .is_none_or(|x| x.code == rec.code)
            {
                out[i].explanation = Some(rec.clone());
            }
            Some(rec)
        }
        (Some(i), None) => out[i].explanation.clone(),
        (None, rec) => rec,
    };
    let outcome = match (out.is_empty(), failure.is_some()) {
        (_, true) => Outcome::Failed,
        (true, false) => Outcome::Empty,
        (false, false) => Outcome::Ok,
    };
    Timeline {
        name: name.to_string(),
        outcome,
        steps: out,
        failure,
        key_claims: key_claims(steps),
    }
}

/// A step's verdict and, when it failed, the catalogue's explanation.
// long: one table from (step kind, status, note) to a catalogue code, read top to bottom;
// its arms are ordered (earlier ones win), which separate functions would hide.
fn judge(s: &Step, later: &[Step], who: Option<&str>) -> (Verdict, Option<Explanation>) {
    let failed = |endpoint: Endpoint, code: &str, desc: Option<&str>| {
        let verdict = if recovered(s, later) {
            Verdict::Recovered
        } else {
            Verdict::Failed
        };
        (verdict, Some(catalogue::explain(endpoint, code, desc, who)))
    };
    let desc = s
        .oauth_error
        .as_ref()
        .and_then(|e| e.error_description.as_deref());
    let note = s.note.as_deref().unwrap_or("");
    // No status: the request never got an answer (transport), or it is the browser hand-off.
    let Some(status) = s.status else {
        if s.kind == StepKind::Authorization {
            return (Verdict::Info, None);
        }
        let (endpoint, code) = catalogue::network_code(note);
        return failed(endpoint, code, Some(note).filter(|n| !n.is_empty()));
    };
    if s.kind == StepKind::DevicePoll {
        // Lanyard stopped polling on its own: the code outlived its `expires_in`.
        if note.starts_with(DEVICE_CODE_EXPIRED) {
            return failed(Endpoint::IdpToken, "expired_token", None);
        }
        // RFC 8628 §3.5: "not yet" and "more slowly" are the IdP keeping pace, not failures.
        if s.oauth_error.as_ref().is_some_and(|e| {
            matches!(
                e.code(),
                ErrorCode::AuthorizationPending | ErrorCode::SlowDown
            )
        }) {
            return (Verdict::Info, None);
        }
    }
    if let Some(err) = &s.oauth_error {
        return failed(endpoint_of(s.kind), &err.error, desc);
    }
    match (s.kind, status) {
        (StepKind::Callback, 400) => {
            if let Some(code) = query_value(&s.url, "error") {
                let d = query_value(&s.url, "error_description");
                return failed(Endpoint::OidcCallback, &code, d.as_deref());
            }
            if note.contains("issuer") {
                return failed(Endpoint::OidcCallback, "iss_mismatch", Some(note));
            }
            (Verdict::Info, None)
        }
        (
            StepKind::Token | StepKind::DevicePoll | StepKind::Refresh | StepKind::Jwks,
            200..=299,
        ) if note.starts_with("ID token refused: ") => {
            let code = catalogue::id_token_code_from_note(note).unwrap_or("other");
            failed(Endpoint::IdToken, code, None)
        }
        (StepKind::McpProbe, 401) => (Verdict::Ok, None),
        (StepKind::McpProbe, 200..=299) => failed(Endpoint::Mcp, "no_auth_required", None),
        (StepKind::McpInitialize | StepKind::McpToolsList | StepKind::McpToolCall, 401) => {
            let code = if note.contains("invalid_token") {
                "invalid_token"
            } else {
                "mcp_unauthorized"
            };
            failed(Endpoint::Mcp, code, Some(note))
        }
        (StepKind::McpInitialize | StepKind::McpToolsList | StepKind::McpToolCall, 403) => {
            let code = if note.contains("insufficient_scope") {
                "insufficient_scope"
            } else {
                "mcp_forbidden"
            };
            failed(Endpoint::Mcp, code, Some(note))
        }
        (StepKind::AuthorizationServerMetadata, 200) if note.contains("issuer does not match") => {
            failed(Endpoint::Discovery, "issuer_mismatch", None)
        }
        (StepKind::ProtectedResourceMetadata, 200) if note.contains("resource does not match") => {
            failed(Endpoint::Discovery, "resource_mismatch", None)
        }
        (StepKind::ProtectedResourceMetadata | StepKind::AuthorizationServerMetadata, 200)
            if note.contains("not valid metadata") =>
        {
            failed(Endpoint::Discovery, "invalid_metadata", None)
        }
        (StepKind::TokenExchange, 200..=299) if note.contains("issued_token_type") => {
            failed(Endpoint::IdpTokenExchange, "wrong_issued_token_type", None)
        }
        (
            StepKind::ProtectedResourceMetadata | StepKind::AuthorizationServerMetadata,
            400..=499,
        ) => {
            if later.iter().any(|l| l.kind == s.kind) {
                (Verdict::Fallback, None)
            } else if s.kind == StepKind::ProtectedResourceMetadata {
                failed(Endpoint::Discovery, "no_resource_metadata", None)
            } else {
                failed(Endpoint::Discovery, "no_as_metadata", None)
            }
        }
        (_, 200..=399) => (Verdict::Ok, None),
        (_, 500..) => failed(Endpoint::Network, "server_error", None),
        (kind, status) => failed(
            endpoint_of(kind),
            &format!("http_{status}"),
            Some(note).filter(|n| !n.is_empty()),
        ),
    }
}

/// A later step of the same leg succeeded.
fn recovered(s: &Step, later: &[Step]) -> bool {
    later.iter().any(|l| {
        l.kind == s.kind
            && l.oauth_error.is_none()
            && l.status.is_some_and(|st| (200..300).contains(&st))
            && !l.note.as_deref().unwrap_or("").contains("refused")
    })
}

fn endpoint_of(kind: StepKind) -> Endpoint {
    match kind {
        StepKind::Callback | StepKind::Authorization => Endpoint::OidcCallback,
        StepKind::Token | StepKind::DeviceAuthorization | StepKind::DevicePoll => {
            Endpoint::IdpToken
        }
        StepKind::Refresh | StepKind::Revocation => Endpoint::IdpRefresh,
        StepKind::TokenExchange => Endpoint::IdpTokenExchange,
        StepKind::JwtBearer => Endpoint::ConnectorJwtBearer,
        StepKind::McpProbe
        | StepKind::McpInitialize
        | StepKind::McpToolsList
        | StepKind::McpToolCall => Endpoint::Mcp,
        StepKind::IdpDiscovery
        | StepKind::Jwks
        | StepKind::ProtectedResourceMetadata
        | StepKind::AuthorizationServerMetadata => Endpoint::Discovery,
    }
}

fn query_value(url: &str, key: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| crate::trace::scrub(&v))
}

/// The last claims of each kind, side by side, with the differences that matter.
fn key_claims(steps: &[Step]) -> KeyClaims {
    let last = |kind: StepKind, key: &str| {
        steps
            .iter()
            .rev()
            .filter(|s| s.kind == kind)
            .find_map(|s| s.claims.as_ref().and_then(|c| c.get(key)).cloned())
    };
    let requested = last(StepKind::TokenExchange, "requested");
    let id_jag = last(StepKind::TokenExchange, "id_jag");
    let granted = last(StepKind::JwtBearer, "granted");
    let mut findings = Vec::new();
    if let (Some(asked), Some(aud)) = (
        claim_text(requested.as_ref(), "audience"),
        claim_text(id_jag.as_ref(), "aud"),
    ) && asked != aud
    {
        findings.push(format!(
            "the ID-JAG's aud ({aud}) is not the requested audience ({asked})"
        ));
    }
    if let (Some(asked), Some(got)) = (
        claim_text(requested.as_ref(), "resource"),
        claim_text(id_jag.as_ref(), "resource"),
    ) && asked != got
    {
        findings.push(format!(
            "the ID-JAG's resource ({got}) is not the requested resource ({asked})"
        ));
    }
    let asked = scope_words(claim_text(requested.as_ref(), "scope"));
    let in_jag = scope_words(claim_text(id_jag.as_ref(), "scope"));
    let got = scope_words(claim_text(granted.as_ref(), "scope"));
    if !asked.is_empty() && id_jag.is_some() && in_jag != asked {
        findings.push(format!(
            "the IdP narrowed the scope from \"{}\" to \"{}\"",
            asked.join(" "),
            in_jag.join(" ")
        ));
    }
    if !in_jag.is_empty() && granted.is_some() && got != in_jag {
        findings.push(format!(
            "the connector granted \"{}\" of the ID-JAG's \"{}\"",
            got.join(" "),
            in_jag.join(" ")
        ));
    }
    KeyClaims {
        requested,
        id_jag,
        granted,
        findings,
    }
}

/// A claim as text: a string as it is, an array of strings joined by spaces.
fn claim_text(v: Option<&serde_json::Value>, k: &str) -> Option<String> {
    match v?.get(k)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(a) => Some(
            a.iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    }
}

/// A scope's words, sorted, so two scopes compare regardless of order.
fn scope_words(s: Option<String>) -> Vec<String> {
    let mut w: Vec<String> = s
        .unwrap_or_default()
        .split(' ')
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect();
    w.sort();
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::connector::Stage;
    use serde_json::json;

    fn step(kind: StepKind, status: Option<u16>) -> Step {
        Step {
            kind,
            method: "POST".into(),
            url: "http://127.0.0.1:7/x".into(),
            status,
            duration_ms: 5,
            started_at: Utc::now(),
            server_date: None,
            oauth_error: None,
            note: None,
            claims: None,
        }
    }

    fn oauth(kind: StepKind, status: u16, code: &str) -> Step {
        let mut s = step(kind, Some(status));
        s.oauth_error = Some(OAuthError {
            error: code.into(),
            error_description: Some("why".into()),
            error_uri: None,
        });
        s
    }

    #[test]
    fn device_polls_wait_and_a_code_that_ran_out_fails_the_sign_in() {
        let mut ran_out = oauth(StepKind::DevicePoll, 400, "authorization_pending");
        ran_out.note = Some(format!("{DEVICE_CODE_EXPIRED} (its expires_in passed)"));
        let steps = vec![
            step(StepKind::DeviceAuthorization, Some(200)),
            oauth(StepKind::DevicePoll, 400, "authorization_pending"),
            oauth(StepKind::DevicePoll, 400, "slow_down"),
            ran_out,
        ];
        let t = build("sign-in", &steps, None, None);
        let verdicts: Vec<_> = t.steps.iter().map(|s| s.verdict).collect();
        assert_eq!(
            verdicts,
            [Verdict::Ok, Verdict::Info, Verdict::Info, Verdict::Failed]
        );
        assert_eq!(t.steps[1].leg, "Waiting for approval (device code poll)");
        assert_eq!(t.outcome, Outcome::Failed);
        let why = t.failure.unwrap();
        assert_eq!(
            (why.code.as_str(), why.endpoint),
            ("expired_token", Endpoint::IdpToken)
        );
        assert!(why.known);

        // The IdP's own word for it, and a denial, are failures too.
        let told = build(
            "sign-in",
            &[oauth(StepKind::DevicePoll, 400, "expired_token")],
            None,
            None,
        );
        assert_eq!(told.steps[0].verdict, Verdict::Failed);
        let denied = build(
            "sign-in",
            &[oauth(StepKind::DevicePoll, 400, "access_denied")],
            None,
            None,
        );
        assert!(denied.failure.unwrap().known);
    }

    #[test]
    fn a_denial_is_explained_on_the_token_exchange_step() {
        let mut prm404 = step(StepKind::ProtectedResourceMetadata, Some(404));
        prm404.method = "GET".into();
        let steps = vec![
            step(StepKind::McpProbe, Some(401)),
            prm404,
            step(StepKind::ProtectedResourceMetadata, Some(200)),
            step(StepKind::AuthorizationServerMetadata, Some(200)),
            oauth(StepKind::TokenExchange, 400, "invalid_target"),
        ];
        let t = build("asana", &steps, None, Some("Asana"));
        let verdicts: Vec<Verdict> = t.steps.iter().map(|s| s.verdict).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Ok,
                Verdict::Fallback,
                Verdict::Ok,
                Verdict::Ok,
                Verdict::Failed
            ]
        );
        assert_eq!(t.outcome, Outcome::Failed);
        let f = t.failure.unwrap();
        assert_eq!(
            (f.endpoint, f.code.as_str()),
            (Endpoint::IdpTokenExchange, "invalid_target")
        );
        assert_eq!(f.employee, "Ask IT to give you access to Asana.");
        assert_eq!(t.steps[4].leg, "Token exchange at the IdP (ID-JAG)");
    }

    #[test]
    fn a_retried_failure_is_recovered_not_failed() {
        let steps = vec![
            oauth(StepKind::JwtBearer, 400, "invalid_grant"),
            step(StepKind::TokenExchange, Some(200)),
            step(StepKind::JwtBearer, Some(200)),
            step(StepKind::McpInitialize, Some(200)),
        ];
        let t = build("linear", &steps, None, None);
        assert_eq!(t.steps[0].verdict, Verdict::Recovered);
        assert_eq!(t.outcome, Outcome::Ok);
        assert!(t.failure.is_none());
    }

    #[test]
    fn recorded_errors_explain_failures_that_left_no_failed_step() {
        let err = ConnectorError {
            stage: Stage::Discovery,
            code: "no_id_jag_support".into(),
            description: None,
            hint: String::new(),
        };
        let t = build(
            "slack",
            &[step(StepKind::AuthorizationServerMetadata, Some(200))],
            Some(&err),
            Some("Slack"),
        );
        assert_eq!(t.outcome, Outcome::Failed);
        assert_eq!(t.failure.unwrap().code, "no_id_jag_support");
        let empty = build("x", &[], None, None);
        assert_eq!(empty.outcome, Outcome::Empty);
    }

    #[test]
    fn sign_in_failures_map_to_callback_id_token_and_network() {
        let mut cb = step(StepKind::Callback, Some(400));
        cb.url = "http://127.0.0.1:5/callback?error=access_denied&error_description=no+app&state=%E2%80%A6".into();
        let t = build("sign-in", &[cb], None, None);
        let f = t.failure.unwrap();
        assert_eq!(
            (f.endpoint, f.code.as_str()),
            (Endpoint::OidcCallback, "access_denied")
        );
        assert_eq!(f.server_description.as_deref(), Some("no app"));

        let mut tok = step(StepKind::Token, Some(200));
        tok.note = Some(format!(
            "ID token refused: {}",
            crate::protocol::oidc::IdTokenCheck::Expired
        ));
        assert_eq!(
            build("sign-in", &[tok], None, None).failure.unwrap().code,
            "expired"
        );

        let mut down = step(StepKind::IdpDiscovery, None);
        down.note = Some("could not connect: Connection refused (os error 111)".into());
        let f = build("sign-in", &[down], None, None).failure.unwrap();
        assert_eq!(
            (f.endpoint, f.code.as_str()),
            (Endpoint::Network, "connect_refused")
        );

        let mut stray = step(StepKind::Callback, Some(400));
        stray.note = Some("state missing or not ours; ignored, still waiting".into());
        assert_eq!(
            build("sign-in", &[stray], None, None).steps[0].verdict,
            Verdict::Info
        );
    }

    #[test]
    fn key_claims_line_up_request_id_jag_and_grant() {
        let mut tx = step(StepKind::TokenExchange, Some(200));
        tx.claims = Some(json!({
            "requested": {"audience": "http://as", "resource": "http://mcp/mcp", "scope": "linear:read linear:write"},
            "id_jag": {"aud": ["http://as"], "resource": ["http://mcp/mcp"], "scope": "linear:read", "jti_fingerprint": "sha256:00"}
        }));
        let mut jb = step(StepKind::JwtBearer, Some(200));
        jb.claims = Some(json!({"granted": {"scope": ["linear:read"]}}));
        let t = build("linear", &[tx, jb], None, None);
        assert_eq!(
            t.key_claims.requested.as_ref().unwrap()["audience"],
            "http://as"
        );
        assert_eq!(
            t.key_claims.id_jag.as_ref().unwrap()["jti_fingerprint"],
            "sha256:00"
        );
        assert_eq!(
            t.key_claims.findings,
            ["the IdP narrowed the scope from \"linear:read linear:write\" to \"linear:read\""]
        );
    }
}
