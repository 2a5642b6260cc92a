//! End-to-end tests of `IdpClient` against the in-test provider (`test_idp`): real HTTP, a
//! real loopback callback, a browser driven by reqwest or by `curl` through a script.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;

use super::test_idp::{CLIENT_ID, TestIdp};
use super::*;
use crate::clock::{ManualClock, SharedClock};
use crate::policy::AuthMethod;

fn config(issuer: &str) -> IdpConfig {
    IdpConfig {
        issuer: issuer.into(),
        client_id: CLIENT_ID.into(),
        client_secret: None,
        token_endpoint_auth_method: AuthMethod::None,
        scopes: ["openid", "email", "profile", "offline_access"]
            .map(String::from)
            .to_vec(),
        max_concurrent_requests: crate::http::DEFAULT_PER_HOST_CONCURRENCY,
    }
}

async fn start(clock: SharedClock) -> (TestIdp, Http) {
    let idp = TestIdp::start(clock.clone()).await;
    (idp, Http::new(clock))
}

async fn discover(idp: &TestIdp, http: &Http, trace: &Trace) -> IdpClient {
    let auth = ClientAuth::new(CLIENT_ID, AuthMethod::None, None);
    IdpClient::discover(http, &config(&idp.issuer), auth, trace)
        .await
        .unwrap()
}

/// A headless "browser": GETs the authorization URL without following redirects, then GETs
/// the `Location` (our callback) and reports what page it got.
fn driving_browser() -> (Browser, mpsc::UnboundedReceiver<(u16, String)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let browser = Browser::Print(Arc::new(move |url: &str| {
        let url = url.to_string();
        let tx = tx.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let first = client.get(&url).send().await.unwrap();
            let location = first.headers()["location"].to_str().unwrap().to_string();
            let page = client.get(&location).send().await.unwrap();
            let _ = tx.send((page.status().as_u16(), page.text().await.unwrap()));
        });
    }));
    (browser, rx)
}

fn opts(browser: Browser) -> SignInOptions {
    SignInOptions {
        browser,
        timeout: Duration::from_secs(20),
        cancel: None,
        login_hint: None,
        prompt: None,
    }
}

fn assert_no_secrets(trace: &Trace) {
    let steps = serde_json::to_string(&trace.steps()).unwrap();
    assert!(!steps.contains("eyJ"), "{steps}");
    assert!(!steps.contains("labsecret"), "{steps}");
}

#[tokio::test]
async fn full_sign_in_then_refresh_with_rotation_and_revoke() {
    let (idp, http) = start(crate::clock::system()).await;
    let trace = Trace::new();
    let client = discover(&idp, &http, &trace).await;
    let (browser, mut pages) = driving_browser();
    let tokens = client.sign_in(opts(browser), &trace).await.unwrap();

    assert!(tokens.id_token.expose().starts_with("eyJ"));
    assert!(
        tokens
            .refresh_token
            .as_ref()
            .unwrap()
            .expose()
            .starts_with("labsecret_rt_")
    );
    assert_eq!(tokens.identity.email.as_deref(), Some("ada@lab.example"));
    assert_eq!(tokens.identity.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(tokens.identity.issuer, idp.issuer);
    let (status, page) = pages.recv().await.unwrap();
    assert_eq!(status, 200);
    assert!(
        page.contains("Signed in to Lanyard — you can close this tab"),
        "{page}"
    );
    assert!(!page.contains("labsecret"), "{page}");

    // The exact token request: public client, PKCE verifier, our redirect URI.
    let (form, auth) = idp.requests().remove(0);
    let mut keys: Vec<_> = form.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "client_id",
            "code",
            "code_verifier",
            "grant_type",
            "redirect_uri"
        ]
    );
    assert!(
        form["redirect_uri"].starts_with("http://127.0.0.1:")
            && form["redirect_uri"].ends_with("/callback")
    );
    assert!(auth.is_none());

    // Rotation: a new refresh token and a new, verified ID token.
    let rt = tokens.refresh_token.unwrap();
    let fresh = client.refresh(&rt, &trace).await.unwrap();
    let new_rt = fresh.refresh_token.expect("rotated");
    assert_ne!(new_rt, rt);
    let identity = client
        .verify_refreshed_id_token(fresh.id_token.as_ref().expect("a new ID token"), &trace)
        .await
        .unwrap();
    assert_eq!(identity.subject, "user-ada");
    // The spent one is now refused as an expired session.
    assert!(matches!(
        client.refresh(&rt, &trace).await,
        Err(LoginError::SessionExpired(Some(_)))
    ));

    assert!(client.revoke_refresh_token(&new_rt, &trace).await.unwrap());
    assert_eq!(
        idp.requests().last().unwrap().0["token_type_hint"],
        "refresh_token"
    );
    assert!(matches!(
        client.refresh(&new_rt, &trace).await,
        Err(LoginError::SessionExpired(_))
    ));

    let kinds: Vec<_> = trace.steps().iter().map(|s| s.kind).collect();
    use StepKind::*;
    assert_eq!(
        kinds,
        [
            IdpDiscovery,
            Jwks,
            Authorization,
            Callback,
            Token,
            Refresh,
            Refresh,
            Revocation,
            Refresh
        ]
    );
    assert_no_secrets(&trace);
}

