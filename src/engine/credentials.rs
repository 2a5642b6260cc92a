//! Client authentication for the IdP and each connector, and this device's key for
//! `private_key_jwt` (created in the keyring on first use).

use std::sync::Arc;

use crate::policy::{AuthMethod, SecretSource};
use crate::protocol::client_auth::ClientAuth;
use crate::protocol::device_key::DeviceKey;
use crate::store::{SecretStore, items};

use super::EngineError;

/// This device's key for `private_key_jwt`, created on first use.
pub(super) fn device_key(store: &dyn SecretStore) -> Result<Arc<DeviceKey>, EngineError> {
    if let Some(pem) = store.get(items::DEVICE_KEY)? {
        return DeviceKey::from_pem(&pem)
            .map(Arc::new)
            .map_err(|e| EngineError::DeviceKey(e.to_string()));
    }
    let key = DeviceKey::generate();
    store.set(items::DEVICE_KEY, &key.to_pem())?;
    Ok(Arc::new(key))
}

/// The client authentication one policy entry asks for, with its secret resolved and, for
/// `private_key_jwt`, the device key loaded. Blocking (keyring): call it off the runtime.
pub(super) fn client_auth(
    store: &dyn SecretStore,
    client_id: &str,
    method: AuthMethod,
    secret: Option<&SecretSource>,
) -> Result<ClientAuth, EngineError> {
    let secret = secret.map(SecretSource::resolve).transpose()?;
    let key = if method == AuthMethod::PrivateKeyJwt {
        Some(device_key(store)?)
    } else {
        None
    };
    Ok(ClientAuth::new(client_id, method, secret).with_key(key))
}
