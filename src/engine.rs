//! The engine the hosts drive: sign in, resolve every connector at once, renew before expiry,
//! sign out. It owns the policy, the state folder, the keyring and the HTTP client, and it
//! announces every change on a broadcast channel (the app's window listens; the CLI ignores it).

use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::Arc;
use tracing::Instrument;

use crate::client_auth::ClientAuth;
use crate::clock::SharedClock;
use crate::connector::{ConnectorError, ConnectorState, Resolution, Stage};
use crate::device_key::DeviceKey;
use crate::discovery::MetadataCache;
use crate::exchange::SubjectToken;
use crate::http::Http;
use crate::oidc::{IdpClient, LoginError, SignInOptions};
use crate::policy::{AuthMethod, ConnectorConfig, Policy, PolicyError, SecretSource};
use crate::resolve::{ConnectorContext, resolve_connector};
use crate::secret::Secret;
use crate::state::{ConnectorRecord, SessionRecord, State, StateDir, StateError};
use crate::status::StatusView;
use crate::store::{KeyringStore, SecretStore, StoreError, items};
use crate::trace::{Step, Trace};
use crate::{schedule, view};

/// The ID token is used as the exchange's subject only while it has at least this long left.
const ID_TOKEN_MIN_REMAINING: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Default)]
pub struct Options {
    pub policy_path: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub clock: Option<SharedClock>,
    /// Defaults to the OS keyring; unit tests pass a `MemoryStore`.
    pub store: Option<Arc<dyn SecretStore>>,
    pub http_timeout: Option<std::time::Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Login(#[from] LoginError),
    #[error("not signed in: run `lanyard login`")]
    NotSignedIn,
    #[error("no connector \"{0}\" in the policy")]
    UnknownConnector(String),
    #[error("this device's key is unusable: {0}")]
    DeviceKey(String),
}

impl EngineError {
    /// A stable code the UI and scripts branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Policy(_) => "policy_invalid",
            Self::State(_) => "state_unavailable",
            Self::Store(_) => "keyring_unavailable",
            Self::Login(e) => e.code(),
            Self::NotSignedIn => "not_signed_in",
            Self::UnknownConnector(_) => "unknown_connector",
            Self::DeviceKey(_) => "device_key",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            Self::Policy(_) => "Ask your IT admin to check Lanyard's policy file.".into(),
            Self::State(_) => "Check that Lanyard's data folder is writable.".into(),
            Self::Store(_) => "Unlock or start your system keyring, then try again.".into(),
            Self::Login(e) => e.hint(),
            Self::NotSignedIn => "Sign in first.".into(),
            Self::UnknownConnector(_) => "Use an id listed by `lanyard status`.".into(),
            Self::DeviceKey(_) => {
                "Delete the device key with `lanyard logout` and register a new one.".into()
            }
        }
    }
}

/// What `logout` did, for the person who asked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogoutReport {
    /// `Some(true)`: the IdP revoked the refresh token; `Some(false)`: the IdP has no
    /// revocation endpoint; `None`: there was no refresh token, or revocation failed.
    pub revoked_at_idp: Option<bool>,
    pub revocation_error: Option<String>,
    pub forgotten_connectors: usize,
}

/// The subject token for the next exchange, owned.
enum Subject {
    IdToken(Secret),
    RefreshToken(Secret),
}

impl Subject {
    fn as_token(&self) -> SubjectToken<'_> {
        match self {
            Self::IdToken(s) => SubjectToken::IdToken(s),
            Self::RefreshToken(s) => SubjectToken::RefreshToken(s),
        }
    }
}

/// Why a subject token could not be had.
enum NoSubject {
    NeedsSignIn(String),
    Unreachable(String),
}

pub struct Lanyard {
    policy: Policy,
    dir: StateDir,
    http: Http,
    clock: SharedClock,
    store: Arc<dyn SecretStore>,
    cache: MetadataCache,
    idp: tokio::sync::Mutex<Option<IdpClient>>,
    /// Serialises session renewal: a rotated refresh token must never be used twice.
    session_lock: tokio::sync::Mutex<()>,
    events: tokio::sync::broadcast::Sender<StatusView>,
    wake: tokio::sync::Notify,
}

