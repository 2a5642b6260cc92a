//! Connector authorization servers: metadata, jwt-bearer checks, client-auth quirks, legacy flow.

use crate::common::*;
use serde_json::Value;

#[tokio::test]
async fn as_metadata_is_path_inserted_and_advertises_the_profile() {
    let lab = ada_lab().await;
    let atlassian = connector(&lab, "atlassian");
    let url = url::Url::parse(&atlassian.issuer).unwrap();
    assert_eq!(url.path(), "/oauth2");
    let origin = atlassian.issuer.trim_end_matches("/oauth2");
    let doc: Value = http()
        .get(format!(
            "{origin}/.well-known/oauth-authorization-server/oauth2"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], atlassian.issuer);
    assert_eq!(
        doc["authorization_grant_profiles_supported"],
        serde_json::json!(["urn:ietf:params:oauth:grant-profile:id-jag"])
    );
    assert_eq!(doc["token_endpoint"], format!("{}/token", atlassian.issuer));
    for path in [
        "/.well-known/openid-configuration/oauth2",
        "/oauth2/.well-known/openid-configuration",
    ] {
        let d: Value = http()
            .get(format!("{origin}{path}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(d["issuer"], atlassian.issuer, "{path}");
    }
    // No root document for an issuer with a path: clients must path-insert.
    let root = http()
        .get(format!("{origin}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 404);

    let linear = connector(&lab, "linear");
    assert!(!linear.issuer.ends_with('/'));
    let doc: Value = http()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            linear.issuer
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], linear.issuer);
    assert!(
        doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "urn:ietf:params:oauth:grant-type:jwt-bearer")
    );

    let slack = connector(&lab, "slack");
    let doc: Value = http()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            slack.issuer
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc.get("authorization_grant_profiles_supported").is_none());
    assert!(
        !doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "urn:ietf:params:oauth:grant-type:jwt-bearer")
    );

    let prm: Value = http()
        .get(format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            linear.issuer
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["resource"], linear.mcp_url);
    assert_eq!(
        prm["authorization_servers"],
        serde_json::json!([linear.issuer])
    );
    assert_eq!(
        prm["bearer_methods_supported"],
        serde_json::json!(["header"])
    );
}

#[tokio::test]
async fn jwt_bearer_grants_once_and_refuses_a_replay() {
    let lab = ada_lab().await;
    let tokens = sign_in(&lab).await;
    let jag = id_jag(&lab, tokens["id_token"].as_str().unwrap(), "linear").await;
    let resp = redeem(&lab, "linear", &jag, &[("scope", "linear:read")]).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["access_token"]
            .as_str()
            .unwrap()
            .starts_with("labsecret_at_")
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "linear:read");
    assert!(body.get("refresh_token").is_none());
    let grants = lab.grants();
    assert!(
        grants
            .iter()
            .any(|g| g.connector == "linear" && g.kind == "ema" && g.subject == "ada@lab.example")
    );

    let (status, error, description) = error_of(redeem(&lab, "linear", &jag, &[]).await).await;
    assert_eq!(
        (status, error.as_str(), description.as_str()),
        (400, "invalid_grant", "ID-JAG already used")
    );
    assert_eq!(lab.jti_replays(), 1);
}

#[tokio::test]
async fn an_id_jag_for_another_server_is_invalid_grant() {
    let lab = ada_lab().await;
    let tokens = sign_in(&lab).await;
    let jag = id_jag(&lab, tokens["id_token"].as_str().unwrap(), "linear").await;
    // Presented at supabase (right client auth there): aud and client_id do not match.
    let supabase = connector(&lab, "supabase");
    let resp = http()
        .post(format!("{}/token", supabase.issuer))
        .basic_auth("lanyard-supabase", Some(secret(&lab, "supabase")))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", jag.as_str()),
            ("client_id", "lanyard-supabase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(resp).await.1, "invalid_grant");
    // A tampered signature.
    let mut forged = jag.clone();
    forged.pop();
    forged.push(if jag.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(
        error_of(redeem(&lab, "linear", &forged, &[]).await).await.1,
        "invalid_grant"
    );
}

#[tokio::test]
async fn wrong_connector_secret_is_401_invalid_client() {
    let lab = ada_lab().await;
    let linear = connector(&lab, "linear");
    let resp = http()
        .post(format!("{}/token", linear.issuer))
        .basic_auth("lanyard-linear", Some("not-the-secret"))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", "x"),
        ])
        .send()
        .await
        .unwrap();
    let (status, error, _) = error_of(resp).await;
    assert_eq!((status, error.as_str()), (401, "invalid_client"));
    // Missing assertion with a good client: invalid_request.
    let resp = redeem(&lab, "linear", "", &[]).await;
    assert_eq!(error_of(resp).await.1, "invalid_request");
}

