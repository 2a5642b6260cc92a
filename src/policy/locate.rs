//! Where the policy is found (`--policy`, `$LANYARD_POLICY`, the managed location, what an
//! MDM deployed, the user's config folder) and loading it from there. Above `admin::managed`,
//! which decodes the deployed forms; `model` is below both.

use std::path::{Path, PathBuf};

use super::model::{Policy, PolicyError, parse};

/// The platform's managed location, where an admin (or MDM) installs the policy.
pub fn managed_location() -> PathBuf {
    if cfg!(target_os = "macos") {
        PathBuf::from("/Library/Application Support/Lanyard/policy.json")
    } else if cfg!(windows) {
        let base = std::env::var_os("ProgramData").unwrap_or_else(|| "C:\\ProgramData".into());
        PathBuf::from(base).join("Lanyard").join("policy.json")
    } else {
        PathBuf::from("/etc/lanyard/policy.json")
    }
}

/// `--policy`, else `$LANYARD_POLICY`, else the managed location, else the user's config folder.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, PolicyError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("LANYARD_POLICY").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let managed = managed_location();
    if managed.exists() {
        return Ok(managed);
    }
    // What an MDM deployed: macOS managed preferences, the Windows registry.
    if let Some(deployed) = crate::admin::managed::deployed_elsewhere() {
        return Ok(deployed);
    }
    if let Some(user) = dirs::config_dir().map(|d| d.join("lanyard").join("policy.json"))
        && user.exists()
    {
        return Ok(user);
    }
    Err(PolicyError::NotFound(managed.display().to_string()))
}

/// Reads and validates the policy at `path`: a JSON file, or any form `lanyard policy export`
/// writes (read back by `admin::managed`), or the Windows registry location.
pub fn load(path: &Path) -> Result<Policy, PolicyError> {
    let text = crate::admin::managed::read_text(path).map_err(|e| PolicyError::Unreadable {
        path: path.display().to_string(),
        why: e.reason().to_string(),
    })?;
    parse(&text, path)
}
