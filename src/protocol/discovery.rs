//! Finding a connector's authorization server (ema-protocol §4): unauthenticated MCP probe →
//! `WWW-Authenticate` → protected-resource metadata (RFC 9728) → authorization-server metadata
//! (RFC 8414 / OIDC), with the issuer compared character for character.
//!
//! The issuer check matters more for ID-JAG than for ordinary OAuth: the ID-JAG's audience is
//! this issuer, so a PRM that points at a look-alike AS would redirect the grant
//! (ema-protocol §4.2, [DRAFT-RESp] §9.4).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use url::Url;

use crate::http::{Http, HttpError, HttpResponse, check_derived, check_endpoint};
use crate::protocol::as_metadata::{
    self, AuthorizationServerMetadata, FetchError, IssuerComparison, list, well_known,
};
use crate::protocol::www_authenticate;
use crate::trace::{StepKind, Trace, redact_url};

pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub const ID_JAG_PROFILE: &str = "urn:ietf:params:oauth:grant-profile:id-jag";
/// How long discovered metadata is reused before the next resolve re-discovers it.
pub const METADATA_TTL: Duration = Duration::hours(1);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectorMetadata {
    /// The PRM `resource`: the ID-JAG and token request `resource`.
    pub resource: String,
    /// The issuer from validated AS metadata: the ID-JAG `audience`.
    pub as_issuer: String,
    pub token_endpoint: Url,
    pub revocation_endpoint: Option<Url>,
    pub grant_types_supported: Vec<String>,
    pub grant_profiles_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// The `scope` of the MCP server's 401 challenge, if it sent one.
    pub challenge_scopes: Option<Vec<String>>,
    /// The PRM `scopes_supported`.
    pub scopes_supported: Vec<String>,
    /// The id-jag profile is advertised, or (leniently, like the conformance client)
    /// jwt-bearer is among the grant types.
    pub supports_id_jag: bool,
    pub fetched_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("{what}: {source}")]
    Http {
        what: &'static str,
        source: HttpError,
    },
    #[error("the MCP server answered without asking for authorization")]
    NoAuthRequired,
    #[error("{what} answered HTTP {status}")]
    UnexpectedStatus { what: &'static str, status: u16 },
    #[error("no protected-resource metadata found at {tried}")]
    ProtectedResourceMetadataNotFound { tried: String },
    #[error(
        "resource_metadata {url} is not on the MCP server's origin, and no metadata was found there"
    )]
    ResourceMetadataCrossOrigin { url: String },
    #[error("protected-resource metadata names resource {found}, which does not cover {expected}")]
    ResourceMismatch { expected: String, found: String },
    #[error("authorization-server metadata not found at {tried}")]
    AuthorizationServerMetadataNotFound { tried: String },
    #[error("authorization server metadata says issuer {found}, expected exactly {expected}")]
    IssuerMismatch { expected: String, found: String },
    #[error("invalid {what}: {why}")]
    InvalidMetadata { what: &'static str, why: String },
    #[error("{what} {url} is not https (plain http is only allowed on loopback)")]
    InsecureEndpoint { what: &'static str, url: String },
    /// The PRM names another AS than the policy's `as_issuer` (issue: a malicious or
    /// compromised MCP server steering the ID-JAG and client credentials elsewhere).
    #[error(
        "the MCP server's metadata names authorization server {named}, but the policy pins this connector to {pinned} (as_issuer); refused to send credentials there"
    )]
    AsIssuerNotAllowed { pinned: String, named: String },
    /// The PRM names another AS than the one that granted access before (pinned on first use).
    #[error(
        "the MCP server's metadata now names authorization server {named}, but access was granted by {recorded} before; refused to send credentials there (if the move is genuine, the admin sets as_issuer to the new issuer in the policy)"
    )]
    AsIssuerChanged { recorded: String, named: String },
    /// The AS's token endpoint is on another origin than its issuer, and the policy did not
    /// allow that origin (`token_endpoint_origin`).
    #[error(
        "authorization server {issuer} puts its token_endpoint on {origin}, another origin than its issuer; refused (the policy's token_endpoint_origin can allow it)"
    )]
    TokenEndpointOtherOrigin { issuer: String, origin: String },
    /// Set by the resolver, not `discover`: the AS does not offer the ID-JAG grant.
    #[error(
        "authorization server {issuer} does not advertise the ID-JAG grant profile or jwt-bearer"
    )]
    NoIdJagSupport { issuer: String },
}

