//! Where secrets live: the OS keyring behind a small trait, with an in-memory store for unit
//! tests. Non-secret state lives in `state.rs`, so `status` never unlocks the keyring.

mod keyring_store;
mod memory;
pub mod state;

pub use keyring_store::KeyringStore;
pub use memory::MemoryStore;

use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the OS keyring is not available ({0}); on Linux, Lanyard needs a Secret Service such as gnome-keyring"
    )]
    Unavailable(String),
    #[error("the OS keyring refused the operation: {0}")]
    Failed(String),
}

pub trait SecretStore: Send + Sync + std::fmt::Debug {
    fn get(&self, item: &str) -> Result<Option<Secret>, StoreError>;
    fn set(&self, item: &str, value: &Secret) -> Result<(), StoreError>;
    /// Deleting an item that is not there is not an error.
    fn delete(&self, item: &str) -> Result<(), StoreError>;
    /// A short name for diagnostics ("secret-service", "memory").
    fn backend(&self) -> &'static str;
}

/// The names of the items Lanyard keeps; one place so logout can forget them all.
pub mod items {
    pub const ID_TOKEN: &str = "idp/id_token";
    pub const REFRESH_TOKEN: &str = "idp/refresh_token";
    pub const DEVICE_KEY: &str = "device/private_key";

    pub fn access_token(connector_id: &str) -> String {
        format!("connector/{connector_id}/access_token")
    }
}
