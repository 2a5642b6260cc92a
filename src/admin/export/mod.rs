//! `lanyard policy export`: the policy in the form each platform's fleet tools deploy — the
//! Linux `/etc/lanyard/policy.json`, a macOS configuration profile, a Windows `.reg` file and
//! Group Policy (ADMX/ADML) templates. Each one reads back into the same policy
//! (`admin::managed`), which the tests check.

pub mod admx;
pub mod document;
pub mod mobileconfig;
pub mod reg;
pub mod xml;

use crate::policy::Policy;
use document::PolicyDocument;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Mobileconfig,
    Reg,
    Admx,
}

impl Format {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "json" => Some(Self::Json),
            "mobileconfig" => Some(Self::Mobileconfig),
            "reg" => Some(Self::Reg),
            "admx" => Some(Self::Admx),
            _ => None,
        }
    }
}

/// One file of an export: its usual name (relative: ADML goes in `en-US/`) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Profile(#[from] mobileconfig::ProfileError),
    #[error(transparent)]
    Reg(#[from] reg::RegError),
    #[error(transparent)]
    Admx(#[from] admx::AdmxError),
}

/// The files of `policy` in `format` (one file, or the ADMX and its ADML).
pub fn export(policy: &Policy, format: Format) -> Result<Vec<Artifact>, ExportError> {
    let doc = PolicyDocument::from_policy(policy);
    let one = |file_name: &str, bytes: Vec<u8>| {
        vec![Artifact {
            file_name: file_name.to_string(),
            bytes,
        }]
    };
    Ok(match format {
        Format::Json => one("policy.json", doc.to_json().into_bytes()),
        Format::Mobileconfig => one("Lanyard.mobileconfig", mobileconfig::write(&doc)?),
        Format::Reg => one(
            "Lanyard.reg",
            reg::write(&crate::admin::registry::to_registry(&doc))?,
        ),
        Format::Admx => {
            let (admx, adml) = admx::write(&doc)?;
            vec![
                Artifact {
                    file_name: "Lanyard.admx".into(),
                    bytes: admx.into_bytes(),
                },
                Artifact {
                    file_name: "en-US/Lanyard.adml".into(),
                    bytes: adml.into_bytes(),
                },
            ]
        }
    })
}

/// Whether the export would write a client secret in plain text (the CLI then refuses to
/// print it to the terminal and writes the file readable by its owner only).
pub fn carries_secret(policy: &Policy) -> bool {
    PolicyDocument::from_policy(policy).has_inline_secret()
}