impl std::fmt::Debug for Lanyard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lanyard")
            .field("state_dir", &self.dir.root())
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
        let (events, _) = tokio::sync::broadcast::channel(64);
        Ok(Self {
            policy,
            dir,
            http,
            clock,
            store,
            cache: MetadataCache::default(),
            idp: tokio::sync::Mutex::new(None),
            session_lock: tokio::sync::Mutex::new(()),
            events,
            wake: tokio::sync::Notify::new(),
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn state_dir(&self) -> &StateDir {
        &self.dir
    }

    pub fn store_backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Status from the state file alone: no network, no keyring.
    pub fn status(&self) -> Result<StatusView, EngineError> {
        let state = self.dir.load()?;
        Ok(view::status(&self.policy, &state, self.clock.now()))
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<StatusView> {
        self.events.subscribe()
    }

    /// The last recorded steps of sign-in (`"sign-in"`) or of a connector (its id).
    pub fn trace(&self, name: &str) -> Vec<Step> {
        self.dir.load_trace(name)
    }

    fn announce(&self) {
        if let Ok(status) = self.status() {
            let _ = self.events.send(status);
        }
        self.wake.notify_one();
    }

    /// This device's key for `private_key_jwt`, created on first use.
    pub fn device_key(&self) -> Result<Arc<DeviceKey>, EngineError> {
        if let Some(pem) = self.store.get(items::DEVICE_KEY)? {
            return DeviceKey::from_pem(&pem)
                .map(Arc::new)
                .map_err(|e| EngineError::DeviceKey(e.to_string()));
        }
        let key = DeviceKey::generate();
        self.store.set(items::DEVICE_KEY, &key.to_pem())?;
        Ok(Arc::new(key))
    }

    fn client_auth(
        &self,
        client_id: &str,
        method: AuthMethod,
        secret: Option<&SecretSource>,
    ) -> Result<ClientAuth, EngineError> {
        let secret = secret.map(SecretSource::resolve).transpose()?;
        let key = if method == AuthMethod::PrivateKeyJwt {
            Some(self.device_key()?)
        } else {
            None
        };
        Ok(ClientAuth::new(client_id, method, secret).with_key(key))
    }

    async fn idp_client(&self, trace: &Trace) -> Result<IdpClient, EngineError> {
        let mut cached = self.idp.lock().await;
        if let Some(c) = cached.as_ref() {
            return Ok(c.clone());
        }
        let cfg = &self.policy.idp;
        let auth = self.client_auth(
            &cfg.client_id,
            cfg.token_endpoint_auth_method,
            cfg.client_secret.as_ref(),
        )?;
        let client = IdpClient::discover(&self.http, cfg, auth, trace).await?;
        *cached = Some(client.clone());
        Ok(client)
    }

    /// Interactive sign-in, then every connector resolved.
    pub async fn sign_in(&self, opts: SignInOptions) -> Result<StatusView, EngineError> {
        let trace = Trace::new();
        let result = async {
            let idp = self.idp_client(&trace).await?;
            Ok::<_, EngineError>(idp.sign_in(opts, &trace).await?)
        }
        .await;
        let _ = self.dir.save_trace("sign-in", &trace.steps());
        let tokens = result?;
        {
            let _guard = self.session_lock.lock().await;
            self.store.set(items::ID_TOKEN, &tokens.id_token)?;
            match &tokens.refresh_token {
                Some(rt) => self.store.set(items::REFRESH_TOKEN, rt)?,
                None => self.store.delete(items::REFRESH_TOKEN)?,
            }
            let now = self.clock.now();
            let id = tokens.identity.clone();
            self.dir.update(|s| {
                s.session = Some(SessionRecord {
                    issuer: id.issuer,
                    subject: id.subject,
                    email: id.email,
                    name: id.name,
                    id_token_expires_at: id.expires_at,
                    renewable: tokens.refresh_token.is_some(),
                    signed_in_at: now,
                    expired: false,
                });
            })?;
        }
        tracing::info!("signed in; resolving connectors");
        let ids: Vec<String> = self
            .policy
            .connectors
            .iter()
            .map(|c| c.id.clone())
            .collect();
        self.resolve(&ids).await?;
        self.status()
    }

    /// Renew now: every connector, or one.
    pub async fn refresh(&self, which: Option<&str>) -> Result<StatusView, EngineError> {
        let state = self.dir.load()?;
        if state.session.is_none() {
            return Err(EngineError::NotSignedIn);
        }
        let ids: Vec<String> = match which {
            Some(id) => {
                if !self.policy.connectors.iter().any(|c| c.id == id) {
                    return Err(EngineError::UnknownConnector(id.to_string()));
                }
                vec![id.to_string()]
            }
            None => self
                .policy
                .connectors
                .iter()
                .map(|c| c.id.clone())
                .collect(),
        };
        self.resolve(&ids).await?;
        self.status()
    }

    /// Resolves the given connectors concurrently (each request capped per host by `Http`).
    async fn resolve(&self, ids: &[String]) -> Result<(), EngineError> {
        let connectors: Vec<&ConnectorConfig> = self
            .policy
            .connectors
            .iter()
            .filter(|c| ids.contains(&c.id))
            .collect();
        let now = self.clock.now();
        self.dir.update(|s| {
            for c in &connectors {
                let rec = s
                    .connectors
                    .entry(c.id.clone())
                    .or_insert_with(|| pending_record(c, now));
                rec.state = ConnectorState::Pending;
                rec.updated_at = now;
            }
        })?;
        self.announce();

        let session_trace = Trace::new();
        let subject = self.subject(&session_trace, false).await;
        let subject = match subject {
            Ok(s) => s,
            Err(why) => {
                self.save_session_trace(&session_trace);
                self.fail_all(&connectors, why)?;
                return Ok(());
            }
        };
        let idp = match self.idp_client(&session_trace).await {
            Ok(idp) => idp,
            Err(e) => {
                self.save_session_trace(&session_trace);
                self.fail_all(&connectors, NoSubject::Unreachable(e.to_string()))?;
                return Ok(());
            }
        };

        let results = futures::future::join_all(
            connectors
                .iter()
                .map(|c| self.resolve_one(&idp, c, &subject)),
        )
        .await;

        // An IdP `invalid_grant` means the subject token went stale: renew the session once
        // and retry just those connectors.
        let stale: Vec<&ConnectorConfig> = connectors
            .iter()
            .zip(&results)
            .filter(|(_, r)| is_stale_subject(r))
            .map(|(c, _)| *c)
            .collect();
        let mut retried = Vec::new();
        if !stale.is_empty() {
            match self.subject(&session_trace, true).await {
                Ok(fresh) => {
                    let again = futures::future::join_all(
                        stale.iter().map(|c| self.resolve_one(&idp, c, &fresh)),
                    )
                    .await;
                    retried = stale.iter().map(|c| c.id.clone()).zip(again).collect();
                }
                Err(why) => self.fail_all(&stale, why)?,
            }
        }
        let outcomes = connectors
            .iter()
            .zip(results)
            .map(|(c, r)| {
                let r = match retried.iter().position(|(id, _)| id == &c.id) {
                    Some(i) => retried.swap_remove(i).1,
                    None => r,
                };
                (*c, r)
            })
            .collect();
        self.record(outcomes)?;
        self.save_session_trace(&session_trace);
        self.announce();
        Ok(())
    }

    /// The session's own requests during a resolution (IdP discovery, refresh), for support.
    fn save_session_trace(&self, trace: &Trace) {
        let steps = trace.steps();
        if !steps.is_empty() {
            let _ = self.dir.save_trace("session-refresh", &steps);
        }
    }

    async fn resolve_one(
        &self,
        idp: &IdpClient,
        c: &ConnectorConfig,
        subject: &Subject,
    ) -> (Resolution, Trace) {
        let trace = Trace::new();
        let span = tracing::info_span!("connector", id = %c.id);
        let auth = match self.client_auth(
            &c.client_id,
            c.token_endpoint_auth_method,
            c.client_secret.as_ref(),
        ) {
            Ok(a) => a,
            Err(e) => {
                let error = ConnectorError {
                    stage: Stage::TokenExchange,
                    code: e.code().into(),
                    description: Some(e.to_string()),
                    hint: "Ask your IT admin to check this connector's client credentials in the policy.".into(),
                };
                return (
                    Resolution::Failed {
                        state: ConnectorState::Misconfigured,
                        error,
                    },
                    trace,
                );
            }
        };
        let ctx = ConnectorContext {
            http: &self.http,
            cache: &self.cache,
            idp_issuer: idp.issuer(),
            idp_token_endpoint: idp.token_endpoint(),
            idp_auth: idp.auth(),
        };
        let r = resolve_connector(&ctx, c, &auth, subject.as_token(), &trace)
            .instrument(span.clone())
            .await;
        tracing::info!(parent: &span, state = %r.state(), "resolved");
        (r, trace)
    }

    /// One connector's keyring write (or removal) and trace file.
    #[allow(
        clippy::type_complexity,
        reason = "a private pair consumed right away by `record`"
    )]
    fn record_io<'c>(
        &self,
        c: &'c ConnectorConfig,
        (resolution, trace): (Resolution, Trace),
    ) -> Result<
        (
            &'c ConnectorConfig,
            Result<crate::connector::Grant, (ConnectorState, ConnectorError)>,
        ),
        EngineError,
    > {
        let _ = self.dir.save_trace(&c.id, &trace.steps());
        match resolution {
            Resolution::Granted(grant) => {
                self.store
                    .set(&items::access_token(&c.id), &grant.access_token)?;
                Ok((c, Ok(grant)))
            }
            Resolution::Failed { state, error } => {
                if state != ConnectorState::Unreachable {
                    // A denial or misconfiguration ends what we held: never show stale access.
                    self.store.delete(&items::access_token(&c.id))?;
                }
                Ok((c, Err((state, error))))
            }
        }
    }

    /// Persists outcomes: tokens to the keyring, then every record in ONE state-file write
    /// (a fan-out of hundreds of connectors must not fsync hundreds of times).
    fn record(
        &self,
        outcomes: Vec<(&ConnectorConfig, (Resolution, Trace))>,
    ) -> Result<(), EngineError> {
        let now = self.clock.now();
        // Keyring writes and trace files are independent per connector: do them on a few
        // threads, so hundreds of connectors don't wait on one D-Bus round trip at a time.
        let mut queue = outcomes;
        let lanes = queue.len().clamp(1, 8);
        let per_lane = queue.len().div_ceil(lanes);
        let mut lanes_of_work = Vec::new();
        while !queue.is_empty() {
            let rest = queue.split_off(per_lane.min(queue.len()));
            lanes_of_work.push(std::mem::replace(&mut queue, rest));
        }
        let results: Vec<Result<_, EngineError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = lanes_of_work
                .into_iter()
                .map(|lane| {
                    scope.spawn(|| {
                        lane.into_iter()
                            .map(|(c, r)| self.record_io(c, r))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                // A panicking lane is a bug in our own code; surface it rather than lose records.
                .flat_map(|h| h.join().expect("a record lane panicked"))
                .collect()
        });
        let records = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        self.dir.update(|s| {
            for (c, outcome) in records {
                let prev = s.connectors.get(&c.id).cloned();
                let record = match outcome {
                    Ok(grant) => ConnectorRecord {
                        name: c.name.clone(),
                        mcp_url: c.mcp_url.to_string(),
                        state: ConnectorState::Granted,
                        expires_at: grant.expires_at,
                        scopes: grant.scopes,
                        tools: grant.tools,
                        error: None,
                        updated_at: now,
                        failures: 0,
                        as_issuer: Some(grant.as_issuer),
                        next_renewal_at: Some(schedule::renewal_at(
                            now,
                            grant.expires_at,
                            schedule::jitter(),
                        )),
                    },
                    Err((state, error)) => {
                        let failures = prev.as_ref().map_or(0, |p| p.failures) + 1;
                        let prev_issuer = prev.as_ref().and_then(|p| p.as_issuer.clone());
                        // While unreachable, the last good expiry, scopes and tools stay visible.
                        let keep = prev.filter(|_| state == ConnectorState::Unreachable);
                        ConnectorRecord {
                            name: c.name.clone(),
                            mcp_url: c.mcp_url.to_string(),
                            state,
                            expires_at: keep.as_ref().and_then(|p| p.expires_at),
                            scopes: keep.as_ref().map(|p| p.scopes.clone()).unwrap_or_default(),
                            tools: keep.as_ref().and_then(|p| p.tools),
                            error: Some(error),
                            updated_at: now,
                            failures,
                            next_renewal_at: retry_at(state, now, failures),
                            as_issuer: prev_issuer,
                        }
                    }
                };
                s.connectors.insert(c.id.clone(), record);
            }
        })?;
        Ok(())
    }

    fn fail_all(&self, connectors: &[&ConnectorConfig], why: NoSubject) -> Result<(), EngineError> {
        let (state, code, hint, description) = match why {
            NoSubject::NeedsSignIn(d) => (
                ConnectorState::NeedsSignIn,
                "needs_sign_in",
                "Your company sign-in has ended. Sign in again to renew this connector.",
                d,
            ),
            NoSubject::Unreachable(d) => (
                ConnectorState::Unreachable,
                "idp_unreachable",
                "Can't reach your company's sign-in service; Lanyard keeps retrying and keeps current access until it expires.",
                d,
            ),
        };
        let outcomes = connectors
            .iter()
            .map(|c| {
                let error = ConnectorError {
                    stage: Stage::TokenExchange,
                    code: code.into(),
                    description: Some(crate::trace::scrub(&description)),
                    hint: hint.into(),
                };
                (*c, (Resolution::Failed { state, error }, Trace::new()))
            })
            .collect();
        self.record(outcomes)?;
        self.announce();
        Ok(())
    }

    /// The renewal ladder: a valid ID token; else the IdP refresh token (rotated tokens are
    /// stored before anything else); else the user must sign in.
    async fn subject(&self, trace: &Trace, force_refresh: bool) -> Result<Subject, NoSubject> {
        let _guard = self.session_lock.lock().await;
        let state = self
            .dir
            .load()
            .map_err(|e| NoSubject::Unreachable(e.to_string()))?;
        let Some(session) = state.session else {
            return Err(NoSubject::NeedsSignIn("not signed in".into()));
        };
        let now = self.clock.now();
        let id_token = self
            .store
            .get(items::ID_TOKEN)
            .map_err(|e| NoSubject::Unreachable(e.to_string()))?;
        if !force_refresh
            && session.id_token_expires_at - now > ID_TOKEN_MIN_REMAINING
            && let Some(t) = id_token
        {
            return Ok(Subject::IdToken(t));
        }
        let Some(rt) = self
            .store
            .get(items::REFRESH_TOKEN)
            .map_err(|e| NoSubject::Unreachable(e.to_string()))?
        else {
            self.mark_session_expired();
            return Err(NoSubject::NeedsSignIn(
                "the ID token expired and there is no refresh token".into(),
            ));
        };
        let idp = self
            .idp_client(trace)
            .await
            .map_err(|e| NoSubject::Unreachable(e.to_string()))?;
        let result = idp.refresh(&rt, trace).await;
        let _ = self.dir.save_trace("session-refresh", &trace.steps());
        match result {
            Ok(fresh) => {
                // Persist the rotated refresh token first: the old one is already spent.
                if let Some(new_rt) = &fresh.refresh_token {
                    self.store
                        .set(items::REFRESH_TOKEN, new_rt)
                        .map_err(|e| NoSubject::Unreachable(e.to_string()))?;
                }
                let current_rt = fresh.refresh_token.clone().unwrap_or(rt);
                match (fresh.id_token, fresh.identity) {
                    // OIDC §12.2: a refreshed ID token must be about the same person.
                    (Some(_), Some(identity)) if identity.subject != session.subject => {
                        self.mark_session_expired();
                        Err(NoSubject::NeedsSignIn(
                            "the IdP returned an ID token for a different subject".into(),
                        ))
                    }
                    (Some(idt), Some(identity)) => {
                        self.store
                            .set(items::ID_TOKEN, &idt)
                            .map_err(|e| NoSubject::Unreachable(e.to_string()))?;
                        let _ = self.dir.update(|s| {
                            if let Some(sess) = s.session.as_mut() {
                                sess.id_token_expires_at = identity.expires_at;
                                sess.expired = false;
                                sess.renewable = true;
                            }
                        });
                        Ok(Subject::IdToken(idt))
                    }
                    // OIDC §12.2: a refresh response may omit the ID token.
                    _ if idp.supports_refresh_token_subject() => {
                        Ok(Subject::RefreshToken(current_rt))
                    }
                    _ => Err(NoSubject::NeedsSignIn(
                        "the IdP renewed the session without a new ID token".into(),
                    )),
                }
            }
            Err(LoginError::Unreachable(why)) => Err(NoSubject::Unreachable(why)),
            Err(e) => {
                self.mark_session_expired();
                let _ = self.store.delete(items::REFRESH_TOKEN);
                Err(NoSubject::NeedsSignIn(e.to_string()))
            }
        }
    }

    fn mark_session_expired(&self) {
        let _ = self.dir.update(|s| {
            if let Some(sess) = s.session.as_mut() {
                sess.expired = true;
                sess.renewable = false;
            }
        });
    }

    /// Forget the session and every connector token; revoke the IdP refresh token if possible.
    pub async fn logout(&self) -> Result<LogoutReport, EngineError> {
        let _guard = self.session_lock.lock().await;
        let trace = Trace::new();
        let mut report = LogoutReport {
            revoked_at_idp: None,
            revocation_error: None,
            forgotten_connectors: 0,
        };
        if let Some(rt) = self.store.get(items::REFRESH_TOKEN)? {
            match self.idp_client(&trace).await {
                Ok(idp) => match idp.revoke_refresh_token(&rt, &trace).await {
                    Ok(revoked) => report.revoked_at_idp = Some(revoked),
                    Err(e) => report.revocation_error = Some(e.to_string()),
                },
                Err(e) => report.revocation_error = Some(e.to_string()),
            }
        }
        let state = self.dir.load().unwrap_or_default();
        let mut ids: Vec<String> = self
            .policy
            .connectors
            .iter()
            .map(|c| c.id.clone())
            .collect();
        ids.extend(state.connectors.keys().cloned());
        ids.sort();
        ids.dedup();
        for id in &ids {
            self.store.delete(&items::access_token(id))?;
        }
        self.store.delete(items::ID_TOKEN)?;
        self.store.delete(items::REFRESH_TOKEN)?;
        report.forgotten_connectors = state.connectors.len();
        self.dir.update(|s| *s = State::default())?;
        self.dir.remove_traces();
        let _ = self.dir.save_trace("sign-out", &trace.steps());
        drop(_guard);
        self.announce();
        Ok(report)
    }

    /// What the legacy scanner and disconnect need: this policy's connectors (with the issuers
    /// discovered so far), which of them hold a zero-touch grant, the keyring for queued
    /// revocations. `home` is the folder whose MCP clients are scanned.
    pub fn legacy_context(&self, home: PathBuf) -> crate::legacy::LegacyContext {
        let state = self.dir.load().unwrap_or_default();
        let issuers: std::collections::HashMap<String, String> = state
            .connectors
            .iter()
            .filter_map(|(id, r)| r.as_issuer.clone().map(|i| (id.clone(), i)))
            .collect();
        let granted = self
            .status()
            .map(|s| {
                s.connectors
                    .into_iter()
                    .filter(|c| c.state == ConnectorState::Granted)
                    .map(|c| c.id)
                    .collect()
            })
            .unwrap_or_default();
        crate::legacy::LegacyContext {
            home,
            state_dir: self.dir.root().to_path_buf(),
            index: crate::legacy::ConnectorIndex::from_policy(&self.policy).with_issuers(&issuers),
            ema_granted: granted,
            http: self.http.clone(),
            store: self.store.clone(),
            processes: crate::legacy::ProcessProbe::System,
        }
    }

    /// The IdP session's ID token, for the diagnostics token inspector (decoded, never shown).
    pub fn id_token(&self) -> Result<Option<Secret>, EngineError> {
        Ok(self.store.get(items::ID_TOKEN)?)
    }

    /// The access token for one connector, for hosts that hand it to an MCP client in-process.
    pub fn access_token(&self, connector_id: &str) -> Result<Option<Secret>, EngineError> {
        Ok(self.store.get(&items::access_token(connector_id))?)
    }

    /// When the scheduler should next wake: the earliest connector renewal or session renewal.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        let state = self.dir.load().ok()?;
        let session = state.session.as_ref().filter(|s| !s.expired)?;
        let session_due = session.renewable.then(|| {
            schedule::renewal_at(
                session.signed_in_at.min(session.id_token_expires_at),
                Some(session.id_token_expires_at),
                0.0,
            )
        });
        state
            .connectors
            .iter()
            .filter(|(id, _)| self.policy.connectors.iter().any(|c| &c.id == *id))
            .filter_map(|(_, r)| r.next_renewal_at)
            .chain(session_due)
            .min()
    }

    /// Renews whatever is due now. Called by `run` on timers, and directly by tests that
    /// move a `ManualClock`.
    pub async fn renew_due(&self) -> Result<usize, EngineError> {
        let state = self.dir.load()?;
        let Some(session) = state.session.as_ref().filter(|s| !s.expired) else {
            return Ok(0);
        };
        let now = self.clock.now();
        let due: Vec<String> = self
            .policy
            .connectors
            .iter()
            .filter(|c| {
                state
                    .connectors
                    .get(&c.id)
                    .and_then(|r| r.next_renewal_at)
                    .is_some_and(|t| t <= now)
            })
            .map(|c| c.id.clone())
            .collect();
        if due.is_empty() {
            if session.renewable && session.id_token_expires_at - now <= ID_TOKEN_MIN_REMAINING {
                // Keep the IdP session warm even when no connector is due.
                let trace = Trace::new();
                let _ = self.subject(&trace, true).await;
                self.announce();
            }
            return Ok(0);
        }
        self.resolve(&due).await?;
        Ok(due.len())
    }

    /// The renewal loop for long-running hosts (the app): sleeps until the next due time,
    /// wakes early when something changes, stops when `shutdown` fires.
    pub async fn run(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            let wait = self
                .next_due()
                .map(|due| (due - self.clock.now()).to_std().unwrap_or_default())
                .unwrap_or(std::time::Duration::from_secs(3600));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {
                    if let Err(e) = self.renew_due().await {
                        tracing::warn!(code = e.code(), "renewal failed: {e}");
                    }
                }
                _ = self.wake.notified() => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

fn pending_record(c: &ConnectorConfig, now: DateTime<Utc>) -> ConnectorRecord {
    ConnectorRecord {
        name: c.name.clone(),
        mcp_url: c.mcp_url.to_string(),
        state: ConnectorState::Pending,
        expires_at: None,
        scopes: vec![],
        tools: None,
        error: None,
        updated_at: now,
        failures: 0,
        next_renewal_at: None,
        as_issuer: None,
    }
}

/// Which failed states are retried on their own: the network heals; policy does not.
fn retry_at(state: ConnectorState, now: DateTime<Utc>, failures: u32) -> Option<DateTime<Utc>> {
    match state {
        ConnectorState::Unreachable => Some(now + schedule::backoff(failures, schedule::jitter())),
        _ => None,
    }
}

fn is_stale_subject((r, _): &(Resolution, Trace)) -> bool {
    matches!(r, Resolution::Failed { state: ConnectorState::NeedsSignIn, error }
        if error.stage == Stage::TokenExchange && error.code == "invalid_grant")
}