#[tokio::test]
async fn refresh_without_id_token_or_rotation() {
    let (idp, http) = start(crate::clock::system()).await;
    let trace = Trace::new();
    let client = discover(&idp, &http, &trace).await;
    let (browser, _pages) = driving_browser();
    let tokens = client.sign_in(opts(browser), &trace).await.unwrap();
    idp.set(|k| {
        k.refresh_id_token = false;
        k.rotate_refresh = false;
    });
    let rt = tokens.refresh_token.unwrap();
    let fresh = client.refresh(&rt, &trace).await.unwrap();
    assert!(fresh.id_token.is_none() && fresh.refresh_token.is_none());
    assert_no_secrets(&trace);
}

#[tokio::test]
async fn sign_in_through_a_curl_browser_command() {
    let (idp, http) = start(crate::clock::system()).await;
    let trace = Trace::new();
    let client = discover(&idp, &http, &trace).await;
    let tokens = client
        .sign_in(opts(Browser::Command("curl -fsSL".into())), &trace)
        .await
        .unwrap();
    assert_eq!(tokens.identity.subject, "user-ada");
    assert_no_secrets(&trace);
}

#[tokio::test]
async fn a_failing_browser_command_ends_the_sign_in() {
    let (idp, http) = start(crate::clock::system()).await;
    let trace = Trace::new();
    let client = discover(&idp, &http, &trace).await;
    let err = client
        .sign_in(opts(Browser::Command("false".into())), &trace)
        .await;
    assert!(matches!(err, Err(LoginError::Browser(_))), "{err:?}");
}

/// A fault to inject into the test IdP, and the check that must catch it.
type IdTokenCase = (fn(&mut test_idp::Knobs), IdTokenCheck);

#[tokio::test]
async fn id_token_checks_fail_the_sign_in_and_the_page_says_so() {
    let cases: [IdTokenCase; 2] = [
        (
            |k| k.nonce = Some("not-the-nonce".into()),
            IdTokenCheck::Nonce,
        ),
        (
            |k| k.aud = Some("someone-else".into()),
            IdTokenCheck::Audience,
        ),
    ];
    for (knob, check) in cases {
        let (idp, http) = start(crate::clock::system()).await;
        let trace = Trace::new();
        let client = discover(&idp, &http, &trace).await;
        idp.set(knob);
        let (browser, mut pages) = driving_browser();
        match client.sign_in(opts(browser), &trace).await {
            Err(LoginError::IdToken(c)) => assert_eq!(c, check),
            other => panic!("{other:?}"),
        }
        let (status, page) = pages.recv().await.unwrap();
        assert_eq!(status, 400);
        assert!(page.contains("Sign-in failed"), "{page}");
        assert!(
            !page.contains("eyJ") && !page.contains("labsecret"),
            "{page}"
        );
        assert!(
            trace
                .steps()
                .last()
                .unwrap()
                .note
                .as_deref()
                .unwrap_or("")
                .contains("ID token refused")
        );
        assert_no_secrets(&trace);
    }
}