/// Discovered metadata per MCP URL (TTL [`METADATA_TTL`]), per-AS wire quirks, and the
/// issuer each MCP URL was granted by (pin on first use; never expires with the metadata).
#[derive(Debug, Default)]
pub struct MetadataCache {
    entries: Mutex<HashMap<String, ConnectorMetadata>>,
    client_id_in_body: Mutex<HashSet<String>>,
    granted_by: Mutex<HashMap<String, String>>,
}

impl MetadataCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Fresh metadata for `mcp_url`, if fetched less than [`METADATA_TTL`] before `now`.
    pub fn get(&self, mcp_url: &Url, now: DateTime<Utc>) -> Option<ConnectorMetadata> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(mcp_url.as_str())
            .filter(|m| now - m.fetched_at < METADATA_TTL && m.fetched_at <= now)
            .cloned()
    }

    pub fn insert(&self, mcp_url: &Url, meta: ConnectorMetadata) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(mcp_url.to_string(), meta);
    }

    pub fn invalidate(&self, mcp_url: &Url) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(mcp_url.as_str());
    }

    /// The issuer that granted access for `mcp_url` before, if any.
    pub fn granted_by(&self, mcp_url: &Url) -> Option<String> {
        self.granted_by
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(mcp_url.as_str())
            .cloned()
    }

    /// `issuer` granted access for `mcp_url`: from now on the connector is pinned to it.
    pub fn remember_grant(&self, mcp_url: &Url, issuer: &str) {
        self.granted_by
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(mcp_url.to_string(), issuer.to_string());
    }

    /// Loads the pins recorded in the state file (each connector's `as_issuer` after a grant),
    /// so a pin survives restarts.
    pub fn recall_grants(&self, state: &crate::store::state::State) {
        let mut pins = self.granted_by.lock().unwrap_or_else(|e| e.into_inner());
        for record in state.connectors.values() {
            if let Some(issuer) = &record.as_issuer {
                pins.insert(record.mcp_url.clone(), issuer.clone());
            }
        }
    }

    /// This AS rejected Basic without `client_id` in the body once: send it from now on.
    pub fn wants_client_id_in_body(&self, issuer: &str) -> bool {
        self.client_id_in_body
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(issuer)
    }

    pub fn set_wants_client_id_in_body(&self, issuer: &str) {
        self.client_id_in_body
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(issuer.to_string());
    }
}

/// Which authorization server a connector may use, and where its token endpoint may live.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsBinding<'a> {
    /// The policy's `as_issuer`: this AS and no other.
    pub pinned: Option<&'a str>,
    /// The issuer that granted access before (used when the policy pins nothing).
    pub granted_by: Option<&'a str>,
    /// The policy's `token_endpoint_origin`: a second origin the token endpoint may be on.
    pub token_endpoint_origin: Option<&'a Url>,
}

impl AsBinding<'_> {
    /// Refuses an issuer other than the pinned (else previously granting) one.
    fn check_issuer(&self, named: &str) -> Result<(), DiscoveryError> {
        match (self.pinned, self.granted_by) {
            (Some(pinned), _) if pinned != named => Err(DiscoveryError::AsIssuerNotAllowed {
                pinned: pinned.to_string(),
                named: crate::trace::scrub(named),
            }),
            (None, Some(recorded)) if recorded != named => Err(DiscoveryError::AsIssuerChanged {
                recorded: recorded.to_string(),
                named: crate::trace::scrub(named),
            }),
            _ => Ok(()),
        }
    }

    /// The token endpoint receives the ID-JAG and client credentials: it must be on the
    /// issuer's origin (the one the binding vouches for) or the one the policy allows.
    fn check_token_endpoint(&self, meta: &ConnectorMetadata) -> Result<(), DiscoveryError> {
        let origin = meta.token_endpoint.origin();
        let issuer_origin = Url::parse(&meta.as_issuer).map(|u| u.origin()).ok();
        let allowed = self.token_endpoint_origin.map(Url::origin);
        if Some(&origin) == issuer_origin.as_ref() || Some(&origin) == allowed.as_ref() {
            return Ok(());
        }
        Err(DiscoveryError::TokenEndpointOtherOrigin {
            issuer: meta.as_issuer.clone(),
            origin: origin.ascii_serialization(),
        })
    }
}

