//! Fault knobs: IdP outage, policy denial, key rotation, echoed requests, clock offset, latency.

use crate::common::*;
use lanyard_lab::{Faults, LabOptions};
use serde_json::Value;

#[tokio::test]
async fn idp_down_answers_503_everywhere_under_idp() {
    let lab = ada_lab().await;
    let resp = http()
        .post(format!("{}/lab/faults", lab.base()))
        .json(&serde_json::json!({"idp_down": true}))
        .send()
        .await
        .unwrap();
    let now: Faults = resp.json().await.unwrap();
    assert!(now.idp_down && !now.deny_all);
    for url in [
        format!(
            "{}/.well-known/openid-configuration",
            lab.ready().idp_issuer
        ),
        format!("{}/jwks", lab.ready().idp_issuer),
    ] {
        let resp = http().get(url).send().await.unwrap();
        assert_eq!(resp.status(), 503);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }
    assert_eq!(
        http()
            .get(format!("{}/lab/health", lab.base()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    lab.set_faults(Faults::default());
    let ok = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            lab.ready().idp_issuer
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn deny_all_refuses_exchanges_with_access_denied() {
    let lab = ada_lab().await;
    let tokens = sign_in(&lab).await;
    lab.set_faults(Faults {
        deny_all: true,
        ..Faults::default()
    });
    let (status, error, _) =
        error_of(exchange(&lab, tokens["id_token"].as_str().unwrap(), "linear").await).await;
    assert_eq!((status, error.as_str()), (400, "access_denied"));
}

#[tokio::test]
async fn rotating_keys_publishes_only_the_new_key() {
    let lab = ada_lab().await;
    let jwks_url = format!("{}/jwks", lab.ready().idp_issuer);
    let before: Value = http()
        .get(&jwks_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tokens = sign_in(&lab).await;
    let jag = id_jag(&lab, tokens["id_token"].as_str().unwrap(), "linear").await;
    lab.set_faults(Faults {
        rotate_keys: true,
        ..Faults::default()
    });
    let after: Value = http()
        .get(&jwks_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["keys"].as_array().unwrap().len(), 1);
    assert_ne!(before["keys"][0]["kid"], after["keys"][0]["kid"]);
    // Old signatures are no longer trusted, by the IdP or the connector.
    assert_eq!(
        error_of(exchange(&lab, tokens["id_token"].as_str().unwrap(), "linear").await)
            .await
            .1,
        "invalid_grant"
    );
    assert_eq!(
        error_of(redeem(&lab, "linear", &jag, &[]).await).await.1,
        "invalid_grant"
    );
    let fresh = sign_in(&lab).await;
    let header = jwt_part(fresh["id_token"].as_str().unwrap(), 0);
    assert_eq!(header["kid"], after["keys"][0]["kid"]);
}

#[tokio::test]
async fn clock_offset_shows_in_date_headers_and_token_times() {
    let lab = lab_with(LabOptions {
        auto_login: Some("ada@lab.example".into()),
        clock_offset_secs: 7200,
        token_lifetime_secs: Some(120),
        ..LabOptions::default()
    })
    .await;
    for url in [
        format!("{}/lab/health", lab.base()),
        connector(&lab, "linear").mcp_url.clone(),
    ] {
        let resp = http().get(url).send().await.unwrap();
        let date = resp.headers()["date"].to_str().unwrap().to_string();
        let parsed = chrono::DateTime::parse_from_rfc2822(&date).unwrap();
        let skew = parsed.timestamp() - chrono::Utc::now().timestamp();
        assert!((7195..=7205).contains(&skew), "skew {skew} from {date}");
    }
    let tokens = sign_in(&lab).await;
    assert_eq!(tokens["expires_in"], 120);
    let claims = jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert!((claims["iat"].as_i64().unwrap() - chrono::Utc::now().timestamp() - 7200).abs() <= 5);
}

#[tokio::test]
async fn latency_delays_every_response() {
    let lab = lab_with(LabOptions {
        latency_ms: 150,
        ..LabOptions::default()
    })
    .await;
    let started = std::time::Instant::now();
    let resp = http()
        .get(format!("{}/lab/health", lab.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    lab.shutdown().await;
}

#[tokio::test]
async fn echo_request_repeats_credentials_at_every_token_endpoint() {
    let lab = ada_lab().await;
    let tokens = sign_in(&lab).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let resp = http()
        .post(format!("{}/lab/faults", lab.base()))
        .json(&serde_json::json!({"echo_request": true}))
        .send()
        .await
        .unwrap();
    let now: Faults = resp.json().await.unwrap();
    assert!(now.echo_request && !now.idp_down);

    // IdP, client_secret_basic: the secret comes back decoded, the header as sent.
    let idp_secret = secret(&lab, "idp");
    let (status, error, description) = error_of(
        idp_token(
            &lab,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await,
    )
    .await;
    assert_eq!((status, error.as_str()), (400, "invalid_request"));
    assert!(
        description.contains(&format!("refresh_token={refresh_token}")),
        "{description}"
    );
    assert!(
        description.contains(&format!("lanyard-desktop:{idp_secret}")),
        "{description}"
    );
    assert!(
        description.contains("Authorization: Basic "),
        "{description}"
    );

    // Connector AS, client_secret_post (Granola): the secret is in the echoed body.
    let granola = connector(&lab, "granola");
    let granola_secret = secret(&lab, "granola");
    let resp = http()
        .post(format!("{}/token", granola.issuer))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", "eyJhbGciOiJFUzI1NiJ9.e30.sig"),
            ("client_id", "lanyard-granola"),
            ("client_secret", granola_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let (status, error, description) = error_of(resp).await;
    assert_eq!((status, error.as_str()), (400, "invalid_request"));
    assert!(
        description.contains(&format!("client_secret={granola_secret}")),
        "{description}"
    );
    assert!(
        description.contains("Authorization: (none)"),
        "{description}"
    );

    // Off again: the refresh token (never spent while echoing) still works.
    lab.set_faults(Faults::default());
    let resp = idp_token(
        &lab,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
}
