//! Paste-back: the authorization response arrives as text the person pastes, not as a request
//! to the loopback listener. After signing in elsewhere, their browser is sent to
//! `http://127.0.0.1:PORT/callback?code=…&state=…&iss=…`, which cannot load on their machine;
//! they copy that address from the address bar and paste it where Lanyard reads.
//!
//! A pasted address is judged exactly like a loopback callback (`callback::judge`: our `state`,
//! then RFC 9207 `iss`, then `error=` or the code), and the code is redeemed with the same PKCE
//! verifier and nonce. Unlike the listener, which ignores strays because anything on this
//! machine can reach its port, a pasted address comes from the person: one with another
//! `state` ends the sign-in with `StateMismatch`, so they learn at once that they pasted the
//! wrong tab. Lines that are not a callback address at all (blank, the authorization URL
//! itself, a typo) only ask again.

use std::collections::HashMap;

use super::callback::{Expected, judge, same_secret};
use super::error::LoginError;
use super::remote::{Prompt, Remote};
use crate::clock::SharedClock;
use crate::secret::Secret;
use crate::trace::{Step, StepKind, Trace, redact_url};

/// What one pasted line amounts to.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// A blank line: nothing to say.
    Blank,
    /// Not a callback address; tell the person why and keep reading.
    Again(String),
    /// The response for this sign-in: its code, or why it ends the sign-in.
    Final(Result<Secret, LoginError>),
}

/// Judges one pasted line against the sign-in in progress. `redirect_uri` is the loopback URL
/// the authorization request named.
pub(crate) fn judge_line(line: &str, expected: &Expected, redirect_uri: &url::Url) -> Verdict {
    let text = line.trim().trim_matches(|c| "\"'<>".contains(c));
    if text.is_empty() {
        return Verdict::Blank;
    }
    let Ok(pasted) = url::Url::parse(text) else {
        return Verdict::Again(format!(
            "That is not an address. After signing in, copy the whole address from the browser's address bar (it starts with {}).",
            origin_and_path(redirect_uri)
        ));
    };
    if pasted.host_str() != redirect_uri.host_str() || pasted.path() != redirect_uri.path() {
        return Verdict::Again(format!(
            "That is not the address the sign-in ends on. Open the sign-in address in a browser, sign in, then copy the address the browser shows next (it starts with {}).",
            origin_and_path(redirect_uri)
        ));
    }
    let mut params = HashMap::new();
    for (k, v) in pasted.query_pairs() {
        if params.insert(k.into_owned(), v.into_owned()).is_some() {
            return Verdict::Final(Err(LoginError::Callback(
                "a parameter is repeated in the pasted address".into(),
            )));
        }
    }
    if !params.contains_key("state") {
        return Verdict::Again(
            "That address has no sign-in response in it (no state). Copy the whole address, including everything after the \"?\".".into(),
        );
    }
    let ours = params
        .get("state")
        .is_some_and(|s| same_secret(s, expected.state.expose()));
    if !ours {
        return Verdict::Final(Err(LoginError::StateMismatch));
    }
    Verdict::Final(judge(expected, &params))
}

