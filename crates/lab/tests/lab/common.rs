//! Helpers: start a lab, read its policy secrets, sign in, exchange, redeem.

use base64::Engine as _;
use lanyard_lab::{Lab, LabOptions};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const REDIRECT: &str = "http://127.0.0.1:49999/callback";

pub async fn lab_with(opts: LabOptions) -> Lab {
    Lab::start(opts).await.expect("lab starts")
}

pub async fn ada_lab() -> Lab {
    lab_with(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        ..LabOptions::default()
    })
    .await
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn policy(lab: &Lab) -> Value {
    serde_json::from_str(&std::fs::read_to_string(lab.policy_path()).unwrap()).unwrap()
}

/// The client secret the policy points at: `"idp"` or a connector id.
pub fn secret(lab: &Lab, which: &str) -> String {
    let p = policy(lab);
    let entry = if which == "idp" {
        p["idp"].clone()
    } else {
        p["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == which)
            .unwrap()
            .clone()
    };
    std::fs::read_to_string(entry["client_secret"]["file"].as_str().unwrap()).unwrap()
}

pub fn connector<'a>(lab: &'a Lab, id: &str) -> &'a lanyard_lab::ReadyConnector {
    lab.ready().connectors.iter().find(|c| c.id == id).unwrap()
}

pub fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Drives `/idp/authorize` (auto-login) without following the redirect; returns the code.
pub async fn authorize_code(lab: &Lab, verifier: &str) -> String {
    let resp = http()
        .get(format!("{}/idp/authorize", lab.base()))
        .query(&[
            ("response_type", "code"),
            ("client_id", "lanyard-desktop"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid email profile offline_access"),
            ("state", "st-1"),
            ("nonce", "n-1"),
            ("code_challenge", &challenge(verifier)),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["state"], "st-1");
    assert_eq!(q["iss"], lab.ready().idp_issuer);
    q["code"].clone()
}

pub async fn idp_token(lab: &Lab, form: &[(&str, &str)]) -> reqwest::Response {
    http()
        .post(format!("{}/idp/token", lab.base()))
        .basic_auth("lanyard-desktop", Some(secret(lab, "idp")))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// A full sign-in; returns the token response.
pub async fn sign_in(lab: &Lab) -> Value {
    let verifier = "v".repeat(50);
    let code = authorize_code(lab, &verifier).await;
    let resp = idp_token(
        lab,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

pub async fn exchange(lab: &Lab, id_token: &str, connector_id: &str) -> reqwest::Response {
    let c = connector(lab, connector_id);
    idp_token(
        lab,
        &[
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
            ("audience", &c.issuer),
            ("resource", &c.mcp_url),
        ],
    )
    .await
}

/// An ID-JAG for `connector_id` (must be granted).
pub async fn id_jag(lab: &Lab, id_token: &str, connector_id: &str) -> String {
    let resp = exchange(lab, id_token, connector_id).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// jwt-bearer at a connector with Basic auth as Lanyard's client there.
pub async fn redeem(
    lab: &Lab,
    connector_id: &str,
    assertion: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let c = connector(lab, connector_id);
    let token_endpoint = format!("{}/token", c.issuer);
    let mut form = vec![
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", assertion),
    ];
    form.extend_from_slice(extra);
    http()
        .post(token_endpoint)
        .basic_auth(
            format!("lanyard-{connector_id}"),
            Some(secret(lab, connector_id)),
        )
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// An MCP access token for `connector_id` via the whole EMA chain.
pub async fn access_token(lab: &Lab, connector_id: &str) -> String {
    let tokens = sign_in(lab).await;
    let jag = id_jag(lab, tokens["id_token"].as_str().unwrap(), connector_id).await;
    let resp = redeem(lab, connector_id, &jag, &[]).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// The unverified JSON of a JWT part (0 = header, 1 = claims).
pub fn jwt_part(token: &str, part: usize) -> Value {
    let seg = token.split('.').nth(part).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(seg)
            .unwrap(),
    )
    .unwrap()
}

pub async fn error_of(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or("").to_string(),
        body["error_description"].as_str().unwrap_or("").to_string(),
    )
}