/// Discovers (or reuses cached) metadata for a policy connector, bound to the authorization
/// server its policy entry pins (`as_issuer`), else to the one that granted it before.
pub async fn discover_for(
    http: &Http,
    connector: &crate::policy::ConnectorConfig,
    cache: &MetadataCache,
    trace: &Trace,
) -> Result<ConnectorMetadata, DiscoveryError> {
    let granted_by = cache.granted_by(&connector.mcp_url);
    let binding = AsBinding {
        pinned: connector.as_issuer.as_deref(),
        granted_by: granted_by.as_deref(),
        token_endpoint_origin: connector.token_endpoint_origin.as_ref(),
    };
    discover_bound(http, &connector.mcp_url, Some(&binding), cache, trace).await
}

/// Discovers (or reuses cached) metadata for the MCP server at `mcp_url`, whatever AS it names
/// (legacy revocation, conformance). Connectors of the policy use [`discover_for`].
pub async fn discover(
    http: &Http,
    mcp_url: &Url,
    cache: &MetadataCache,
    trace: &Trace,
) -> Result<ConnectorMetadata, DiscoveryError> {
    discover_bound(http, mcp_url, None, cache, trace).await
}

/// [`discover`], refusing what `binding` does not allow before any request reaches that AS.
pub async fn discover_bound(
    http: &Http,
    mcp_url: &Url,
    binding: Option<&AsBinding<'_>>,
    cache: &MetadataCache,
    trace: &Trace,
) -> Result<ConnectorMetadata, DiscoveryError> {
    if let Some(hit) = cache.get(mcp_url, http.clock().now()) {
        if let Some(b) = binding {
            b.check_issuer(&hit.as_issuer)?;
            b.check_token_endpoint(&hit)?;
        }
        return Ok(hit);
    }
    let (meta, _) = fetch(http, mcp_url, binding, trace).await?;
    cache.insert(mcp_url, meta.clone());
    Ok(meta)
}

/// A fresh discovery for onboarding (`lanyard policy add`): the metadata exactly as the
/// engine would find it, and the PRM's `resource_name` (RFC 9728 §2) to name the connector.
pub async fn discover_resource(
    http: &Http,
    mcp_url: &Url,
    trace: &Trace,
) -> Result<(ConnectorMetadata, Option<String>), DiscoveryError> {
    fetch(http, mcp_url, None, trace).await
}

/// Probe → PRM → (binding checked) → AS metadata → (token endpoint checked), uncached.
async fn fetch(
    http: &Http,
    mcp_url: &Url,
    binding: Option<&AsBinding<'_>>,
    trace: &Trace,
) -> Result<(ConnectorMetadata, Option<String>), DiscoveryError> {
    let (prm, challenge) = match probe(http, mcp_url, trace).await {
        Ok(challenge) => (
            protected_resource_metadata(http, mcp_url, challenge.as_ref(), trace).await?,
            challenge,
        ),
        // Some servers let `initialize` through (and protect only tools), and 2026-07-28
        // servers refuse a stateful `initialize` outright: RFC 9728's well-known locations
        // still say whether, and where, the resource wants a token.
        Err(
            probe_error
            @ (DiscoveryError::NoAuthRequired | DiscoveryError::UnexpectedStatus { .. }),
        ) => (
            protected_resource_metadata(http, mcp_url, None, trace)
                .await
                .map_err(|_| probe_error)?,
            None,
        ),
        Err(other) => return Err(other),
    };
    let issuer =
        prm.authorization_servers
            .first()
            .cloned()
            .ok_or(DiscoveryError::InvalidMetadata {
                what: "protected-resource metadata",
                why: "authorization_servers is empty".into(),
            })?;
    if let Some(b) = binding {
        b.check_issuer(&issuer).inspect_err(|_| {
            trace.annotate_last(
                StepKind::ProtectedResourceMetadata,
                "names another authorization server than the pinned one: refused",
            )
        })?;
    }
    let asm = authorization_server_metadata(http, mcp_url, &issuer, trace).await?;
    let resource_name = prm.resource_name.clone().map(|n| crate::trace::scrub(&n));
    let meta = build(prm, asm, issuer, challenge, http.clock().now())?;
    if let Some(b) = binding {
        b.check_token_endpoint(&meta).inspect_err(|_| {
            trace.annotate_last(
                StepKind::AuthorizationServerMetadata,
                "token_endpoint on another origin than the issuer: refused",
            )
        })?;
    }
    Ok((meta, resource_name))
}

