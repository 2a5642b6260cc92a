//! AS pinning against in-test servers: a PRM that names another authorization server than the
//! policy's `as_issuer` (or than the one that granted before) is refused before any request
//! reaches that server; a token endpoint off the issuer's origin is refused unless allowed.

use super::stub_server::{Reply, Stub, http};
use super::*;
use crate::policy::{AuthMethod, ConnectorConfig};
use serde_json::json;
use std::sync::{Arc, Mutex as StdMutex};

fn as_metadata(issuer: &str, token_endpoint: &str) -> Reply {
    Reply::json(
        200,
        json!({"issuer": issuer, "token_endpoint": token_endpoint,
               "grant_types_supported": [JWT_BEARER_GRANT],
               "authorization_grant_profiles_supported": [ID_JAG_PROFILE]}),
    )
}

/// An authorization server that answers metadata for itself, with its token endpoint at
/// `token_origin` (default: its own origin).
async fn authorization_server(token_origin: Option<&'static str>) -> Stub {
    Stub::start(move |r, base| match r.path.as_str() {
        "/.well-known/oauth-authorization-server" => {
            as_metadata(base, &format!("{}/token", token_origin.unwrap_or(base)))
        }
        _ => Reply::status(404),
    })
    .await
}

/// An MCP server whose PRM names whichever issuer `names` holds at the time of the request.
async fn mcp_server(names: Arc<StdMutex<String>>) -> Stub {
    Stub::start(move |r, base| match r.path.as_str() {
        "/mcp" => Reply::status(401).with_header(
            "www-authenticate",
            format!(
                r#"Bearer resource_metadata="{base}/.well-known/oauth-protected-resource/mcp""#
            ),
        ),
        "/.well-known/oauth-protected-resource/mcp" => Reply::json(
            200,
            json!({"resource": format!("{base}/mcp"),
                   "authorization_servers": [names.lock().unwrap().clone()]}),
        ),
        _ => Reply::status(404),
    })
    .await
}

fn connector(mcp: &Stub, as_issuer: Option<&str>) -> ConnectorConfig {
    ConnectorConfig {
        id: crate::policy::ConnectorId::parse("linear").unwrap(),
        name: "Linear".into(),
        mcp_url: mcp.url("/mcp"),
        client_id: "lanyard".into(),
        client_secret: None,
        token_endpoint_auth_method: AuthMethod::None,
        scopes: None,
        as_issuer: as_issuer.map(String::from),
        token_endpoint_origin: None,
    }
}

