//! The resource server's token duties (RFC 6750, ema-protocol §5), one function per check.

use url::Url;

use super::probe::{self, Auth, FOREIGN_AUDIENCE, Probe, ProbeError, post};
use super::{Check, CheckId, CheckOutcome, tamper};
use crate::http::Http;
use crate::protocol::www_authenticate::BearerChallenge;
use crate::secret::Secret;

use CheckOutcome::{Fail, Pass, Skipped};

const NEEDS_ACCEPTED: &str = "skipped: needs a token for this server that it accepts";

/// 401 + a Bearer challenge for a missing and for a garbage token. Also returns the
/// challenge, whose `resource_metadata` the metadata check follows.
pub(super) async fn unauthorized_challenge(
    http: &Http,
    mcp_url: &Url,
) -> (Check, Option<BearerChallenge>) {
    let missing = post(http, mcp_url, Auth::None).await;
    let garbage = Secret::new("not-a-real-token");
    let garbage = post(http, mcp_url, Auth::Header(&garbage)).await;
    let challenge = missing.as_ref().ok().and_then(|p| p.challenge.clone());
    let check = match (&missing, &garbage) {
        (Err(e), _) | (_, Err(e)) => Check::new(
            CheckId::UnauthorizedChallenge,
            Fail,
            format!("the server could not be reached: {e}"),
        ),
        (Ok(m), Ok(g)) => {
            let ok = |p: &Probe| p.status == 401 && p.challenge.is_some();
            if ok(m) && ok(g) {
                let detail = "401 with a Bearer challenge for both";
                Check::new(CheckId::UnauthorizedChallenge, Pass, detail)
            } else {
                let detail = format!(
                    "no token → {}; invalid token → {}",
                    m.describe(),
                    g.describe()
                );
                Check::new(CheckId::UnauthorizedChallenge, Fail, detail)
            }
        }
    };
    (check, challenge)
}

/// The connector's own token, in the header, is accepted. Returns whether it was.
pub(super) async fn valid_token_accepted(
    http: &Http,
    mcp_url: &Url,
    own: Option<&Secret>,
) -> (Check, bool) {
    let Some(own) = own else {
        let detail = "no token for this server was given";
        return (
            Check::new(CheckId::ValidTokenAccepted, Skipped, detail),
            false,
        );
    };
    let (accepted, detail) = match post(http, mcp_url, Auth::Header(own)).await {
        Ok(p) => (p.accepted(), p.describe()),
        Err(e) => (false, e.to_string()),
    };
    let outcome = if accepted { Pass } else { Fail };
    (
        Check::new(CheckId::ValidTokenAccepted, outcome, detail),
        accepted,
    )
}

/// RFC 6750 §2: an accepted request with a garbage `?access_token=` added must still be
/// decided by the header (2xx), or refused as ambiguous (400); a 401 means the server read
/// the token from the URL. The valid token never goes into the URL.
pub(super) async fn token_in_header_only(
    http: &Http,
    mcp_url: &Url,
    accepted: Option<&Secret>,
) -> Check {
    let Some(own) = accepted else {
        return Check::new(CheckId::TokenInHeaderOnly, Skipped, NEEDS_ACCEPTED);
    };
    let (outcome, detail) = match post(http, mcp_url, Auth::HeaderAndGarbageQuery(own)).await {
        Err(e) => (Skipped, format!("could not tell: {e}")),
        Ok(p) if p.accepted() => (
            Pass,
            format!(
                "a worthless ?access_token= beside the valid header token was ignored ({})",
                p.describe()
            ),
        ),
        Ok(p) if p.status == 400 => (
            Pass,
            format!(
                "a request with a token in both header and query was refused as invalid ({}, RFC 6750 §2)",
                p.describe()
            ),
        ),
        Ok(p) if p.status == 401 => (
            Fail,
            format!(
                "a worthless ?access_token= overrode the valid header token ({}): the server reads tokens from URLs, which logs and proxies keep",
                p.describe()
            ),
        ),
        Ok(p) => (
            Fail,
            format!(
                "adding a worthless ?access_token= to an accepted request changed the answer to {}",
                p.describe()
            ),
        ),
    };
    Check::new(CheckId::TokenInHeaderOnly, outcome, detail)
}

/// The accepted token with one character changed must be refused.
pub(super) async fn signature_validated(
    http: &Http,
    mcp_url: &Url,
    accepted: Option<&Secret>,
) -> Check {
    let Some(own) = accepted else {
        return Check::new(CheckId::SignatureValidated, Skipped, NEEDS_ACCEPTED);
    };
    let probe = post(http, mcp_url, Auth::Header(&tamper(own))).await;
    let (outcome, detail) = refusal(probe, "its own token with one character changed");
    Check::new(CheckId::SignatureValidated, outcome, detail)
}

/// A token for [`FOREIGN_AUDIENCE`], minted and signed here with a throw-away key, must be
/// refused. Never another connector's token: that would hand one vendor a live credential
/// for another. The limit, said in the detail: a server that checks signatures refuses this
/// token whatever it does with audiences.
pub(super) async fn audience_validated(
    http: &Http,
    mcp_url: &Url,
    accepted: Option<&Secret>,
    issuer: Option<&str>,
) -> Check {
    let Some(own) = accepted else {
        return Check::new(CheckId::AudienceValidated, Skipped, NEEDS_ACCEPTED);
    };
    let foreign = match probe::foreign_audience_token(own, issuer, http.clock().now()) {
        Ok(token) => token,
        Err(why) => return Check::new(CheckId::AudienceValidated, Skipped, why.to_string()),
    };
    let (outcome, detail) = match post(http, mcp_url, Auth::Header(&foreign)).await {
        Err(e) => (Skipped, format!("could not tell: {e}")),
        Ok(p) if p.accepted() => (
            Fail,
            format!(
                "a token for {FOREIGN_AUDIENCE}, signed by a key nobody trusts, was accepted ({}): neither audience nor signature is checked",
                p.describe()
            ),
        ),
        Ok(p) => (
            Pass,
            format!(
                "a token for {FOREIGN_AUDIENCE} was refused ({}); Lanyard never sends another connector's real token, so a server that checks signatures but not audiences is not caught here",
                p.describe()
            ),
        ),
    };
    Check::new(CheckId::AudienceValidated, outcome, detail)
}

fn refusal(probe: Result<Probe, ProbeError>, what: &str) -> (CheckOutcome, String) {
    match probe {
        Ok(p) if p.accepted() => (Fail, format!("{what} was accepted ({})", p.describe())),
        Ok(p) => (Pass, format!("{what} was refused ({})", p.describe())),
        Err(e) => (Skipped, format!("could not tell: {e}")),
    }
}
