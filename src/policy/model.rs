//! What a policy file may say (product.md contract): the types, `parse` with errors that
//! name the key path and what was expected, reserved connector ids, client-secret sources.

use serde::Deserialize;
use std::path::{Path, PathBuf};

pub use super::connector_id::{ConnectorId, RESERVED_IDS, is_reserved_id};
pub use super::field_error::FieldError;
use crate::secret::Secret;

#[derive(Debug, Clone)]
pub struct Policy {
    pub idp: IdpConfig,
    pub connectors: Vec<ConnectorConfig>,
    /// The admin's own pilot machine: the app opens on the Admin pilot page. Local to that
    /// one machine, so `policy export` (what a fleet receives) leaves it out.
    pub pilot_machine: bool,
    /// Where it was loaded from (shown by `status` and `doctor`).
    pub source: PathBuf,
}

#[derive(Debug, Clone)]
pub struct IdpConfig {
    /// Compared character for character with the discovered `issuer`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<SecretSource>,
    pub token_endpoint_auth_method: AuthMethod,
    pub scopes: Vec<String>,
    /// Requests in flight at once to each of the IdP's origins (issuer, token endpoint,
    /// JWKS …): with many connectors, every ID-JAG exchange goes to the one IdP, so this
    /// bounds how fast they all resolve, and how hard the IdP is hit. Absent:
    /// `http::DEFAULT_PER_HOST_CONCURRENCY`.
    pub max_concurrent_requests: usize,
}

/// What `idp.max_concurrent_requests` may be. The ceiling keeps a typo (800) from opening
/// hundreds of connections to the IdP at once; most IdPs rate-limit well before 64.
pub const MAX_CONCURRENT_REQUESTS: std::ops::RangeInclusive<usize> = 1..=64;

#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    pub id: ConnectorId,
    pub name: String,
    pub mcp_url: url::Url,
    pub client_id: String,
    pub client_secret: Option<SecretSource>,
    pub token_endpoint_auth_method: AuthMethod,
    /// `None`: use the `WWW-Authenticate` scope, else the PRM `scopes_supported`.
    pub scopes: Option<Vec<String>>,
    /// The only authorization server this connector's ID-JAG and client credentials may go to
    /// (compared character for character with the issuer its PRM names). `None`: pinned on
    /// first use to the issuer recorded in state.
    pub as_issuer: Option<String>,
    /// An origin other than the issuer's where the AS's `token_endpoint` may live
    /// (e.g. Google: issuer `https://accounts.google.com`, token endpoint on
    /// `https://oauth2.googleapis.com`). `None`: the token endpoint must share the issuer's origin.
    pub token_endpoint_origin: Option<url::Url>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    None,
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// Where a client secret comes from. Inline values are wrapped in `Secret` at once.
#[derive(Debug, Clone)]
pub enum SecretSource {
    Inline(Secret),
    File(PathBuf),
    Env(String),
}

impl SecretSource {
    pub fn resolve(&self) -> Result<Secret, PolicyError> {
        match self {
            Self::Inline(s) => Ok(s.clone()),
            Self::File(path) => std::fs::read_to_string(path)
                .map(|s| Secret::new(s.trim_end_matches(['\n', '\r'])))
                .map_err(|e| PolicyError::SecretUnavailable {
                    what: format!("file {}", path.display()),
                    why: e.to_string(),
                }),
            Self::Env(name) => {
                std::env::var(name)
                    .map(Secret::new)
                    .map_err(|_| PolicyError::SecretUnavailable {
                        what: format!("environment variable {name}"),
                        why: "not set".into(),
                    })
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "no policy file found: pass --policy FILE, set LANYARD_POLICY, or ask your admin to install one at {0}"
    )]
    NotFound(String),
    #[error("cannot read policy file {path}: {why}")]
    Unreadable { path: String, why: String },
    #[error("policy file {path}: at `{key}`: {why}")]
    Invalid {
        path: String,
        key: String,
        why: String,
    },
    #[error("client secret from {what} is unavailable: {why}")]
    SecretUnavailable { what: String, why: String },
}

/// Validates policy `text` (read from `path`, which errors name).
pub fn parse(text: &str, path: &Path) -> Result<Policy, PolicyError> {
    let shown = path.display().to_string();
    let invalid = |key: String, why: String| PolicyError::Invalid {
        path: shown.clone(),
        key,
        why,
    };
    let de = &mut serde_json::Deserializer::from_str(text);
    let raw: RawPolicy = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let key = if key == "." {
            "(top level)".to_string()
        } else {
            key
        };
        invalid(key, e.into_inner().to_string())
    })?;

    let idp = idp_config(raw.idp).map_err(|(key, why)| invalid(key, why.to_string()))?;
    let mut connectors = Vec::with_capacity(raw.connectors.len());
    let mut seen = std::collections::HashSet::new();
    for (i, c) in raw.connectors.into_iter().enumerate() {
        let config = connector_config(c, &mut seen)
            .map_err(|(key, why)| invalid(format!("connectors[{i}].{key}"), why.to_string()))?;
        connectors.push(config);
    }
    Ok(Policy {
        idp,
        connectors,
        pilot_machine: raw.pilot_machine,
        source: path.to_path_buf(),
    })
}

