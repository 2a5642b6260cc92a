//! No lab token (prefix `labsecret_`) or JWT ever reaches the state folder, the traces, the
//! status view or the engine's logs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::support::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// Current-thread: the capturing subscriber is thread-local, and every engine future runs here.
#[tokio::test]
async fn no_secret_in_state_traces_status_or_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("lanyard=trace,info")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let lab = lab_for("ada@lab.example").await;
    let env = engine(&lab);
    let status = env
        .engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap();
    env.engine.refresh(None).await.unwrap();

    let state_text = all_text_under(env.state.path());
    assert!(
        state_text.contains("linear"),
        "the state folder was written"
    );
    assert_no_secrets("state folder", &state_text);
    assert_no_secrets("status view", &serde_json::to_string(&status).unwrap());
    for name in ["sign-in", "linear", "asana", "slack"] {
        let steps = env.engine.trace(name);
        assert!(!steps.is_empty(), "{name} has a trace");
        assert_no_secrets(name, &serde_json::to_string(&steps).unwrap());
    }
    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert_no_secrets("logs", &log_text);
    env.engine.logout().await.unwrap();
    assert_no_secrets(
        "state folder after logout",
        &all_text_under(env.state.path()),
    );
}
