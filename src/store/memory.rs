//! An in-memory `SecretStore` for unit tests only; integration tests use the real keyring.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{SecretStore, StoreError};
use crate::secret::Secret;

#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<HashMap<String, Secret>>);

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, item: &str) -> Result<Option<Secret>, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(item)
            .cloned())
    }

    fn set(&self, item: &str, value: &Secret) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(item.to_string(), value.clone());
        Ok(())
    }

    fn delete(&self, item: &str) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(item);
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}