/// What is wrong, as (key path, why); `parse` adds the file and the connector's index.
type Invalid = (String, FieldError);

fn idp_config(idp: RawIdp) -> Result<IdpConfig, Invalid> {
    let invalid = |key: &str, why: FieldError| (format!("idp.{key}"), why);
    check_url(&idp.issuer).map_err(|why| invalid("issuer", why))?;
    if idp.client_id.trim().is_empty() {
        return Err(invalid("client_id", FieldError::Empty));
    }
    let method = method_or_default(idp.token_endpoint_auth_method, &idp.client_secret);
    require_secret(method, &idp.client_secret).map_err(|why| invalid("client_secret", why))?;
    let scopes = idp.scopes.unwrap_or_else(|| {
        ["openid", "email", "profile", "offline_access"]
            .map(String::from)
            .to_vec()
    });
    if !scopes.iter().any(|s| s == "openid") {
        return Err(invalid("scopes", FieldError::NoOpenid));
    }
    let max_concurrent_requests = idp
        .max_concurrent_requests
        .as_ref()
        .map_or(Ok(crate::http::DEFAULT_PER_HOST_CONCURRENCY), |v| {
            check_concurrency(v)
        })
        .map_err(|why| invalid("max_concurrent_requests", why))?;
    Ok(IdpConfig {
        issuer: idp.issuer,
        client_id: idp.client_id,
        client_secret: idp.client_secret.map(RawSecret::into_source),
        token_endpoint_auth_method: method,
        scopes,
        max_concurrent_requests,
    })
}

/// A whole number in `MAX_CONCURRENT_REQUESTS`. Read from a JSON value rather than by serde
/// as an integer type, so `0`, `65`, `-1`, `1.5` and `"8"` all get the same message, saying
/// what is expected; `policy check` calls it too.
pub(crate) fn check_concurrency(value: &serde_json::Value) -> Result<usize, FieldError> {
    value
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| MAX_CONCURRENT_REQUESTS.contains(n))
        .ok_or_else(|| FieldError::OutOfRange {
            min: *MAX_CONCURRENT_REQUESTS.start(),
            max: *MAX_CONCURRENT_REQUESTS.end(),
            found: value.to_string(),
        })
}

/// One connector; `seen` holds the ids of the connectors before it.
fn connector_config(
    c: RawConnector,
    seen: &mut std::collections::HashSet<String>,
) -> Result<ConnectorConfig, Invalid> {
    let invalid = |key: &str, why: FieldError| (key.to_string(), why);
    let id = check_connector_id(&c.id, seen).map_err(|why| invalid("id", why))?;
    let mcp_url = check_url(&c.mcp_url).map_err(|why| invalid("mcp_url", why))?;
    if c.client_id.trim().is_empty() {
        return Err(invalid("client_id", FieldError::Empty));
    }
    let method = method_or_default(c.token_endpoint_auth_method, &c.client_secret);
    require_secret(method, &c.client_secret).map_err(|why| invalid("client_secret", why))?;
    if let Some(scopes) = &c.scopes
        && scopes.iter().any(|s| s.is_empty() || s.contains(' '))
    {
        return Err(invalid("scopes", FieldError::ScopeShape));
    }
    if c.scopes.as_ref().is_some_and(Vec::is_empty) {
        return Err(invalid("scopes", FieldError::NoScopes));
    }
    if let Some(issuer) = &c.as_issuer {
        check_url(issuer).map_err(|why| invalid("as_issuer", why))?;
    }
    let token_endpoint_origin = c
        .token_endpoint_origin
        .as_deref()
        .map(check_origin)
        .transpose()
        .map_err(|why| invalid("token_endpoint_origin", why))?;
    Ok(ConnectorConfig {
        name: c.name.unwrap_or_else(|| c.id.clone()),
        id,
        mcp_url,
        client_id: c.client_id,
        client_secret: c.client_secret.map(RawSecret::into_source),
        token_endpoint_auth_method: method,
        scopes: c.scopes,
        as_issuer: c.as_issuer,
        token_endpoint_origin,
    })
}

