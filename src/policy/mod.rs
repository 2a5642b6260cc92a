//! The admin-managed policy file (product.md contract): what it may say (`model`) and where
//! it is found (`locate`). Two files because locating reads what an MDM deployed through
//! `admin::managed`, whose export formats are themselves built from the model.

mod connector_id;
mod field_error;
mod locate;
mod model;

pub use locate::{load, locate, managed_location};
pub use model::{
    AuthMethod, ConnectorConfig, ConnectorId, FieldError, IdpConfig, MAX_CONCURRENT_REQUESTS,
    Policy, PolicyError, RESERVED_IDS, SecretSource, is_reserved_id, parse,
};
pub(crate) use model::{check_concurrency, check_origin, check_url};
