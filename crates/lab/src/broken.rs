//! Deliberately broken connectors (`--broken-connectors`): each one behaves like a normal lab
//! connector except for exactly one duty it neglects, so Lanyard's readiness check can be
//! shown to fail the matching check and pass the others.
//!
//! Each breakage is a middleware in front of the ordinary connector router: it rewrites the
//! request (a query-string token moved into the header, a foreign or tampered token swapped
//! for one the real check accepts) or the response (metadata edited, a challenge removed).

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use crate::breakage::Breakage;
use crate::catalogue::{ClientMethod, ConnectorSpec};
use crate::state::{AccessGrant, LabState};

/// How many trailing characters the tampered-token acceptor ignores.
const UNCHECKED_TAIL: usize = 4;

/// One connector spec per breakage, granted to Everyone by the caller.
pub fn specs() -> Vec<ConnectorSpec> {
    Breakage::ALL
        .iter()
        .map(|b| ConnectorSpec {
            id: b.id().to_string(),
            name: format!("Broken ({})", &b.id()["broken-".len()..]),
            tools: vec![("ping".into(), "Answer pong".into())],
            scopes: vec![format!("{}:read", b.id()), format!("{}:write", b.id())],
            method: ClientMethod::ClientSecretBasic,
            body_client_id_with_basic: false,
            supports_id_jag: true,
            issuer_path: "",
            challenge_names_metadata: *b != Breakage::NoPrm,
            broken: Some(*b),
        })
        .collect()
}

#[derive(Clone)]
struct Broken {
    lab: Arc<LabState>,
    idx: usize,
    breakage: Breakage,
}

/// The ordinary router for connector `idx`, with its one duty neglected.
pub fn router(
    lab: Arc<LabState>,
    idx: usize,
    breakage: Breakage,
) -> (Router, Box<dyn FnOnce() + Send + Sync>) {
    let (inner, end) = crate::connector::router(lab.clone(), idx);
    let broken = Broken { lab, idx, breakage };
    (
        inner.layer(middleware::from_fn_with_state(broken, misbehave)),
        end,
    )
}

async fn misbehave(State(b): State<Broken>, mut request: Request, next: Next) -> Response {
    let connector = &b.lab.connectors[b.idx];
    let path = request.uri().path().to_string();
    let is_mcp = path == "/mcp" || path.starts_with("/mcp/");
    let is_as_metadata = path.starts_with("/.well-known/oauth-authorization-server")
        || path.starts_with("/.well-known/openid-configuration");
    match b.breakage {
        Breakage::NoPrm if path.starts_with("/.well-known/oauth-protected-resource") => {
            return StatusCode::NOT_FOUND.into_response();
        }
        Breakage::NoIdJagProfile | Breakage::IssuerMismatch | Breakage::NoRevocation
            if is_as_metadata =>
        {
            let mut doc = crate::connector::as_metadata_doc(connector);
            if let Some(map) = doc.as_object_mut() {
                match b.breakage {
                    Breakage::NoIdJagProfile => {
                        map.remove("authorization_grant_profiles_supported");
                    }
                    Breakage::IssuerMismatch => {
                        map.insert("issuer".into(), format!("{}/", connector.issuer).into());
                    }
                    _ => {
                        map.remove("revocation_endpoint");
                        map.remove("revocation_endpoint_auth_methods_supported");
                    }
                }
            }
            return axum::Json(doc).into_response();
        }
        Breakage::NoRevocation if path.ends_with("/revoke") => {
            return StatusCode::NOT_FOUND.into_response();
        }
        Breakage::AcceptsQueryToken if is_mcp => move_query_token(&mut request),
        Breakage::NoAudienceCheck | Breakage::AcceptsTampered if is_mcp => {
            if let Some(stand_in) = substitute(&b, &request) {
                set_bearer(&mut request, &stand_in);
                let response = next.run(request).await;
                // Only the check used it; nothing else may.
                b.lab.store().access.remove(&stand_in);
                return response;
            }
        }
        _ => {}
    }
    let mut response = next.run(request).await;
    if b.breakage == Breakage::NoChallenge && response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().remove(header::WWW_AUTHENTICATE);
    }
    response
}