/// A well-formed, unreserved id (`ConnectorId::parse`) not taken by an earlier connector.
fn check_connector_id(
    id: &str,
    seen: &mut std::collections::HashSet<String>,
) -> Result<ConnectorId, FieldError> {
    let id = ConnectorId::parse(id)?;
    if !seen.insert(id.to_string()) {
        return Err(FieldError::DuplicateId(id.to_string()));
    }
    Ok(id)
}

pub(crate) fn check_url(value: &str) -> Result<url::Url, FieldError> {
    let url = url::Url::parse(value).map_err(FieldError::NotAbsoluteUrl)?;
    crate::http::check_endpoint(&url).map_err(|_| FieldError::NotHttps)?;
    Ok(url)
}

/// An origin (`https://host[:port]`), nothing after it.
pub(crate) fn check_origin(value: &str) -> Result<url::Url, FieldError> {
    let url = check_url(value)?;
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if !bare
        || !value
            .trim_end_matches('/')
            .eq_ignore_ascii_case(&url.origin().ascii_serialization())
    {
        return Err(FieldError::NotOrigin);
    }
    Ok(url)
}

fn method_or_default(method: Option<AuthMethod>, secret: &Option<RawSecret>) -> AuthMethod {
    method.unwrap_or(if secret.is_some() {
        AuthMethod::ClientSecretBasic
    } else {
        AuthMethod::None
    })
}

