//! Remote sign-in against the in-test provider (`test_idp`): the device flow (RFC 8628) and
//! paste-back, over real HTTP, with the loopback listener still up during paste-back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::test_idp::{CLIENT_ID, TestIdp};
use super::*;
use crate::diagnose::timeline::{Outcome, Verdict};
use crate::policy::AuthMethod;

async fn client(idp: &TestIdp, trace: &Trace) -> IdpClient {
    let http = Http::new(crate::clock::system());
    let config = IdpConfig {
        issuer: idp.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: None,
        token_endpoint_auth_method: AuthMethod::None,
        scopes: ["openid", "email", "offline_access"]
            .map(String::from)
            .to_vec(),
        max_concurrent_requests: crate::http::DEFAULT_PER_HOST_CONCURRENCY,
    };
    let auth = ClientAuth::new(CLIENT_ID, AuthMethod::None, None);
    IdpClient::discover(&http, &config, auth, trace)
        .await
        .unwrap()
}

/// Everything the host was asked to show, as text.
type Shown = Arc<Mutex<Vec<String>>>;

fn remote(flow: RemoteFlow, pasted: PasteReader) -> (Browser, Shown) {
    let shown: Shown = Arc::default();
    let log = shown.clone();
    let show: remote::Show = Arc::new(move |p: &Prompt<'_>| {
        log.lock().unwrap().push(format!("{p:?}"));
    });
    let browser = Browser::Remote(Remote { flow, show, pasted });
    (browser, shown)
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
    assert!(
        !steps.contains("eyJ") && !steps.contains("labsecret"),
        "{steps}"
    );
}

#[tokio::test]
async fn device_flow_polls_until_approved_and_verifies_the_id_token() {
    let idp = TestIdp::start(crate::clock::system()).await;
    idp.set(|k| {
        k.device = true;
        k.device_answers = vec!["authorization_pending", "authorization_pending"];
    });
    let trace = Trace::new();
    let client = client(&idp, &trace).await;
    let (browser, shown) = remote(RemoteFlow::Auto, PasteReader::none());
    let tokens = client.sign_in(opts(browser), &trace).await.unwrap();
    assert_eq!(tokens.identity.email.as_deref(), Some("ada@lab.example"));
    assert!(tokens.refresh_token.is_some());

    let shown = shown.lock().unwrap().join("\n");
    assert!(
        shown.contains("DeviceCode") && shown.contains("BCDF-GHJK"),
        "{shown}"
    );
    assert!(shown.contains("/device?user_code=BCDF-GHJK"), "{shown}");
    assert!(
        !shown.contains("labsecret"),
        "the device code is never shown: {shown}"
    );

    // RFC 8628 §3.1 and §3.4 request shapes: a public client sends its client_id.
    let requests = idp.requests();
    let (start, _) = &requests[0];
    assert_eq!(start["client_id"], CLIENT_ID);
    assert_eq!(start["scope"], "openid email offline_access");
    assert_eq!(start.len(), 2, "{start:?}");
    let (poll, _) = &requests[1];
    assert_eq!(
        poll["grant_type"],
        "urn:ietf:params:oauth:grant-type:device_code"
    );
    assert!(poll["device_code"].starts_with("labsecret_dc_"));
    assert_eq!(requests.len(), 4, "three polls: pending, pending, tokens");

    // The 1 s interval is honoured between polls.
    let polls = idp.polls();
    for pair in polls.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(950), "{polls:?}");
    }
    assert_no_secrets(&trace);

    // Each poll is a step of the sign-in's timeline: waiting is not failing.
    let steps = device_steps(&trace);
    assert_eq!(
        steps,
        [
            (
                StepKind::DeviceAuthorization,
                Verdict::Ok,
                Some("device code shown to the person; polling every 1 s".into())
            ),
            (
                StepKind::DevicePoll,
                Verdict::Info,
                Some(String::from("not approved yet; next poll in 1 s"))
            ),
            (
                StepKind::DevicePoll,
                Verdict::Info,
                Some(String::from("not approved yet; next poll in 1 s"))
            ),
            (StepKind::DevicePoll, Verdict::Ok, None),
        ]
    );
}

/// The device flow's steps in the sign-in timeline: kind, verdict, note.
fn device_steps(trace: &Trace) -> Vec<(StepKind, Verdict, Option<String>)> {
    let timeline = crate::diagnose::timeline::build("sign-in", &trace.steps(), None, None);
    timeline
        .steps
        .into_iter()
        .filter(|s| matches!(s.kind, StepKind::DeviceAuthorization | StepKind::DevicePoll))
        .map(|s| (s.kind, s.verdict, s.note))
        .collect()
}

