//! AS pinning against the real lab (issue 10 item 3): a connector's ID-JAG and client
//! credentials go only to the authorization server the policy pins (`as_issuer`), else to the
//! one that granted it before; anything else is refused, naming both issuers, and nothing is
//! sent to the other server.

use lanyard::engine::resolve::{ConnectorContext, resolve_connector};
use lanyard::protocol::client_auth::ClientAuth;
use lanyard::protocol::discovery::MetadataCache;
use lanyard::protocol::token_exchange::SubjectToken;
use lanyard::secret::Secret;
use lanyard::trace::Trace;
use lanyard::view::connector::{ConnectorState, Resolution};

use crate::support::{curl_browser, engine, engine_with, lab_for, sign_in_options};

fn issuer_of(lab: &lanyard_lab::Lab, id: &str) -> String {
    lab.ready()
        .connectors
        .iter()
        .find(|c| c.id == id)
        .unwrap()
        .issuer
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prm_naming_another_as_than_the_policy_pins_is_refused_and_sent_nothing() {
    let lab = lab_for("ada@lab.example").await;
    let (linear_as, granola_as) = (issuer_of(&lab, "linear"), issuer_of(&lab, "granola"));
    // Linear's policy entry pins Granola's AS: Linear's PRM now "names another AS".
    let mut policy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lab.policy_path()).unwrap()).unwrap();
    let entries = policy["connectors"].as_array_mut().unwrap();
    let linear = entries.iter_mut().find(|c| c["id"] == "linear").unwrap();
    linear["as_issuer"] = granola_as.clone().into();
    let atlassian = entries.iter_mut().find(|c| c["id"] == "atlassian").unwrap();
    atlassian["as_issuer"] = issuer_of(&lab, "atlassian").into();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.json");
    std::fs::write(&path, policy.to_string()).unwrap();

    let env = engine_with(&path, None);
    let status = env
        .engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap();
    let linear = status.connectors.iter().find(|c| c.id == "linear").unwrap();
    assert_eq!(linear.state, ConnectorState::Misconfigured);
    let error = linear.error.as_ref().unwrap();
    assert_eq!(error.code, "as_issuer_not_allowed");
    let said = error.description.clone().unwrap_or_default();
    assert!(
        said.contains(&linear_as) && said.contains(&granola_as),
        "{said}"
    );
    // Pinned to its own AS, a connector works as before; the others are untouched.
    let atlassian = status
        .connectors
        .iter()
        .find(|c| c.id == "atlassian")
        .unwrap();
    assert_eq!(atlassian.state, ConnectorState::Granted);

    // Nothing reached either token endpoint for Linear: no grant, no AS request in its trace.
    assert!(
        !lab.grants()
            .iter()
            .any(|g| g.connector == "linear" && g.kind == "ema")
    );
    let steps = env.engine.trace("linear");
    assert!(
        !steps
            .iter()
            .any(|s| s.url.starts_with(&granola_as) || s.url.contains("/token")),
        "{steps:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issuer_that_granted_first_is_kept_and_a_change_is_refused() {
    let lab = lab_for("ada@lab.example").await;
    let env = engine(&lab);
    env.engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap();
    // The grant recorded the issuer it came from: that is the pin.
    let mut state = env.engine.state_dir().load().unwrap();
    let linear_as = issuer_of(&lab, "linear");
    assert_eq!(
        state.connectors["linear"].as_issuer.as_deref(),
        Some(linear_as.as_str())
    );

    // As if Linear had been granted by another AS before: its PRM now names a "new" one.
    let granola_as = issuer_of(&lab, "granola");
    state.connectors.get_mut("linear").unwrap().as_issuer = Some(granola_as.clone());
    let cache = MetadataCache::new();
    cache.recall_grants(&state);

    let http = lanyard::http::Http::new(lanyard::clock::system());
    let never_used = url::Url::parse(&format!("{}/token", lab.ready().idp_issuer)).unwrap();
    let idp_auth = ClientAuth::new("unused", lanyard::policy::AuthMethod::None, None);
    let ctx = ConnectorContext {
        http: &http,
        cache: &cache,
        idp_issuer: &lab.ready().idp_issuer,
        idp_token_endpoint: &never_used,
        idp_auth: &idp_auth,
    };
    let linear = env
        .engine
        .policy()
        .connectors
        .iter()
        .find(|c| c.id == "linear")
        .unwrap()
        .clone();
    let auth = ClientAuth::new(&linear.client_id, linear.token_endpoint_auth_method, None);
    let trace = Trace::new();
    let subject = Secret::new("never-sent");
    let outcome = resolve_connector(
        &ctx,
        &linear,
        &auth,
        SubjectToken::IdToken(&subject),
        &trace,
    )
    .await;
    let Resolution::Failed { state, error, .. } = outcome else {
        panic!("a changed authorization server must be refused")
    };
    assert_eq!(state, ConnectorState::Misconfigured);
    assert_eq!(error.code, "as_issuer_changed");
    let said = error.description.unwrap_or_default();
    assert!(
        said.contains(&linear_as) && said.contains(&granola_as),
        "{said}"
    );
    assert!(
        !trace.steps().iter().any(|s| s.url.contains("/token")),
        "no ID-JAG was asked for and nothing was sent to a token endpoint"
    );

    // The admin confirms the move by pinning it in the policy: then it is used.
    let mut confirmed = linear.clone();
    confirmed.as_issuer = Some(linear_as.clone());
    let trace = Trace::new();
    let outcome = resolve_connector(
        &ctx,
        &confirmed,
        &auth,
        SubjectToken::IdToken(&subject),
        &trace,
    )
    .await;
    if let Resolution::Failed { error, .. } = &outcome {
        assert_ne!(error.code, "as_issuer_changed", "the policy pin wins");
    }
}
