//! The IdP's OpenID Provider Metadata (OIDC Discovery 1.0 §4) and the checks Lanyard makes
//! on it before trusting any endpoint in it.
//!
//! Fetched with `Http` and parsed into `openidconnect::ProviderMetadata` by hand rather than
//! with `ProviderMetadata::discover_async`: that helper reports an issuer mismatch only as a
//! formatted string, and we need the found value typed (`LoginError::IssuerMismatch`) so the
//! hint can tell the admin exactly what to put in the policy. The comparison is character for
//! character, trailing slash included (RFC 8414 §3.3; `IssuerUrl` compares its original text).

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{AdditionalProviderMetadata, ProviderMetadata};
use serde::{Deserialize, Serialize};

use super::error::LoginError;
use crate::http::{Http, HttpError, check_derived};
use crate::trace::{StepKind, Trace};

/// RFC 8693 token type of a refresh token used as `subject_token`.
pub const REFRESH_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:refresh_token";

/// Metadata fields beyond OIDC Discovery that Lanyard reads.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ExtraMetadata {
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 9207 §3.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// RFC 7009 via RFC 8414 §2.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// RFC 8628 §4: where the device authorization grant starts.
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// Not standardised: some IdPs list the RFC 8693 subject token types their token
    /// exchange accepts. The only signal we have that a refresh token may be the subject.
    #[serde(default)]
    pub subject_token_types_supported: Option<Vec<String>>,
    #[serde(default)]
    pub token_exchange_subject_token_types_supported: Option<Vec<String>>,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

pub type IdpMetadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The endpoints and capabilities Lanyard uses, after every check passed.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub authorization: url::Url,
    pub token: url::Url,
    pub jwks: url::Url,
    pub revocation: Option<url::Url>,
    pub device_authorization: Option<url::Url>,
    pub iss_parameter_supported: bool,
    pub refresh_token_subject: bool,
}

impl Endpoints {
    /// The endpoints Lanyard itself sends requests to (the authorization endpoint is the
    /// browser's). Discovery allows any origin for them, not only the issuer's.
    pub fn requested(&self) -> impl Iterator<Item = &url::Url> {
        [Some(&self.token), Some(&self.jwks)]
            .into_iter()
            .chain([self.revocation.as_ref(), self.device_authorization.as_ref()])
            .flatten()
    }
}

/// OIDC Discovery §4.1: strip one trailing slash from the issuer, then append.
pub fn discovery_url(issuer: &str) -> Result<url::Url, LoginError> {
    let base = issuer.strip_suffix('/').unwrap_or(issuer);
    url::Url::parse(&format!("{base}/.well-known/openid-configuration"))
        .map_err(|e| LoginError::Discovery(format!("idp.issuer is not a URL ({e})")))
}

pub async fn fetch(http: &Http, issuer: &str, trace: &Trace) -> Result<Endpoints, LoginError> {
    let url = discovery_url(issuer)?;
    let response = http
        .send(trace, StepKind::IdpDiscovery, http.get(&url))
        .await
        .map_err(from_http)?;
    if response.status >= 500 {
        return Err(LoginError::Unreachable(format!(
            "the IdP answered HTTP {} at its discovery URL",
            response.status
        )));
    }
    if !response.is_success() {
        return Err(LoginError::Discovery(format!(
            "the IdP answered HTTP {} at {url}",
            response.status
        )));
    }
    let endpoints = parse(&response.body, issuer);
    if let Err(e) = &endpoints {
        trace.annotate_last(StepKind::IdpDiscovery, &e.to_string());
    }
    endpoints
}

