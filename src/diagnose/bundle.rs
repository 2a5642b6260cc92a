//! The support bundle: the doctor report as one JSON file in which every string has passed
//! through the one redaction (`crate::redact`), checked by a final sweep that refuses to
//! write anything still holding a secret this process knows or a JWT.

use std::path::Path;

use super::doctor::DoctorReport;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("could not build the bundle: {0}")]
    Serialize(String),
    /// The sweep found a secret-shaped value; nothing was written.
    #[error("refused to write the bundle: {0} survived redaction")]
    SecretLeft(&'static str),
    #[error("could not write the bundle: {0}")]
    Write(String),
}

/// Redaction for free text in bundles: `crate::redact::redact`.
pub fn redact(text: &str) -> String {
    crate::redact::redact(text)
}

/// The final sweep: `Err` if a secret this process holds or a JWT is left.
pub fn canary_sweep(text: &str) -> Result<(), BundleError> {
    match crate::redact::leftover(text) {
        Some(what) => Err(BundleError::SecretLeft(what)),
        None => Ok(()),
    }
}

fn redact_value(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(redact(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(redact_value).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (redact(&k), redact_value(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The bundle's text: the report, every string redacted, pretty JSON, swept.
pub fn to_bundle_json(report: &DoctorReport) -> Result<String, BundleError> {
    let value = serde_json::to_value(report).map_err(|e| BundleError::Serialize(e.to_string()))?;
    let text = serde_json::to_string_pretty(&redact_value(value))
        .map_err(|e| BundleError::Serialize(e.to_string()))?;
    canary_sweep(&text)?;
    Ok(text)
}

/// Writes the bundle to `path` (atomically, 0600 on Unix). Nothing is written if the sweep fails.
pub fn write_bundle(report: &DoctorReport, path: &Path) -> Result<(), BundleError> {
    let text = to_bundle_json(report)?;
    crate::store::state::write_atomic(path, text.as_bytes())
        .map_err(|e| BundleError::Write(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| BundleError::Write(e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_replaces_token_shapes() {
        let text = "code=c0de, header eyJhbGciOiJIUzI1NiJ9 alone; url https://idp.example/a";
        let r = redact(text);
        assert!(canary_sweep(&r).is_ok(), "{r}");
        assert!(!r.contains("c0de") && !r.contains("eyJ"), "{r}");
        assert!(r.contains("https://idp.example/a"), "{r}");
        assert!(r.contains("[sha256:"), "{r}");
    }

    #[test]
    fn the_sweep_refuses_leftovers() {
        assert!(matches!(
            canary_sweep("x eyJhbGciOiJIUzI1"),
            Err(BundleError::SecretLeft("a JWT"))
        ));
        // A word that merely contains the letters is fine.
        assert!(canary_sweep("keyJ is a word").is_ok());
    }

    #[test]
    fn redaction_and_the_sweep_know_every_secret_the_process_holds() {
        let secret = crate::secret::Secret::new("opaque-client-secret-42");
        let text = format!("the server said: bad secret {}", secret.expose());
        assert!(
            !redact(&text).contains(secret.expose()),
            "{}",
            redact(&text)
        );
        assert!(canary_sweep(&text).is_err(), "the sweep let {text} through");
        // A 22-character opaque token held by nobody here is still masked.
        assert!(!redact("token=2YotnFZFEjr1zCsicMWpAA").contains("2YotnFZ"));
    }

    #[test]
    fn values_and_keys_are_redacted_recursively() {
        let held = crate::secret::Secret::new("refresh-token-held-1");
        let v = serde_json::json!({"a": [held.expose()], "refresh-token-held-1": {"b": "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"}});
        let text = redact_value(v).to_string();
        assert!(canary_sweep(&text).is_ok(), "{text}");
        assert!(!text.contains("refresh-token-held"), "{text}");
    }
}
