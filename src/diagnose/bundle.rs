//! The support bundle: the doctor report as one JSON file in which every token-like value
//! has been replaced by a short hash, checked by a final canary sweep that refuses to write
//! anything still shaped like a lab token (`labsecret_…`) or a JWT (`eyJ…`).

use std::path::Path;

use super::doctor::DoctorReport;
use crate::secret::fingerprint;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("could not build the bundle: {0}")]
    Serialize(String),
    /// The sweep found a token-shaped value; nothing was written.
    #[error("refused to write the bundle: a token-shaped value ({0}) survived redaction")]
    SecretLeft(&'static str),
    #[error("could not write the bundle: {0}")]
    Write(String),
}

/// Redaction for free text (bundles and log lines): `trace::scrub`, then any word that
/// still carries a lab-token prefix or a JWT header prefix becomes its fingerprint.
pub fn redact(text: &str) -> String {
    let scrubbed = crate::trace::scrub(text);
    if !scrubbed.contains("labsecret_") && !scrubbed.contains("eyJ") {
        return scrubbed;
    }
    let mut out = String::with_capacity(scrubbed.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.contains("labsecret_") || has_jwt_prefix(word) {
            out.push('[');
            out.push_str(&fingerprint(word));
            out.push(']');
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in scrubbed.chars() {
        if c.is_ascii_alphanumeric() || "-_.~+/=".contains(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn has_jwt_prefix(word: &str) -> bool {
    word.match_indices("eyJ").any(|(i, _)| {
        word[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .count()
            >= 8
    })
}

/// The canary sweep: `Err` if anything token-shaped is left.
pub fn canary_sweep(text: &str) -> Result<(), BundleError> {
    if text.contains("labsecret_") {
        return Err(BundleError::SecretLeft("labsecret_"));
    }
    if has_jwt_prefix(text) {
        return Err(BundleError::SecretLeft("eyJ"));
    }
    Ok(())
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
    crate::state::write_atomic(path, text.as_bytes())
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
    fn redact_replaces_token_shapes_scrub_misses() {
        // Short enough that `scrub`'s length rule does not catch them.
        let text =
            "code=labsecret_code_x, header eyJhbGciOiJIUzI1NiJ9 alone; url https://idp.example/a";
        let r = redact(text);
        assert!(canary_sweep(&r).is_ok(), "{r}");
        assert!(r.contains("https://idp.example/a"), "{r}");
        assert!(r.contains("[sha256:"), "{r}");
    }

    #[test]
    fn the_sweep_refuses_leftovers() {
        assert!(matches!(
            canary_sweep("x labsecret_at_1"),
            Err(BundleError::SecretLeft("labsecret_"))
        ));
        assert!(matches!(
            canary_sweep("x eyJhbGciOiJ"),
            Err(BundleError::SecretLeft("eyJ"))
        ));
        // A word that merely contains the letters is fine.
        assert!(canary_sweep("keyJ is a word").is_ok());
    }

    #[test]
    fn values_and_keys_are_redacted_recursively() {
        let v = serde_json::json!({"a": ["labsecret_rt_1"], "labsecret_k": {"b": "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"}});
        let text = redact_value(v).to_string();
        assert!(canary_sweep(&text).is_ok(), "{text}");
    }
}