#[tokio::test]
async fn expiry_uses_the_http_clock_with_60s_skew() {
    let start_at = chrono::Utc::now();
    let manual = Arc::new(ManualClock::new(start_at));
    let (idp, http) = start(manual.clone()).await;
    let trace = Trace::new();
    let client = discover(&idp, &http, &trace).await;
    let token = Secret::new(idp.id_token(None, json!({})));
    assert!(client.verify_id_token(&token, None, &trace).await.is_ok());

    manual.advance(chrono::Duration::seconds(300 + 30)); // past exp, within skew
    assert!(client.verify_id_token(&token, None, &trace).await.is_ok());
    manual.advance(chrono::Duration::seconds(40)); // exp + 70 s
    let err = client
        .verify_id_token(&token, None, &trace)
        .await
        .unwrap_err();
    assert!(
        matches!(err, LoginError::IdToken(IdTokenCheck::Expired)),
        "{err:?}"
    );
    assert_eq!(err.code(), "id_token_invalid");

    // An ID token from the future (the IdP's clock, or ours, is off).
    let future = (start_at + chrono::Duration::seconds(3600)).timestamp();
    let ahead = Secret::new(idp.id_token(None, json!({ "iat": future, "exp": future + 300 })));
    let err = client
        .verify_id_token(&ahead, None, &trace)
        .await
        .unwrap_err();
    assert!(
        matches!(err, LoginError::IdToken(IdTokenCheck::IssuedInFuture)),
        "{err:?}"
    );

    let err = client
        .verify_id_token(&Secret::new("labsecret_not_a_jwt"), None, &trace)
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::IdToken(IdTokenCheck::Malformed)));
    assert!(!err.to_string().contains("labsecret"));
}

#[tokio::test]
async fn unknown_kid_refetches_the_jwks_once() {
    let (idp, http) = start(crate::clock::system()).await;
    let trace = Trace::new();
    let client = discover(&idp, &http, &trace).await;
    idp.set(|k| k.sign_with_second = true);
    let token = Secret::new(idp.id_token(None, json!({})));
    // Still unpublished: one refetch, then refused.
    let err = client
        .verify_id_token(&token, None, &trace)
        .await
        .unwrap_err();
    assert!(
        matches!(err, LoginError::IdToken(IdTokenCheck::UnknownKey)),
        "{err:?}"
    );
    idp.set(|k| k.publish_second = true);
    client.verify_id_token(&token, None, &trace).await.unwrap();
    let jwks = trace
        .steps()
        .iter()
        .filter(|s| s.kind == StepKind::Jwks)
        .count();
    assert_eq!(
        jwks, 3,
        "discovery, then one refetch per unknown-kid verification"
    );
    // Now cached: no further fetch.
    client.verify_id_token(&token, None, &trace).await.unwrap();
    assert_eq!(
        trace
            .steps()
            .iter()
            .filter(|s| s.kind == StepKind::Jwks)
            .count(),
        3
    );
}

