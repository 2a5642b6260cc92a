//! Connector readiness check for any MCP URL: the resource server's duties (ema-protocol §5,
//! RFC 6750, RFC 9728) and the authorization server's EMA advertisement (§4.2, §4.3, §6).
//!
//! Token checks need real tokens: the connector's own (to show it is accepted, refused in a
//! query string, and refused once tampered) and another connector's (which must be refused:
//! audience binding). Without them those checks are `skipped`, never guessed.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use url::Url;

use crate::discovery::{ID_JAG_PROFILE, JWT_BEARER_GRANT, authorization_server_metadata_urls};
use crate::http::{Http, check_endpoint};
use crate::secret::Secret;
use crate::trace::{StepKind, Trace, redact_url, scrub};

const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    ProtectedResourceMetadata,
    UnauthorizedChallenge,
    ValidTokenAccepted,
    TokenInHeaderOnly,
    AudienceValidated,
    SignatureValidated,
    IdJagGrantAdvertised,
    IssuerMatches,
    RevocationEndpoint,
}

impl CheckId {
    pub fn title(self) -> &'static str {
        match self {
            Self::ProtectedResourceMetadata => "Publishes protected-resource metadata (RFC 9728)",
            Self::UnauthorizedChallenge => {
                "Answers 401 + WWW-Authenticate to a missing or invalid token"
            }
            Self::ValidTokenAccepted => "Accepts its own valid token",
            Self::TokenInHeaderOnly => "Refuses a token in the query string",
            Self::AudienceValidated => "Refuses another connector's token (audience)",
            Self::SignatureValidated => "Refuses a tampered token",
            Self::IdJagGrantAdvertised => {
                "Authorization server advertises the ID-JAG profile and jwt-bearer"
            }
            Self::IssuerMatches => "Authorization-server metadata issuer matches exactly",
            Self::RevocationEndpoint => "Authorization server has a revocation endpoint (RFC 7009)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Pass,
    Fail,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub id: CheckId,
    pub title: String,
    pub outcome: CheckOutcome,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessReport {
    pub mcp_url: String,
    pub checks: Vec<Check>,
    /// No check failed.
    pub ready: bool,
}

impl ReadinessReport {
    pub fn outcome(&self, id: CheckId) -> Option<CheckOutcome> {
        self.checks.iter().find(|c| c.id == id).map(|c| c.outcome)
    }

    pub fn failed(&self) -> Vec<CheckId> {
        self.checks
            .iter()
            .filter(|c| c.outcome == CheckOutcome::Fail)
            .map(|c| c.id)
            .collect()
    }
}

/// Runs every check against `mcp_url`. `own_token` is a valid token for this server;
/// `foreign_token` a valid token for a different one.
pub async fn check(
    http: &Http,
    mcp_url: &Url,
    own_token: Option<&Secret>,
    foreign_token: Option<&Secret>,
) -> ReadinessReport {
    let mut checks = Vec::new();
    let mut push = |id: CheckId, outcome: CheckOutcome, detail: String| {
        checks.push(Check {
            id,
            title: id.title().to_string(),
            outcome,
            detail: scrub(&detail),
        });
    };
    use CheckOutcome::*;

    // 1. Missing and garbage tokens: 401 + a Bearer challenge.
    let missing = post(http, mcp_url, Auth::None).await;
    let garbage = post(
        http,
        mcp_url,
        Auth::Header(&Secret::new("not-a-real-token")),
    )
    .await;
    let challenge = missing.as_ref().ok().and_then(|p| p.challenge.clone());
    match (&missing, &garbage) {
        (Err(e), _) | (_, Err(e)) => push(
            CheckId::UnauthorizedChallenge,
            Fail,
            format!("the server could not be reached: {e}"),
        ),
        (Ok(m), Ok(g)) => {
            let ok = |p: &Probe| p.status == 401 && p.challenge.is_some();
            let (outcome, detail) = if ok(m) && ok(g) {
                (Pass, "401 with a Bearer challenge for both".to_string())
            } else {
                (
                    Fail,
                    format!(
                        "no token → {}; invalid token → {}",
                        m.describe(),
                        g.describe()
                    ),
                )
            };
            push(CheckId::UnauthorizedChallenge, outcome, detail);
        }
    }

    // 2. Protected-resource metadata.
    let prm = protected_resource_metadata(http, mcp_url, challenge.as_ref()).await;
    match &prm {
        Ok((url, doc)) => push(
            CheckId::ProtectedResourceMetadata,
            Pass,
            format!(
                "{url}: resource {}, authorization server {}",
                doc.resource, doc.authorization_server
            ),
        ),
        Err(why) => push(CheckId::ProtectedResourceMetadata, Fail, why.clone()),
    }

    // 3. Token handling.
    let accepted = match own_token {
        None => {
            push(
                CheckId::ValidTokenAccepted,
                Skipped,
                "no token for this server was given".into(),
            );
            None
        }
        Some(t) => {
            let p = post(http, mcp_url, Auth::Header(t)).await;
            let ok = p.as_ref().is_ok_and(|p| p.accepted());
            let detail = match &p {
                Ok(p) => p.describe(),
                Err(e) => e.clone(),
            };
            push(
                CheckId::ValidTokenAccepted,
                if ok { Pass } else { Fail },
                detail,
            );
            Some(ok)
        }
    };
    let refusal = |p: Result<Probe, String>, what: &str| match p {
        Ok(p) if p.accepted() => (Fail, format!("{what} was accepted ({})", p.describe())),
        Ok(p) => (Pass, format!("{what} was refused ({})", p.describe())),
        Err(e) => (Skipped, format!("could not tell: {e}")),
    };
    let needs_own = "skipped: needs a token for this server that it accepts";
    match (own_token, accepted) {
        (Some(t), Some(true)) => {
            let (o, d) = refusal(
                post(http, mcp_url, Auth::Query(t)).await,
                "its own valid token in ?access_token=",
            );
            push(CheckId::TokenInHeaderOnly, o, d);
            let (o, d) = refusal(
                post(http, mcp_url, Auth::Header(&tamper(t))).await,
                "its own token with one character changed",
            );
            push(CheckId::SignatureValidated, o, d);
        }
        _ => {
            push(CheckId::TokenInHeaderOnly, Skipped, needs_own.into());
            push(CheckId::SignatureValidated, Skipped, needs_own.into());
        }
    }
    match foreign_token {
        Some(t) => {
            let (o, d) = refusal(
                post(http, mcp_url, Auth::Header(t)).await,
                "another connector's valid token",
            );
            push(CheckId::AudienceValidated, o, d);
        }
        None => push(
            CheckId::AudienceValidated,
            Skipped,
            "no token for another server was given".into(),
        ),
    }

    // 4. The authorization server.
    match &prm {
        Err(_) => {
            for id in [
                CheckId::IdJagGrantAdvertised,
                CheckId::IssuerMatches,
                CheckId::RevocationEndpoint,
            ] {
                push(
                    id,
                    Skipped,
                    "skipped: no protected-resource metadata names an authorization server".into(),
                );
            }
        }
        Ok((_, doc)) => {
            match authorization_server_metadata(http, &doc.authorization_server).await {
                Err(why) => {
                    push(CheckId::IssuerMatches, Fail, why);
                    push(
                        CheckId::IdJagGrantAdvertised,
                        Skipped,
                        "skipped: no authorization-server metadata".into(),
                    );
                    push(
                        CheckId::RevocationEndpoint,
                        Skipped,
                        "skipped: no authorization-server metadata".into(),
                    );
                }
                Ok((url, asm)) => {
                    let strings = |k: &str| -> Vec<String> {
                        asm.get(k)
                            .and_then(|v| v.as_array())
                            .map(|a| {
                                a.iter()
                                    .filter_map(|x| x.as_str().map(String::from))
                                    .collect()
                            })
                            .unwrap_or_default()
                    };
                    let profile = strings("authorization_grant_profiles_supported")
                        .iter()
                        .any(|p| p == ID_JAG_PROFILE);
                    let grant = strings("grant_types_supported")
                        .iter()
                        .any(|g| g == JWT_BEARER_GRANT);
                    let detail = format!(
                        "authorization_grant_profiles_supported {} the id-jag profile; grant_types_supported {} jwt-bearer",
                        if profile { "includes" } else { "lacks" },
                        if grant { "includes" } else { "lacks" }
                    );
                    push(
                        CheckId::IdJagGrantAdvertised,
                        if profile && grant { Pass } else { Fail },
                        detail,
                    );
                    let found = asm.get("issuer").and_then(|v| v.as_str()).unwrap_or("");
                    if found == doc.authorization_server {
                        push(
                            CheckId::IssuerMatches,
                            Pass,
                            format!("{url} says issuer {found}"),
                        );
                    } else {
                        push(
                            CheckId::IssuerMatches,
                            Fail,
                            format!(
                                "{url} says issuer \"{found}\", but it was fetched for \"{}\"",
                                doc.authorization_server
                            ),
                        );
                    }
                    match asm.get("revocation_endpoint").and_then(|v| v.as_str()) {
                    Some(r) => push(CheckId::RevocationEndpoint, Pass, format!("revocation_endpoint {r}")),
                    None => push(CheckId::RevocationEndpoint, Fail, "no revocation_endpoint: disconnecting cannot revoke grants at the server".into()),
                }
                }
            }
        }
    }
    checks.sort_by_key(|c| c.id as u8);
    let ready = checks.iter().all(|c| c.outcome != Fail);
    ReadinessReport {
        mcp_url: redact_url(mcp_url),
        checks,
        ready,
    }
}

/// The token with one character changed where it matters: inside a JWT's signature, or the
/// last character of an opaque token (where an unchecked MAC would typically sit).
pub fn tamper(token: &Secret) -> Secret {
    let raw = token.expose();
    let flip = |c: char| if c == 'A' { 'B' } else { 'A' };
    let mut chars: Vec<char> = raw.chars().collect();
    let at = match raw.rfind('.') {
        Some(dot) if raw.matches('.').count() == 2 && raw.len() > dot + 4 => {
            dot + 1 + (raw.len() - dot - 1) / 2
        }
        _ => chars.len().saturating_sub(1),
    };
    if let Some(c) = chars.get_mut(at) {
        *c = flip(*c);
    }
    Secret::new(chars.into_iter().collect::<String>())
}

enum Auth<'a> {
    None,
    Header(&'a Secret),
    Query(&'a Secret),
}

#[derive(Debug, Clone)]
struct Probe {
    status: u16,
    challenge: Option<crate::www_authenticate::BearerChallenge>,
}

impl Probe {
    fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn describe(&self) -> String {
        match &self.challenge {
            Some(c) => format!(
                "HTTP {} with a Bearer challenge{}",
                self.status,
                c.error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
            None if self.status == 401 => "HTTP 401 without WWW-Authenticate".into(),
            None => format!("HTTP {}", self.status),
        }
    }
}

/// An MCP `initialize` POST; only the status and challenge are read (an accepted request
/// may answer with an event stream that stays open).
async fn post(http: &Http, mcp_url: &Url, auth: Auth<'_>) -> Result<Probe, String> {
    check_endpoint(mcp_url).map_err(|e| e.to_string())?;
    let mut url = mcp_url.clone();
    if let Auth::Query(t) = &auth {
        url.query_pairs_mut()
            .append_pair("access_token", t.expose());
    }
    let body = serde_json::json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "lanyard-readiness", "version": env!("CARGO_PKG_VERSION")}}
    });
    let mut request = http
        .client()
        .post(url)
        .timeout(PROBE_TIMEOUT)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Auth::Header(t) = &auth {
        request = request.header("authorization", format!("Bearer {}", t.expose()));
    }
    let _permit = http.host_permit(mcp_url).await;
    let response = request.send().await.map_err(|e| {
        // reqwest's Display names the URL, which may hold the query-string token.
        if e.is_timeout() {
            "timed out".to_string()
        } else {
            "could not connect".to_string()
        }
    })?;
    let values: Vec<&str> = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    Ok(Probe {
        status: response.status().as_u16(),
        challenge: crate::www_authenticate::bearer(values),
    })
}

