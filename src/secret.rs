//! The one type that holds tokens, ID-JAGs, codes, client secrets and private keys.
//!
//! `Secret` deliberately implements neither `Serialize` nor `Display`: every view type that
//! crosses IPC or is written to a state file derives `Serialize`, so a secret placed in one is
//! a compile error rather than a leak. `Debug` prints `[redacted]` so `tracing` fields and
//! `{:?}` in error chains can never show the value.

use sha2::{Digest, Sha256};

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for the one place that must send it on the wire or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short, stable, non-reversible label: lets support match "the same token" across
    /// records without ever seeing it.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// SHA-256 of the value, first 8 bytes as hex, prefixed so it reads as a label.
pub fn fingerprint(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("labsecret_at_123");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&s)), "Some([redacted])");
    }

    #[test]
    fn fingerprint_is_stable_and_does_not_contain_the_value() {
        let a = Secret::new("labsecret_at_123").fingerprint();
        assert_eq!(a, Secret::new("labsecret_at_123").fingerprint());
        assert_ne!(a, Secret::new("labsecret_at_124").fingerprint());
        assert!(!a.contains("labsecret"));
        assert_eq!(a.len(), "sha256:".len() + 16);
    }
}
