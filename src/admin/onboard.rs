//! `lanyard policy add`: from an MCP URL to a complete connector entry. The server is probed and
//! its metadata followed exactly as the engine does (`discovery`), then the entry is built from
//! what the servers say — the AS it will target (`as_issuer`, pinned), the scopes its PRM
//! offers, an auth method its AS supports — or the server is refused with the reason and a fix.

use url::Url;

use super::export::document::{ConnectorDocument, SecretDocument};
use crate::http::Http;
use crate::policy::{AuthMethod, RESERVED_IDS, is_reserved_id};
use crate::protocol::discovery::{
    ConnectorMetadata, DiscoveryError, ID_JAG_PROFILE, JWT_BEARER_GRANT,
};
use crate::trace::Trace;

/// What the admin asked for.
#[derive(Debug, Clone)]
pub struct AddRequest {
    pub mcp_url: Url,
    pub client_id: Option<String>,
    /// The environment variable holding the client secret on each machine.
    pub client_secret_env: Option<String>,
    pub auth_method: Option<AuthMethod>,
    pub id: Option<String>,
    pub name: Option<String>,
}

/// A connector already in the policy: what a new one must not repeat.
#[derive(Debug, Clone)]
pub struct Existing {
    pub id: String,
    pub mcp_url: String,
}

/// Why a server can't be added, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{message}")]
    Discovery { message: String, code: String },
    #[error("not zero-touch yet: authorization server {issuer} does not advertise {missing}")]
    NotZeroTouch { issuer: String, missing: String },
    #[error("authorization server {issuer} does not support {asked} (it supports: {supported})")]
    AuthMethodUnsupported {
        issuer: String,
        asked: &'static str,
        supported: String,
    },
    #[error("{method} needs a client secret, and none was given")]
    SecretNeeded { method: &'static str },
    #[error("a client secret was given, but {method} never sends one")]
    SecretUnused { method: &'static str },
    #[error(
        "authorization server {issuer} supports no client authentication Lanyard can use here (it supports: {supported})"
    )]
    NoUsableAuthMethod { issuer: String, supported: String },
    #[error("{url} is already in the policy as connector \"{id}\"")]
    DuplicateUrl { url: String, id: String },
    #[error("the id \"{id}\" is already used by another connector")]
    DuplicateId { id: String },
    #[error("the id \"{id}\" is reserved for Lanyard's own records ({reserved})")]
    ReservedId { id: String, reserved: String },
    #[error("\"{id}\" is not a usable connector id (letters, digits, '-' or '_')")]
    BadId { id: String },
}

impl Refusal {
    /// A stable code (the diagnostics catalogue's where one exists).
    pub fn code(&self) -> &str {
        match self {
            Self::Discovery { code, .. } => code,
            Self::NotZeroTouch { .. } => "no_id_jag_support",
            Self::AuthMethodUnsupported { .. } => "auth_method_unsupported",
            Self::SecretNeeded { .. } => "secret_missing",
            Self::SecretUnused { .. } => "secret_unused",
            Self::NoUsableAuthMethod { .. } => "auth_method_unsupported",
            Self::DuplicateUrl { .. } => "duplicate_url",
            Self::DuplicateId { .. } => "duplicate_id",
            Self::ReservedId { .. } => "reserved_id",
            Self::BadId { .. } => "bad_value",
        }
    }

