//! Server-side client authentication at a token or revocation endpoint (RFC 6749 §2.3.1,
//! RFC 7523 §3 `private_key_jwt`): the method presented must be the one registered.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use serde_json::Value;

use crate::catalogue::ClientMethod;
use crate::clock::SKEW_SECS;
use crate::keys;
use crate::oauth::{CLIENT_ASSERTION_TYPE, Form, OAuthError, secrets_equal};
use crate::state::LabState;

/// Where the client is authenticating.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    pub issuer: &'a str,
    /// Accepted as `aud` of a client assertion, besides the issuer.
    pub token_endpoint: &'a str,
    /// The Python-SDK quirk: with Basic, `client_id` must also be in the form.
    pub body_client_id_with_basic: bool,
}

/// Returns the authenticated client id.
// long: one branch per token_endpoint_auth_method, each with the checks its RFC asks for.
pub fn authenticate(
    state: &LabState,
    endpoint: Endpoint<'_>,
    headers: &HeaderMap,
    form: &Form,
) -> Result<String, OAuthError> {
    let basic = basic_credentials(headers)?;
    let body_id = form.get("client_id");
    let assertion = form.get("client_assertion");
    let body_secret = form.get("client_secret");

    let (client_id, presented) = match (&basic, assertion, body_secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) | (None, Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "use exactly one client authentication method",
            ));
        }
        (Some((id, _)), None, None) => {
            if endpoint.body_client_id_with_basic && body_id.is_none() {
                return Err(OAuthError::invalid_request("Missing client_id"));
            }
            (id.clone(), ClientMethod::ClientSecretBasic)
        }
        (None, Some(assertion), None) => {
            if form.get("client_assertion_type") != Some(CLIENT_ASSERTION_TYPE) {
                return Err(OAuthError::invalid_request(
                    "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ));
            }
            let claimed = keys::insecure_claims(assertion)
                .and_then(|c| c.get("sub").and_then(Value::as_str).map(str::to_string))
                .ok_or_else(|| OAuthError::invalid_client("the client assertion has no sub"))?;
            (claimed, ClientMethod::PrivateKeyJwt)
        }
        (None, None, Some(_)) => {
            let id = body_id.ok_or_else(|| OAuthError::invalid_request("Missing client_id"))?;
            (id.to_string(), ClientMethod::ClientSecretPost)
        }
        (None, None, None) => match body_id {
            Some(id) => (id.to_string(), ClientMethod::None),
            None => {
                return Err(OAuthError::invalid_client(
                    "client authentication is required",
                ));
            }
        },
    };
    if body_id.is_some_and(|b| b != client_id) {
        return Err(OAuthError::invalid_client(
            "client_id in the body differs from the authenticated client",
        ));
    }
    let reg = state
        .client(endpoint.issuer, &client_id)
        .ok_or_else(|| OAuthError::invalid_client(format!("unknown client {client_id}")))?;
    if reg.method != presented {
        return Err(OAuthError::invalid_client(format!(
            "client {client_id} is registered for {}, but used {}",
            reg.method.as_str(),
            presented.as_str()
        )));
    }
    match presented {
        ClientMethod::None => {}
        ClientMethod::ClientSecretBasic | ClientMethod::ClientSecretPost => {
            let given = match &basic {
                Some((_, secret)) => secret.as_str(),
                None => body_secret.unwrap_or(""),
            };
            let ok = reg
                .secret
                .as_deref()
                .is_some_and(|expected| secrets_equal(expected, given));
            if !ok {
                return Err(OAuthError::invalid_client("client authentication failed"));
            }
        }
        ClientMethod::PrivateKeyJwt => {
            let jwk = reg.jwk.as_ref().ok_or_else(|| {
                OAuthError::invalid_client("no key is registered for this client")
            })?;
            verify_assertion(state, endpoint, &client_id, jwk, assertion.unwrap_or(""))?;
        }
    }
    Ok(client_id)
}

fn verify_assertion(
    state: &LabState,
    endpoint: Endpoint<'_>,
    client_id: &str,
    jwk: &Value,
    assertion: &str,
) -> Result<(), OAuthError> {
    let fail = |why: &str| OAuthError::invalid_client(format!("client assertion rejected: {why}"));
    let key = keys::decoding_key_from_jwk(jwk).map_err(|_| fail("registered key is unusable"))?;
    let claims = keys::verify_es256(assertion, &key).map_err(|e| fail(&e.to_string()))?;
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    if text("iss") != Some(client_id) || text("sub") != Some(client_id) {
        return Err(fail("iss and sub must both be the client_id"));
    }
    let audience_ok = |a: &str| a == endpoint.issuer || a == endpoint.token_endpoint;
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audience_ok(a),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(audience_ok),
        _ => false,
    };
    if !aud_ok {
        return Err(fail("aud must be the issuer or the token endpoint"));
    }
    let now = state.clock.timestamp();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| fail("no exp"))?;
    if exp + SKEW_SECS < now {
        return Err(fail("expired"));
    }
    if claims
        .get("iat")
        .and_then(Value::as_i64)
        .is_some_and(|iat| iat > now + SKEW_SECS)
    {
        return Err(fail("issued in the future"));
    }
    let jti = text("jti").ok_or_else(|| fail("no jti"))?;
    let mut store = state.store();
    store.sweep_jtis(now, SKEW_SECS);
    let key = format!("{} {client_id} {jti}", endpoint.issuer);
    if store.assertion_jtis.insert(key, exp).is_some() {
        return Err(fail("jti already used"));
    }
    Ok(())
}

/// `Authorization: Basic` credentials, form-url-decoded per RFC 6749 §2.3.1.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthError::invalid_client("malformed Basic credentials");
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, rest)) = value.split_once(' ') else {
        return Err(malformed());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            "only Basic HTTP authentication is accepted at this endpoint",
        ));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    Ok(Some((form_decode(id), form_decode(secret))))
}

fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_parts_are_form_decoded() {
        assert_eq!(form_decode("a%3Ab+c"), "a:b c");
        assert_eq!(form_decode("plain"), "plain");
        assert_eq!(form_decode("bad%zz"), "bad%zz");
        assert_eq!(form_decode("end%4"), "end%4");
    }

    #[test]
    fn non_basic_scheme_is_invalid_client() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(basic_credentials(&h).unwrap_err().error, "invalid_client");
        h.insert(header::AUTHORIZATION, "Basic YTpi".parse().unwrap());
        assert_eq!(
            basic_credentials(&h).unwrap(),
            Some(("a".to_string(), "b".to_string()))
        );
    }
}
