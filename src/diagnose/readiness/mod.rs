//! Connector readiness check for any MCP URL: the resource server's duties (ema-protocol §5,
//! RFC 6750, RFC 9728) and the authorization server's EMA advertisement (§4.2, §4.3, §6).
//!
//! The token checks need the connector's own token: it must be accepted, and worthless
//! variants of the request must not be. No valid credential ever goes into a URL (the query
//! probe sends the valid token in the header and a garbage one in `?access_token=`), and no
//! other connector's token is ever sent: the audience probe is a token this check mints itself,
//! addressed to an audience that cannot exist and signed with a key it throws away. Without
//! an accepted token those checks are `skipped`, never guessed. One function per check, in
//! `tokens` and `metadata`; HTTP in `probe`.

mod metadata;
mod probe;
mod tokens;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::http::Http;
use crate::redact::{redact, redact_url};
use crate::secret::Secret;

pub use probe::FOREIGN_AUDIENCE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
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
            Self::AudienceValidated => "Refuses a token for another audience",
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
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Pass,
    Fail,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "ReadinessCheck"))]
pub struct Check {
    pub id: CheckId,
    pub title: String,
    pub outcome: CheckOutcome,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
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

impl Check {
    fn new(id: CheckId, outcome: CheckOutcome, detail: impl AsRef<str>) -> Self {
        Self {
            id,
            title: id.title().to_string(),
            outcome,
            detail: redact(detail.as_ref()),
        }
    }
}

/// Runs every check against `mcp_url`. `own_token` is a token for this server (the
/// connector's own); it is only ever sent in the `Authorization` header of requests to
/// `mcp_url`.
pub async fn check(http: &Http, mcp_url: &Url, own_token: Option<&Secret>) -> ReadinessReport {
    let (challenge_check, challenge) = tokens::unauthorized_challenge(http, mcp_url).await;
    let (prm_check, prm) = metadata::protected_resource(http, mcp_url, challenge.as_ref()).await;
    let (accepted_check, accepted) = tokens::valid_token_accepted(http, mcp_url, own_token).await;
    // The remaining token checks vary an accepted request; without one they prove nothing.
    let accepted_token = own_token.filter(|_| accepted);
    let issuer = prm.as_ref().map(|p| p.authorization_server.as_str());
    let mut checks = vec![
        challenge_check,
        prm_check,
        accepted_check,
        tokens::token_in_header_only(http, mcp_url, accepted_token).await,
        tokens::signature_validated(http, mcp_url, accepted_token).await,
        tokens::audience_validated(http, mcp_url, accepted_token, issuer).await,
    ];
    checks.extend(metadata::authorization_server(http, mcp_url, prm.as_ref()).await);
    checks.sort_by_key(|c| c.id as u8);
    let ready = checks.iter().all(|c| c.outcome != CheckOutcome::Fail);
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

    /// A stub MCP server that accepts `OWN` from the header and, like a broken server, lets
    /// a query-string token win over the header when both are sent.
    async fn stub(query_wins: bool) -> crate::protocol::discovery::stub_server::Stub {
        use crate::protocol::discovery::stub_server::{Reply, Stub};
        Stub::start(move |r, _| {
            let header = r.header("authorization").unwrap_or_default().to_string();
            let query_token = r.path.contains("access_token=");
            let ok = header == format!("Bearer {OWN}") && !(query_wins && query_token);
            if ok {
                Reply::json(
                    200,
                    serde_json::json!({"jsonrpc": "2.0", "id": 0, "result": {}}),
                )
            } else {
                Reply::status(401).with_header("www-authenticate", "Bearer error=\"invalid_token\"")
            }
        })
        .await
    }

    const OWN: &str = "own-access-token-0123456789";

    #[tokio::test]
    async fn no_valid_token_goes_into_a_url_or_to_another_server() {
        use crate::protocol::discovery::stub_server::http;
        let stub = stub(false).await;
        let r = check(&http(), &stub.url("/mcp"), Some(&Secret::new(OWN))).await;
        assert_eq!(
            r.outcome(CheckId::ValidTokenAccepted),
            Some(CheckOutcome::Pass)
        );
        assert_eq!(
            r.outcome(CheckId::TokenInHeaderOnly),
            Some(CheckOutcome::Pass),
            "{r:#?}"
        );
        assert_eq!(
            r.outcome(CheckId::AudienceValidated),
            Some(CheckOutcome::Pass),
            "{r:#?}"
        );
        let requests = stub.requests();
        let mut audience_probes = 0;
        for req in &requests {
            assert!(
                !req.path.contains(OWN),
                "a valid token went into {}",
                req.path
            );
            if req.path.contains("access_token=") {
                assert!(
                    req.path
                        .ends_with("access_token=lanyard-readiness-probe-not-a-token")
                );
            }
            let Some(token) = req
                .header("authorization")
                .and_then(|a| a.strip_prefix("Bearer "))
            else {
                continue;
            };
            // Every token sent is this connector's own, a variant of it, or the minted probe.
            let claims =
                crate::protocol::jwt_peek::dangerous_unverified_claims(&Secret::new(token));
            match claims {
                Some(c) => {
                    assert_eq!(c["aud"], FOREIGN_AUDIENCE);
                    audience_probes += 1;
                }
                None => assert!(
                    token == OWN
                        || token == tamper(&Secret::new(OWN)).expose()
                        || token == "not-a-real-token",
                    "unexpected token {token}"
                ),
            }
        }
        assert_eq!(audience_probes, 1);
    }

    #[tokio::test]
    async fn a_server_that_lets_the_query_token_win_fails_the_query_check() {
        let stub = stub(true).await;
        let http = crate::protocol::discovery::stub_server::http();
        let r = check(&http, &stub.url("/mcp"), Some(&Secret::new(OWN))).await;
        // The stub publishes no metadata, so that fails too; every token check but one passes.
        assert_eq!(
            r.failed(),
            [
                CheckId::ProtectedResourceMetadata,
                CheckId::TokenInHeaderOnly
            ],
            "{r:#?}"
        );
    }

    #[tokio::test]
    async fn the_minted_audience_probe_is_worthless_and_for_another_audience() {
        let own = crate::protocol::jwt_peek::unsigned_jwt(
            serde_json::json!({"alg": "ES256"}),
            serde_json::json!({"iss": "https://as.example", "aud": "https://mcp.example/mcp", "sub": "u1", "scope": "read"}),
        );
        let probe = probe::foreign_audience_token(&own, None, chrono::Utc::now()).unwrap();
        let claims = crate::protocol::jwt_peek::dangerous_unverified_claims(&probe).unwrap();
        assert_eq!(claims["aud"], FOREIGN_AUDIENCE);
        assert_eq!(
            (claims["iss"].as_str(), claims["sub"].as_str()),
            (Some("https://as.example"), Some("u1"))
        );
        // Signed, but by a key that was thrown away: nobody can verify it.
        let header = crate::protocol::jwt_peek::dangerous_unverified_header(&probe).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_ne!(
            probe.expose().rsplit('.').next(),
            own.expose().rsplit('.').next()
        );
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