#[tokio::test]
async fn wrong_issuer_in_discovery_is_refused() {
    let (idp, http) = start(crate::clock::system()).await;
    let with_slash = format!("{}/", idp.issuer);
    idp.set(|k| k.doc_issuer = Some(with_slash.clone()));
    let trace = Trace::new();
    let auth = ClientAuth::new(CLIENT_ID, AuthMethod::None, None);
    match IdpClient::discover(&http, &config(&idp.issuer), auth, &trace).await {
        Err(LoginError::IssuerMismatch { expected, found }) => {
            assert_eq!(expected, idp.issuer);
            assert_eq!(found, with_slash);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        trace.steps().len(),
        1,
        "no JWKS fetched from an untrusted document"
    );
    assert!(trace.steps()[0].note.as_deref().unwrap().contains("issuer"));
}

#[tokio::test]
async fn iss_mismatch_and_idp_errors_end_the_sign_in() {
    let (idp, http) = start(crate::clock::system()).await;
    let trace = Trace::new();
    let client = discover(&idp, &http, &trace).await;
    idp.set(|k| k.iss_param = Some("http://evil.example".into()));
    let (browser, mut pages) = driving_browser();
    let err = client.sign_in(opts(browser), &trace).await.unwrap_err();
    assert!(matches!(err, LoginError::IssMismatch { .. }), "{err:?}");
    assert_eq!(pages.recv().await.unwrap().0, 400);

    // Advertised but absent is refused too (RFC 9207 §2.4).
    idp.set(|k| k.iss_param = Some(String::new()));
    let (browser, _pages) = driving_browser();
    let err = client.sign_in(opts(browser), &trace).await.unwrap_err();
    assert!(
        matches!(err, LoginError::IssMismatch { found: None, .. }),
        "{err:?}"
    );

    idp.set(|k| {
        k.iss_param = None;
        k.deny = true;
    });
    let (browser, _pages) = driving_browser();
    let err = client.sign_in(opts(browser), &trace).await.unwrap_err();
    assert!(
        matches!(&err, LoginError::Authorization { error, .. } if error == "access_denied"),
        "{err:?}"
    );
    assert!(idp.requests().is_empty(), "no code was exchanged");
    assert_no_secrets(&trace);
}

#[tokio::test]
async fn timeout_and_cancel_end_the_wait() {
    let (idp, http) = start(crate::clock::system()).await;
    let trace = Trace::new();
    let client = discover(&idp, &http, &trace).await;
    let silent = || Browser::Print(Arc::new(|_: &str| {}));

    let opts_t = SignInOptions {
        browser: silent(),
        timeout: Duration::from_millis(150),
        cancel: None,
        login_hint: None,
        prompt: None,
    };
    assert!(matches!(
        client.sign_in(opts_t, &trace).await,
        Err(LoginError::Timeout(_))
    ));

    let (tx, rx) = tokio::sync::oneshot::channel();
    let opts_c = SignInOptions {
        browser: silent(),
        timeout: Duration::from_secs(30),
        cancel: Some(rx),
        login_hint: None,
        prompt: None,
    };
    let run = tokio::spawn({
        let client = client.clone();
        let trace = trace.clone();
        async move { client.sign_in(opts_c, &trace).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    tx.send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(result, Err(LoginError::Cancelled)), "{result:?}");

    // A dropped sender is not a cancellation.
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    drop(tx);
    let opts_d = SignInOptions {
        browser: silent(),
        timeout: Duration::from_millis(150),
        cancel: Some(rx),
        login_hint: None,
        prompt: None,
    };
    assert!(matches!(
        client.sign_in(opts_d, &trace).await,
        Err(LoginError::Timeout(_))
    ));
}

#[tokio::test]
async fn client_secret_basic_and_missing_revocation_endpoint() {
    let (idp, http) = start(crate::clock::system()).await;
    idp.set(|k| k.revocation = false);
    let trace = Trace::new();
    let auth = ClientAuth::new(
        CLIENT_ID,
        AuthMethod::ClientSecretBasic,
        Some(Secret::new("labsecret_cs")),
    );
    let client = IdpClient::discover(&http, &config(&idp.issuer), auth, &trace)
        .await
        .unwrap();
    assert!(client.revocation_endpoint().is_none());
    let (browser, _pages) = driving_browser();
    let tokens = client.sign_in(opts(browser), &trace).await.unwrap();
    let (form, authz) = idp.requests().remove(0);
    assert!(!form.contains_key("client_id") && !form.contains_key("client_secret"));
    assert!(authz.unwrap().starts_with("Basic "));
    assert!(
        !client
            .revoke_refresh_token(&tokens.refresh_token.unwrap(), &trace)
            .await
            .unwrap()
    );
    assert!(
        format!("{client:?}").contains("[redacted]")
            && !format!("{client:?}").contains("labsecret")
    );
    assert_no_secrets(&trace);
}

#[tokio::test]
async fn login_hint_and_prompt_go_into_the_authorization_request_only_when_set() {
    let (idp, http) = start(crate::clock::system()).await;
    let trace = Trace::new();
    let client = discover(&idp, &http, &trace).await;
    let urls = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let capture = || {
        let urls = urls.clone();
        Browser::Print(Arc::new(move |url: &str| {
            urls.lock().unwrap().push(url.to_string())
        }))
    };
    let hinted = SignInOptions {
        login_hint: Some("grace@lab.example".into()),
        prompt: Some("login".into()),
        timeout: Duration::from_millis(100),
        ..opts(capture())
    };
    let _ = client.sign_in(hinted, &trace).await;
    let plain = SignInOptions {
        timeout: Duration::from_millis(100),
        ..opts(capture())
    };
    let _ = client.sign_in(plain, &trace).await;
    let params = |i: usize| -> std::collections::HashMap<String, String> {
        url::Url::parse(&urls.lock().unwrap()[i])
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    };
    let (hinted, plain) = (params(0), params(1));
    assert_eq!(hinted["login_hint"], "grace@lab.example");
    assert_eq!(hinted["prompt"], "login");
    assert!(!plain.contains_key("login_hint") && !plain.contains_key("prompt"));
    assert_eq!(hinted["code_challenge_method"], "S256", "PKCE stays");
    // The recorded step keeps `prompt` but not the hinted address.
    let steps = serde_json::to_string(&trace.steps()).unwrap();
    assert!(steps.contains("prompt=login"), "{steps}");
    assert!(!steps.contains("grace@lab.example"), "{steps}");
}
