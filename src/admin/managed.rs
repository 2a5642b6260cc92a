//! Reading the policy back from where an admin or an MDM deployed it, behind one trait: a file
//! on Linux (`/etc/lanyard/policy.json`), the managed preferences a configuration profile
//! installs on macOS, the registry Group Policy writes on Windows. Every source yields the
//! policy as product.md JSON text, which `policy::parse` then validates like any policy file.
//!
//! A policy file may also be any export (`.mobileconfig`, `.plist`, `.reg`): `lanyard policy
//! check Lanyard.reg` reads what Windows would read.

use std::path::{Path, PathBuf};

use super::export::{mobileconfig, reg};
use super::registry::{self, POLICY_KEY};

/// How `locate` names the Windows registry location (not a file).
pub const REGISTRY_LOCATION: &str = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Lanyard";

#[derive(Debug, thiserror::Error)]
pub enum ManagedError {
    #[error("cannot read {location}: {why}")]
    Unreadable { location: String, why: String },
    #[error("{location}: {why}")]
    Invalid { location: String, why: String },
}

impl ManagedError {
    /// What went wrong, without the location (for messages that name it already).
    pub fn reason(&self) -> &str {
        match self {
            Self::Unreadable { why, .. } | Self::Invalid { why, .. } => why,
        }
    }
}

/// One place a deployed policy can be read from.
pub trait ManagedSource {
    /// Where, for messages (`/etc/lanyard/policy.json`, `HKEY_LOCAL_MACHINE\…`).
    fn location(&self) -> String;
    /// The policy as JSON text; `Ok(None)` when nothing is deployed there.
    fn read(&self) -> Result<Option<String>, ManagedError>;
}

/// A policy file: JSON, or an export read back by its extension.
pub struct PolicyFile(pub PathBuf);

/// macOS managed preferences (`/Library/Managed Preferences/<bundle id>.plist`).
pub struct ManagedPreferences(pub PathBuf);

/// The Windows registry under `HKLM\SOFTWARE\Policies\Lanyard`.
pub struct Registry;

impl ManagedSource for PolicyFile {
    fn location(&self) -> String {
        self.0.display().to_string()
    }

    fn read(&self) -> Result<Option<String>, ManagedError> {
        let bytes = match std::fs::read(&self.0) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.unreadable(e)),
        };
        let invalid = |why: String| ManagedError::Invalid {
            location: self.location(),
            why,
        };
        let json = match extension(&self.0).as_deref() {
            Some("mobileconfig") => {
                mobileconfig::read_profile(&bytes).map_err(|e| invalid(e.to_string()))?
            }
            Some("plist") => return ManagedPreferences(self.0.clone()).read(),
            Some("reg") => {
                let key = reg::parse(&bytes).map_err(|e| invalid(e.to_string()))?;
                registry::from_registry(&key, REGISTRY_LOCATION)
                    .map_err(|e| invalid(e.to_string()))?
            }
            _ => {
                return String::from_utf8(bytes)
                    .map(Some)
                    .map_err(|_| invalid("not UTF-8 text".into()));
            }
        };
        Ok(Some(json.to_string()))
    }
}

impl PolicyFile {
    fn unreadable(&self, e: std::io::Error) -> ManagedError {
        ManagedError::Unreadable {
            location: self.location(),
            why: e.to_string(),
        }
    }
}

impl ManagedSource for ManagedPreferences {
    fn location(&self) -> String {
        self.0.display().to_string()
    }

    fn read(&self) -> Result<Option<String>, ManagedError> {
        let bytes = match std::fs::read(&self.0) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(ManagedError::Unreadable {
                    location: self.location(),
                    why: e.to_string(),
                });
            }
        };
        let mut json =
            mobileconfig::read_preferences(&bytes).map_err(|e| ManagedError::Invalid {
                location: self.location(),
                why: e.to_string(),
            })?;
        // macOS may add its own bookkeeping keys to a managed-preferences file.
        if let Some(map) = json.as_object_mut() {
            map.retain(|k, _| !k.starts_with("Payload") && !k.starts_with("mcx_"));
        }
        Ok(Some(json.to_string()))
    }
}

impl ManagedSource for Registry {
    fn location(&self) -> String {
        REGISTRY_LOCATION.to_string()
    }

    fn read(&self) -> Result<Option<String>, ManagedError> {
        let Some(key) = read_registry().map_err(|e| ManagedError::Unreadable {
            location: self.location(),
            why: e.to_string(),
        })?
        else {
            return Ok(None);
        };
        registry::from_registry(&key, REGISTRY_LOCATION)
            .map(|json| Some(json.to_string()))
            .map_err(|e| ManagedError::Invalid {
                location: self.location(),
                why: e.to_string(),
            })
    }
}