#[tokio::test]
async fn a_prm_naming_another_as_than_the_policy_pins_is_refused_before_reaching_it() {
    let (good, evil) = (
        authorization_server(None).await,
        authorization_server(None).await,
    );
    let mcp = mcp_server(Arc::new(StdMutex::new(evil.base.clone()))).await;
    let trace = Trace::new();
    let err = discover_for(
        &http(),
        &connector(&mcp, Some(&good.base)),
        &MetadataCache::new(),
        &trace,
    )
    .await
    .unwrap_err();
    match &err {
        DiscoveryError::AsIssuerNotAllowed { pinned, named } => {
            assert_eq!((pinned, named), (&good.base, &evil.base));
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains(&good.base) && text.contains(&evil.base),
        "{text}"
    );
    assert!(
        evil.requests().is_empty(),
        "nothing may reach the AS the policy does not pin"
    );
    let prm_step = trace
        .steps()
        .into_iter()
        .find(|s| s.kind == StepKind::ProtectedResourceMetadata)
        .unwrap();
    assert!(prm_step.note.unwrap_or_default().contains("refused"));

    // The pinned AS itself is fine.
    let ok = discover_for(
        &http(),
        &connector(&mcp, Some(&evil.base)),
        &MetadataCache::new(),
        &trace,
    )
    .await
    .unwrap();
    assert_eq!(ok.as_issuer, evil.base);
}

#[tokio::test]
async fn without_a_policy_pin_the_issuer_that_granted_before_is_kept() {
    let (good, evil) = (
        authorization_server(None).await,
        authorization_server(None).await,
    );
    let names = Arc::new(StdMutex::new(good.base.clone()));
    let mcp = mcp_server(names.clone()).await;
    let cache = MetadataCache::new();
    let c = connector(&mcp, None);
    let first = discover_for(&http(), &c, &cache, &Trace::new())
        .await
        .unwrap();
    cache.remember_grant(&c.mcp_url, &first.as_issuer);

    // The server switches to another AS: refused, naming both, even once the cache expired.
    *names.lock().unwrap() = evil.base.clone();
    cache.invalidate(&c.mcp_url);
    let err = discover_for(&http(), &c, &cache, &Trace::new())
        .await
        .unwrap_err();
    match err {
        DiscoveryError::AsIssuerChanged { recorded, named } => {
            assert_eq!((recorded, named), (good.base.clone(), evil.base.clone()));
        }
        other => panic!("{other:?}"),
    }
    assert!(evil.requests().is_empty());

    // The pin survives a restart through the state file's `as_issuer`.
    let mut state = crate::store::state::State::default();
    state.connectors.insert(
        "linear".into(),
        serde_json::from_value(json!({
            "name": "Linear", "mcp_url": c.mcp_url.as_str(), "state": "granted",
            "expires_at": null, "tools": 3, "error": null,
            "updated_at": "2026-01-01T00:00:00Z", "next_renewal_at": null,
            "as_issuer": good.base,
        }))
        .unwrap(),
    );
    let restarted = MetadataCache::new();
    restarted.recall_grants(&state);
    assert_eq!(restarted.granted_by(&c.mcp_url), Some(good.base.clone()));
    assert!(matches!(
        discover_for(&http(), &c, &restarted, &Trace::new()).await,
        Err(DiscoveryError::AsIssuerChanged { .. })
    ));

    // The admin confirms the move in the policy: the policy pin wins over the old grant.
    let moved = discover_for(
        &http(),
        &connector(&mcp, Some(&evil.base)),
        &restarted,
        &Trace::new(),
    )
    .await
    .unwrap();
    assert_eq!(moved.as_issuer, evil.base);
    // Plain `discover` (legacy revocation, conformance) is not bound to any pin.
    assert!(
        discover(&http(), &c.mcp_url, &MetadataCache::new(), &Trace::new())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_cached_discovery_is_checked_against_the_pin_too() {
    let asv = authorization_server(None).await;
    let mcp = mcp_server(Arc::new(StdMutex::new(asv.base.clone()))).await;
    let cache = MetadataCache::new();
    discover(&http(), &mcp.url("/mcp"), &cache, &Trace::new())
        .await
        .unwrap();
    let before = mcp.requests().len();
    let err = discover_for(
        &http(),
        &connector(&mcp, Some("https://as.example")),
        &cache,
        &Trace::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, DiscoveryError::AsIssuerNotAllowed { .. }),
        "{err:?}"
    );
    assert_eq!(mcp.requests().len(), before, "answered from the cache");
}

#[tokio::test]
async fn a_token_endpoint_off_the_issuers_origin_needs_the_policy_to_allow_it() {
    let other = Stub::start(|_, _| Reply::status(404)).await;
    let other_origin: &'static str = Box::leak(other.base.clone().into_boxed_str());
    let asv = authorization_server(Some(other_origin)).await;
    let mcp = mcp_server(Arc::new(StdMutex::new(asv.base.clone()))).await;
    let mut c = connector(&mcp, None);
    let err = discover_for(&http(), &c, &MetadataCache::new(), &Trace::new())
        .await
        .unwrap_err();
    match &err {
        DiscoveryError::TokenEndpointOtherOrigin { issuer, origin } => {
            assert_eq!(
                (issuer.as_str(), origin.as_str()),
                (asv.base.as_str(), other_origin)
            );
        }
        other => panic!("{other:?}"),
    }
    c.token_endpoint_origin = Some(Url::parse(other_origin).unwrap());
    let meta = discover_for(&http(), &c, &MetadataCache::new(), &Trace::new())
        .await
        .unwrap();
    assert_eq!(
        meta.token_endpoint.as_str(),
        format!("{other_origin}/token")
    );
}
