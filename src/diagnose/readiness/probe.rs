//! The readiness check's requests to the MCP server, and the worthless tokens it sends.
//!
//! Each probe is an MCP `initialize` POST whose status and challenge are all that is read (an
//! accepted request may answer with an event stream that stays open). Only this connector's
//! own token is ever sent, and only in the `Authorization` header (marked sensitive).

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use p256::pkcs8::EncodePrivateKey as _;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use url::Url;

use crate::http::{Http, check_endpoint};
use crate::protocol::jwt_peek::dangerous_unverified_claims;
use crate::protocol::www_authenticate::BearerChallenge;
use crate::secret::Secret;

const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The audience of the self-minted probe token: the `.invalid` top-level domain cannot
/// resolve (RFC 6761 §6.4), so no real server's resource can be this.
pub const FOREIGN_AUDIENCE: &str = "https://audience-probe.lanyard.invalid/mcp";

/// What goes in `?access_token=` next to the valid header token: not a credential anywhere.
pub(super) const GARBAGE_QUERY_TOKEN: &str = "lanyard-readiness-probe-not-a-token";

/// Where a probe carries its token.
pub(super) enum Auth<'a> {
    None,
    Header(&'a Secret),
    /// The valid token in the header and a worthless one in the query string.
    HeaderAndGarbageQuery(&'a Secret),
}

#[derive(Debug, Clone)]
pub(super) struct Probe {
    pub status: u16,
    pub challenge: Option<BearerChallenge>,
}

impl Probe {
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn describe(&self) -> String {
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

/// Why a probe got no answer (or could not be sent); its text goes into the check's detail.
#[derive(Debug, thiserror::Error)]
pub(super) enum ProbeError {
    #[error("{0}")]
    Refused(crate::http::HttpError),
    #[error("the token is not a valid header value")]
    NotAHeaderValue,
    #[error("timed out")]
    TimedOut,
    #[error("could not connect")]
    NoAnswer,
    #[error("could not make a throw-away key")]
    NoKey,
    #[error("could not sign the probe token")]
    NotSigned,
}

/// One `initialize` POST to `mcp_url` with `auth`.
pub(super) async fn post(http: &Http, mcp_url: &Url, auth: Auth<'_>) -> Result<Probe, ProbeError> {
    check_endpoint(mcp_url).map_err(ProbeError::Refused)?;
    let mut url = mcp_url.clone();
    if let Auth::HeaderAndGarbageQuery(_) = auth {
        url.query_pairs_mut()
            .append_pair("access_token", GARBAGE_QUERY_TOKEN);
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
    if let Auth::Header(t) | Auth::HeaderAndGarbageQuery(t) = auth {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", t.expose()))
            .map_err(|_| ProbeError::NotAHeaderValue)?;
        value.set_sensitive(true);
        request = request.header(AUTHORIZATION, value);
    }
    let _permit = http.host_permit(mcp_url).await;
    let response = request.send().await.map_err(|e| {
        // reqwest's Display names the URL; only say what kind of failure it was.
        if e.is_timeout() {
            ProbeError::TimedOut
        } else {
            ProbeError::NoAnswer
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
        challenge: crate::protocol::www_authenticate::bearer(values),
    })
}

/// A JWT access token (RFC 9068 shape) addressed to [`FOREIGN_AUDIENCE`] and signed with a
/// P-256 key generated here and dropped on return: worthless everywhere, and provably for
/// another audience. When the connector's own token is a JWT its other claims are copied
/// (fresh `jti`, `iat`, `exp`), so audience and key are all that differ.
pub(super) fn foreign_audience_token(
    own: &Secret,
    issuer: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Secret, ProbeError> {
    let mut claims = dangerous_unverified_claims(own).unwrap_or_default();
    if !claims.contains_key("iss") {
        let iss = issuer.unwrap_or("https://issuer-probe.lanyard.invalid/");
        claims.insert("iss".into(), iss.into());
    }
    claims
        .entry("sub")
        .or_insert_with(|| "lanyard-readiness-probe".into());
    claims.insert("aud".into(), FOREIGN_AUDIENCE.into());
    claims.insert("jti".into(), uuid::Uuid::new_v4().to_string().into());
    claims.insert("iat".into(), now.timestamp().into());
    claims.insert(
        "exp".into(),
        (now + Duration::minutes(5)).timestamp().into(),
    );
    let throwaway = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let der = throwaway.to_pkcs8_der().map_err(|_| ProbeError::NoKey)?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes()),
    );
    let key = jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes());
    jsonwebtoken::encode(&header, &claims, &key)
        .map(Secret::new)
        .map_err(|_| ProbeError::NotSigned)
}
