//! The lab's user directory and group policy: which user is in which groups, and which
//! connectors each group may reach. The IdP consults it at sign-in and at every token exchange.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// `users`: email -> groups; `groups`: group -> connector ids. The `--directory` file has the
/// same JSON shape: `{"users": {"ada@lab.example": ["Everyone"]}, "groups": {"Everyone": ["granola"]}}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    pub users: BTreeMap<String, Vec<String>>,
    pub groups: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("cannot read directory file {path}: {why}")]
    Unreadable { path: String, why: String },
    #[error("directory file {path} is not valid: {why}")]
    Invalid { path: String, why: String },
}

/// One person as the IdP sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub email: String,
    /// Stable subject identifier, e.g. `u-ada`.
    pub sub: String,
    pub name: String,
}

impl Default for Directory {
    /// The product.md table.
    fn default() -> Self {
        let list = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let users = BTreeMap::from([
            (
                "ada@lab.example".to_string(),
                list(&["Everyone", "Engineering"]),
            ),
            (
                "grace@lab.example".to_string(),
                list(&["Everyone", "Design"]),
            ),
            ("sam@lab.example".to_string(), list(&["Everyone", "Sales"])),
            ("pat@lab.example".to_string(), list(&["Everyone"])),
        ]);
        let groups = BTreeMap::from([
            ("Everyone".to_string(), list(&["atlassian", "granola"])),
            ("Engineering".to_string(), list(&["linear", "supabase"])),
            ("Design".to_string(), list(&["figma", "canva"])),
            ("Sales".to_string(), list(&["asana"])),
        ]);
        Self { users, groups }
    }
}

impl Directory {
    pub fn from_file(path: &Path) -> Result<Self, DirectoryError> {
        let text = std::fs::read_to_string(path).map_err(|e| DirectoryError::Unreadable {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| DirectoryError::Invalid {
            path: path.display().to_string(),
            why: e.to_string(),
        })
    }

    /// Grants `connector` to everyone in `group` (used for synthetic connectors).
    pub fn grant_to_group(&mut self, group: &str, connector: &str) {
        let list = self.groups.entry(group.to_string()).or_default();
        if !list.iter().any(|c| c == connector) {
            list.push(connector.to_string());
        }
    }

    pub fn user(&self, email: &str) -> Option<User> {
        let (email, _) = self.users.get_key_value(email)?;
        Some(user_from_email(email))
    }

    /// The user whose stable subject is `sub`.
    pub fn user_by_sub(&self, sub: &str) -> Option<User> {
        self.users
            .keys()
            .map(|e| user_from_email(e))
            .find(|u| u.sub == sub)
    }

    pub fn emails(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }

    /// Whether any of the user's groups grants `connector`.
    pub fn is_assigned(&self, email: &str, connector: &str) -> bool {
        self.users.get(email).is_some_and(|groups| {
            groups.iter().any(|g| {
                self.groups
                    .get(g)
                    .is_some_and(|cs| cs.iter().any(|c| c == connector))
            })
        })
    }
}

fn user_from_email(email: &str) -> User {
    let local = email.split('@').next().unwrap_or(email);
    let mut chars = local.chars();
    let name = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    User {
        email: email.to_string(),
        sub: format!("u-{local}"),
        name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_matches_the_product_table() {
        let d = Directory::default();
        for c in ["atlassian", "granola", "linear", "supabase"] {
            assert!(d.is_assigned("ada@lab.example", c), "{c}");
        }
        for c in ["asana", "figma", "canva", "slack"] {
            assert!(!d.is_assigned("ada@lab.example", c), "{c}");
        }
        assert!(d.is_assigned("sam@lab.example", "asana"));
        assert!(!d.is_assigned("nobody@lab.example", "granola"));
    }

    #[test]
    fn users_have_stable_subjects() {
        let d = Directory::default();
        let ada = d.user("ada@lab.example").unwrap();
        assert_eq!(ada.sub, "u-ada");
        assert_eq!(ada.name, "Ada");
        assert_eq!(d.user_by_sub("u-ada"), Some(ada));
    }

    #[test]
    fn directory_json_rejects_unknown_keys() {
        let bad = r#"{"users": {}, "groups": {}, "extra": 1}"#;
        assert!(serde_json::from_str::<Directory>(bad).is_err());
    }
}
