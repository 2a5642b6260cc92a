//! Command smoke tests through Tauri's mock runtime: the real commands and the real engine
//! (in-memory keyring), invoked over IPC as the window would, with the Linux origin.

mod pilot;

use std::sync::Arc;

use lanyard::store::MemoryStore;
use lanyard::{Lanyard, Options};
use lanyard_app::app_state::AppState;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;

const POLICY: &str = r#"{"idp": {"issuer": "http://127.0.0.1:9/idp", "client_id": "lanyard-desktop"},
  "connectors": [{"id": "linear", "name": "Linear", "mcp_url": "http://127.0.0.1:9/mcp", "client_id": "l"}]}"#;

fn app(
    dir: &std::path::Path,
) -> (
    tauri::App<tauri::test::MockRuntime>,
    tauri::WebviewWindow<tauri::test::MockRuntime>,
) {
    let policy = dir.join("policy.json");
    std::fs::write(&policy, POLICY).unwrap();
    let engine = Lanyard::open(Options {
        policy_path: Some(policy),
        state_dir: Some(dir.join("state")),
        store: Some(Arc::new(MemoryStore::new())),
        ..Options::default()
    })
    .unwrap();
    let app = lanyard_app::configure(mock_builder(), AppState::with_engine(Ok(Arc::new(engine))))
        .build(mock_context(noop_assets()))
        .unwrap();
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    (app, window)
}

fn invoke(
    window: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    body: serde_json::Value,
) -> Result<serde_json::Value, serde_json::Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(body),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|r| r.deserialize::<serde_json::Value>().unwrap())
}

#[test]
fn get_status_returns_the_versioned_view() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    let status = invoke(&window, "get_status", serde_json::json!({})).unwrap();
    assert_eq!(status["version"], 1);
    assert_eq!(status["session"]["state"], "signed_out");
    assert_eq!(status["connectors"][0]["id"], "linear");
    assert_eq!(status["connectors"][0]["state"], "needs_sign_in");
}

#[test]
fn the_window_can_report_its_first_painted_status() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    // Registered and answered (the start-up time goes to the log: src-tauri/src/startup.rs).
    assert_eq!(
        invoke(&window, "status_painted", serde_json::json!({})),
        Ok(serde_json::Value::Null)
    );
}

#[test]
fn errors_cross_as_code_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    let err = invoke(&window, "refresh", serde_json::json!({"connectorId": null})).unwrap_err();
    assert_eq!(err["code"], "not_signed_in", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("Sign in"),
        "{err}"
    );
    let err = invoke(
        &window,
        "refresh",
        serde_json::json!({"connectorId": "linear"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "not_signed_in");
}

#[test]
fn sign_out_when_signed_out_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    let status = invoke(&window, "sign_out", serde_json::json!({})).unwrap();
    assert_eq!(status["session"]["state"], "signed_out");
}

#[test]
fn details_and_diagnostics_commands_are_registered_and_safe() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    let timeline = invoke(
        &window,
        "get_timeline",
        serde_json::json!({"name": "sign-in"}),
    )
    .unwrap();
    assert_eq!(timeline["name"], "sign-in");
    assert_eq!(
        timeline["outcome"], "empty",
        "nothing recorded before a sign-in"
    );
    let err = invoke(&window, "get_timeline", serde_json::json!({"name": "nope"})).unwrap_err();
    assert_eq!(err["code"], "unknown_connector", "{err}");
    let err = invoke(
        &window,
        "run_readiness",
        serde_json::json!({"connectorId": "nope"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "unknown_connector", "{err}");
}
