//! Where secrets live: the OS keyring behind a small trait, with an in-memory store for unit
//! tests. Non-secret state lives in `state.rs`, so `status` never unlocks the keyring.

mod connector_tokens;
mod keyring_store;
mod memory;
mod secret_service_session;
pub mod state;

pub use connector_tokens::{ConnectorTokens, read_one as connector_token};
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
    /// An item Lanyard wrote no longer parses; the message names its part, never its content.
    #[error("the keyring item {item} is damaged ({why}); Lanyard rewrites it at the next renewal")]
    Damaged { item: &'static str, why: String },
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
    /// Every connector's access token, in one item (`connector_tokens.rs` says why).
    pub const CONNECTOR_TOKENS: &str = "connectors/access_tokens";

    /// The item an earlier version kept per connector: still read, and deleted, never written.
    pub fn access_token(connector_id: &str) -> String {
        format!("connector/{connector_id}/access_token")
    }
}