#[tokio::test]
async fn an_expired_device_code_is_the_failed_step_of_the_sign_in_timeline() {
    let idp = TestIdp::start(crate::clock::system()).await;
    idp.set(|k| {
        k.device = true;
        k.device_answers = vec!["authorization_pending", "expired_token"];
    });
    let trace = Trace::new();
    let client = client(&idp, &trace).await;
    let (browser, _) = remote(RemoteFlow::Device, PasteReader::none());
    let err = client.sign_in(opts(browser), &trace).await.unwrap_err();
    assert!(matches!(err, LoginError::DeviceCodeExpired), "{err:?}");
    let timeline = crate::diagnose::timeline::build("sign-in", &trace.steps(), None, None);
    assert_eq!(timeline.outcome, Outcome::Failed);
    let why = timeline.failure.expect("explained");
    assert_eq!((why.code.as_str(), why.known), ("expired_token", true));
    assert!(
        why.employee.contains("login --no-browser"),
        "{}",
        why.employee
    );
    let kinds: Vec<_> = device_steps(&trace)
        .into_iter()
        .map(|s| (s.0, s.1))
        .collect();
    assert_eq!(
        kinds,
        [
            (StepKind::DeviceAuthorization, Verdict::Ok),
            (StepKind::DevicePoll, Verdict::Info),
            (StepKind::DevicePoll, Verdict::Failed),
        ]
    );
}

#[tokio::test]
async fn slow_down_adds_five_seconds_to_the_interval() {
    let idp = TestIdp::start(crate::clock::system()).await;
    idp.set(|k| {
        k.device = true;
        k.device_answers = vec!["slow_down"];
    });
    let trace = Trace::new();
    let client = client(&idp, &trace).await;
    let (browser, _) = remote(RemoteFlow::Device, PasteReader::none());
    client.sign_in(opts(browser), &trace).await.unwrap();
    let polls = idp.polls();
    assert_eq!(polls.len(), 2, "slow_down, then tokens");
    let gap = polls[1] - polls[0];
    assert!(gap >= Duration::from_secs(6), "1 s + 5 s, got {gap:?}");
    assert!(gap < Duration::from_secs(8), "{gap:?}");
    let slowed = &device_steps(&trace)[1];
    assert_eq!(
        (slowed.1, slowed.2.as_deref()),
        (
            Verdict::Info,
            Some("the IdP asked to poll more slowly; next poll in 6 s")
        )
    );
}

#[tokio::test]
async fn device_flow_ends_clearly_on_denial_expiry_and_a_bad_id_token() {
    let idp = TestIdp::start(crate::clock::system()).await;
    let trace = Trace::new();
    idp.set(|k| k.device = true);
    let client = client(&idp, &trace).await;
    let run = |answers: Vec<&'static str>| {
        idp.set(|k| k.device_answers = answers);
        let (browser, _) = remote(RemoteFlow::Device, PasteReader::none());
        client.sign_in(opts(browser), &trace)
    };
    match run(vec!["authorization_pending", "access_denied"]).await {
        Err(e @ LoginError::DeviceDenied(_)) => assert_eq!(e.code(), "device_denied"),
        other => panic!("{other:?}"),
    }
    match run(vec!["expired_token"]).await {
        Err(e @ LoginError::DeviceCodeExpired) => {
            assert!(e.to_string().contains("expired before it was approved"))
        }
        other => panic!("{other:?}"),
    }
    // The ID token is checked as in the code flow: here its audience is someone else.
    idp.set(|k| k.aud = Some("someone-else".into()));
    match run(vec![]).await {
        Err(LoginError::IdToken(IdTokenCheck::Audience)) => {}
        other => panic!("{other:?}"),
    }
    assert_no_secrets(&trace);
}

#[tokio::test]
async fn device_flow_forced_without_the_endpoint_is_refused_before_anything_is_sent() {
    let idp = TestIdp::start(crate::clock::system()).await;
    let trace = Trace::new();
    let client = client(&idp, &trace).await;
    let (browser, shown) = remote(RemoteFlow::Device, PasteReader::none());
    let err = client.sign_in(opts(browser), &trace).await.unwrap_err();
    assert!(matches!(err, LoginError::DeviceUnsupported), "{err:?}");
    assert!(err.hint().contains("--paste"), "{}", err.hint());
    assert!(shown.lock().unwrap().is_empty() && idp.requests().is_empty());
}

