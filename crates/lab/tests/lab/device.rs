//! RFC 8628 device authorization at the IdP: discovery, pending → approve → tokens, slow_down,
//! deny, expiry, single use, the verification page and the admin endpoints.

use crate::common::*;
use lanyard_lab::{DeviceDecision, DeviceError, Lab, LabOptions};
use serde_json::{Value, json};
use std::time::Duration;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn device_lab(interval: u64, lifetime: u64) -> Lab {
    lab_with(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        device_poll_interval_secs: Some(interval),
        device_code_lifetime_secs: Some(lifetime),
        ..LabOptions::default()
    })
    .await
}

/// `POST /idp/device_authorization` as Lanyard's IdP client; returns the JSON answer.
async fn start(lab: &Lab, scope: Option<&str>) -> Value {
    let mut form = vec![];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let resp = http()
        .post(format!("{}/device_authorization", lab.ready().idp_issuer))
        .basic_auth("lanyard-desktop", Some(secret(lab, "idp")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    resp.json().await.unwrap()
}

async fn poll(lab: &Lab, device_code: &str) -> reqwest::Response {
    idp_token(lab, &[("grant_type", GRANT), ("device_code", device_code)]).await
}

async fn admin(lab: &Lab, what: &str, body: Value) -> (u16, Value) {
    let resp = http()
        .post(format!("{}/lab/device/{what}", lab.base()))
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn discovery_advertises_the_device_endpoint_and_grant() {
    let lab = ada_lab().await;
    let issuer = &lab.ready().idp_issuer;
    let doc: Value = http()
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["device_authorization_endpoint"],
        format!("{issuer}/device_authorization")
    );
    assert!(
        doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == GRANT)
    );
}

#[tokio::test]
async fn pending_then_approved_gives_the_code_grants_tokens_once() {
    let lab = device_lab(0, 600).await;
    let started = start(&lab, None).await;
    let device_code = started["device_code"].as_str().unwrap();
    let user_code = started["user_code"].as_str().unwrap();
    assert!(device_code.starts_with("labsecret_devicecode_"));
    assert_eq!(user_code.len(), 9, "{user_code}");
    let page = format!("{}/device", lab.ready().idp_issuer);
    assert_eq!(started["verification_uri"], page);
    assert_eq!(
        started["verification_uri_complete"],
        format!("{page}?user_code={user_code}")
    );
    assert_eq!(
        (started["expires_in"].as_i64(), started["interval"].as_i64()),
        (Some(600), Some(0))
    );

    // auto-login does not approve device codes.
    let (status, error, _) = error_of(poll(&lab, device_code).await).await;
    assert_eq!((status, error.as_str()), (400, "authorization_pending"));
    assert_eq!(lab.device_requests()[0].status, "pending");

    let typed = user_code.to_lowercase().replace('-', " ");
    let (status, body) = admin(
        &lab,
        "approve",
        json!({"user_code": typed, "user": "grace@lab.example"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["status"].as_str(), body["user"].as_str()),
        (Some("approved"), Some("grace@lab.example"))
    );

    let resp = poll(&lab, device_code).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let tokens: Value = resp.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid email profile offline_access");
    let claims = jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["email"], "grace@lab.example");
    assert_eq!(claims["aud"], "lanyard-desktop");
    assert!(claims.get("nonce").is_none());
    // The refresh token is a normal IdP refresh token.
    let refreshed = idp_token(
        &lab,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(refreshed.status(), 200);

    let (status, error, _) = error_of(poll(&lab, device_code).await).await;
    assert_eq!((status, error.as_str()), (400, "invalid_grant"));
    assert!(lab.device_requests().is_empty());
}

#[tokio::test]
async fn polling_faster_than_the_interval_is_slow_down_and_grows_it() {
    let lab = device_lab(1, 600).await;
    let started = start(&lab, Some("openid email")).await;
    let device_code = started["device_code"].as_str().unwrap();
    // The first poll may come at once; the second, straight after, is too soon.
    assert_eq!(
        error_of(poll(&lab, device_code).await).await.1,
        "authorization_pending"
    );
    let (status, error, description) = error_of(poll(&lab, device_code).await).await;
    assert_eq!((status, error.as_str()), (400, "slow_down"));
    assert!(description.contains("every 6 s"), "{description}");
    // The interval is now 6 s: waiting the original 1 s is still too soon.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(error_of(poll(&lab, device_code).await).await.1, "slow_down");
}

#[tokio::test]
async fn keeping_the_interval_stays_pending() {
    let lab = device_lab(1, 600).await;
    let started = start(&lab, None).await;
    let device_code = started["device_code"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(
            error_of(poll(&lab, device_code).await).await.1,
            "authorization_pending"
        );
        tokio::time::sleep(Duration::from_millis(1050)).await;
    }
}

#[tokio::test]
async fn denied_is_access_denied_once_then_unknown() {
    let lab = device_lab(0, 600).await;
    let started = start(&lab, None).await;
    let device_code = started["device_code"].as_str().unwrap();
    let user_code = started["user_code"].as_str().unwrap();
    let (status, body) = admin(&lab, "deny", json!({"user_code": user_code})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("denied")));
    // A decided code cannot be decided again.
    let (status, body) = admin(
        &lab,
        "approve",
        json!({"user_code": user_code, "user": "ada@lab.example"}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("already_decided"))
    );
    let (status, error, _) = error_of(poll(&lab, device_code).await).await;
    assert_eq!((status, error.as_str()), (400, "access_denied"));
    assert_eq!(
        error_of(poll(&lab, device_code).await).await.1,
        "invalid_grant"
    );
}

#[tokio::test]
async fn an_expired_code_is_expired_token_and_cannot_be_approved() {
    let lab = device_lab(0, 1).await;
    let started = start(&lab, None).await;
    let device_code = started["device_code"].as_str().unwrap();
    let user_code = started["user_code"].as_str().unwrap();
    assert_eq!(started["expires_in"], 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(lab.device_requests()[0].status, "expired");
    let (status, body) = admin(
        &lab,
        "approve",
        json!({"user_code": user_code, "user": "ada@lab.example"}),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (410, Some("expired")));
    let (status, error, _) = error_of(poll(&lab, device_code).await).await;
    assert_eq!((status, error.as_str()), (400, "expired_token"));
    assert_eq!(
        error_of(poll(&lab, device_code).await).await.1,
        "invalid_grant"
    );
}

#[tokio::test]
async fn bad_requests_name_what_is_wrong() {
    let lab = device_lab(0, 600).await;
    let url = format!("{}/device_authorization", lab.ready().idp_issuer);
    let no_client = http()
        .post(&url)
        .form(&[("scope", "openid")])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(no_client).await.1, "invalid_client");
    let no_openid = http()
        .post(&url)
        .basic_auth("lanyard-desktop", Some(secret(&lab, "idp")))
        .form(&[("scope", "email")])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(no_openid).await.1, "invalid_scope");
    let (status, error, _) = error_of(poll(&lab, "labsecret_devicecode_nope").await).await;
    assert_eq!((status, error.as_str()), (400, "invalid_grant"));

    let started = start(&lab, None).await;
    let user_code = started["user_code"].as_str().unwrap();
    let (status, body) = admin(
        &lab,
        "approve",
        json!({"user_code": "BBBB-BBBB", "user": "ada@lab.example"}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_user_code"))
    );
    let (status, body) = admin(
        &lab,
        "approve",
        json!({"user_code": user_code, "user": "eve@lab.example"}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unknown_user"))
    );
    let (status, _) = admin(&lab, "approve", json!({"user_code": user_code})).await;
    assert_eq!(status, 400);
    assert!(matches!(
        lab.decide_device("nope", DeviceDecision::Deny),
        Err(DeviceError::UnknownCode(_))
    ));
    // Still pending after all that.
    let listed: Value = http()
        .get(format!("{}/lab/device", lab.base()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["status"], "pending");
    assert_eq!(listed[0]["user_code"], user_code);
    assert!(listed[0].get("device_code").is_none());
}

#[tokio::test]
async fn a_person_approves_on_the_verification_page() {
    let lab = device_lab(0, 600).await;
    let started = start(&lab, None).await;
    let device_code = started["device_code"].as_str().unwrap();
    let user_code = started["user_code"].as_str().unwrap();
    let page_url = started["verification_uri"].as_str().unwrap();

    let entry = http()
        .get(page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(entry.contains(r#"name="user_code""#), "{entry}");
    let complete = started["verification_uri_complete"].as_str().unwrap();
    let html = http()
        .get(complete)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("lanyard-desktop") && html.contains(user_code),
        "{html}"
    );
    assert!(html.contains(r#"value="grace@lab.example""#));
    // auto-login only pre-selects the user.
    assert!(html.contains(r#"value="ada@lab.example" selected"#));
    assert!(
        !html.contains("<script") && !html.contains("src="),
        "no remote assets"
    );
    assert_eq!(
        error_of(poll(&lab, device_code).await).await.1,
        "authorization_pending"
    );

    let unknown = http()
        .get(page_url)
        .query(&[("user_code", "ZZZZ-ZZZZ")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);

    let done = http()
        .post(page_url)
        .form(&[
            ("user_code", user_code),
            ("user", "sam@lab.example"),
            ("action", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Approved"));
    let tokens: Value = poll(&lab, device_code).await.json().await.unwrap();
    let claims = jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["email"], "sam@lab.example");
}

#[tokio::test]
async fn a_person_denies_on_the_verification_page() {
    let lab = device_lab(0, 600).await;
    let started = start(&lab, None).await;
    let denied = http()
        .post(started["verification_uri"].as_str().unwrap())
        .form(&[
            ("user_code", started["user_code"].as_str().unwrap()),
            ("action", "deny"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 200);
    assert!(denied.text().await.unwrap().contains("Denied"));
    let device_code = started["device_code"].as_str().unwrap();
    assert_eq!(
        error_of(poll(&lab, device_code).await).await.1,
        "access_denied"
    );
}
