//! `lanyard-lab`: a real OIDC IdP, connector authorization servers and MCP servers on loopback,
//! standing in for a company's IdP and vendors in demos and tests (product.md "lanyard-lab").

mod admin;
mod authorize;
mod breakage;
mod broken;
mod catalogue;
mod client_auth;
mod clock;
mod connector;
mod directory;
mod faults;
mod html;
mod http_layer;
mod idp;
mod keys;
mod oauth;
mod policy_out;
mod ready;
mod seed_legacy;
mod state;
mod token_endpoint;

pub use catalogue::{ClientMethod, LEGACY_CLIENT_ID};
pub use directory::Directory;
pub use faults::{Faults, Leg, LegFault, LegFaultKind};
pub use idp::device::{Decision as DeviceDecision, DeviceError, DeviceRequest};
pub use ready::{Ready, ReadyConnector};
pub use seed_legacy::{SeedReport, SeededEntry, seed_legacy};
pub use state::{GrantRecord, IDP_CLIENT_ID};

use anyhow::Context as _;
use axum::Router;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use state::{ClientRegistration, Connector, DeviceSettings, LabConfig, LabState};

/// Defaults: ephemeral port, no auto-login, temporary policy, product.md directory, no faults.
#[derive(Debug, Clone, Default)]
pub struct LabOptions {
    /// Port of the IdP listener; 0 = ephemeral. Connectors always get ephemeral ports.
    pub port: u16,
    /// Sign this user in at every authorization endpoint without a page.
    pub auto_login: Option<String>,
    /// Where to write the Lanyard policy; `None` = a temporary folder owned by the `Lab`.
    pub policy_out: Option<PathBuf>,
    /// `None` = the product.md table.
    pub directory: Option<Directory>,
    /// Added before every response on every listener.
    pub latency_ms: u64,
    /// The lab clock runs this many seconds off real time.
    pub clock_offset_secs: i64,
    /// Lifetime of ID tokens and access tokens; default 3600.
    pub token_lifetime_secs: Option<u64>,
    /// Extra connectors `synth-001`…, granted to Everyone.
    pub synthetic_connectors: usize,
    /// RFC 8628 device codes live this long; default 600.
    pub device_code_lifetime_secs: Option<u64>,
    /// The polling `interval` given with each device code; default 5. `0` turns `slow_down`
    /// off.
    pub device_poll_interval_secs: Option<u64>,
    /// Add the deliberately broken connectors (`broken-…`, granted to Everyone), each
    /// neglecting one duty, for the readiness check's tests.
    pub broken_connectors: bool,
}

/// A running lab; dropping it or calling `shutdown()` stops every listener.
pub struct Lab {
    ready: Ready,
    state: Arc<LabState>,
    policy_path: PathBuf,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    end_sessions: Vec<EndSessions>,
    _temp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab")
            .field("ready", &self.ready)
            .finish_non_exhaustive()
    }
}

impl Lab {
    pub async fn start(opts: LabOptions) -> anyhow::Result<Lab> {
        let mut directory = opts.directory.clone().unwrap_or_default();
        if let Some(email) = &opts.auto_login
            && directory.user(email).is_none()
        {
            anyhow::bail!("--auto-login {email}: no such user in the directory");
        }
        let mut specs = catalogue::catalogue(opts.synthetic_connectors);
        if opts.broken_connectors {
            specs.extend(broken::specs());
        }
        for spec in specs
            .iter()
            .filter(|s| s.id.starts_with("synth-") || s.broken.is_some())
        {
            directory.grant_to_group("Everyone", &spec.id);
        }

        let idp_listener = TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", opts.port))?;
        let base = format!("http://{}", idp_listener.local_addr()?);
        let (connectors, connector_listeners) = bind_connectors(specs).await?;
        let state = Arc::new(LabState::new(lab_config(
            &opts, directory, &base, connectors,
        )?)?);
        let secrets = register_clients(&state);

        let (temp, policy_path) = match &opts.policy_out {
            Some(p) => (None, p.clone()),
            None => {
                let dir = tempfile::Builder::new().prefix("lanyard-lab-").tempdir()?;
                let path = dir.path().join("policy.json");
                (Some(dir), path)
            }
        };
        policy_out::write(
            &policy_path,
            &state,
            policy_out::Secrets {
                idp: &secrets.0,
                connectors: &secrets.1,
            },
        )?;
        let policy_path = std::path::absolute(&policy_path).unwrap_or(policy_path);

        let (stop, _) = watch::channel(false);
        let (tasks, end_sessions) = serve_all(&state, idp_listener, connector_listeners, &stop);
        let ready = ready_of(&state, base, &policy_path);
        tracing::info!(base = %ready.base, connectors = ready.connectors.len(), "lab ready");
        Ok(Lab {
            ready,
            state,
            policy_path,
            stop,
            tasks,
            end_sessions,
            _temp: temp,
        })
    }

    pub fn ready(&self) -> &Ready {
        &self.ready
    }

    pub fn base(&self) -> &str {
        &self.ready.base
    }

    pub fn policy_path(&self) -> &Path {
        &self.policy_path
    }

    /// Same as `POST /lab/faults` with every field given; `rotate_keys: true` rotates now.
    pub fn set_faults(&self, f: Faults) {
        if let Err(e) = admin::apply_faults(&self.state, f.into()) {
            tracing::error!(error = %e, "could not apply faults");
        }
    }