struct Prm {
    resource: String,
    authorization_server: String,
}

async fn protected_resource_metadata(
    http: &Http,
    mcp_url: &Url,
    challenge: Option<&crate::www_authenticate::BearerChallenge>,
) -> Result<(String, Prm), String> {
    let mut candidates = Vec::new();
    if let Some(u) = challenge
        .and_then(|c| c.resource_metadata.as_deref())
        .and_then(|v| mcp_url.join(v).ok())
        && u.origin() == mcp_url.origin()
    {
        candidates.push(u);
    }
    let path = mcp_url.path().trim_end_matches('/');
    for p in [path, ""] {
        let mut u = mcp_url.clone();
        u.set_path(&format!("/.well-known/oauth-protected-resource{p}"));
        u.set_query(None);
        if !candidates.contains(&u) {
            candidates.push(u);
        }
    }
    let trace = Trace::new();
    for url in &candidates {
        let Ok(r) = http
            .send(&trace, StepKind::ProtectedResourceMetadata, http.get(url))
            .await
        else {
            continue;
        };
        if r.status != 200 {
            continue;
        }
        let Ok(doc) = r.json::<serde_json::Value>() else {
            return Err(format!("{} is not JSON", redact_url(url)));
        };
        let resource = doc.get("resource").and_then(|v| v.as_str());
        let server = doc
            .get("authorization_servers")
            .and_then(|v| v.as_array())
            .and_then(|a| a.first())
            .and_then(|v| v.as_str());
        return match (resource, server) {
            (Some(r), Some(s)) => Ok((
                redact_url(url),
                Prm {
                    resource: r.to_string(),
                    authorization_server: s.to_string(),
                },
            )),
            _ => Err(format!(
                "{} lacks resource or authorization_servers",
                redact_url(url)
            )),
        };
    }
    let tried: Vec<String> = candidates.iter().map(redact_url).collect();
    Err(format!(
        "no protected-resource metadata at {}",
        tried.join(", ")
    ))
}

