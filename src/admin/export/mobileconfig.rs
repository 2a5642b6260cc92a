//! A macOS configuration profile (`.mobileconfig`): an XML property list with one
//! `com.apple.ManagedClient.preferences` payload that forces the policy as the managed
//! preferences of Lanyard's bundle id. Once an MDM installs it, macOS writes those settings to
//! `/Library/Managed Preferences/<bundle id>.plist`, which `admin::managed` reads.
//!
//! The payload UUIDs are derived from the policy's content, so exporting the same policy twice
//! gives the same file (an MDM sees "unchanged"), and a changed policy a new version.

use plist::{Dictionary, Value};
use sha2::{Digest as _, Sha256};

use super::document::PolicyDocument;

/// The app's bundle identifier (`identifier` in src-tauri/tauri.conf.json; a test checks).
pub const BUNDLE_ID: &str = "dev.lanyard.desktop";
pub const MANAGED_PREFERENCES: &str = "com.apple.ManagedClient.preferences";

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("not a property list: {0}")]
    NotPlist(String),
    #[error("the profile has no {MANAGED_PREFERENCES} payload forcing settings for {BUNDLE_ID}")]
    NoPayload,
    #[error("the managed settings are not a policy: {0}")]
    NotPolicy(String),
}

/// The profile as XML plist bytes.
pub fn write(doc: &PolicyDocument) -> Result<Vec<u8>, ProfileError> {
    let settings = plist::to_value(doc).map_err(|e| ProfileError::NotPlist(e.to_string()))?;
    let forced = dict([("mcx_preference_settings", settings)]);
    let content = dict([(BUNDLE_ID, dict([("Forced", Value::Array(vec![forced]))]))]);
    let seed = format!("{doc:?}");
    let payload = dict([
        ("PayloadContent", content),
        (
            "PayloadDisplayName",
            s("Lanyard policy (managed preferences)"),
        ),
        ("PayloadEnabled", Value::Boolean(true)),
        (
            "PayloadIdentifier",
            s(&format!("{BUNDLE_ID}.policy.preferences")),
        ),
        ("PayloadType", s(MANAGED_PREFERENCES)),
        ("PayloadUUID", s(&uuid_for(&seed, "payload"))),
        ("PayloadVersion", Value::Integer(1.into())),
    ]);
    let profile = dict([
        ("PayloadContent", Value::Array(vec![payload])),
        (
            "PayloadDescription",
            s("Lanyard's admin policy: the company IdP and the MCP connectors it grants."),
        ),
        ("PayloadDisplayName", s("Lanyard policy")),
        ("PayloadIdentifier", s(&format!("{BUNDLE_ID}.policy"))),
        ("PayloadScope", s("System")),
        ("PayloadType", s("Configuration")),
        ("PayloadUUID", s(&uuid_for(&seed, "profile"))),
        ("PayloadVersion", Value::Integer(1.into())),
    ]);
    let mut out = Vec::new();
    profile
        .to_writer_xml(&mut out)
        .map_err(|e| ProfileError::NotPlist(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// The policy (as JSON, for `policy::parse`) that a profile forces for Lanyard.
pub fn read_profile(bytes: &[u8]) -> Result<serde_json::Value, ProfileError> {
    let profile = Value::from_reader(std::io::Cursor::new(bytes))
        .map_err(|e| ProfileError::NotPlist(e.to_string()))?;
    let payloads = profile
        .as_dictionary()
        .and_then(|d| d.get("PayloadContent"))
        .and_then(Value::as_array)
        .ok_or(ProfileError::NoPayload)?;
    let settings = payloads
        .iter()
        .filter_map(Value::as_dictionary)
        .filter(|p| p.get("PayloadType").and_then(Value::as_string) == Some(MANAGED_PREFERENCES))
        .filter_map(|p| p.get("PayloadContent")?.as_dictionary()?.get(BUNDLE_ID))
        .filter_map(|app| app.as_dictionary()?.get("Forced")?.as_array()?.first())
        .find_map(|forced| forced.as_dictionary()?.get("mcx_preference_settings"))
        .ok_or(ProfileError::NoPayload)?;
    to_json(settings)
}

/// The policy in a managed-preferences plist (`/Library/Managed Preferences/<id>.plist`):
/// its top-level dictionary is the policy document.
pub fn read_preferences(bytes: &[u8]) -> Result<serde_json::Value, ProfileError> {
    let value = Value::from_reader(std::io::Cursor::new(bytes))
        .map_err(|e| ProfileError::NotPlist(e.to_string()))?;
    to_json(&value)
}

fn to_json(value: &Value) -> Result<serde_json::Value, ProfileError> {
    plist::from_value(value).map_err(|e| ProfileError::NotPolicy(e.to_string()))
}

fn dict<const N: usize>(entries: [(&str, Value); N]) -> Value {
    let mut d = Dictionary::new();
    for (k, v) in entries {
        d.insert(k.to_string(), v);
    }
    Value::Dictionary(d)
}

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

/// A name-based UUID (RFC 4122 version-5 layout over SHA-256) from the policy's redacted
/// `Debug` form: stable for the same policy, and no secret goes into the hash.
fn uuid_for(seed: &str, which: &str) -> String {
    let digest = Sha256::digest(format!("lanyard-profile/{which}/{seed}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::export::document::tests::full;

    #[test]
    fn the_profile_is_a_plist_that_parses_back_into_the_same_policy() {
        let doc = PolicyDocument::from_policy(&full());
        let bytes = write(&doc).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("<?xml"), "{text}");
        assert!(text.contains("<!DOCTYPE plist"));
        assert!(text.contains(MANAGED_PREFERENCES) && text.contains(BUNDLE_ID));
        // XML special characters are escaped.
        assert!(
            text.contains("Linear &quot;HQ&quot; \\ &lt;&amp;&gt;")
                || text.contains("Linear \"HQ\" \\ &lt;&amp;&gt;"),
            "{text}"
        );

        let json = read_profile(&bytes).unwrap();
        let back = crate::policy::parse(&json.to_string(), std::path::Path::new("p")).unwrap();
        assert_eq!(PolicyDocument::from_policy(&back), doc);
        assert_eq!(write(&doc).unwrap(), bytes, "stable for the same policy");
    }

    #[test]
    fn managed_preferences_and_foreign_profiles() {
        let doc = PolicyDocument::from_policy(&full());
        let mut prefs = Vec::new();
        plist::to_writer_xml(&mut prefs, &doc).unwrap();
        let json = read_preferences(&prefs).unwrap();
        let back = crate::policy::parse(&json.to_string(), std::path::Path::new("p")).unwrap();
        assert_eq!(PolicyDocument::from_policy(&back), doc);

        let other = write(&doc).unwrap();
        let other = String::from_utf8(other)
            .unwrap()
            .replace(BUNDLE_ID, "com.example.other");
        assert!(matches!(
            read_profile(other.as_bytes()),
            Err(ProfileError::NoPayload)
        ));
        assert!(matches!(
            read_profile(b"{}"),
            Err(ProfileError::NotPlist(_))
        ));
    }

    #[test]
    fn the_bundle_id_is_the_apps() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../../../src-tauri/tauri.conf.json")).unwrap();
        assert_eq!(conf["identifier"], BUNDLE_ID);
    }
}
