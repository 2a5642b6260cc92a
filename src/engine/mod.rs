//! The engine the hosts drive: sign in, resolve every connector at once, renew before expiry,
//! sign out. `Lanyard` is a thin facade over two owned parts — the `Session` (IdP client,
//! renewal ladder, refresh-token rotation, its keyring items) and the `Connectors` (fan-out,
//! stale-token retry, persistence) — and the renewal loop (`renewal`). It announces every
//! change on a broadcast channel (the app's window listens; the CLI ignores it).

pub mod classify;
mod connectors;
mod context;
mod credentials;
mod error;
mod record;
mod renewal;
pub mod resolve;
pub mod schedule;
mod session;
mod subject;

use std::path::PathBuf;
use std::sync::Arc;

use crate::clock::SharedClock;
use crate::http::Http;
use crate::policy::Policy;
use crate::protocol::device_key::DeviceKey;
use crate::protocol::oidc::SignInOptions;
use crate::secret::Secret;
use crate::store::state::{State, StateDir, TraceName};
use crate::store::{KeyringStore, SecretStore, items};
use crate::trace::Step;
use crate::view::connector::ConnectorState;
use crate::view::status::StatusView;

use connectors::Connectors;
use context::Context;
pub use error::{EngineError, LogoutReport};
use session::Session;

#[derive(Default)]
pub struct Options {
    pub policy_path: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub clock: Option<SharedClock>,
    /// Defaults to the OS keyring; unit tests pass a `MemoryStore`.
    pub store: Option<Arc<dyn SecretStore>>,
    pub http_timeout: Option<std::time::Duration>,
}

pub struct Lanyard {
    ctx: Context,
    session: Session,
    connectors: Connectors,
    events: tokio::sync::broadcast::Sender<StatusView>,
    wake: tokio::sync::Notify,
    /// Queued legacy revocations are not retried before this (renewal.rs): set when the queue
    /// could not be read or written, so the loop neither spins nor delays the renewals.
    revocations_paused_until: std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
}

impl std::fmt::Debug for Lanyard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lanyard")
            .field("state_dir", &self.ctx.dir.root())
            .finish_non_exhaustive()
    }
}

