//! The lab's shared state: configuration, the signing key, client registrations, and every
//! code, token and grant the IdP and the connector ASes have issued and still honour.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::catalogue::{ClientMethod, ConnectorSpec};
use crate::clock::LabClock;
use crate::directory::Directory;
use crate::faults::Faults;
use crate::keys::{KeyError, SigningKey};

/// One grant the lab still honours (`GET /lab/grants`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GrantRecord {
    pub connector: String,
    pub subject: String,
    /// `"legacy"` or `"ema"`.
    pub kind: String,
    pub expires_at: DateTime<Utc>,
}

/// A client registered at one issuer (the IdP or a connector AS).
#[derive(Clone)]
pub struct ClientRegistration {
    pub method: ClientMethod,
    pub secret: Option<String>,
    /// Public JWK for `private_key_jwt`.
    pub jwk: Option<serde_json::Value>,
}

impl std::fmt::Debug for ClientRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRegistration")
            .field("method", &self.method)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// A connector with its listener's addresses.
#[derive(Debug, Clone)]
pub struct Connector {
    pub spec: ConnectorSpec,
    /// `http://127.0.0.1:P`
    pub origin: String,
    pub issuer: String,
    /// The MCP endpoint, which is also the RFC 8707/9728 resource identifier.
    pub mcp_url: String,
}

impl Connector {
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.issuer)
    }
    pub fn authorization_endpoint(&self) -> String {
        format!("{}/authorize", self.issuer)
    }
    pub fn revocation_endpoint(&self) -> String {
        format!("{}/revoke", self.issuer)
    }
    /// The path-inserted RFC 9728 metadata URL for `/mcp`.
    pub fn prm_url(&self) -> String {
        format!("{}/.well-known/oauth-protected-resource/mcp", self.origin)
    }
}

#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub scope: Vec<String>,
    pub email: String,
    pub expires_at: i64,
    /// `None` at the IdP; the connector index at an AS.
    pub connector: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub client_id: String,
    pub email: String,
    pub scope: Vec<String>,
    pub expires_at: i64,
    /// `None` at the IdP; the connector index at an AS (legacy grants).
    pub connector: Option<usize>,
    /// Ties a legacy refresh token to the access tokens it produced (RFC 7009 §2).
    pub family: String,
}

/// An RFC 8628 device authorization, keyed in the store by its device code.
#[derive(Debug, Clone)]
pub struct DeviceGrant {
    /// As shown to the person, e.g. `WDJB-MJHT`.
    pub user_code: String,
    pub client_id: String,
    pub scope: Vec<String>,
    /// Lab-clock milliseconds: second granularity would make short test lifetimes ragged.
    pub expires_at_ms: i64,
    /// The polling interval this client must keep; grows by 5 s at each `slow_down`.
    pub interval: std::time::Duration,
    /// When the client last polled (real time: only the gap between polls matters).
    pub last_poll: Option<std::time::Instant>,
    pub decision: DeviceDecision,
}

/// What the person at the verification page decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceDecision {
    Pending,
    Approved { email: String },
    Denied,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    Legacy,
    Ema,
}

impl GrantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::Ema => "ema",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AccessGrant {
    pub connector: usize,
    pub client_id: String,
    pub email: String,
    pub scope: Vec<String>,
    /// Audience: the MCP resource the token is restricted to.
    pub resource: String,
    pub kind: GrantKind,
    pub family: Option<String>,
    pub expires_at: i64,
}

/// Everything issued; tokens are map keys and never logged.
#[derive(Debug, Default)]
pub struct Store {
    /// `(issuer, client_id)` -> registration.
    pub clients: HashMap<(String, String), ClientRegistration>,
    pub codes: HashMap<String, AuthCode>,
    pub refresh: HashMap<String, RefreshGrant>,
    pub access: HashMap<String, AccessGrant>,
    /// `"<AS issuer> <jti>"` -> exp, for ID-JAG replay detection.
    pub id_jag_jtis: HashMap<String, i64>,
    /// `"<issuer> <client_id> <jti>"` -> exp, for client-assertion replay detection.
    pub assertion_jtis: HashMap<String, i64>,
    /// Device code -> its authorization (RFC 8628).
    pub devices: HashMap<String, DeviceGrant>,
    /// When the jti maps were last swept (lab-clock seconds).
    jtis_swept_at: i64,
}

impl Store {
    /// Drops replay-detection entries past `exp` + skew, at most once a lab-clock second:
    /// sweeping on every redemption made each one cost O(live ID-JAGs) under the store lock.
    pub fn sweep_jtis(&mut self, now: i64, skew: i64) {
        if self.jtis_swept_at == now {
            return;
        }
        self.jtis_swept_at = now;
        self.id_jag_jtis.retain(|_, exp| *exp + skew >= now);
        self.assertion_jtis.retain(|_, exp| *exp + skew >= now);
    }
}

