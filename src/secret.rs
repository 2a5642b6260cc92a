//! The one type that holds tokens, ID-JAGs, codes, client secrets and private keys.
//!
//! `Secret` deliberately implements neither `Serialize` nor `Display`: every view type that
//! crosses IPC or is written to a state file derives `Serialize`, so a secret placed in one is
//! a compile error rather than a leak. `Debug` prints `[redacted]` so `tracing` fields and
//! `{:?}` in error chains can never show the value. Every value is registered with `redact`
//! when it becomes a `Secret`, so any text this process outputs masks it from then on.

pub use crate::redact::fingerprint;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        crate::redact::register(&value);
        Self(value)
    }

    /// A value made only of secrets that are already `Secret`s (the connector token item: a
    /// JSON map of tokens). Not registered as a whole: each part is masked on its own already,
    /// and registering every composite would fill the redaction registry with copies of it.
    pub(crate) fn composite(value: String) -> Self {
        Self(value)
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

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
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
    fn every_secret_is_known_to_redaction() {
        let s = Secret::from("opaque-value-held-here".to_string());
        let shown = crate::redact::redact(&format!("echo: {}", s.expose()));
        assert_eq!(shown, format!("echo: [{}]", s.fingerprint()));
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