/// A person on another machine: opens the URL the host showed (without following the
/// redirect to the unreachable loopback), then pastes `edit(location)` back.
fn paste_back<F, Fut>(edit: F) -> (Browser, Shown)
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Vec<String>> + Send + 'static,
{
    let (tx, pasted) = PasteReader::channel();
    let (browser, shown) = remote(RemoteFlow::Auto, pasted);
    let Browser::Remote(mut r) = browser else {
        unreachable!()
    };
    let record = r.show.clone();
    let edit = Arc::new(edit);
    r.show = Arc::new(move |p: &Prompt<'_>| {
        record(p);
        if let Prompt::OpenAndPaste { url } = p {
            let (url, tx, edit) = (url.to_string(), tx.clone(), edit.clone());
            tokio::spawn(async move {
                let location = follow_once(&url).await;
                for line in edit(location).await {
                    tx.send(line).await.unwrap();
                }
            });
        }
    });
    (Browser::Remote(r), shown)
}

async fn follow_once(url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let first = client.get(url).send().await.unwrap();
    first.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn paste_back_redeems_the_pasted_code_with_pkce() {
    let idp = TestIdp::start(crate::clock::system()).await;
    let trace = Trace::new();
    let client = client(&idp, &trace).await;
    // A typo first, then the real address (with the blank line a terminal paste may add).
    let (browser, shown) = paste_back(|loc| async { vec!["not a url".into(), String::new(), loc] });
    let tokens = client.sign_in(opts(browser), &trace).await.unwrap();
    assert_eq!(tokens.identity.subject, "user-ada");
    let shown = shown.lock().unwrap().join("\n");
    assert!(
        shown.contains("OpenAndPaste") && shown.contains("PasteAgain"),
        "{shown}"
    );

    let (form, _) = idp.requests().remove(0);
    assert_eq!(form["grant_type"], "authorization_code");
    assert!(
        form.contains_key("code_verifier"),
        "PKCE as on the loopback path"
    );
    assert!(form["redirect_uri"].ends_with("/callback"));
    let pasted: Vec<_> = trace
        .steps()
        .into_iter()
        .filter(|s| s.kind == StepKind::Callback)
        .collect();
    assert_eq!(pasted.len(), 1);
    assert!(pasted[0].note.as_deref().unwrap().contains("paste-back"));
    assert_no_secrets(&trace);
}

#[tokio::test]
async fn paste_back_refuses_another_attempts_address_and_a_replayed_code() {
    let idp = TestIdp::start(crate::clock::system()).await;
    let trace = Trace::new();
    let client = client(&idp, &trace).await;

    let (browser, _) = paste_back(|loc| async move {
        let mut url = url::Url::parse(&loc).unwrap();
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "state" {
                    "older".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(kept);
        vec![url.to_string()]
    });
    let err = client.sign_in(opts(browser), &trace).await.unwrap_err();
    assert!(matches!(err, LoginError::StateMismatch), "{err:?}");
    assert!(err.to_string().contains("another sign-in attempt"), "{err}");
    assert!(idp.requests().is_empty(), "nothing was redeemed");

    // Someone redeemed the code first (the IdP burns a code on its first use).
    let idp_token = format!("{}/token", idp.issuer);
    let (browser, _) = paste_back(move |loc| {
        let token = idp_token.clone();
        async move {
            let code = url::Url::parse(&loc)
                .unwrap()
                .query_pairs()
                .find(|(k, _)| k == "code")
                .unwrap()
                .1
                .into_owned();
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
            ];
            let burnt = reqwest::Client::new().post(token).form(&form).send().await;
            assert_eq!(
                burnt.unwrap().status(),
                400,
                "no verifier: refused, and burnt"
            );
            vec![loc]
        }
    });
    let err = client.sign_in(opts(browser), &trace).await.unwrap_err();
    match &err {
        LoginError::CodeExchange(e) => assert_eq!(e.error, "invalid_grant"),
        other => panic!("{other:?}"),
    }
    assert!(err.hint().contains("works once"), "{}", err.hint());
    assert_no_secrets(&trace);
}

#[tokio::test]
async fn paste_back_keeps_the_loopback_listener_so_a_reachable_browser_still_wins() {
    let idp = TestIdp::start(crate::clock::system()).await;
    let trace = Trace::new();
    let client = client(&idp, &trace).await;
    let (lines, pasted) = PasteReader::channel();
    let (pages_tx, mut pages) = mpsc::unbounded_channel();
    let show: remote::Show = Arc::new(move |p: &Prompt<'_>| {
        if let Prompt::OpenAndPaste { url } = p {
            let (url, pages_tx) = (url.to_string(), pages_tx.clone());
            tokio::spawn(async move {
                let page = reqwest::get(url).await.unwrap();
                let _ = pages_tx.send(page.status().as_u16());
            });
        }
    });
    let browser = Browser::Remote(Remote {
        flow: RemoteFlow::PasteBack,
        show,
        pasted,
    });
    let tokens = client.sign_in(opts(browser), &trace).await.unwrap();
    assert_eq!(tokens.identity.subject, "user-ada");
    assert_eq!(
        pages.recv().await,
        Some(200),
        "the browser got the success page"
    );
    drop(lines);
}
