//! The metadata duties: RFC 9728 protected-resource metadata from the MCP server, and the
//! authorization server's RFC 8414 metadata (ID-JAG advertisement, exact issuer, RFC 7009
//! revocation), one function per check.

use url::Url;

use super::{Check, CheckId, CheckOutcome};
use crate::http::{Http, check_derived};
use crate::protocol::as_metadata::{self, AuthorizationServerMetadata, Found, IssuerComparison};
use crate::protocol::discovery::{ID_JAG_PROFILE, JWT_BEARER_GRANT};
use crate::protocol::www_authenticate::BearerChallenge;
use crate::redact::redact_url;
use crate::trace::{StepKind, Trace};

use CheckOutcome::{Fail, Pass, Skipped};

/// What the checks need from the protected-resource metadata.
pub(super) struct Prm {
    pub resource: String,
    pub authorization_server: String,
}

/// The protected-resource metadata check; also returns the document for the AS checks.
pub(super) async fn protected_resource(
    http: &Http,
    mcp_url: &Url,
    challenge: Option<&BearerChallenge>,
) -> (Check, Option<Prm>) {
    match protected_resource_metadata(http, mcp_url, challenge).await {
        Ok((url, doc)) => {
            let detail = format!(
                "{url}: resource {}, authorization server {}",
                doc.resource, doc.authorization_server
            );
            (
                Check::new(CheckId::ProtectedResourceMetadata, Pass, detail),
                Some(doc),
            )
        }
        Err(why) => (
            Check::new(CheckId::ProtectedResourceMetadata, Fail, why.to_string()),
            None,
        ),
    }
}

/// The three authorization-server checks. Its metadata is fetched only where `mcp_url` (the
/// URL from the policy) allows: a remote server cannot send this check to loopback.
pub(super) async fn authorization_server(
    http: &Http,
    mcp_url: &Url,
    prm: Option<&Prm>,
) -> Vec<Check> {
    const AS_CHECKS: [CheckId; 3] = [
        CheckId::IdJagGrantAdvertised,
        CheckId::IssuerMatches,
        CheckId::RevocationEndpoint,
    ];
    let Some(prm) = prm else {
        let why = "skipped: no protected-resource metadata names an authorization server";
        return AS_CHECKS.map(|id| Check::new(id, Skipped, why)).into();
    };
    match authorization_server_metadata(http, mcp_url, &prm.authorization_server).await {
        Err(why) => {
            let skipped = "skipped: no authorization-server metadata";
            vec![
                Check::new(CheckId::IssuerMatches, Fail, why.to_string()),
                Check::new(CheckId::IdJagGrantAdvertised, Skipped, skipped),
                Check::new(CheckId::RevocationEndpoint, Skipped, skipped),
            ]
        }
        Ok(Found { url, metadata }) => vec![
            id_jag_advertised(&metadata),
            issuer_matches(&redact_url(&url), &metadata, &prm.authorization_server),
            revocation_endpoint(&metadata),
        ],
    }
}

fn id_jag_advertised(asm: &AuthorizationServerMetadata) -> Check {
    let profile = asm
        .authorization_grant_profiles_supported
        .iter()
        .any(|p| p == ID_JAG_PROFILE);
    // Listed, not defaulted: RFC 8414's default grant types never include jwt-bearer.
    let grant = asm
        .grant_types_supported
        .iter()
        .flatten()
        .any(|g| g == JWT_BEARER_GRANT);
    let says = |yes: bool| if yes { "includes" } else { "lacks" };
    let detail = format!(
        "authorization_grant_profiles_supported {} the id-jag profile; grant_types_supported {} jwt-bearer",
        says(profile),
        says(grant)
    );
    let outcome = if profile && grant { Pass } else { Fail };
    Check::new(CheckId::IdJagGrantAdvertised, outcome, detail)
}

fn issuer_matches(url: &str, asm: &AuthorizationServerMetadata, expected: &str) -> Check {
    let found = asm.issuer.as_deref().unwrap_or("");
    if asm.issuer_is(expected, IssuerComparison::Exact) {
        Check::new(
            CheckId::IssuerMatches,
            Pass,
            format!("{url} says issuer {found}"),
        )
    } else {
        let detail =
            format!("{url} says issuer \"{found}\", but it was fetched for \"{expected}\"");
        Check::new(CheckId::IssuerMatches, Fail, detail)
    }
}

fn revocation_endpoint(asm: &AuthorizationServerMetadata) -> Check {
    match asm.revocation_endpoint.as_deref() {
        Some(r) => Check::new(
            CheckId::RevocationEndpoint,
            Pass,
            format!("revocation_endpoint {r}"),
        ),
        None => Check::new(
            CheckId::RevocationEndpoint,
            Fail,
            "no revocation_endpoint: disconnecting cannot revoke grants at the server",
        ),
    }
}

async fn protected_resource_metadata(
    http: &Http,
    mcp_url: &Url,
    challenge: Option<&BearerChallenge>,
) -> Result<(String, Prm), MetadataError> {
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
            return Err(MetadataError::PrmNotJson(redact_url(url)));
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
            _ => Err(MetadataError::PrmIncomplete(redact_url(url))),
        };
    }
    Err(MetadataError::NoPrm(
        candidates.iter().map(redact_url).collect(),
    ))
}

/// The metadata where `mcp_url` allows.
async fn authorization_server_metadata(
    http: &Http,
    mcp_url: &Url,
    issuer: &str,
) -> Result<Found, MetadataError> {
    let issuer_url =
        Url::parse(issuer).map_err(|_| MetadataError::IssuerNotUrl(issuer.to_string()))?;
    check_derived(&issuer_url, mcp_url).map_err(MetadataError::Refused)?;
    Ok(as_metadata::fetch(http, &issuer_url, &Trace::new()).await?)
}

/// Why a metadata check failed; its text is the check's detail (URLs already redacted).
#[derive(Debug, thiserror::Error)]
enum MetadataError {
    #[error("{0} is not JSON")]
    PrmNotJson(String),
    #[error("{0} lacks resource or authorization_servers")]
    PrmIncomplete(String),
    #[error("no protected-resource metadata at {}", .0.join(", "))]
    NoPrm(Vec<String>),
    #[error("authorization server \"{0}\" is not a URL")]
    IssuerNotUrl(String),
    #[error("{0}")]
    Refused(crate::http::HttpError),
    #[error("{0}")]
    Fetch(#[from] as_metadata::FetchError),
}