async fn authorization_server_metadata(
    http: &Http,
    issuer: &str,
) -> Result<(String, serde_json::Value), String> {
    let issuer_url = Url::parse(issuer)
        .map_err(|_| format!("authorization server \"{issuer}\" is not a URL"))?;
    let candidates = authorization_server_metadata_urls(&issuer_url);
    let trace = Trace::new();
    for url in &candidates {
        let Ok(r) = http
            .send(&trace, StepKind::AuthorizationServerMetadata, http.get(url))
            .await
        else {
            continue;
        };
        if r.status == 200
            && let Ok(doc) = r.json::<serde_json::Value>()
        {
            return Ok((redact_url(url), doc));
        }
    }
    let tried: Vec<String> = candidates.iter().map(redact_url).collect();
    Err(format!(
        "no authorization-server metadata at {}",
        tried.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tamper_changes_exactly_one_character_in_the_right_place() {
        let opaque = Secret::new("labsecret_at_abcdefgh");
        let t = tamper(&opaque);
        assert_ne!(t.expose(), opaque.expose());
        assert_eq!(
            t.expose()[..opaque.expose().len() - 1],
            opaque.expose()[..opaque.expose().len() - 1]
        );
        let jwt = Secret::new("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlc2lnbmF0dXJl");
        let t = tamper(&jwt);
        let (head, sig) = t.expose().rsplit_once('.').unwrap();
        assert_eq!(head, "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0");
        assert_ne!(sig, "c2lnbmF0dXJlc2lnbmF0dXJl");
        assert_eq!(sig.len(), "c2lnbmF0dXJlc2lnbmF0dXJl".len());
    }

    #[test]
    fn report_helpers_find_outcomes() {
        let r = ReadinessReport {
            mcp_url: "x".into(),
            checks: vec![Check {
                id: CheckId::IssuerMatches,
                title: String::new(),
                outcome: CheckOutcome::Fail,
                detail: String::new(),
            }],
            ready: false,
        };
        assert_eq!(r.outcome(CheckId::IssuerMatches), Some(CheckOutcome::Fail));
        assert_eq!(r.failed(), [CheckId::IssuerMatches]);
        assert_eq!(r.outcome(CheckId::RevocationEndpoint), None);
    }
}