fn bearer(request: &Request) -> Option<String> {
    request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string())
}

fn set_bearer(request: &mut Request, token: &str) {
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
        request.headers_mut().insert(header::AUTHORIZATION, v);
    }
}

/// `?access_token=…` becomes `Authorization: Bearer …` (replacing any header: the query
/// wins), and leaves the query.
fn move_query_token(request: &mut Request) {
    let Some(query) = request.uri().query() else {
        return;
    };
    let mut token = None;
    let rest: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter_map(|(k, v)| {
            if k == "access_token" {
                token = Some(v.into_owned());
                None
            } else {
                Some((k.into_owned(), v.into_owned()))
            }
        })
        .collect();
    let Some(token) = token else { return };
    set_bearer(request, &token);
    let mut pq = request.uri().path().to_string();
    if !rest.is_empty() {
        pq.push('?');
        pq.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(rest)
                .finish(),
        );
    }
    let mut parts = request.uri().clone().into_parts();
    if let Ok(v) = pq.parse() {
        parts.path_and_query = Some(v);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
}

/// The grant the flawed check would accept for this token, re-issued under a short-lived
/// stand-in token that the real check accepts; `None` when even the flawed check refuses.
fn substitute(b: &Broken, request: &Request) -> Option<String> {
    let token = bearer(request)?;
    let connector = &b.lab.connectors[b.idx];
    let now = b.lab.clock.timestamp();
    let mut store = b.lab.store();
    let grant: AccessGrant = match b.breakage {
        // An unexpired JWT is enough: neither its signature nor its audience is looked at.
        // The stand-in borrows a live grant of this connector for its user and scopes.
        Breakage::NoAudienceCheck => {
            if store.access.contains_key(&token) || unverified_exp(&token)? <= now {
                return None;
            }
            store
                .access
                .values()
                .find(|g| g.connector == b.idx && g.expires_at > now)?
                .clone()
        }
        // Everything but the tail is compared.
        Breakage::AcceptsTampered => {
            if store.access.contains_key(&token) || token.len() <= UNCHECKED_TAIL {
                return None;
            }
            let head = &token[..token.len() - UNCHECKED_TAIL];
            store
                .access
                .iter()
                .find(|(k, g)| {
                    k.len() == token.len()
                        && k.starts_with(head)
                        && g.resource == connector.mcp_url
                        && g.expires_at > now
                })
                .map(|(_, g)| g.clone())?
        }
        _ => return None,
    };
    let stand_in = crate::oauth::mint("at_standin");
    store.access.insert(
        stand_in.clone(),
        AccessGrant {
            connector: b.idx,
            resource: connector.mcp_url.clone(),
            expires_at: now + 60,
            ..grant
        },
    );
    Some(stand_in)
}

/// The `exp` of a compact JWS, read without verifying anything (the flaw being modelled).
fn unverified_exp(token: &str) -> Option<i64> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_i64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spec_per_breakage_with_distinct_ids() {
        let specs = specs();
        assert_eq!(specs.len(), Breakage::ALL.len());
        let mut ids: Vec<&str> = specs.iter().map(|s| s.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), specs.len());
        assert!(
            specs
                .iter()
                .all(|s| s.id.starts_with("broken-") && s.broken.is_some())
        );
        let no_prm = specs
            .iter()
            .find(|s| s.broken == Some(Breakage::NoPrm))
            .unwrap();
        assert!(!no_prm.challenge_names_metadata);
    }

    #[test]
    fn query_tokens_move_into_the_header() {
        let mut request = Request::builder()
            .uri("/mcp?access_token=labsecret_at_x&keep=1")
            .body(axum::body::Body::empty())
            .unwrap();
        move_query_token(&mut request);
        assert_eq!(bearer(&request).as_deref(), Some("labsecret_at_x"));
        assert_eq!(request.uri().query(), Some("keep=1"));
    }
}