    /// What the admin does about it.
    pub fn fix(&self) -> String {
        match self {
            Self::Discovery { code, .. } => {
                crate::diagnose::catalogue::explain(
                    crate::diagnose::catalogue::Endpoint::Discovery,
                    code,
                    None,
                    Some("this connector"),
                )
                .admin
            }
            Self::NotZeroTouch { .. } => "Ask the vendor whether Enterprise-Managed Authorization (ID-JAG) is available for your tenant; until then people connect it from the app that uses it.".into(),
            Self::AuthMethodUnsupported { supported, .. } => format!("Pass --auth-method with one of: {supported}."),
            Self::SecretNeeded { .. } => "Pass --client-secret-env VAR (the variable that holds the secret on each machine), or choose none / private_key_jwt if the server allows.".into(),
            Self::SecretUnused { .. } => "Drop --client-secret-env, or choose client_secret_basic / client_secret_post.".into(),
            Self::NoUsableAuthMethod { .. } => "Register Lanyard at that authorization server with a method it supports and pass --auth-method (and --client-secret-env for a secret-based one).".into(),
            Self::DuplicateUrl { id, .. } => format!("Nothing to add; edit connector \"{id}\" instead."),
            Self::DuplicateId { .. } | Self::ReservedId { .. } | Self::BadId { .. } => "Pass --id with another id.".into(),
        }
    }
}

/// Probes `req.mcp_url` and builds its policy entry, or says why it can't be added.
/// `client_id` is `None` in the entry only when the request had none (for `--dry-run`).
pub async fn onboard(
    http: &Http,
    req: &AddRequest,
    existing: &[Existing],
    trace: &Trace,
) -> Result<ConnectorDocument, Refusal> {
    if let Some(found) = existing.iter().find(|e| same_url(&e.mcp_url, &req.mcp_url)) {
        return Err(Refusal::DuplicateUrl {
            url: req.mcp_url.to_string(),
            id: found.id.clone(),
        });
    }
    let (meta, resource_name) =
        crate::protocol::discovery::discover_resource(http, &req.mcp_url, trace)
            .await
            .map_err(refused_by_discovery)?;
    require_zero_touch(&meta)?;
    let method = choose_auth_method(&meta, req.auth_method, req.client_secret_env.is_some())?;

    let server_name = match &req.name {
        Some(n) => Some(n.clone()),
        None => crate::protocol::mcp::anonymous_server_name(http, &req.mcp_url, trace)
            .await
            .ok()
            .flatten(),
    };
    let name = server_name
        .or(resource_name)
        .unwrap_or_else(|| host_name(&req.mcp_url));
    let id = match &req.id {
        Some(id) => id.clone(),
        None => slug(&name),
    };
    check_id(&id, existing)?;
    Ok(ConnectorDocument {
        id,
        name,
        mcp_url: req.mcp_url.to_string(),
        client_id: req.client_id.clone().unwrap_or_default(),
        client_secret: req
            .client_secret_env
            .as_ref()
            .map(|env| SecretDocument::Env { env: env.clone() }),
        token_endpoint_auth_method: method,
        scopes: (!meta.scopes_supported.is_empty()).then(|| meta.scopes_supported.clone()),
        as_issuer: Some(meta.as_issuer.clone()),
        token_endpoint_origin: None,
    })
}

/// The engine's own classification gives the code, so the catalogue's admin wording applies.
pub(crate) fn refused_by_discovery(error: DiscoveryError) -> Refusal {
    let message = error.to_string();
    let (_, recorded) =
        crate::engine::classify::classify(&crate::engine::classify::Failure::Discovery(error));
    Refusal::Discovery {
        message,
        code: recorded.code,
    }
}

/// Zero-touch needs both: the RFC 7523 jwt-bearer grant and the ID-JAG grant profile.
/// (The engine is lenient and tries jwt-bearer alone; onboarding holds servers to the spec.)
pub(crate) fn require_zero_touch(meta: &ConnectorMetadata) -> Result<(), Refusal> {
    let jwt_bearer = meta
        .grant_types_supported
        .iter()
        .any(|g| g == JWT_BEARER_GRANT);
    let profile = meta
        .grant_profiles_supported
        .iter()
        .any(|p| p == ID_JAG_PROFILE);
    let missing = match (jwt_bearer, profile) {
        (true, true) => return Ok(()),
        (false, false) => format!(
            "the jwt-bearer grant ({JWT_BEARER_GRANT}) nor the ID-JAG profile ({ID_JAG_PROFILE})"
        ),
        (false, true) => format!("the jwt-bearer grant ({JWT_BEARER_GRANT})"),
        (true, false) => format!("the ID-JAG grant profile ({ID_JAG_PROFILE})"),
    };
    Err(Refusal::NotZeroTouch {
        issuer: meta.as_issuer.clone(),
        missing,
    })
}

