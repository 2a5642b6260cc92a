//! Every connector's access token of one profile in ONE keyring item.
//!
//! With an item per connector, a refresh round of N connectors was N Secret Service writes,
//! each a D-Bus round trip through one daemon: at N = 256 that was half of the round's time
//! (docs/benchmarks.md, "Connector fan-out"). One item makes a round one read and one write,
//! whatever N is. Reading stays lazy: `status` never opens the keyring, and a host that needs
//! one token reads the item when it asks.
//!
//! Versions before this kept `connector/<id>/access_token` items. Those are read while the
//! shared item does not exist yet (a token renewed by an older build stays usable); the first
//! write of the shared item moves the ones still valid into it and deletes them all
//! (engine/record.rs), so later rounds never touch them. Sign-out deletes both kinds.

use std::collections::BTreeMap;

use super::{SecretStore, StoreError, items};
use crate::secret::Secret;

/// The access tokens of one profile, by connector id, as read from or to be written to the
/// keyring in one operation.
#[derive(Debug, Default)]
pub struct ConnectorTokens {
    by_id: BTreeMap<String, Secret>,
    /// Whether the keyring held the item when it was loaded.
    stored: bool,
}

impl ConnectorTokens {
    /// Reads the shared item (one keyring read). A missing item is an empty set; an item that
    /// does not parse is an error that names no part of its content.
    pub fn load(store: &dyn SecretStore) -> Result<Self, StoreError> {
        let Some(item) = store.get(items::CONNECTOR_TOKENS)? else {
            return Ok(Self::default());
        };
        // The category only: serde's message for a bad value can quote the value.
        let raw: BTreeMap<String, String> =
            serde_json::from_str(item.expose()).map_err(|e| StoreError::Damaged {
                item: items::CONNECTOR_TOKENS,
                why: format!("{:?} error at line {}", e.classify(), e.line()),
            })?;
        let by_id = raw.into_iter().map(|(k, v)| (k, Secret::new(v))).collect();
        Ok(Self {
            by_id,
            stored: true,
        })
    }

    /// Writes the whole set (one keyring write), or deletes the item when the set is empty.
    pub fn save(&self, store: &dyn SecretStore) -> Result<(), StoreError> {
        if self.by_id.is_empty() {
            return store.delete(items::CONNECTOR_TOKENS);
        }
        let exposed: BTreeMap<&str, &str> = self
            .by_id
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()))
            .collect();
        // Serialising a map of strings cannot fail.
        let json = serde_json::to_string(&exposed).expect("a map of strings serialises");
        store.set(items::CONNECTOR_TOKENS, &Secret::composite(json))
    }

    /// Whether the keyring held no such item yet: its first write is when the items of
    /// earlier versions are retired.
    pub fn is_new(&self) -> bool {
        !self.stored
    }

    pub fn get(&self, connector_id: &str) -> Option<&Secret> {
        self.by_id.get(connector_id)
    }

    pub fn insert(&mut self, connector_id: &str, token: Secret) {
        self.by_id.insert(connector_id.to_string(), token);
    }

    /// Whether the set held a token for the connector.
    pub fn remove(&mut self, connector_id: &str) -> bool {
        self.by_id.remove(connector_id).is_some()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// One connector's token: the shared item, or, until that exists, the item an earlier version
/// kept for it.
pub fn read_one(store: &dyn SecretStore, connector_id: &str) -> Result<Option<Secret>, StoreError> {
    let mut tokens = ConnectorTokens::load(store)?;
    if !tokens.is_new() {
        return Ok(tokens.by_id.remove(connector_id));
    }
    store.get(&items::access_token(connector_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn a_round_trip_keeps_every_token_in_one_item() {
        let store = MemoryStore::new();
        let mut tokens = ConnectorTokens::load(&store).unwrap();
        assert!(tokens.is_empty() && tokens.is_new());
        tokens.insert("linear", Secret::new("labsecret_at_linear_1"));
        tokens.insert("figma", Secret::new("labsecret_at_\"figma\"\\2"));
        tokens.save(&store).unwrap();

        let back = ConnectorTokens::load(&store).unwrap();
        assert_eq!(back.len(), 2);
        assert!(!back.is_new());
        assert_eq!(
            back.get("linear").unwrap().expose(),
            "labsecret_at_linear_1"
        );
        assert_eq!(
            back.get("figma").unwrap().expose(),
            "labsecret_at_\"figma\"\\2"
        );
        assert!(store.get(&items::access_token("linear")).unwrap().is_none());
    }

    #[test]
    fn an_empty_set_deletes_the_item() {
        let store = MemoryStore::new();
        let mut tokens = ConnectorTokens::default();
        tokens.insert("linear", Secret::new("labsecret_at_linear_1"));
        tokens.save(&store).unwrap();
        assert!(tokens.remove("linear"));
        assert!(!tokens.remove("linear"));
        tokens.save(&store).unwrap();
        assert!(store.get(items::CONNECTOR_TOKENS).unwrap().is_none());
    }

    #[test]
    fn an_older_versions_item_is_read_until_the_shared_item_exists() {
        let store = MemoryStore::new();
        store
            .set(
                &items::access_token("asana"),
                &Secret::new("labsecret_at_asana_old"),
            )
            .unwrap();
        assert_eq!(
            read_one(&store, "asana").unwrap().unwrap().expose(),
            "labsecret_at_asana_old"
        );
        assert!(read_one(&store, "figma").unwrap().is_none());
        // Once the shared item exists it alone answers (its first write migrated what was valid).
        let mut tokens = ConnectorTokens::default();
        tokens.insert("linear", Secret::new("labsecret_at_linear_1"));
        tokens.save(&store).unwrap();
        assert_eq!(
            read_one(&store, "linear").unwrap().unwrap().expose(),
            "labsecret_at_linear_1"
        );
        assert!(read_one(&store, "asana").unwrap().is_none());
    }

    #[test]
    fn a_damaged_item_is_an_error_that_shows_none_of_it() {
        let store = MemoryStore::new();
        store
            .set(
                items::CONNECTOR_TOKENS,
                &Secret::new("{\"linear\": labsecret_at_not_json}"),
            )
            .unwrap();
        let e = ConnectorTokens::load(&store).unwrap_err().to_string();
        assert!(e.contains("damaged") && e.contains("Syntax"), "{e}");
        assert!(!e.contains("labsecret"), "{e}");
    }
}
