//! The IdP: discovery, authorization code + PKCE, refresh rotation, token exchange policy.

use crate::common::*;
use lanyard_lab::LabOptions;
use serde_json::Value;

#[tokio::test]
async fn discovery_documents_name_the_exact_issuer() {
    let lab = ada_lab().await;
    let issuer = &lab.ready().idp_issuer;
    assert_eq!(issuer, &format!("{}/idp", lab.base()));
    for path in [
        "/idp/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/idp",
    ] {
        let doc: Value = http()
            .get(format!("{}{path}", lab.base()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["issuer"], *issuer, "{path}");
        assert_eq!(
            doc["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(
            doc["identity_chaining_requested_token_types_supported"],
            serde_json::json!(["urn:ietf:params:oauth:token-type:id-jag"])
        );
        assert!(
            doc["grant_types_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g == "urn:ietf:params:oauth:grant-type:token-exchange")
        );
    }
    let jwks: Value = http()
        .get(format!("{issuer}/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["alg"], "ES256");
    assert!(jwks["keys"][0]["kid"].is_string());
    let json_line = serde_json::to_string(lab.ready()).unwrap();
    assert!(!json_line.contains('\n'));
    assert_eq!(lab.ready().connectors.len(), 8);
}

#[tokio::test]
async fn authorization_code_with_pkce_issues_a_verified_id_token() {
    let lab = ada_lab().await;
    let verifier = "a".repeat(43);
    let code = authorize_code(&lab, &verifier).await;
    assert!(code.starts_with("labsecret_code_"));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let resp = idp_token(&lab, &form).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["access_token"]
            .as_str()
            .unwrap()
            .starts_with("labsecret_idpat_")
    );
    assert!(
        body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("labsecret_rt_")
    );
    let id_token = body["id_token"].as_str().unwrap();
    assert!(id_token.starts_with("eyJ"));
    let header = jwt_part(id_token, 0);
    assert_eq!(header["alg"], "ES256");
    let claims = jwt_part(id_token, 1);
    assert_eq!(claims["iss"], lab.ready().idp_issuer);
    assert_eq!(claims["aud"], "lanyard-desktop");
    assert_eq!(claims["sub"], "u-ada");
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["email"], "ada@lab.example");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    // Single use.
    let (status, error, _) = error_of(idp_token(&lab, &form).await).await;
    assert_eq!((status, error.as_str()), (400, "invalid_grant"));
}

#[tokio::test]
async fn wrong_pkce_verifier_is_invalid_grant() {
    let lab = ada_lab().await;
    let code = authorize_code(&lab, &"a".repeat(43)).await;
    let resp = idp_token(
        &lab,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &"b".repeat(43)),
        ],
    )
    .await;
    assert_eq!(error_of(resp).await.1, "invalid_grant");
}

#[tokio::test]
async fn untrusted_client_or_redirect_gets_a_page_not_a_redirect() {
    let lab = ada_lab().await;
    for (client, redirect) in [
        ("nobody", REDIRECT),
        ("lanyard-desktop", "http://evil.example:1/callback"),
    ] {
        let resp = http()
            .get(format!("{}/idp/authorize", lab.base()))
            .query(&[
                ("response_type", "code"),
                ("client_id", client),
                ("redirect_uri", redirect),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        assert!(resp.headers().get("location").is_none());
    }
    // Missing PKCE: redirected with an error.
    let resp = http()
        .get(format!("{}/idp/authorize", lab.base()))
        .query(&[
            ("response_type", "code"),
            ("client_id", "lanyard-desktop"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "s"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "s");
}

#[tokio::test]
async fn without_auto_login_a_page_lists_the_users() {
    let lab = lab_with(LabOptions::default()).await;
    let params = [
        ("response_type", "code"),
        ("client_id", "lanyard-desktop"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    let page = http()
        .get(format!("{}/idp/authorize", lab.base()))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"value="grace@lab.example""#));
    let chosen = http()
        .get(format!("{}/idp/authorize", lab.base()))
        .query(&params)
        .query(&[("login_hint", "grace@lab.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.status(), 302);
    assert!(query_of(chosen.headers()["location"].to_str().unwrap()).contains_key("code"));
}

#[tokio::test]
async fn refresh_tokens_rotate() {
    let lab = ada_lab().await;
    let first = sign_in(&lab).await;
    let old = first["refresh_token"].as_str().unwrap();
    let resp = idp_token(
        &lab,
        &[("grant_type", "refresh_token"), ("refresh_token", old)],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let second: Value = resp.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert!(second["id_token"].as_str().unwrap().starts_with("eyJ"));
    let (status, error, _) = error_of(
        idp_token(
            &lab,
            &[("grant_type", "refresh_token"), ("refresh_token", old)],
        )
        .await,
    )
    .await;
    assert_eq!((status, error.as_str()), (400, "invalid_grant"));
    // The refresh token also works as a token-exchange subject, without being consumed.
    let rt = second["refresh_token"].as_str().unwrap();
    let linear = connector(&lab, "linear");
    let form = [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        (
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:id-jag",
        ),
        ("subject_token", rt),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:refresh_token",
        ),
        ("audience", linear.issuer.as_str()),
        ("resource", linear.mcp_url.as_str()),
    ];
    assert_eq!(idp_token(&lab, &form).await.status(), 200);
    assert_eq!(
        idp_token(
            &lab,
            &[("grant_type", "refresh_token"), ("refresh_token", rt)]
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn token_exchange_follows_group_policy() {
    let lab = ada_lab().await;
    let tokens = sign_in(&lab).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let resp = exchange(&lab, id_token, "linear").await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["issued_token_type"],
        "urn:ietf:params:oauth:token-type:id-jag"
    );
    assert_eq!(body["token_type"], "N_A");
    assert_eq!(body["expires_in"], 300);
    let jag = body["access_token"].as_str().unwrap();
    assert_eq!(jwt_part(jag, 0)["typ"], "oauth-id-jag+jwt");
    let claims = jwt_part(jag, 1);
    let linear = connector(&lab, "linear");
    assert_eq!(claims["aud"], linear.issuer);
    assert_eq!(claims["client_id"], "lanyard-linear");
    assert_eq!(claims["resource"], linear.mcp_url);
    assert_eq!(claims["scope"], "linear:read linear:write");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    assert!(claims["jti"].is_string());

    let (status, error, description) = error_of(exchange(&lab, id_token, "asana").await).await;
    assert_eq!((status, error.as_str()), (400, "invalid_target"));
    assert_eq!(description, "ada@lab.example is not assigned to Asana");

    // Audience and resource must be a pair the IdP knows.
    let linear = connector(&lab, "linear").clone();
    let figma = connector(&lab, "figma").clone();
    let form = [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        (
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:id-jag",
        ),
        ("subject_token", id_token),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:id_token",
        ),
        ("audience", linear.issuer.as_str()),
        ("resource", figma.mcp_url.as_str()),
    ];
    assert_eq!(
        error_of(idp_token(&lab, &form).await).await.1,
        "invalid_target"
    );
}

#[tokio::test]
async fn exchange_needs_the_client_the_id_token_was_issued_to() {
    let lab = ada_lab().await;
    let tokens = sign_in(&lab).await;
    let register = serde_json::json!({"issuer": lab.ready().idp_issuer, "client_id": "other", "method": "client_secret_post", "secret": "s3"});
    let resp = http()
        .post(format!("{}/lab/clients", lab.base()))
        .json(&register)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let linear = connector(&lab, "linear");
    let resp = http()
        .post(format!("{}/idp/token", lab.base()))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:id-jag",
            ),
            ("subject_token", tokens["id_token"].as_str().unwrap()),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            ),
            ("audience", linear.issuer.as_str()),
            ("resource", linear.mcp_url.as_str()),
            ("client_id", "other"),
            ("client_secret", "s3"),
        ])
        .send()
        .await
        .unwrap();
    let (_, error, description) = error_of(resp).await;
    assert_eq!(error, "invalid_grant");
    assert_eq!(description, "subject token is invalid");
}

#[tokio::test]
async fn wrong_idp_client_secret_is_401_invalid_client() {
    let lab = ada_lab().await;
    let resp = http()
        .post(format!("{}/idp/token", lab.base()))
        .basic_auth("lanyard-desktop", Some("wrong"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert!(resp.headers().contains_key("www-authenticate"));
    let (status, error, _) = error_of(resp).await;
    assert_eq!((status, error.as_str()), (401, "invalid_client"));
}

#[tokio::test]
async fn private_key_jwt_client_signs_in_and_exchanges() {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::pkcs8::EncodePrivateKey;
    let lab = ada_lab().await;
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let point = secret.public_key().to_encoded_point(false);
    let b64 = |b: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    };
    let jwk = serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())});
    let issuer = lab.ready().idp_issuer.clone();
    let body = serde_json::json!({"issuer": issuer, "client_id": "device-1", "method": "private_key_jwt", "jwk": jwk});
    assert_eq!(
        http()
            .post(format!("{}/lab/clients", lab.base()))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let key = jsonwebtoken::EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes());
    let assertion = |jti: &str| {
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({"iss": "device-1", "sub": "device-1", "aud": format!("{issuer}/token"), "jti": jti, "iat": now, "exp": now + 60});
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256),
            &claims,
            &key,
        )
        .unwrap()
    };
    let verifier = "k".repeat(43);
    let resp = http()
        .get(format!("{}/idp/authorize", lab.base()))
        .query(&[
            ("response_type", "code"),
            ("client_id", "device-1"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("code_challenge", challenge(&verifier).as_str()),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    let code = query_of(resp.headers()["location"].to_str().unwrap())["code"].clone();
    let token_form = |jti: &str| {
        vec![
            ("grant_type".to_string(), "authorization_code".to_string()),
            ("code".into(), code.clone()),
            ("redirect_uri".into(), REDIRECT.into()),
            ("code_verifier".into(), verifier.clone()),
            (
                "client_assertion_type".into(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ),
            ("client_assertion".into(), assertion(jti)),
        ]
    };
    let resp = http()
        .post(format!("{issuer}/token"))
        .form(&token_form("j1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let tokens: Value = resp.json().await.unwrap();
    assert_eq!(
        jwt_part(tokens["id_token"].as_str().unwrap(), 1)["aud"],
        "device-1"
    );
    // The same assertion jti again is refused.
    let (status, error, _) = error_of(
        http()
            .post(format!("{issuer}/token"))
            .form(&token_form("j1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, error.as_str()), (401, "invalid_client"));
}