/// An `initialize` POST without a token; a conforming server answers 401 + challenge.
async fn probe(
    http: &Http,
    mcp_url: &Url,
    trace: &Trace,
) -> Result<Option<www_authenticate::BearerChallenge>, DiscoveryError> {
    let body = serde_json::json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "lanyard", "version": env!("CARGO_PKG_VERSION")}}
    });
    let request = http
        .client()
        .post(mcp_url.clone())
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body.to_string());
    let response = http
        .send(trace, StepKind::McpProbe, request)
        .await
        .map_err(|source| DiscoveryError::Http {
            what: "MCP server",
            source,
        })?;
    match response.status {
        401 => {
            let values = response.headers.get_all("www-authenticate");
            let values: Vec<&str> = values.iter().filter_map(|v| v.to_str().ok()).collect();
            Ok(www_authenticate::bearer(values))
        }
        s if (200..300).contains(&s) => {
            trace.annotate_last(
                StepKind::McpProbe,
                "answered without a token: no authorization to do",
            );
            Err(DiscoveryError::NoAuthRequired)
        }
        status => Err(DiscoveryError::UnexpectedStatus {
            what: "MCP server (unauthenticated probe)",
            status,
        }),
    }
}

#[derive(Deserialize)]
pub(crate) struct ProtectedResource {
    resource: Option<String>,
    #[serde(default)]
    pub(crate) authorization_servers: Vec<String>,
    #[serde(default)]
    scopes_supported: Vec<String>,
    resource_name: Option<String>,
}

async fn protected_resource_metadata(
    http: &Http,
    mcp_url: &Url,
    challenge: Option<&www_authenticate::BearerChallenge>,
    trace: &Trace,
) -> Result<ProtectedResource, DiscoveryError> {
    let (candidates, cross_origin) = protected_resource_candidates(mcp_url, challenge, trace);
    let (url, response) = first_found(
        http,
        &candidates,
        StepKind::ProtectedResourceMetadata,
        "protected-resource metadata",
        trace,
    )
    .await?
    .ok_or_else(|| match cross_origin.clone() {
        Some(url) => DiscoveryError::ResourceMetadataCrossOrigin { url },
        None => DiscoveryError::ProtectedResourceMetadataNotFound {
            tried: list(&candidates),
        },
    })?;
    let prm: ProtectedResource = response.json().map_err(|e| {
        trace.annotate_last(
            StepKind::ProtectedResourceMetadata,
            "not valid metadata JSON",
        );
        DiscoveryError::InvalidMetadata {
            what: "protected-resource metadata",
            why: e.to_string(),
        }
    })?;
    check_protected_resource(&prm, &url, mcp_url).inspect_err(|e| {
        if matches!(e, DiscoveryError::ResourceMismatch { .. }) {
            trace.annotate_last(
                StepKind::ProtectedResourceMetadata,
                "resource does not match the MCP URL",
            );
        }
    })?;
    Ok(prm)
}

