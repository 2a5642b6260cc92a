//! A throw-away profile: a `Lanyard` engine on a fresh temporary state folder, so a test
//! user's sign-in never touches the admin's own session, state file or keyring items.
//!
//! Keyring items are namespaced by a fingerprint of the state folder (`store::KeyringStore`),
//! so a fresh folder means a fresh, empty namespace. Every item the engine writes is recorded
//! and deleted again when the profile is discarded — also when it is dropped early (a
//! cancelled matrix, a panic) — and the folder goes with it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::engine::{EngineError, Lanyard, Options};
use crate::secret::Secret;
use crate::store::{KeyringStore, MemoryStore, SecretStore, StoreError, items};

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot create the throw-away profile folder under {parent}: {why}")]
    Folder { parent: String, why: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Where a throw-away profile keeps its secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProfileStore {
    /// The OS keyring, in the profile folder's own namespace (what hosts use).
    #[default]
    OsKeyring,
    /// A fresh in-memory store per profile (unit tests).
    Memory,
}

#[derive(Debug, Clone)]
pub struct ProfileOptions {
    pub policy_path: PathBuf,
    /// The folder the profile folder is created in (default: the system temp folder).
    pub parent: Option<PathBuf>,
    pub store: ProfileStore,
    /// The admin's device key, for policies that use `private_key_jwt`: the key registered at
    /// the IdP is this machine's, so the profile signs with it. Copied in, removed on discard.
    pub device_key: Option<Secret>,
    pub http_timeout: Option<std::time::Duration>,
}

/// A `SecretStore` that remembers every item written, so discarding can delete exactly those.
#[derive(Debug)]
struct Recording {
    inner: Arc<dyn SecretStore>,
    written: Mutex<BTreeSet<String>>,
}

impl SecretStore for Recording {
    fn get(&self, item: &str) -> Result<Option<Secret>, StoreError> {
        self.inner.get(item)
    }

    fn set(&self, item: &str, value: &Secret) -> Result<(), StoreError> {
        // Recorded before the write: an item half-written by a failing keyring is still removed.
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(item.to_string());
        self.inner.set(item, value)
    }

    fn delete(&self, item: &str) -> Result<(), StoreError> {
        self.inner.delete(item)
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
}

impl Recording {
    /// Deletes every item written plus every item the engine could have written.
    fn purge(&self, connector_ids: &[String]) -> Result<(), StoreError> {
        let mut names: BTreeSet<String> = self
            .written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        names.extend(
            [
                items::ID_TOKEN,
                items::REFRESH_TOKEN,
                items::DEVICE_KEY,
                items::CONNECTOR_TOKENS,
            ]
            .map(String::from),
        );
        names.extend(connector_ids.iter().map(|id| items::access_token(id)));
        let mut first_error = None;
        for name in &names {
            if let Err(e) = self.inner.delete(name) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// One test user's sandbox. `discard` signs out (revoking the IdP refresh token) and removes
/// everything; dropping without `discard` still removes the keyring items and the folder.
pub struct ThrowawayProfile {
    engine: Lanyard,
    store: Arc<Recording>,
    connector_ids: Vec<String>,
    /// `None` once discarded.
    folder: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for ThrowawayProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThrowawayProfile")
            .field(
                "folder",
                &self.folder.as_ref().map(|d| d.path().to_path_buf()),
            )
            .finish_non_exhaustive()
    }
}

impl ThrowawayProfile {
    pub fn open(opts: &ProfileOptions) -> Result<Self, ProfileError> {
        let parent = opts.parent.clone().unwrap_or_else(std::env::temp_dir);
        // tempfile creates the folder 0700 with a random name: never an existing profile's.
        let folder = tempfile::Builder::new()
            .prefix("lanyard-pilot-")
            .tempdir_in(&parent)
            .map_err(|e| ProfileError::Folder {
                parent: parent.display().to_string(),
                why: e.to_string(),
            })?;
        let inner: Arc<dyn SecretStore> = match opts.store {
            ProfileStore::OsKeyring => Arc::new(KeyringStore::open(folder.path())?),
            ProfileStore::Memory => Arc::new(MemoryStore::new()),
        };
        let store = Arc::new(Recording {
            inner,
            written: Mutex::new(BTreeSet::new()),
        });
        let shared: Arc<dyn SecretStore> = store.clone();
        if let Some(key) = &opts.device_key {
            shared.set(items::DEVICE_KEY, key)?;
        }
        let opened = Lanyard::open(Options {
            policy_path: Some(opts.policy_path.clone()),
            state_dir: Some(folder.path().to_path_buf()),
            store: Some(shared),
            http_timeout: opts.http_timeout,
            ..Options::default()
        });
        let engine = match opened {
            Ok(engine) => engine,
            Err(e) => {
                let _ = store.purge(&[]);
                return Err(e.into());
            }
        };
        let connector_ids = engine
            .policy()
            .connectors
            .iter()
            .map(|c| c.id.to_string())
            .collect();
        Ok(Self {
            engine,
            store,
            connector_ids,
            folder: Some(folder),
        })
    }

    pub fn engine(&self) -> &Lanyard {
        &self.engine
    }

    /// The profile's state folder (gone after `discard`).
    pub fn folder(&self) -> Option<&Path> {
        self.folder.as_ref().map(|d| d.path())
    }

    /// Signs out at the IdP (best effort: the test user's refresh token should not outlive the
    /// pilot), then deletes every keyring item and the folder. Errors only for what could not
    /// be removed locally.
    pub async fn discard(mut self) -> Result<(), ProfileError> {
        if let Err(e) = self.engine.logout().await {
            tracing::warn!(code = e.code(), "pilot profile: sign-out failed: {e}");
        }
        self.remove()
    }

    fn remove(&mut self) -> Result<(), ProfileError> {
        let Some(folder) = self.folder.take() else {
            return Ok(());
        };
        let purged = self.store.purge(&self.connector_ids);
        let path = folder.path().display().to_string();
        folder.close().map_err(|e| ProfileError::Folder {
            parent: path,
            why: e.to_string(),
        })?;
        purged.map_err(ProfileError::from)
    }
}

impl Drop for ThrowawayProfile {
    fn drop(&mut self) {
        if let Err(e) = self.remove() {
            tracing::warn!("pilot profile: clean-up incomplete: {e}");
        }
    }
}

/// The admin's device key, read without creating one (the admin's keyring is only read).
pub fn admin_device_key(admin: &Lanyard) -> Option<Secret> {
    let uses_key = |m: crate::policy::AuthMethod| m == crate::policy::AuthMethod::PrivateKeyJwt;
    let policy = admin.policy();
    let needed = uses_key(policy.idp.token_endpoint_auth_method)
        || policy
            .connectors
            .iter()
            .any(|c| uses_key(c.token_endpoint_auth_method));
    if !needed {
        return None;
    }
    KeyringStore::open(admin.state_dir().root())
        .ok()?
        .get(items::DEVICE_KEY)
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy_file(dir: &Path) -> PathBuf {
        let path = dir.join("policy.json");
        std::fs::write(
            &path,
            r#"{"idp": {"issuer": "http://127.0.0.1:9/idp", "client_id": "c"},
                "connectors": [{"id": "linear", "name": "Linear",
                  "mcp_url": "http://127.0.0.1:9/linear/mcp", "client_id": "l"}]}"#,
        )
        .unwrap();
        path
    }

    #[tokio::test]
    async fn discard_and_drop_remove_the_folder_and_every_item() {
        let parent = tempfile::tempdir().unwrap();
        let opts = ProfileOptions {
            policy_path: policy_file(parent.path()),
            parent: Some(parent.path().to_path_buf()),
            store: ProfileStore::Memory,
            device_key: Some(Secret::new("device-key-pem")),
            http_timeout: Some(std::time::Duration::from_millis(200)),
        };
        let profile = ThrowawayProfile::open(&opts).unwrap();
        let folder = profile.folder().unwrap().to_path_buf();
        assert!(folder.starts_with(parent.path()) && folder.is_dir());
        let store = profile.store.clone();
        store
            .set("connector/linear/access_token", &Secret::new("t"))
            .unwrap();
        assert!(store.get(items::DEVICE_KEY).unwrap().is_some());
        profile.discard().await.unwrap();
        assert!(!folder.exists());
        for item in [items::DEVICE_KEY, "connector/linear/access_token"] {
            assert!(store.get(item).unwrap().is_none(), "{item}");
        }

        let dropped = ThrowawayProfile::open(&opts).unwrap();
        let folder = dropped.folder().unwrap().to_path_buf();
        let store = dropped.store.clone();
        store.set("odd/item", &Secret::new("x")).unwrap();
        drop(dropped);
        assert!(!folder.exists());
        assert!(store.get("odd/item").unwrap().is_none());
    }

    #[test]
    fn each_profile_gets_its_own_folder() {
        let parent = tempfile::tempdir().unwrap();
        let opts = ProfileOptions {
            policy_path: policy_file(parent.path()),
            parent: Some(parent.path().to_path_buf()),
            store: ProfileStore::Memory,
            device_key: None,
            http_timeout: None,
        };
        let a = ThrowawayProfile::open(&opts).unwrap();
        let b = ThrowawayProfile::open(&opts).unwrap();
        assert_ne!(a.folder(), b.folder());
    }
}
