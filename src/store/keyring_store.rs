//! The OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows)
//! through the `keyring` crate.
//!
//! Every item is namespaced by a fingerprint of the state folder, so two Lanyard profiles
//! (or tests with temporary state folders) never read each other's tokens.

use std::path::Path;

use super::{SecretStore, StoreError, secret_service_session};
use crate::secret::Secret;

const SERVICE: &str = "lanyard";

#[derive(Debug)]
pub struct KeyringStore {
    namespace: String,
}

impl KeyringStore {
    /// Fails early, with a clear message, when no keyring is reachable.
    pub fn open(state_dir: &Path) -> Result<Self, StoreError> {
        if let Err(e) = keyring::Entry::store_status() {
            return Err(StoreError::Unavailable(e.to_string()));
        }
        let canonical = state_dir
            .canonicalize()
            .unwrap_or_else(|_| state_dir.to_path_buf());
        let namespace = crate::secret::fingerprint(&canonical.to_string_lossy())
            .trim_start_matches("sha256:")
            .to_string();
        Ok(Self { namespace })
    }

    fn entry(&self, item: &str) -> keyring::Result<keyring::Entry> {
        keyring::Entry::new(SERVICE, &format!("{}/{item}", self.namespace))
    }

    /// Runs `op` on a new entry; after a platform failure, once more on a new session
    /// (secret_service_session.rs: the daemon may have restarted under this process).
    fn call<T>(
        &self,
        item: &str,
        op: impl Fn(keyring::Entry) -> keyring::Result<T>,
    ) -> keyring::Result<T> {
        let generation = secret_service_session::generation();
        match self.entry(item).and_then(&op) {
            Err(keyring::Error::PlatformFailure(_))
                if secret_service_session::renew(generation) =>
            {
                self.entry(item).and_then(op)
            }
            other => other,
        }
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, item: &str) -> Result<Option<Secret>, StoreError> {
        match self.call(item, |e| e.get_password()) {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(StoreError::Failed(e.to_string())),
        }
    }

    fn set(&self, item: &str, value: &Secret) -> Result<(), StoreError> {
        self.call(item, |e| e.set_password(value.expose()))
            .map_err(|e| StoreError::Failed(e.to_string()))
    }

    fn delete(&self, item: &str) -> Result<(), StoreError> {
        match self.call(item, |e| e.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(StoreError::Failed(e.to_string())),
        }
    }

    fn backend(&self) -> &'static str {
        "os-keyring"
    }
}