/// "http://127.0.0.1:PORT/callback", never a query value.
fn origin_and_path(url: &url::Url) -> String {
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

/// Reads pasted lines until one decides this sign-in. Never returns if the host stops feeding
/// lines first (the listener, the timeout or cancel end the sign-in then).
pub(crate) async fn next_code(
    remote: &Remote,
    expected: &Expected,
    redirect_uri: &url::Url,
    trace: &Trace,
    clock: &SharedClock,
) -> Result<Secret, LoginError> {
    let mut lines = remote.pasted.0.lock().await;
    while let Some(line) = lines.recv().await {
        match judge_line(&line, expected, redirect_uri) {
            Verdict::Blank => {}
            Verdict::Again(why) => (remote.show)(&Prompt::PasteAgain { why: &why }),
            Verdict::Final(outcome) => {
                record(&line, &outcome, trace, clock);
                return outcome;
            }
        }
    }
    std::future::pending().await
}

/// The pasted response in the sign-in's trace, like a callback step; the URL loses its query
/// values, so no code or state is stored.
fn record(line: &str, outcome: &Result<Secret, LoginError>, trace: &Trace, clock: &SharedClock) {
    let shown = url::Url::parse(line.trim().trim_matches(|c| "\"'<>".contains(c)))
        .map(|u| redact_url(&u))
        .unwrap_or_else(|_| "(pasted address)".into());
    let note = match outcome {
        Ok(_) => "pasted by the person (paste-back)".to_string(),
        Err(e) => format!("pasted by the person (paste-back); refused: {e}"),
    };
    trace.push(Step {
        kind: StepKind::Callback,
        method: "GET".into(),
        url: shown,
        status: None,
        duration_ms: 0,
        started_at: clock.now(),
        server_date: None,
        oauth_error: None,
        note: Some(note),
        claims: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "http://127.0.0.1:9/idp";

    fn expected() -> Expected {
        Expected {
            state: Secret::new("st4te"),
            issuer: ISSUER.into(),
            iss_required: true,
        }
    }

    fn redirect() -> url::Url {
        url::Url::parse("http://127.0.0.1:4242/callback").unwrap()
    }

    fn iss() -> String {
        url::form_urlencoded::byte_serialize(ISSUER.as_bytes()).collect()
    }

    fn verdict(line: &str) -> Verdict {
        judge_line(line, &expected(), &redirect())
    }

    #[test]
    fn the_address_of_this_sign_in_yields_its_code() {
        let line = format!(
            "  \"http://127.0.0.1:4242/callback?code=labsecret_code_1&state=st4te&iss={}\" \n",
            iss()
        );
        match verdict(&line) {
            Verdict::Final(Ok(code)) => assert_eq!(code.expose(), "labsecret_code_1"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn another_attempts_address_is_refused_with_a_clear_message() {
        let line = format!(
            "http://127.0.0.1:5151/callback?code=labsecret_code_1&state=older&iss={}",
            iss()
        );
        match verdict(&line) {
            Verdict::Final(Err(e @ LoginError::StateMismatch)) => {
                let text = e.to_string();
                assert!(text.contains("another sign-in attempt"), "{text}");
                assert!(!text.contains("older") && !text.contains("labsecret"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn iss_and_error_are_checked_as_for_the_loopback() {
        let wrong_iss = "http://127.0.0.1:4242/callback?code=labsecret_code_1&state=st4te&iss=http%3A%2F%2Fevil.example";
        assert!(matches!(
            verdict(wrong_iss),
            Verdict::Final(Err(LoginError::IssMismatch { .. }))
        ));
        let no_iss = "http://127.0.0.1:4242/callback?code=labsecret_code_1&state=st4te";
        assert!(matches!(
            verdict(no_iss),
            Verdict::Final(Err(LoginError::IssMismatch { found: None, .. }))
        ));
        let error = format!(
            "http://127.0.0.1:4242/callback?error=access_denied&error_description=labsecret_at_0123456789abcdef0123456789+not+assigned&state=st4te&iss={}",
            iss()
        );
        match verdict(&error) {
            Verdict::Final(Err(LoginError::Authorization { error, description })) => {
                assert_eq!(error, "access_denied");
                let d = description.unwrap();
                assert!(
                    d.contains("not assigned") && !d.contains("labsecret"),
                    "{d}"
                );
            }
            other => panic!("{other:?}"),
        }
        let repeated = "http://127.0.0.1:4242/callback?code=a&code=b&state=st4te";
        assert!(matches!(
            verdict(repeated),
            Verdict::Final(Err(LoginError::Callback(_)))
        ));
    }

    #[test]
    fn lines_that_are_not_the_callback_ask_again() {
        assert!(matches!(verdict("   "), Verdict::Blank));
        for line in [
            "labsecret_code_1",
            "http://127.0.0.1:9/idp/authorize?client_id=x&state=st4te",
        ] {
            match verdict(line) {
                Verdict::Again(why) => {
                    assert!(why.contains("http://127.0.0.1:4242/callback"), "{why}");
                    assert!(!why.contains("labsecret") && !why.contains("st4te"));
                }
                other => panic!("{line}: {other:?}"),
            }
        }
        match verdict("http://127.0.0.1:4242/callback") {
            Verdict::Again(why) => assert!(why.contains("everything after"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_trace_keeps_no_query_value() {
        let trace = Trace::new();
        let line = "http://127.0.0.1:4242/callback?code=labsecret_code_1&state=st4te";
        record(line, &Ok(Secret::new("x")), &trace, &crate::clock::system());
        let steps = serde_json::to_string(&trace.steps()).unwrap();
        assert!(
            !steps.contains("labsecret") && !steps.contains("st4te"),
            "{steps}"
        );
        assert!(steps.contains("paste-back"), "{steps}");
    }
}
