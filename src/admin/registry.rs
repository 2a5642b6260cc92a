//! The policy as Windows registry values under `HKLM\SOFTWARE\Policies\Lanyard` (where Group
//! Policy and MDM put machine policy), and the conversion both ways. The `.reg` exporter, the
//! ADMX templates and the Windows registry reader all go through this one layout, so the
//! parsing logic is tested on every platform.
//!
//! Layout: the IdP's settings are values of the `Lanyard` key (`IdpIssuer`, `IdpClientId` …,
//! `IdpMaxConcurrentRequests` a DWORD);
//! each connector is a subkey `Connectors\<id>` with `Name`, `McpUrl` … and an `Order` DWORD
//! (the registry lists subkeys alphabetically; the policy's order is kept). Scopes are one
//! space-separated string (scopes are single words). An empty string is an absent value.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

use super::export::document::{ConnectorDocument, PolicyDocument, SecretDocument};

/// Below `HKEY_LOCAL_MACHINE`.
pub const POLICY_KEY: &str = r"SOFTWARE\Policies\Lanyard";
pub const CONNECTORS: &str = "Connectors";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegValue {
    Sz(String),
    Dword(u32),
}

/// One registry key: its values and subkeys, by name as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegKey {
    pub values: BTreeMap<String, RegValue>,
    pub subkeys: BTreeMap<String, RegKey>,
}

