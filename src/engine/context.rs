//! What every part of the engine shares — the policy, the state folder, the keyring, the HTTP
//! client and the clock — and the async doors to the blocking ones.
//!
//! Keyring calls are D-Bus round trips and state writes take a file lock and fsync: on the
//! async runtime they would stall every timer and socket of the process (the app's window
//! included). Every such call from async code goes through `blocking`, which runs it on
//! tokio's blocking pool.

use std::sync::Arc;

use crate::clock::SharedClock;
use crate::http::Http;
use crate::policy::Policy;
use crate::secret::Secret;
use crate::store::state::{State, StateDir, StateError, TraceName};
use crate::store::{SecretStore, StoreError};
use crate::trace::Trace;

#[derive(Clone)]
pub(super) struct Context {
    pub policy: Arc<Policy>,
    pub dir: StateDir,
    pub http: Http,
    pub clock: SharedClock,
    pub store: Arc<dyn SecretStore>,
}

impl Context {
    /// Runs blocking work (keyring, file locks, fsync) off the async runtime's threads.
    pub async fn blocking<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Context) -> T + Send + 'static,
    ) -> T {
        let ctx = self.clone();
        match tokio::task::spawn_blocking(move || job(&ctx)).await {
            Ok(v) => v,
            // Blocking jobs are never aborted, so a JoinError is a panic in our own code:
            // re-raise it where it belongs instead of inventing a result.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    pub async fn load(&self) -> Result<State, StateError> {
        self.blocking(|c| c.dir.load()).await
    }

    /// Read-modify-write of the state file under its cross-process lock.
    pub async fn update(
        &self,
        change: impl FnOnce(&mut State) + Send + 'static,
    ) -> Result<(), StateError> {
        self.blocking(move |c| c.dir.update(change)).await
    }

    pub async fn secret(&self, item: impl Into<String>) -> Result<Option<Secret>, StoreError> {
        let item = item.into();
        self.blocking(move |c| c.store.get(&item)).await
    }

    pub async fn set_secret(
        &self,
        item: impl Into<String>,
        value: Secret,
    ) -> Result<(), StoreError> {
        let item = item.into();
        self.blocking(move |c| c.store.set(&item, &value)).await
    }

    pub async fn delete_secret(&self, item: impl Into<String>) -> Result<(), StoreError> {
        let item = item.into();
        self.blocking(move |c| c.store.delete(&item)).await
    }

    /// Traces are diagnostics: a failure to save one is logged, never fatal to the flow.
    pub async fn save_trace(&self, name: TraceName, trace: &Trace) {
        let steps = trace.steps();
        let shown = name.to_string();
        if let Err(e) = self
            .blocking(move |c| c.dir.save_trace(&name, &steps))
            .await
        {
            tracing::warn!(trace = %shown, "could not save the trace: {e}");
        }
    }
}