impl Lanyard {
    pub fn open(opts: Options) -> Result<Self, EngineError> {
        let policy_path = crate::policy::locate(opts.policy_path.as_deref())?;
        let policy = crate::policy::load(&policy_path)?;
        let root = opts.state_dir.unwrap_or_else(StateDir::default_root);
        let dir = StateDir::open(&root)?;
        let clock = opts.clock.unwrap_or_else(crate::clock::system);
        let store: Arc<dyn SecretStore> = match opts.store {
            Some(s) => s,
            None => Arc::new(KeyringStore::open(dir.root())?),
        };
        let http = match opts.http_timeout {
            Some(t) => Http::with_timeout(clock.clone(), t),
            None => Http::new(clock.clone()),
        };
        // Before any request, so the issuer origin's semaphore is made with the policy's
        // limit rather than replaced later (a connector served from the IdP's origin may be
        // asked before the IdP client exists; that client adds the discovered endpoints'
        // origins). `parse` checked the issuer, so it is a URL.
        if let Ok(issuer) = url::Url::parse(&policy.idp.issuer) {
            http.limit_origin(&issuer, policy.idp.max_concurrent_requests);
        }
        let ctx = Context {
            policy: Arc::new(policy),
            dir,
            http,
            clock,
            store,
        };
        let (events, _) = tokio::sync::broadcast::channel(64);
        Ok(Self {
            session: Session::new(ctx.clone()),
            connectors: Connectors::new(ctx.clone()),
            ctx,
            events,
            wake: tokio::sync::Notify::new(),
            revocations_paused_until: std::sync::Mutex::new(None),
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.ctx.policy
    }

    pub fn state_dir(&self) -> &StateDir {
        &self.ctx.dir
    }

    pub fn store_backend(&self) -> &'static str {
        self.ctx.store.backend()
    }

    /// Status from the policy and the state file alone, without opening an engine: no keyring
    /// connection (on Linux, opening the keyring is a D-Bus session plus a key exchange with
    /// the Secret Service), no HTTP client, no TLS setup. What `lanyard status` runs, so a
    /// script or shell prompt polling it pays for two file reads (issue 11).
    pub fn status_of(opts: Options) -> Result<StatusView, EngineError> {
        let policy = crate::policy::load(&crate::policy::locate(opts.policy_path.as_deref())?)?;
        let root = opts.state_dir.unwrap_or_else(StateDir::default_root);
        let state = StateDir::open(&root)?.load()?;
        let clock = opts.clock.unwrap_or_else(crate::clock::system);
        Ok(crate::view::build(&policy, &state, clock.now()))
    }

    /// Status from the state file alone: no network, no keyring.
    pub fn status(&self) -> Result<StatusView, EngineError> {
        let state = self.ctx.dir.load()?;
        Ok(crate::view::build(
            &self.ctx.policy,
            &state,
            self.ctx.clock.now(),
        ))
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<StatusView> {
        self.events.subscribe()
    }

    /// The last recorded steps of a session flow (`"sign-in"`, `"session-refresh"`,
    /// `"sign-out"`) or of a connector (its id; the policy reserves the session names).
    pub fn trace(&self, name: &str) -> Vec<Step> {
        TraceName::from_name(name).map_or_else(Vec::new, |n| self.ctx.dir.load_trace(&n))
    }

    /// Something the renewal loop sleeps on changed outside the engine (a legacy disconnect
    /// queued a revocation): the loop wakes and works out its next due time again.
    pub fn reschedule(&self) {
        self.wake.notify_one();
    }

    fn announce(&self) {
        if let Ok(status) = self.status() {
            // Nobody listening (the CLI) is fine.
            let _ = self.events.send(status);
        }
        self.wake.notify_one();
    }

    /// This device's key for `private_key_jwt`, created on first use.
    pub fn device_key(&self) -> Result<Arc<DeviceKey>, EngineError> {
        credentials::device_key(self.ctx.store.as_ref())
    }

    /// Interactive sign-in, then every connector resolved.
    pub async fn sign_in(&self, opts: SignInOptions) -> Result<StatusView, EngineError> {
        self.session.sign_in(opts).await?;
        tracing::info!("signed in; resolving connectors");
        self.connectors
            .resolve(&self.session, &self.all_ids(), || self.announce())
            .await?;
        self.status()
    }

    /// Renew now: every connector, or one.
    pub async fn refresh(&self, which: Option<&str>) -> Result<StatusView, EngineError> {
        let state = self.ctx.load().await?;
        if state.session.is_none() {
            return Err(EngineError::NotSignedIn);
        }
        let ids: Vec<String> = match which {
            Some(id) if self.ctx.policy.connectors.iter().any(|c| c.id == id) => {
                vec![id.to_string()]
            }
            Some(id) => return Err(EngineError::UnknownConnector(id.to_string())),
            None => self.all_ids(),
        };
        self.connectors
            .resolve(&self.session, &ids, || self.announce())
            .await?;
        self.status()
    }

    fn all_ids(&self) -> Vec<String> {
        self.ctx
            .policy
            .connectors
            .iter()
            .map(|c| c.id.to_string())
            .collect()
    }

    /// Forget the session and every connector token; revoke the IdP refresh token if possible.
    pub async fn logout(&self) -> Result<LogoutReport, EngineError> {
        let forgotten = std::sync::atomic::AtomicUsize::new(0);
        let forget = || async {
            let ids = self.all_ids();
            let n = self
                .ctx
                .blocking(move |c| -> Result<usize, EngineError> {
                    let state = c.dir.load().unwrap_or_default();
                    let mut ids = ids;
                    ids.extend(state.connectors.keys().cloned());
                    ids.sort();
                    ids.dedup();
                    c.store.delete(items::CONNECTOR_TOKENS)?;
                    // The items an earlier version kept per connector, if any are left.
                    for id in &ids {
                        c.store.delete(&items::access_token(id))?;
                    }
                    c.dir.update(|s| *s = State::default())?;
                    c.dir.remove_traces();
                    Ok(state.connectors.len())
                })
                .await?;
            forgotten.store(n, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        };
        let (revoked_at_idp, revocation_error) = self.session.logout(forget).await?;
        self.announce();
        Ok(LogoutReport {
            revoked_at_idp,
            revocation_error,
            forgotten_connectors: forgotten.into_inner(),
        })
    }

    /// What the legacy scanner and disconnect need: this policy's connectors (with the issuers
    /// discovered so far), which of them hold a zero-touch grant, the keyring for queued
    /// revocations. `home` is the folder whose MCP clients are scanned.
    pub fn legacy_context(&self, home: PathBuf) -> crate::legacy::LegacyContext {
        self.legacy_context_of(&self.ctx.dir.load().unwrap_or_default(), home)
    }

    fn legacy_context_of(&self, state: &State, home: PathBuf) -> crate::legacy::LegacyContext {
        let issuers: std::collections::HashMap<String, String> = state
            .connectors
            .iter()
            .filter_map(|(id, r)| r.as_issuer.clone().map(|i| (id.clone(), i)))
            .collect();
        let granted = crate::view::build(&self.ctx.policy, state, self.ctx.clock.now())
            .connectors
            .into_iter()
            .filter(|c| c.state == ConnectorState::Granted)
            .map(|c| c.id)
            .collect();
        crate::legacy::LegacyContext {
            home,
            state_dir: self.ctx.dir.root().to_path_buf(),
            index: crate::legacy::ConnectorIndex::from_policy(&self.ctx.policy)
                .with_issuers(&issuers),
            ema_granted: granted,
            http: self.ctx.http.clone(),
            store: self.ctx.store.clone(),
            processes: crate::legacy::ProcessProbe::System,
        }
    }

    /// The IdP session's ID token, for the diagnostics token inspector (decoded, never shown).
    pub fn id_token(&self) -> Result<Option<Secret>, EngineError> {
        Ok(self.ctx.store.get(items::ID_TOKEN)?)
    }

    /// The access token for one connector, for hosts that hand it to an MCP client in-process.
    pub fn access_token(&self, connector_id: &str) -> Result<Option<Secret>, EngineError> {
        Ok(crate::store::connector_token(
            self.ctx.store.as_ref(),
            connector_id,
        )?)
    }
}
