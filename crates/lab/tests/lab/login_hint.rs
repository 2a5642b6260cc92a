//! `login_hint` and `prompt` at the IdP's authorization endpoint: with `--auto-login`, a hint
//! for another directory user signs that user in (the admin pilot's unattended matrix); a hint
//! naming nobody gets `login_required`; `prompt=login` is a fresh sign-in of the hinted user.

use crate::common::*;
use lanyard_lab::{Lab, LabOptions};
use serde_json::Value;

/// Authorizes with `extra` parameters; returns the redirect's query.
async fn authorize(
    lab: &Lab,
    verifier: &str,
    extra: &[(&str, &str)],
) -> std::collections::HashMap<String, String> {
    let resp = http()
        .get(format!("{}/idp/authorize", lab.base()))
        .query(&[
            ("response_type", "code"),
            ("client_id", "lanyard-desktop"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid email"),
            ("state", "st-h"),
            ("code_challenge", &challenge(verifier)),
            ("code_challenge_method", "S256"),
        ])
        .query(extra)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302, "an OAuth redirect, not a page");
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["state"], "st-h");
    assert_eq!(q["iss"], lab.ready().idp_issuer);
    q
}

/// The email in the ID token the code redeems for.
async fn email_of(lab: &Lab, code: &str, verifier: &str) -> String {
    let resp = idp_token(
        lab,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    jwt_part(body["id_token"].as_str().unwrap(), 1)["email"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn auto_login_signs_in_the_hinted_directory_user_instead() {
    let lab = ada_lab().await;
    let v = "h".repeat(43);
    for who in ["grace@lab.example", "sam@lab.example", "pat@lab.example"] {
        let q = authorize(&lab, &v, &[("login_hint", who), ("prompt", "login")]).await;
        assert_eq!(email_of(&lab, &q["code"], &v).await, who);
    }
    // Without a hint the auto-login user still signs in, with or without prompt=login.
    let q = authorize(&lab, &v, &[("prompt", "login")]).await;
    assert_eq!(email_of(&lab, &q["code"], &v).await, "ada@lab.example");
    let q = authorize(&lab, &v, &[]).await;
    assert_eq!(email_of(&lab, &q["code"], &v).await, "ada@lab.example");
}

#[tokio::test]
async fn a_hint_naming_no_directory_user_gets_login_required() {
    let lab = ada_lab().await;
    let v = "u".repeat(43);
    for extra in [
        &[("login_hint", "nobody@lab.example"), ("prompt", "login")][..],
        &[("login_hint", "nobody@lab.example")][..],
    ] {
        let q = authorize(&lab, &v, extra).await;
        assert_eq!(q["error"], "login_required", "{extra:?}");
        assert!(!q.contains_key("code"));
    }
}

#[tokio::test]
async fn prompt_none_needs_a_session_and_cannot_be_combined() {
    let lab = ada_lab().await;
    let v = "n".repeat(43);
    // The auto-login user stands for the person already at the browser.
    let q = authorize(&lab, &v, &[("prompt", "none")]).await;
    assert_eq!(email_of(&lab, &q["code"], &v).await, "ada@lab.example");
    let q = authorize(
        &lab,
        &v,
        &[("prompt", "none"), ("login_hint", "grace@lab.example")],
    )
    .await;
    assert_eq!(q["error"], "login_required");
    let q = authorize(&lab, &v, &[("prompt", "none login")]).await;
    assert_eq!(q["error"], "invalid_request");

    // Interactive mode: nobody has a session, so prompt=none cannot succeed.
    let interactive = lab_with(LabOptions::default()).await;
    let q = authorize(&interactive, &v, &[("prompt", "none")]).await;
    assert_eq!(q["error"], "login_required");
}

#[tokio::test]
async fn interactive_mode_shows_the_page_for_an_unknown_hint() {
    let lab = lab_with(LabOptions::default()).await;
    let page = http()
        .get(format!("{}/idp/authorize", lab.base()))
        .query(&[
            ("response_type", "code"),
            ("client_id", "lanyard-desktop"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("code_challenge", &challenge(&"p".repeat(43))),
            ("code_challenge_method", "S256"),
            ("login_hint", "nobody@lab.example"),
            ("prompt", "login"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "a person picks a user on the page");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"value="grace@lab.example""#), "{html}");
    // The page repeats prompt=login so the chosen user gets a fresh sign-in too.
    assert!(html.contains(r#"name="prompt" value="login""#), "{html}");
}