#[tokio::test]
async fn supabase_needs_client_id_in_the_body_granola_wants_post() {
    let lab = ada_lab().await;
    let tokens = sign_in(&lab).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let jag = id_jag(&lab, id_token, "supabase").await;
    let (status, error, description) = error_of(redeem(&lab, "supabase", &jag, &[]).await).await;
    assert_eq!(
        (status, error.as_str(), description.as_str()),
        (400, "invalid_request", "Missing client_id")
    );
    let ok = redeem(&lab, "supabase", &jag, &[("client_id", "lanyard-supabase")]).await;
    assert_eq!(ok.status(), 200);

    let jag = id_jag(&lab, id_token, "granola").await;
    let (status, error, _) = error_of(redeem(&lab, "granola", &jag, &[]).await).await;
    assert_eq!(
        (status, error.as_str()),
        (401, "invalid_client"),
        "Basic is not granola's method"
    );
    let granola = connector(&lab, "granola");
    let resp = http()
        .post(format!("{}/token", granola.issuer))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", jag.as_str()),
            ("client_id", "lanyard-granola"),
            ("client_secret", secret(&lab, "granola").as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn slack_refuses_jwt_bearer() {
    let lab = ada_lab().await;
    let (status, error, _) = error_of(redeem(&lab, "slack", "eyJx.eyJ4.x", &[]).await).await;
    assert_eq!((status, error.as_str()), (400, "unsupported_grant_type"));
}

#[tokio::test]
async fn legacy_per_user_grant_can_be_revoked_at_the_server() {
    let lab = lab_with(lanyard_lab::LabOptions::default()).await;
    let figma = connector(&lab, "figma").clone();
    let verifier = "l".repeat(43);
    let redirect = "http://localhost:3334/oauth/callback";
    let resp = http()
        .get(format!("{}/authorize", figma.issuer))
        .query(&[
            ("response_type", "code"),
            ("client_id", "legacy-cli"),
            ("redirect_uri", redirect),
            ("code_challenge", challenge(&verifier).as_str()),
            ("code_challenge_method", "S256"),
            ("login_hint", "grace@lab.example"),
            ("state", "x"),
            ("resource", figma.mcp_url.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["iss"], figma.issuer);
    let resp = http()
        .post(format!("{}/token", figma.issuer))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", q["code"].as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", verifier.as_str()),
            ("client_id", "legacy-cli"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let at = body["access_token"].as_str().unwrap().to_string();
    let rt = body["refresh_token"].as_str().unwrap().to_string();
    assert!(at.starts_with("labsecret_lat_") && rt.starts_with("labsecret_lrt_"));
    let listed: Vec<Value> = http()
        .get(format!("{}/lab/grants", lab.base()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["kind"], "legacy");
    assert_eq!(listed[0]["subject"], "grace@lab.example");
    assert_eq!(listed[0]["connector"], "figma");

    let revoke = |token: String| {
        let url = format!("{}/revoke", figma.issuer);
        async move {
            http()
                .post(url)
                .form(&[
                    ("token", token.as_str()),
                    ("token_type_hint", "refresh_token"),
                    ("client_id", "legacy-cli"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(revoke(rt.clone()).await.status(), 200);
    assert!(lab.grants().is_empty());
    assert_eq!(revoke(rt).await.status(), 200, "unknown tokens still 200");
    let mcp = http()
        .post(&figma.mcp_url)
        .bearer_auth(&at)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        mcp.status(),
        401,
        "revoking the refresh token killed its access token"
    );
}

#[tokio::test]
async fn public_clients_may_not_redeem_id_jags() {
    let lab = ada_lab().await;
    let tokens = sign_in(&lab).await;
    let jag = id_jag(&lab, tokens["id_token"].as_str().unwrap(), "linear").await;
    let linear = connector(&lab, "linear");
    let resp = http()
        .post(format!("{}/token", linear.issuer))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", jag.as_str()),
            ("client_id", "legacy-cli"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(resp).await.1, "unauthorized_client");
}

#[test]
fn a_lab_can_be_shared_across_tasks() {
    fn shareable<T: Send + Sync>() {}
    shareable::<lanyard_lab::Lab>();
}