impl RegKey {
    /// Registry names are case-insensitive.
    pub fn subkey(&self, name: &str) -> Option<&RegKey> {
        self.subkeys
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    pub fn subkey_mut(&mut self, name: &str) -> &mut RegKey {
        let existing = self
            .subkeys
            .keys()
            .find(|k| k.eq_ignore_ascii_case(name))
            .cloned();
        self.subkeys
            .entry(existing.unwrap_or_else(|| name.to_string()))
            .or_default()
    }

    fn sz(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.values
                .insert(name.to_string(), RegValue::Sz(v.to_string()));
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    #[error("{path}: unknown value `{name}` (allowed: {allowed})")]
    UnknownValue {
        path: String,
        name: String,
        allowed: String,
    },
    #[error("{path}: unknown subkey `{name}`")]
    UnknownKey { path: String, name: String },
    #[error("{path}\\{name}: expected {expected}")]
    WrongType {
        path: String,
        name: String,
        expected: &'static str,
    },
    #[error(
        "{path}: set only one of {prefix}ClientSecret, {prefix}ClientSecretFile and {prefix}ClientSecretEnv"
    )]
    SecretTwice { path: String, prefix: &'static str },
}

const IDP_VALUES: &[&str] = &[
    "IdpIssuer",
    "IdpClientId",
    "IdpClientSecret",
    "IdpClientSecretFile",
    "IdpClientSecretEnv",
    "IdpTokenEndpointAuthMethod",
    "IdpScopes",
    "IdpMaxConcurrentRequests",
];
const CONNECTOR_VALUES: &[&str] = &[
    "Order",
    "Name",
    "McpUrl",
    "ClientId",
    "ClientSecret",
    "ClientSecretFile",
    "ClientSecretEnv",
    "TokenEndpointAuthMethod",
    "Scopes",
    "AsIssuer",
    "TokenEndpointOrigin",
];

/// The `Lanyard` key's content for `doc`.
pub fn to_registry(doc: &PolicyDocument) -> RegKey {
    let mut root = RegKey::default();
    let idp = &doc.idp;
    root.sz("IdpIssuer", Some(&idp.issuer));
    root.sz("IdpClientId", Some(&idp.client_id));
    put_secret(&mut root, "Idp", idp.client_secret.as_ref());
    root.sz(
        "IdpTokenEndpointAuthMethod",
        Some(idp.token_endpoint_auth_method.as_str()),
    );
    root.sz("IdpScopes", Some(&idp.scopes.join(" ")));
    root.values.insert(
        "IdpMaxConcurrentRequests".into(),
        RegValue::Dword(idp.max_concurrent_requests),
    );
    if !doc.connectors.is_empty() {
        let list = root.subkey_mut(CONNECTORS);
        for (i, c) in doc.connectors.iter().enumerate() {
            list.subkeys.insert(c.id.clone(), connector_key(c, i));
        }
    }
    root
}

fn connector_key(c: &ConnectorDocument, order: usize) -> RegKey {
    let mut key = RegKey::default();
    key.values.insert(
        "Order".into(),
        RegValue::Dword(u32::try_from(order).unwrap_or(u32::MAX)),
    );
    key.sz("Name", Some(&c.name));
    key.sz("McpUrl", Some(&c.mcp_url));
    key.sz("ClientId", Some(&c.client_id));
    put_secret(&mut key, "", c.client_secret.as_ref());
    key.sz(
        "TokenEndpointAuthMethod",
        Some(c.token_endpoint_auth_method.as_str()),
    );
    key.sz("Scopes", c.scopes.as_ref().map(|s| s.join(" ")).as_deref());
    key.sz("AsIssuer", c.as_issuer.as_deref());
    key.sz("TokenEndpointOrigin", c.token_endpoint_origin.as_deref());
    key
}

fn put_secret(key: &mut RegKey, prefix: &str, secret: Option<&SecretDocument>) {
    match secret {
        Some(SecretDocument::Inline(s)) => key.sz(&format!("{prefix}ClientSecret"), Some(s)),
        Some(SecretDocument::File { file }) => key.sz(
            &format!("{prefix}ClientSecretFile"),
            Some(&file.display().to_string()),
        ),
        Some(SecretDocument::Env { env }) => key.sz(&format!("{prefix}ClientSecretEnv"), Some(env)),
        None => {}
    }
}

/// The policy JSON (product.md schema) held by the `Lanyard` key, for `policy::parse` to
/// validate like any policy file. `path` names the key in errors.
pub fn from_registry(root: &RegKey, path: &str) -> Result<Value, RegistryError> {
    let read = Reader { key: root, path };
    read.only(IDP_VALUES)?;
    for name in root.subkeys.keys() {
        if !name.eq_ignore_ascii_case(CONNECTORS) {
            return Err(RegistryError::UnknownKey {
                path: path.to_string(),
                name: name.clone(),
            });
        }
    }
    let mut idp = Map::new();
    read.string(&mut idp, "IdpIssuer", "issuer")?;
    read.string(&mut idp, "IdpClientId", "client_id")?;
    read.secret(&mut idp, "Idp")?;
    read.string(
        &mut idp,
        "IdpTokenEndpointAuthMethod",
        "token_endpoint_auth_method",
    )?;
    read.words(&mut idp, "IdpScopes", "scopes")?;
    // As a number; 0 or 65 then gets `parse`'s own message naming the policy key.
    if let Some(n) = read.dword("IdpMaxConcurrentRequests")? {
        idp.insert("max_concurrent_requests".into(), json!(n));
    }

    let mut connectors = Vec::new();
    if let Some(list) = root.subkey(CONNECTORS) {
        let list_path = format!(r"{path}\{CONNECTORS}");
        let mut ordered = Vec::new();
        for (id, key) in &list.subkeys {
            let reader = Reader {
                key,
                path: &format!(r"{list_path}\{id}"),
            };
            let order = reader.dword("Order")?;
            ordered.push((
                order.unwrap_or(u32::MAX),
                id.clone(),
                connector_json(id, &reader)?,
            ));
        }
        ordered.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        connectors = ordered.into_iter().map(|(_, _, c)| c).collect();
    }
    Ok(json!({"idp": idp, "connectors": connectors}))
}

fn connector_json(id: &str, read: &Reader<'_>) -> Result<Value, RegistryError> {
    read.only(CONNECTOR_VALUES)?;
    let mut c = Map::new();
    c.insert("id".into(), Value::String(id.to_string()));
    read.string(&mut c, "Name", "name")?;
    read.string(&mut c, "McpUrl", "mcp_url")?;
    read.string(&mut c, "ClientId", "client_id")?;
    read.secret(&mut c, "")?;
    read.string(
        &mut c,
        "TokenEndpointAuthMethod",
        "token_endpoint_auth_method",
    )?;
    read.words(&mut c, "Scopes", "scopes")?;
    read.string(&mut c, "AsIssuer", "as_issuer")?;
    read.string(&mut c, "TokenEndpointOrigin", "token_endpoint_origin")?;
    Ok(Value::Object(c))
}

struct Reader<'a> {
    key: &'a RegKey,
    path: &'a str,
}