/// The asked method if the AS supports it; else, with a secret, the AS's first secret-based
/// method; else `none`, then `private_key_jwt` (nothing secret deployed to every machine).
pub fn choose_auth_method(
    meta: &ConnectorMetadata,
    asked: Option<AuthMethod>,
    has_secret: bool,
) -> Result<AuthMethod, Refusal> {
    choose_among(
        &meta.as_issuer,
        &meta.token_endpoint_auth_methods_supported,
        asked,
        has_secret,
    )
}

/// [`choose_auth_method`] for any server: `issuer` and its `token_endpoint_auth_methods_supported`.
pub fn choose_among(
    issuer: &str,
    listed: &[String],
    asked: Option<AuthMethod>,
    has_secret: bool,
) -> Result<AuthMethod, Refusal> {
    let known = [
        AuthMethod::None,
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::PrivateKeyJwt,
    ];
    let supported: Vec<AuthMethod> = listed
        .iter()
        .filter_map(|m| known.into_iter().find(|k| k.as_str() == m))
        .collect();
    let listed = || listed.join(", ");
    let needs_secret = |m: AuthMethod| {
        matches!(
            m,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
        )
    };
    let method = match asked {
        Some(m) if !supported.contains(&m) => {
            return Err(Refusal::AuthMethodUnsupported {
                issuer: issuer.to_string(),
                asked: m.as_str(),
                supported: listed(),
            });
        }
        Some(m) => m,
        None if has_secret => supported
            .iter()
            .copied()
            .find(|m| needs_secret(*m))
            .ok_or_else(|| Refusal::NoUsableAuthMethod {
                issuer: issuer.to_string(),
                supported: listed(),
            })?,
        None => [AuthMethod::None, AuthMethod::PrivateKeyJwt]
            .into_iter()
            .find(|m| supported.contains(m))
            .ok_or(Refusal::SecretNeeded {
                method: supported
                    .first()
                    .map_or("client_secret_basic", |m| m.as_str()),
            })?,
    };
    match (needs_secret(method), has_secret) {
        (true, false) => Err(Refusal::SecretNeeded {
            method: method.as_str(),
        }),
        (false, true) => Err(Refusal::SecretUnused {
            method: method.as_str(),
        }),
        _ => Ok(method),
    }
}

fn check_id(id: &str, existing: &[Existing]) -> Result<(), Refusal> {
    let usable = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !usable {
        return Err(Refusal::BadId { id: id.to_string() });
    }
    if is_reserved_id(id) {
        return Err(Refusal::ReservedId {
            id: id.to_string(),
            reserved: RESERVED_IDS.join(", "),
        });
    }
    if existing.iter().any(|e| e.id.eq_ignore_ascii_case(id)) {
        return Err(Refusal::DuplicateId { id: id.to_string() });
    }
    Ok(())
}

fn same_url(existing: &str, new: &Url) -> bool {
    Url::parse(existing).is_ok_and(|u| u == *new)
}

/// `mcp.linear.app` → `linear`; `127.0.0.1` stays as it is.
fn host_name(url: &Url) -> String {
    let host = url.host_str().unwrap_or("connector");
    if url.domain().is_none() {
        return host.to_string();
    }
    let labels: Vec<&str> = host
        .split('.')
        .filter(|l| !matches!(*l, "mcp" | "www" | "api"))
        .collect();
    match labels.len() {
        0 => host.to_string(),
        1 => labels[0].to_string(),
        n => labels[n - 2].to_string(),
    }
}

/// A connector id from a display name: `Linear` → `linear`, `Google Drive` → `google-drive`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "connector".into()
    } else {
        out
    }
}

#[cfg(test)]
#[path = "onboard_tests.rs"]
mod tests;