/// Where to look for the PRM: the challenge's `resource_metadata` when on the MCP server's
/// origin, else the RFC 9728 well-known URLs; and the redacted cross-origin URL, if one was
/// ignored, so "not found" can say why.
fn protected_resource_candidates(
    mcp_url: &Url,
    challenge: Option<&www_authenticate::BearerChallenge>,
    trace: &Trace,
) -> (Vec<Url>, Option<String>) {
    let mut candidates = Vec::new();
    let mut cross_origin = None;
    if let Some(value) = challenge.and_then(|c| c.resource_metadata.as_deref()) {
        match mcp_url.join(value) {
            // Like rmcp: a resource_metadata on another origin could send us to metadata
            // the MCP server's operator does not control; fall back to the well-known URLs.
            Ok(url) if same_origin(&url, mcp_url) => candidates.push(url),
            Ok(url) => {
                trace.annotate_last(
                    StepKind::McpProbe,
                    "ignored resource_metadata on another origin",
                );
                cross_origin = Some(redact_url(&url));
            }
            Err(_) => {
                trace.annotate_last(StepKind::McpProbe, "ignored unparseable resource_metadata")
            }
        }
    }
    if candidates.is_empty() {
        let path = mcp_url.path().trim_end_matches('/');
        if !path.is_empty() {
            candidates.push(well_known(mcp_url, "oauth-protected-resource", path));
        }
        candidates.push(well_known(mcp_url, "oauth-protected-resource", ""));
    }
    (candidates, cross_origin)
}

/// RFC 9728 §3.3: the document found at `url` must name a `resource`, and it must be the MCP
/// URL (or a same-origin prefix of it).
pub(crate) fn check_protected_resource(
    prm: &ProtectedResource,
    url: &Url,
    mcp_url: &Url,
) -> Result<(), DiscoveryError> {
    let Some(resource) = prm.resource.as_deref() else {
        return Err(DiscoveryError::InvalidMetadata {
            what: "protected-resource metadata",
            why: format!("{} has no `resource`", redact_url(url)),
        });
    };
    if !resource_allowed(resource, mcp_url) {
        return Err(DiscoveryError::ResourceMismatch {
            expected: mcp_url.to_string(),
            found: crate::trace::scrub(resource),
        });
    }
    Ok(())
}

async fn authorization_server_metadata(
    http: &Http,
    mcp_url: &Url,
    issuer: &str,
    trace: &Trace,
) -> Result<AuthorizationServerMetadata, DiscoveryError> {
    const WHAT: &str = "authorization-server metadata";
    let issuer_url = Url::parse(issuer).map_err(|e| DiscoveryError::InvalidMetadata {
        what: "protected-resource metadata",
        why: format!("authorization_servers[0] is not a URL ({e})"),
    })?;
    // The MCP server names its AS: it may name this machine only if the policy's URL does.
    check_derived(&issuer_url, mcp_url).map_err(|source| DiscoveryError::Http {
        what: "authorization server",
        source,
    })?;
    let found = as_metadata::fetch(http, &issuer_url, trace)
        .await
        .map_err(|e| match e {
            FetchError::Transport(source) => DiscoveryError::Http { what: WHAT, source },
            FetchError::ServerError { status } => {
                DiscoveryError::UnexpectedStatus { what: WHAT, status }
            }
            FetchError::NotFound { tried } => DiscoveryError::AuthorizationServerMetadataNotFound {
                tried: list(&tried),
            },
            FetchError::Invalid { why } => DiscoveryError::InvalidMetadata { what: WHAT, why },
        })?;
    check_as_issuer(&found.metadata, issuer).inspect_err(|_| {
        trace.annotate_last(
            StepKind::AuthorizationServerMetadata,
            "issuer does not match: refused",
        )
    })?;
    Ok(found.metadata)
}

/// RFC 8414 §3.3: the metadata's `issuer` is the one the PRM named, character for character
/// (trailing slash included).
pub(crate) fn check_as_issuer(
    asm: &AuthorizationServerMetadata,
    issuer: &str,
) -> Result<(), DiscoveryError> {
    if !asm.issuer_is(issuer, IssuerComparison::Exact) {
        let found = asm.issuer.as_deref().unwrap_or_default();
        return Err(DiscoveryError::IssuerMismatch {
            expected: issuer.to_string(),
            found: crate::trace::scrub(found),
        });
    }
    Ok(())
}