impl Reader<'_> {
    fn only(&self, allowed: &[&str]) -> Result<(), RegistryError> {
        for name in self.key.values.keys() {
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(name)) {
                return Err(RegistryError::UnknownValue {
                    path: self.path.to_string(),
                    name: name.clone(),
                    allowed: allowed.join(", "),
                });
            }
        }
        Ok(())
    }

    fn get(&self, name: &str) -> Option<&RegValue> {
        self.key
            .values
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    fn sz(&self, name: &str) -> Result<Option<&str>, RegistryError> {
        match self.get(name) {
            None => Ok(None),
            Some(RegValue::Sz(s)) if s.is_empty() => Ok(None),
            Some(RegValue::Sz(s)) => Ok(Some(s)),
            Some(RegValue::Dword(_)) => Err(self.wrong(name, "a string (REG_SZ)")),
        }
    }

    fn dword(&self, name: &str) -> Result<Option<u32>, RegistryError> {
        match self.get(name) {
            None => Ok(None),
            Some(RegValue::Dword(n)) => Ok(Some(*n)),
            // An ADMX `text` or a hand-made .reg may hold the number as a string.
            Some(RegValue::Sz(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.wrong(name, "a number (REG_DWORD)")),
        }
    }

    fn wrong(&self, name: &str, expected: &'static str) -> RegistryError {
        RegistryError::WrongType {
            path: self.path.to_string(),
            name: name.to_string(),
            expected,
        }
    }

    fn string(
        &self,
        out: &mut Map<String, Value>,
        name: &str,
        key: &str,
    ) -> Result<(), RegistryError> {
        if let Some(v) = self.sz(name)? {
            out.insert(key.into(), Value::String(v.to_string()));
        }
        Ok(())
    }

    fn words(
        &self,
        out: &mut Map<String, Value>,
        name: &str,
        key: &str,
    ) -> Result<(), RegistryError> {
        if let Some(v) = self.sz(name)? {
            out.insert(key.into(), v.split_whitespace().map(|w| json!(w)).collect());
        }
        Ok(())
    }

    fn secret(
        &self,
        out: &mut Map<String, Value>,
        prefix: &'static str,
    ) -> Result<(), RegistryError> {
        let forms = [
            self.sz(&format!("{prefix}ClientSecret"))?.map(|s| json!(s)),
            self.sz(&format!("{prefix}ClientSecretFile"))?
                .map(|f| json!({"file": f})),
            self.sz(&format!("{prefix}ClientSecretEnv"))?
                .map(|e| json!({"env": e})),
        ];
        let mut set = forms.into_iter().flatten();
        if let Some(secret) = set.next() {
            if set.next().is_some() {
                return Err(RegistryError::SecretTwice {
                    path: self.path.to_string(),
                    prefix,
                });
            }
            out.insert("client_secret".into(), secret);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::export::document::tests::full;
    use super::*;

    #[test]
    fn the_registry_layout_reads_back_into_the_same_policy() {
        let doc = PolicyDocument::from_policy(&full());
        let key = to_registry(&doc);
        assert_eq!(
            key.values.get("IdpClientSecretEnv"),
            Some(&RegValue::Sz("ACME_SECRET".into()))
        );
        let linear = key.subkey("connectors").unwrap().subkey("LINEAR").unwrap();
        assert_eq!(linear.values.get("Order"), Some(&RegValue::Dword(0)));
        assert_eq!(
            linear.values.get("Scopes"),
            Some(&RegValue::Sz("read write".into()))
        );
        assert_eq!(
            key.values.get("IdpMaxConcurrentRequests"),
            Some(&RegValue::Dword(24))
        );
        let json = from_registry(&key, POLICY_KEY).unwrap();
        let back = crate::policy::parse(&json.to_string(), std::path::Path::new("r")).unwrap();
        assert_eq!(PolicyDocument::from_policy(&back), doc);
        // Policy order, not the registry's alphabetical order.
        let ids: Vec<_> = back.connectors.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["linear", "asana", "figma"]);
    }

    #[test]
    fn the_idp_concurrency_is_a_dword_checked_by_the_policy_parser() {
        let read = |key: &RegKey| {
            let json = from_registry(key, POLICY_KEY).unwrap();
            crate::policy::parse(&json.to_string(), std::path::Path::new("r"))
        };
        let mut key = to_registry(&PolicyDocument::from_policy(&full()));
        key.values.remove("IdpMaxConcurrentRequests");
        assert_eq!(read(&key).unwrap().idp.max_concurrent_requests, 8);
        // A hand-made .reg or an ADMX text field may hold it as a string.
        key.values
            .insert("IdpMaxConcurrentRequests".into(), RegValue::Sz("16".into()));
        assert_eq!(read(&key).unwrap().idp.max_concurrent_requests, 16);
        for n in [0, 65] {
            key.values
                .insert("IdpMaxConcurrentRequests".into(), RegValue::Dword(n));
            let e = read(&key).unwrap_err().to_string();
            assert!(
                e.contains(
                    "at `idp.max_concurrent_requests`: expected a whole number from 1 to 64"
                ),
                "{e}"
            );
        }
    }

    #[test]
    fn unknown_values_and_double_secrets_name_the_key() {
        let mut key = to_registry(&PolicyDocument::from_policy(&full()));
        key.subkey_mut(CONNECTORS)
            .subkey_mut("asana")
            .values
            .insert("Colour".into(), RegValue::Sz("red".into()));
        let e = from_registry(&key, POLICY_KEY).unwrap_err().to_string();
        assert!(
            e.contains(r"Lanyard\Connectors\asana: unknown value `Colour`"),
            "{e}"
        );

        let mut key = to_registry(&PolicyDocument::from_policy(&full()));
        key.values
            .insert("IdpClientSecret".into(), RegValue::Sz("x".into()));
        let e = from_registry(&key, POLICY_KEY).unwrap_err().to_string();
        assert!(e.contains("set only one of IdpClientSecret"), "{e}");

        let mut key = to_registry(&PolicyDocument::from_policy(&full()));
        key.values.insert("IdpIssuer".into(), RegValue::Dword(1));
        assert!(matches!(
            from_registry(&key, POLICY_KEY),
            Err(RegistryError::WrongType { .. })
        ));
    }
}