/// Parses and checks a discovery document for the configured `issuer`.
pub fn parse(body: &[u8], issuer: &str) -> Result<Endpoints, LoginError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let doc: IdpMetadata = serde_path_to_error::deserialize(de).map_err(|e| {
        LoginError::Discovery(format!(
            "the discovery document is invalid at `{}`: {}",
            e.path(),
            e.inner()
        ))
    })?;
    let found = doc.issuer().as_str();
    if found != issuer {
        return Err(LoginError::IssuerMismatch {
            expected: issuer.to_string(),
            found: found.to_string(),
        });
    }
    let extra = doc.additional_metadata();
    let s256 = extra
        .code_challenge_methods_supported
        .as_ref()
        .is_some_and(|m| m.iter().any(|m| m == "S256"));
    if !s256 {
        return Err(LoginError::PkceUnsupported);
    }
    // The IdP names these; it may name this machine only when the policy's issuer is on it.
    let named_by = url::Url::parse(issuer)
        .map_err(|e| LoginError::Discovery(format!("idp.issuer is not a URL ({e})")))?;
    let secure = |url: &url::Url, field: &str| secure(url, &named_by, field);
    let optional = |value: &Option<String>, field: &str| optional(value, &named_by, field);
    let authorization = secure(doc.authorization_endpoint().url(), "authorization_endpoint")?;
    let token = doc.token_endpoint().ok_or_else(|| {
        LoginError::Discovery("the discovery document has no token_endpoint".into())
    })?;
    let token = secure(token.url(), "token_endpoint")?;
    let jwks = secure(doc.jwks_uri().url(), "jwks_uri")?;
    let revocation = optional(&extra.revocation_endpoint, "revocation_endpoint")?;
    let device_authorization = optional(
        &extra.device_authorization_endpoint,
        "device_authorization_endpoint",
    )?;
    let lists = [
        &extra.subject_token_types_supported,
        &extra.token_exchange_subject_token_types_supported,
    ];
    let refresh_token_subject = lists.iter().any(|l| {
        l.as_ref()
            .is_some_and(|l| l.iter().any(|t| t == REFRESH_TOKEN_TYPE))
    });
    Ok(Endpoints {
        authorization,
        token,
        jwks,
        revocation,
        device_authorization,
        iss_parameter_supported: extra
            .authorization_response_iss_parameter_supported
            .unwrap_or(false),
        refresh_token_subject,
    })
}

/// An optional endpoint member: absent is fine, present must be a URL that passes `secure`.
fn optional(
    value: &Option<String>,
    named_by: &url::Url,
    field: &str,
) -> Result<Option<url::Url>, LoginError> {
    let Some(text) = value else {
        return Ok(None);
    };
    let parsed = url::Url::parse(text)
        .map_err(|e| LoginError::Discovery(format!("{field} is not a URL ({e})")))?;
    Ok(Some(secure(&parsed, named_by, field)?))
}

/// https, or loopback only when the issuer is loopback itself (`http::check_derived`).
fn secure(url: &url::Url, named_by: &url::Url, field: &str) -> Result<url::Url, LoginError> {
    check_derived(url, named_by).map_err(|e| match e {
        HttpError::LoopbackNotNamed(_) => LoginError::Insecure(format!(
            "{field} points at this machine, but the IdP's issuer is not on it"
        )),
        _ => LoginError::Insecure(format!("{field} uses plain http off loopback")),
    })?;
    Ok(url.clone())
}

