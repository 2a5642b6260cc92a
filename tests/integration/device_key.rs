//! private_key_jwt end to end, as an admin would set it up: Lanyard prints this device's public
//! JWK, the admin registers it at the IdP and at a connector's authorization server, the policy
//! says `private_key_jwt` with no secret, and sign-in plus the zero-touch grant work.

use lanyard::view::connector::ConnectorState;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_grant_with_this_devices_key_and_no_secret() {
    let lab = lab_for("ada@lab.example").await;
    let dir = tempfile::tempdir().unwrap();
    let mut policy: serde_json::Value =
        serde_json::from_slice(&std::fs::read(lab.policy_path()).unwrap()).unwrap();
    policy["idp"]["token_endpoint_auth_method"] = "private_key_jwt".into();
    policy["idp"]
        .as_object_mut()
        .unwrap()
        .remove("client_secret");
    let linear = policy["connectors"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["id"] == "linear")
        .unwrap();
    linear["token_endpoint_auth_method"] = "private_key_jwt".into();
    linear.as_object_mut().unwrap().remove("client_secret");
    let linear_client = linear["client_id"].as_str().unwrap().to_string();
    let path = dir.path().join("policy.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&policy).unwrap()).unwrap();

    let env = engine_with(&path, None);
    let jwk = serde_json::to_value(env.engine.device_key().unwrap().public_jwk()).unwrap();
    assert!(jwk.get("d").is_none(), "only the public half is ever shown");
    let linear_issuer = lab
        .ready()
        .connectors
        .iter()
        .find(|c| c.id == "linear")
        .unwrap()
        .issuer
        .clone();

    // Before the admin registers the key, the IdP refuses the client.
    let refused = env.engine.sign_in(sign_in_options(curl_browser())).await;
    assert!(refused.is_err(), "an unregistered key is refused");

    let http = reqwest::Client::new();
    for (issuer, client_id) in [
        (
            lab.ready().idp_issuer.clone(),
            "lanyard-desktop".to_string(),
        ),
        (linear_issuer, linear_client),
    ] {
        let resp = http
            .post(format!("{}/lab/clients", lab.base()))
            .json(&serde_json::json!({"issuer": issuer, "client_id": client_id, "method": "private_key_jwt", "jwk": jwk}))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    }

    let status = env
        .engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .expect("signed in with the device key");
    let state = |id: &str| status.connectors.iter().find(|c| c.id == id).unwrap().state;
    assert_eq!(
        state("linear"),
        ConnectorState::Granted,
        "jwt-bearer with private_key_jwt"
    );
    assert_eq!(
        state("atlassian"),
        ConnectorState::Granted,
        "the exchange at the IdP used the key too"
    );
}
