//! The Admin pilot page's commands through the mock runtime: registered, allowed, and bad
//! input refused with a code the window branches on, before any test user signs in.

use crate::{app, invoke};

#[test]
fn pilot_commands_are_registered_and_refuse_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    let check = invoke(&window, "pilot_policy_check", serde_json::json!({})).unwrap();
    assert!(
        check["source"].as_str().unwrap().ends_with("policy.json"),
        "{check}"
    );
    assert!(check["problems"].is_array());

    let err = invoke(
        &window,
        "run_pilot_matrix",
        serde_json::json!({"users": [" ", ""], "expected": null}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "invalid_input", "{err}");
    let err = invoke(
        &window,
        "run_pilot_matrix",
        serde_json::json!({"users": ["ada@lab.example"], "expected": "ada@lab.example,linear,extra"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "invalid_input", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("at line 1"),
        "{err}"
    );
    // Nothing running: Skip and Cancel are harmless.
    invoke(&window, "skip_pilot_user", serde_json::json!({})).unwrap();
    invoke(&window, "cancel_pilot_matrix", serde_json::json!({})).unwrap();
}