    /// Same as `POST /lab/device/approve` / `.../deny`: the person's answer to the device
    /// authorization with `user_code`.
    pub fn decide_device(
        &self,
        user_code: &str,
        decision: DeviceDecision,
    ) -> Result<DeviceRequest, DeviceError> {
        idp::device::decide(&self.state, user_code, decision)
    }

    /// Same as `GET /lab/device`: every device authorization the lab still holds.
    pub fn device_requests(&self) -> Vec<DeviceRequest> {
        idp::device::requests(&self.state)
    }

    pub fn grants(&self) -> Vec<GrantRecord> {
        self.state.grants()
    }

    /// How many replayed ID-JAGs the connector ASes refused.
    pub fn jti_replays(&self) -> usize {
        self.state.jti_replays.load(Ordering::SeqCst)
    }

    pub async fn shutdown(mut self) {
        self.signal_stop();
        for task in std::mem::take(&mut self.tasks) {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }

    fn signal_stop(&mut self) {
        let _ = self.stop.send(true);
        for end in std::mem::take(&mut self.end_sessions) {
            end();
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.signal_stop();
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn with_lab_http(router: Router, state: &Arc<LabState>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        http_layer::lab_http,
    ))
}

/// One loopback listener per connector: each is its own origin, like real vendors.
async fn bind_connectors(
    specs: Vec<catalogue::ConnectorSpec>,
) -> anyhow::Result<(Vec<Connector>, Vec<TcpListener>)> {
    let mut listeners = Vec::new();
    let mut connectors = Vec::new();
    for spec in specs {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let origin = format!("http://{}", listener.local_addr()?);
        connectors.push(Connector {
            issuer: format!("{origin}{}", spec.issuer_path),
            mcp_url: format!("{origin}/mcp"),
            origin,
            spec,
        });
        listeners.push(listener);
    }
    Ok((connectors, listeners))
}

fn lab_config(
    opts: &LabOptions,
    directory: Directory,
    base: &str,
    connectors: Vec<Connector>,
) -> anyhow::Result<LabConfig> {
    let lifetime = opts.token_lifetime_secs.unwrap_or(3600);
    Ok(LabConfig {
        clock: clock::LabClock::new(opts.clock_offset_secs),
        token_lifetime: i64::try_from(lifetime).context("token lifetime is too large")?,
        latency_ms: opts.latency_ms,
        auto_login: opts.auto_login.clone(),
        device: DeviceSettings {
            lifetime_secs: i64::try_from(opts.device_code_lifetime_secs.unwrap_or(600))
                .context("device code lifetime is too large")?,
            interval_secs: opts.device_poll_interval_secs.unwrap_or(5),
        },
        directory,
        base: base.to_string(),
        connectors,
    })
}

/// Registers Lanyard at the IdP and at every connector (and the legacy public client at
/// each connector); returns the IdP's client secret and each connector's, in order.
fn register_clients(state: &LabState) -> (String, Vec<String>) {
    let idp_secret = oauth::mint("clientsecret");
    state.register_client(
        &state.idp_issuer,
        IDP_CLIENT_ID,
        ClientRegistration {
            method: ClientMethod::ClientSecretBasic,
            secret: Some(idp_secret.clone()),
            jwk: None,
        },
    );
    let mut connector_secrets = Vec::new();
    for c in &state.connectors {
        let secret = oauth::mint("clientsecret");
        state.register_client(
            &c.issuer,
            &c.spec.lanyard_client_id(),
            ClientRegistration {
                method: c.spec.method,
                secret: Some(secret.clone()),
                jwk: None,
            },
        );
        state.register_client(
            &c.issuer,
            LEGACY_CLIENT_ID,
            ClientRegistration {
                method: ClientMethod::None,
                secret: None,
                jwk: None,
            },
        );
        connector_secrets.push(secret);
    }
    (idp_secret, connector_secrets)
}

/// Ends a connector's open MCP sessions (its server keeps running).
type EndSessions = Box<dyn FnOnce() + Send + Sync>;

/// Starts the IdP's server and one per connector; each stops when `stop` says so. Also
/// returns, per connector, how to end its open MCP sessions.
fn serve_all(
    state: &Arc<LabState>,
    idp_listener: TcpListener,
    connector_listeners: Vec<TcpListener>,
    stop: &watch::Sender<bool>,
) -> (Vec<JoinHandle<()>>, Vec<EndSessions>) {
    let mut tasks = Vec::new();
    let mut end_sessions = Vec::new();
    let idp_router = idp::router(state.clone()).merge(admin::router(state.clone()));
    tasks.push(serve(
        idp_listener,
        with_lab_http(idp_router, state),
        stop.subscribe(),
    ));
    for (idx, listener) in connector_listeners.into_iter().enumerate() {
        let (router, end) = match state.connectors[idx].spec.broken {
            Some(b) => broken::router(state.clone(), idx, b),
            None => connector::router(state.clone(), idx),
        };
        end_sessions.push(end);
        tasks.push(serve(
            listener,
            with_lab_http(router, state),
            stop.subscribe(),
        ));
    }
    (tasks, end_sessions)
}

fn ready_of(state: &LabState, base: String, policy_path: &Path) -> Ready {
    Ready {
        base,
        idp_issuer: state.idp_issuer.clone(),
        policy: policy_path.display().to_string(),
        connectors: state
            .connectors
            .iter()
            .map(|c| ReadyConnector {
                id: c.spec.id.clone(),
                mcp_url: c.mcp_url.clone(),
                issuer: c.issuer.clone(),
            })
            .collect(),
    }
}

fn serve(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "listener failed");
        }
    })
}