fn require_secret(method: AuthMethod, secret: &Option<RawSecret>) -> Result<(), FieldError> {
    match (method, secret) {
        (AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost, None) => {
            Err(FieldError::SecretRequired(method.as_str()))
        }
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    idp: RawIdp,
    #[serde(default)]
    connectors: Vec<RawConnector>,
    #[serde(default)]
    pilot_machine: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdp {
    issuer: String,
    client_id: String,
    client_secret: Option<RawSecret>,
    token_endpoint_auth_method: Option<AuthMethod>,
    scopes: Option<Vec<String>>,
    /// Checked by `check_concurrency`.
    max_concurrent_requests: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConnector {
    id: String,
    name: Option<String>,
    mcp_url: String,
    client_id: String,
    client_secret: Option<RawSecret>,
    token_endpoint_auth_method: Option<AuthMethod>,
    scopes: Option<Vec<String>>,
    as_issuer: Option<String>,
    token_endpoint_origin: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged, expecting = "a string, {\"file\": PATH} or {\"env\": NAME}")]
enum RawSecret {
    Inline(String),
    File(FileRef),
    Env(EnvRef),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRef {
    file: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvRef {
    env: String,
}

impl RawSecret {
    fn into_source(self) -> SecretSource {
        match self {
            Self::Inline(s) => SecretSource::Inline(Secret::new(s)),
            Self::File(f) => SecretSource::File(f.file),
            Self::Env(e) => SecretSource::Env(e.env),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Policy, PolicyError> {
        parse(s, Path::new("policy.json"))
    }

    const GOOD: &str = r#"{
      "idp": {"issuer": "https://acme.okta.com", "client_id": "0oa1",
              "client_secret": {"env": "ACME_SECRET"}, "token_endpoint_auth_method": "client_secret_post"},
      "connectors": [
        {"id": "linear", "name": "Linear", "mcp_url": "https://mcp.linear.app/mcp",
         "client_id": "lanyard", "client_secret": "s3cret"},
        {"id": "asana", "mcp_url": "https://mcp.asana.com/v2/mcp", "client_id": "c",
         "token_endpoint_auth_method": "private_key_jwt", "scopes": ["default"]}
      ]}"#;

    #[test]
    fn parses_the_contract_example() {
        let p = parse_str(GOOD).unwrap();
        assert_eq!(
            p.idp.token_endpoint_auth_method,
            AuthMethod::ClientSecretPost
        );
        assert_eq!(
            p.idp.scopes,
            ["openid", "email", "profile", "offline_access"]
        );
        assert_eq!(
            p.connectors[0].token_endpoint_auth_method,
            AuthMethod::ClientSecretBasic
        );
        assert_eq!(p.connectors[1].name, "asana");
        assert!(
            matches!(p.idp.client_secret, Some(SecretSource::Env(ref n)) if n == "ACME_SECRET")
        );
        assert!(format!("{p:?}").contains("[redacted]"));
        assert!(!format!("{p:?}").contains("s3cret"));
    }

    fn err_of(s: &str) -> String {
        parse_str(s).unwrap_err().to_string()
    }

    #[test]
    fn unknown_keys_name_the_path() {
        let e = err_of(&GOOD.replace("\"name\": \"Linear\"", "\"nmae\": \"Linear\""));
        assert!(e.contains("at `connectors[0].nmae`: unknown field"), "{e}");
    }

    #[test]
    fn bad_values_name_the_path_and_expectation() {
        let e = err_of(&GOOD.replace("client_secret_post", "client_secret_jwt"));
        assert!(e.contains("idp.token_endpoint_auth_method"), "{e}");
        let e = err_of(&GOOD.replace("https://mcp.linear.app/mcp", "http://mcp.linear.app/mcp"));
        assert!(
            e.contains("connectors[0].mcp_url") && e.contains("https"),
            "{e}"
        );
        let e = err_of(&GOOD.replace("\"id\": \"asana\"", "\"id\": \"linear\""));
        assert!(
            e.contains("connectors[1].id") && e.contains("duplicate"),
            "{e}"
        );
        let e = err_of(&GOOD.replace("\"client_secret\": \"s3cret\"", "\"client_secret\": 5"));
        assert!(
            e.contains("connectors[0].client_secret") && e.contains("{\"file\": PATH}"),
            "{e}"
        );
        let e = err_of(&GOOD.replace(r#""client_secret": {"env": "ACME_SECRET"}, "#, ""));
        assert!(
            e.contains("idp.client_secret") && e.contains("required"),
            "{e}"
        );
    }

    #[test]
    fn reserved_ids_are_refused_with_the_key_path() {
        for id in ["sign-in", "session-refresh", "sign-out", "Sign-In"] {
            let e = err_of(&GOOD.replace("\"id\": \"asana\"", &format!("\"id\": \"{id}\"")));
            assert!(
                e.contains("connectors[1].id") && e.contains("reserved") && e.contains(id),
                "{e}"
            );
        }
        // Every flow name the diagnostics read back as a session trace is reserved.
        for name in crate::diagnose::doctor::SESSION_TRACES {
            assert!(is_reserved_id(name), "{name} is not reserved");
        }
        assert!(!is_reserved_id("sign_in") && !is_reserved_id("linear"));
    }

    #[test]
    fn as_issuer_and_token_endpoint_origin_are_read_and_checked() {
        let pinned = GOOD.replace(
            "\"scopes\": [\"default\"]",
            "\"scopes\": [\"default\"], \"as_issuer\": \"https://app.asana.com/\", \"token_endpoint_origin\": \"https://tokens.asana.com\"",
        );
        let p = parse_str(&pinned).unwrap();
        // Kept exactly as written: the trailing slash is part of the issuer.
        assert_eq!(
            p.connectors[1].as_issuer.as_deref(),
            Some("https://app.asana.com/")
        );
        assert_eq!(
            p.connectors[1]
                .token_endpoint_origin
                .as_ref()
                .map(|u| u.origin().ascii_serialization()),
            Some("https://tokens.asana.com".into())
        );
        assert!(p.connectors[0].as_issuer.is_none());
        let e = err_of(&pinned.replace("https://app.asana.com/", "http://app.asana.com"));
        assert!(
            e.contains("connectors[1].as_issuer") && e.contains("https"),
            "{e}"
        );
        let e = err_of(&pinned.replace("https://tokens.asana.com", "https://tokens.asana.com/v1"));
        assert!(
            e.contains("connectors[1].token_endpoint_origin") && e.contains("origin"),
            "{e}"
        );
    }

    #[test]
    fn max_concurrent_requests_is_a_whole_number_from_1_to_64_default_8() {
        let with = |v: &str| {
            GOOD.replace(
                "\"client_id\": \"0oa1\",",
                &format!("\"client_id\": \"0oa1\", \"max_concurrent_requests\": {v},"),
            )
        };
        assert_eq!(parse_str(GOOD).unwrap().idp.max_concurrent_requests, 8);
        assert_eq!(
            parse_str(&with("null"))
                .unwrap()
                .idp
                .max_concurrent_requests,
            8
        );
        for n in [1, 32, 64] {
            let p = parse_str(&with(&n.to_string())).unwrap();
            assert_eq!(p.idp.max_concurrent_requests, n);
        }
        for bad in [
            "0",
            "65",
            "-1",
            "1.5",
            "8.0",
            "\"8\"",
            "true",
            "[8]",
            "100000000000",
        ] {
            let e = err_of(&with(bad));
            assert!(
                e.contains(
                    "at `idp.max_concurrent_requests`: expected a whole number from 1 to 64"
                ),
                "{bad}: {e}"
            );
            assert!(e.contains(&format!("found {bad}")), "{bad}: {e}");
        }
    }

    #[test]
    fn loopback_http_is_allowed_for_the_lab() {
        let p = parse_str(&GOOD.replace("https://acme.okta.com", "http://127.0.0.1:4000")).unwrap();
        assert_eq!(p.idp.issuer, "http://127.0.0.1:4000");
    }

    #[test]
    fn secret_from_file_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("s");
        std::fs::write(&f, "abc\n").unwrap();
        assert_eq!(SecretSource::File(f).resolve().unwrap().expose(), "abc");
    }
}
