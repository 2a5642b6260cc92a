//! A connector's id as the policy names it: letters, digits, '-' and '_', and never one of the
//! names the engine uses for its own records. The only way to make one is [`ConnectorId::parse`],
//! so every id the engine, the state file and the trace files see has passed that check
//! (a connector called `sign-in` once overwrote the session's trace).

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use serde::Serialize;

use super::field_error::FieldError;

/// Connector ids the engine uses for its own records (trace files `sign-in.json` …): a
/// connector with one of these ids would overwrite the session's record. Compared without
/// regard to ASCII case, because trace files live on case-insensitive disks on macOS/Windows.
pub const RESERVED_IDS: &[&str] = &["sign-in", "session-refresh", "sign-out"];

/// Whether `id` is one of [`RESERVED_IDS`].
pub fn is_reserved_id(id: &str) -> bool {
    RESERVED_IDS.iter().any(|r| r.eq_ignore_ascii_case(id))
}

/// Serialises as the plain string (the state file and `status --json` keep their shape).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ConnectorId(String);

impl ConnectorId {
    /// Checks the id's shape and that it isn't reserved; the error says why, for the policy
    /// error at key path `connectors[i].id`.
    pub fn parse(id: &str) -> Result<Self, FieldError> {
        if id.is_empty()
            || !id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        {
            return Err(FieldError::IdShape);
        }
        if is_reserved_id(id) {
            return Err(FieldError::ReservedId {
                id: id.to_string(),
                reserved: RESERVED_IDS,
            });
        }
        Ok(Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for ConnectorId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for ConnectorId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ConnectorId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ConnectorId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ConnectorId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for ConnectorId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<ConnectorId> for String {
    fn eq(&self, other: &ConnectorId) -> bool {
        *self == other.0
    }
}

impl From<ConnectorId> for String {
    fn from(id: ConnectorId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_unreserved_ids_parse() {
        assert_eq!(ConnectorId::parse("linear").unwrap(), "linear");
        for bad in [
            "",
            "a b",
            "../x",
            "sign-in",
            "Sign-In",
            "session-refresh",
            "SIGN-OUT",
        ] {
            assert!(ConnectorId::parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(!is_reserved_id("sign_in") && !is_reserved_id("linear"));
    }

    #[test]
    fn serialises_as_the_plain_string() {
        let id = ConnectorId::parse("figma").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"figma\"");
    }
}