pub(crate) fn build(
    prm: ProtectedResource,
    asm: AuthorizationServerMetadata,
    issuer: String,
    challenge: Option<www_authenticate::BearerChallenge>,
    now: DateTime<Utc>,
) -> Result<ConnectorMetadata, DiscoveryError> {
    let issuer_url = Url::parse(&issuer).map_err(|e| DiscoveryError::InvalidMetadata {
        what: "protected-resource metadata",
        why: format!("authorization_servers[0] is not a URL ({e})"),
    })?;
    let endpoint = |what: &'static str, value: &str| -> Result<Url, DiscoveryError> {
        let url = Url::parse(value).map_err(|e| DiscoveryError::InvalidMetadata {
            what,
            why: format!("not a URL ({e})"),
        })?;
        check_endpoint(&url).map_err(|_| DiscoveryError::InsecureEndpoint {
            what,
            url: redact_url(&url),
        })?;
        check_derived(&url, &issuer_url).map_err(|source| DiscoveryError::Http { what, source })?;
        Ok(url)
    };
    let token_endpoint = asm
        .token_endpoint
        .as_deref()
        .ok_or(DiscoveryError::InvalidMetadata {
            what: "authorization-server metadata",
            why: "no token_endpoint".into(),
        })?;
    let token_endpoint = endpoint("token_endpoint", token_endpoint)?;
    let revocation_endpoint = asm
        .revocation_endpoint
        .as_deref()
        .map(|u| endpoint("revocation_endpoint", u))
        .transpose()?;
    // RFC 8414 §2 defaults when a field is omitted.
    let grant_types_supported = asm
        .grant_types_supported
        .unwrap_or_else(|| vec!["authorization_code".into(), "implicit".into()]);
    let token_endpoint_auth_methods_supported = asm
        .token_endpoint_auth_methods_supported
        .unwrap_or_else(|| vec!["client_secret_basic".into()]);
    let supports_id_jag = asm
        .authorization_grant_profiles_supported
        .iter()
        .any(|p| p == ID_JAG_PROFILE)
        || grant_types_supported.iter().any(|g| g == JWT_BEARER_GRANT);
    Ok(ConnectorMetadata {
        resource: prm.resource.unwrap_or_default(),
        as_issuer: issuer,
        token_endpoint,
        revocation_endpoint,
        grant_types_supported,
        grant_profiles_supported: asm.authorization_grant_profiles_supported,
        token_endpoint_auth_methods_supported,
        challenge_scopes: challenge.and_then(|c| c.scopes()),
        scopes_supported: prm.scopes_supported,
        supports_id_jag,
        fetched_at: now,
    })
}

/// GETs each candidate in order; the first 200 wins. 404/4xx moves on; a transport error
/// stops (the next candidate is on the same host); 5xx moves on but is reported if nothing
/// else is found, so an outage reads as "unreachable", not "misconfigured". The same rule as
/// `as_metadata::fetch`, here for protected-resource metadata.
async fn first_found(
    http: &Http,
    candidates: &[Url],
    kind: StepKind,
    what: &'static str,
    trace: &Trace,
) -> Result<Option<(Url, HttpResponse)>, DiscoveryError> {
    let mut server_error = None;
    for url in candidates {
        let response = http
            .send(trace, kind, http.get(url))
            .await
            .map_err(|source| DiscoveryError::Http { what, source })?;
        match response.status {
            200 => return Ok(Some((url.clone(), response))),
            s if s >= 500 => server_error = Some(s),
            _ => {}
        }
    }
    match server_error {
        Some(status) => Err(DiscoveryError::UnexpectedStatus { what, status }),
        None => Ok(None),
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}

/// The PRM `resource` is the MCP URL itself or a same-origin path prefix of it, as the
/// TypeScript SDK's `checkResourceAllowed` accepts (e.g. `https://h/` for `https://h/mcp`).
pub fn resource_allowed(resource: &str, mcp_url: &Url) -> bool {
    if resource == mcp_url.as_str() {
        return true;
    }
    let Ok(resource) = Url::parse(resource) else {
        return false;
    };
    if !same_origin(&resource, mcp_url) {
        return false;
    }
    let with_slash = |p: &str| {
        if p.ends_with('/') {
            p.to_string()
        } else {
            format!("{p}/")
        }
    };
    with_slash(mcp_url.path()).starts_with(&with_slash(resource.path()))
}

#[cfg(test)]
#[path = "stub_server.rs"]
pub(crate) mod stub_server;

#[cfg(test)]
#[path = "discovery_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "discovery_pin_tests.rs"]
mod pin_tests;