pub(crate) fn from_http(err: HttpError) -> LoginError {
    match err {
        HttpError::InsecureEndpoint(u) => {
            LoginError::Insecure(format!("{u} uses plain http off loopback"))
        }
        other => LoginError::Unreachable(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(issuer: &str) -> serde_json::Value {
        serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": "https://idp.example/authorize",
            "token_endpoint": "https://idp.example/token",
            "jwks_uri": "https://idp.example/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256", "ES256K"],
            "code_challenge_methods_supported": ["plain", "S256"],
        })
    }

    fn parse_value(v: serde_json::Value, issuer: &str) -> Result<Endpoints, LoginError> {
        parse(&serde_json::to_vec(&v).unwrap(), issuer)
    }

    #[test]
    fn discovery_url_strips_one_trailing_slash() {
        assert_eq!(
            discovery_url("https://a/t/").unwrap().as_str(),
            "https://a/t/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://a").unwrap().as_str(),
            "https://a/.well-known/openid-configuration"
        );
    }

    #[test]
    fn issuer_must_be_identical_including_trailing_slash() {
        let e = parse_value(doc("https://idp.example/"), "https://idp.example").unwrap_err();
        match e {
            LoginError::IssuerMismatch { expected, found } => {
                assert_eq!(expected, "https://idp.example");
                assert_eq!(found, "https://idp.example/");
            }
            other => panic!("{other:?}"),
        }
        let ok = parse_value(doc("https://idp.example"), "https://idp.example").unwrap();
        assert!(!ok.iss_parameter_supported);
        assert!(ok.revocation.is_none());
        assert!(!ok.refresh_token_subject);
    }

    #[test]
    fn refuses_without_s256_and_insecure_endpoints() {
        let mut d = doc("https://i");
        d["code_challenge_methods_supported"] = serde_json::json!(["plain"]);
        assert!(matches!(
            parse_value(d, "https://i"),
            Err(LoginError::PkceUnsupported)
        ));
        let mut d = doc("https://i");
        d.as_object_mut()
            .unwrap()
            .remove("code_challenge_methods_supported");
        assert!(matches!(
            parse_value(d, "https://i"),
            Err(LoginError::PkceUnsupported)
        ));
        let mut d = doc("https://i");
        d["token_endpoint"] = serde_json::json!("http://idp.example/token");
        assert!(matches!(
            parse_value(d, "https://i"),
            Err(LoginError::Insecure(_))
        ));
    }

    #[test]
    fn a_remote_idp_may_not_name_this_machine() {
        for field in [
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "revocation_endpoint",
            "device_authorization_endpoint",
        ] {
            let mut d = doc("https://idp.example");
            d[field] = serde_json::json!("http://127.0.0.1:6379/x");
            match parse_value(d, "https://idp.example") {
                Err(LoginError::Insecure(why)) => assert!(why.contains(field), "{why}"),
                other => panic!("{field}: {other:?}"),
            }
        }
        // The lab: a loopback issuer names loopback endpoints.
        let mut d = doc("http://127.0.0.1:8711/idp");
        d["jwks_uri"] = serde_json::json!("http://127.0.0.1:8711/idp/jwks");
        d["authorization_endpoint"] = serde_json::json!("http://127.0.0.1:8711/idp/authorize");
        d["token_endpoint"] = serde_json::json!("http://localhost:8711/idp/token");
        assert!(parse_value(d, "http://127.0.0.1:8711/idp").is_ok());
    }

    #[test]
    fn reads_extras() {
        let mut d = doc("https://i");
        d["authorization_response_iss_parameter_supported"] = serde_json::json!(true);
        d["revocation_endpoint"] = serde_json::json!("https://idp.example/revoke");
        d["subject_token_types_supported"] = serde_json::json!([REFRESH_TOKEN_TYPE]);
        d["device_authorization_endpoint"] = serde_json::json!("https://idp.example/device");
        let e = parse_value(d.clone(), "https://i").unwrap();
        assert!(e.iss_parameter_supported && e.refresh_token_subject);
        assert_eq!(e.revocation.unwrap().as_str(), "https://idp.example/revoke");
        assert_eq!(
            e.device_authorization.unwrap().as_str(),
            "https://idp.example/device"
        );
        d["device_authorization_endpoint"] = serde_json::json!("http://idp.example/device");
        assert!(matches!(
            parse_value(d, "https://i"),
            Err(LoginError::Insecure(_))
        ));
    }

    #[test]
    fn invalid_documents_name_the_field() {
        let mut d = doc("https://i");
        d.as_object_mut().unwrap().remove("jwks_uri");
        let e = parse_value(d, "https://i").unwrap_err().to_string();
        assert!(e.contains("jwks_uri") || e.contains("invalid"), "{e}");
    }
}