pub struct LabState {
    pub clock: LabClock,
    pub token_lifetime: i64,
    pub latency_ms: u64,
    pub auto_login: Option<String>,
    pub device: DeviceSettings,
    pub directory: Directory,
    pub idp_issuer: String,
    pub connectors: Vec<Connector>,
    key: RwLock<Arc<SigningKey>>,
    faults: Mutex<Faults>,
    store: Mutex<Store>,
    pub jti_replays: AtomicUsize,
}

/// The IdP's own client id for Lanyard.
pub const IDP_CLIENT_ID: &str = "lanyard-desktop";

/// ID-JAG lifetime (the draft's examples and Okta: 300 s).
pub const ID_JAG_LIFETIME: i64 = 300;

/// RFC 8628 knobs: `--device-code-lifetime-secs`, `--device-poll-interval-secs`.
#[derive(Debug, Clone, Copy)]
pub struct DeviceSettings {
    pub lifetime_secs: i64,
    pub interval_secs: u64,
}

pub struct LabConfig {
    pub clock: LabClock,
    pub token_lifetime: i64,
    pub latency_ms: u64,
    pub auto_login: Option<String>,
    pub device: DeviceSettings,
    pub directory: Directory,
    pub base: String,
    pub connectors: Vec<Connector>,
}

impl LabState {
    pub fn new(config: LabConfig) -> Result<Self, KeyError> {
        let idp_issuer = format!("{}/idp", config.base);
        Ok(Self {
            clock: config.clock,
            token_lifetime: config.token_lifetime,
            latency_ms: config.latency_ms,
            auto_login: config.auto_login,
            device: config.device,
            directory: config.directory,
            idp_issuer,
            connectors: config.connectors,
            key: RwLock::new(Arc::new(SigningKey::generate()?)),
            faults: Mutex::new(Faults::default()),
            store: Mutex::new(Store::default()),
            jti_replays: AtomicUsize::new(0),
        })
    }

    /// The store; a poisoned lock only means a handler panicked mid-update, and the maps
    /// are still structurally sound, so carry on.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn key(&self) -> Arc<SigningKey> {
        self.key.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn rotate_key(&self) -> Result<(), KeyError> {
        let fresh = Arc::new(SigningKey::generate()?);
        *self.key.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    pub fn faults(&self) -> Faults {
        *self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().unwrap_or_else(|p| p.into_inner()) = faults;
    }

    pub fn idp_token_endpoint(&self) -> String {
        format!("{}/token", self.idp_issuer)
    }

    pub fn register_client(&self, issuer: &str, client_id: &str, reg: ClientRegistration) {
        self.store()
            .clients
            .insert((issuer.to_string(), client_id.to_string()), reg);
    }

    pub fn client(&self, issuer: &str, client_id: &str) -> Option<ClientRegistration> {
        self.store()
            .clients
            .get(&(issuer.to_string(), client_id.to_string()))
            .cloned()
    }

    /// Whether `issuer` is the IdP or one of the connector ASes.
    pub fn knows_issuer(&self, issuer: &str) -> bool {
        issuer == self.idp_issuer || self.connectors.iter().any(|c| c.issuer == issuer)
    }

    /// Live grants: EMA access tokens one by one; legacy grants one per refresh-token family.
    pub fn grants(&self) -> Vec<GrantRecord> {
        let now = self.clock.timestamp();
        let store = self.store();
        let mut legacy: HashMap<&str, (usize, &str, i64)> = HashMap::new();
        let mut out = Vec::new();
        for grant in store.access.values().filter(|g| g.expires_at > now) {
            match (&grant.kind, &grant.family) {
                (GrantKind::Legacy, Some(family)) => {
                    let entry = legacy.entry(family).or_insert((
                        grant.connector,
                        &grant.email,
                        grant.expires_at,
                    ));
                    entry.2 = entry.2.max(grant.expires_at);
                }
                _ => out.push(record(
                    &self.connectors,
                    grant.connector,
                    &grant.email,
                    grant.kind,
                    grant.expires_at,
                )),
            }
        }
        for rt in store.refresh.values().filter(|r| r.expires_at > now) {
            if let Some(connector) = rt.connector {
                let entry =
                    legacy
                        .entry(&rt.family)
                        .or_insert((connector, &rt.email, rt.expires_at));
                entry.2 = entry.2.max(rt.expires_at);
            }
        }
        for (connector, email, exp) in legacy.into_values() {
            out.push(record(
                &self.connectors,
                connector,
                email,
                GrantKind::Legacy,
                exp,
            ));
        }
        out.sort_by(|a, b| {
            (&a.connector, &a.subject, &a.kind).cmp(&(&b.connector, &b.subject, &b.kind))
        });
        out
    }
}

fn record(
    connectors: &[Connector],
    idx: usize,
    email: &str,
    kind: GrantKind,
    exp: i64,
) -> GrantRecord {
    GrantRecord {
        connector: connectors
            .get(idx)
            .map(|c| c.spec.id.clone())
            .unwrap_or_default(),
        subject: email.to_string(),
        kind: kind.as_str().to_string(),
        expires_at: DateTime::from_timestamp(exp, 0).unwrap_or_default(),
    }
}