/// The source that reads `location` (a path `locate` returned).
pub fn source_for(location: &Path) -> Box<dyn ManagedSource> {
    if location.as_os_str() == REGISTRY_LOCATION {
        return Box::new(Registry);
    }
    match extension(location).as_deref() {
        Some("plist") => Box::new(ManagedPreferences(location.to_path_buf())),
        _ => Box::new(PolicyFile(location.to_path_buf())),
    }
}

/// The policy at `location`, as JSON text.
pub fn read_text(location: &Path) -> Result<String, ManagedError> {
    let source = source_for(location);
    source.read()?.ok_or_else(|| ManagedError::Unreadable {
        location: source.location(),
        why: "no such file or managed setting".into(),
    })
}

/// Where this platform's MDM puts policy besides the managed file (macOS managed preferences,
/// the Windows registry), if something is deployed there.
pub fn deployed_elsewhere() -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        let prefs = PathBuf::from(format!(
            "/Library/Managed Preferences/{}.plist",
            mobileconfig::BUNDLE_ID
        ));
        return prefs.exists().then_some(prefs);
    }
    if cfg!(windows) && matches!(read_registry(), Ok(Some(_))) {
        return Some(PathBuf::from(REGISTRY_LOCATION));
    }
    None
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// The `Lanyard` key and everything below it; `None` when it does not exist.
#[cfg(windows)]
fn read_registry() -> std::io::Result<Option<registry::RegKey>> {
    use winreg::enums::HKEY_LOCAL_MACHINE;
    let hklm = winreg::RegKey::predef(HKEY_LOCAL_MACHINE);
    match hklm.open_subkey(POLICY_KEY) {
        Ok(key) => windows::copy(&key).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(not(windows))]
fn read_registry() -> std::io::Result<Option<registry::RegKey>> {
    // No registry here; named so the layout's key is referenced on every platform.
    let _ = POLICY_KEY;
    Ok(None)
}

#[cfg(windows)]
mod windows {
    use crate::admin::registry::{RegKey, RegValue};
    use winreg::enums::RegType;
    use winreg::types::FromRegValue as _;

    /// A live registry key copied into the platform-neutral `RegKey` the layout reads.
    pub(super) fn copy(key: &winreg::RegKey) -> std::io::Result<RegKey> {
        let mut out = RegKey::default();
        for item in key.enum_values() {
            let (name, value) = item?;
            let value = match value.vtype {
                RegType::REG_DWORD => RegValue::Dword(u32::from_reg_value(&value)?),
                // Anything else is read as text, so a wrong type is reported by the layout.
                _ => RegValue::Sz(String::from_reg_value(&value)?),
            };
            out.values.insert(name, value);
        }
        for name in key.enum_keys() {
            let name = name?;
            let sub = key.open_subkey(&name)?;
            out.subkeys.insert(name, copy(&sub)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::export::document::PolicyDocument;
    use crate::admin::export::document::tests::full;
    use crate::admin::export::{Format, export};

    #[test]
    fn every_export_reads_back_through_the_one_trait() {
        let policy = full();
        let want = PolicyDocument::from_policy(&policy);
        let dir = tempfile::tempdir().unwrap();
        for (format, name) in [
            (Format::Json, "policy.json"),
            (Format::Mobileconfig, "Lanyard.mobileconfig"),
            (Format::Reg, "Lanyard.reg"),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, &export(&policy, format).unwrap()[0].bytes).unwrap();
            let text = read_text(&path).unwrap();
            let back = crate::policy::parse(&text, &path).unwrap();
            assert_eq!(PolicyDocument::from_policy(&back), want, "{name}");
            // And the engine's own loader takes the same files.
            let loaded = crate::policy::load(&path).unwrap();
            assert_eq!(
                PolicyDocument::from_policy(&loaded),
                want,
                "{name} via policy::load"
            );
        }
        let prefs = dir.path().join("dev.lanyard.desktop.plist");
        let mut bytes = Vec::new();
        plist::to_writer_xml(&mut bytes, &want).unwrap();
        std::fs::write(&prefs, bytes).unwrap();
        let source = source_for(&prefs);
        let back = crate::policy::parse(&source.read().unwrap().unwrap(), &prefs).unwrap();
        assert_eq!(PolicyDocument::from_policy(&back), want);
    }

    #[test]
    fn missing_and_broken_sources() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            PolicyFile(dir.path().join("none.json"))
                .read()
                .unwrap()
                .is_none()
        );
        let bad = dir.path().join("x.reg");
        std::fs::write(&bad, "REGEDIT4\n").unwrap();
        let e = read_text(&bad).unwrap_err().to_string();
        assert!(e.contains("x.reg") && e.contains("not a .reg file"), "{e}");
        assert!(Registry.read().unwrap().is_none() || cfg!(windows));
        assert_eq!(
            source_for(Path::new(REGISTRY_LOCATION)).location(),
            REGISTRY_LOCATION
        );
    }
}
