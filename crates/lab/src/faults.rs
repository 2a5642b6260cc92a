//! Run-time fault knobs (`POST /lab/faults`, `Lab::set_faults`): IdP outage, blanket policy
//! denial, signing-key rotation, and token endpoints that echo the request back.

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    /// Every `/idp/*` endpoint answers 503 `temporarily_unavailable`.
    #[serde(default)]
    pub idp_down: bool,
    /// Every token exchange is refused with `access_denied`.
    #[serde(default)]
    pub deny_all: bool,
    /// Setting it rotates the IdP signing key: only the new key is published and trusted.
    #[serde(default)]
    pub rotate_keys: bool,
    /// The IdP's and every connector AS's token endpoint answer 400 `invalid_request` whose
    /// `error_description` repeats the received form body and `Authorization` header (client
    /// secrets and tokens included), for clients' redaction tests.
    #[serde(default)]
    pub echo_request: bool,
}

/// A partial `POST /lab/faults` body: absent fields keep their current value.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsPatch {
    pub idp_down: Option<bool>,
    pub deny_all: Option<bool>,
    pub rotate_keys: Option<bool>,
    pub echo_request: Option<bool>,
}

impl Faults {
    /// The faults after `patch`; the bool says whether a key rotation was asked for.
    pub fn patched(self, patch: FaultsPatch) -> (Faults, bool) {
        let next = Faults {
            idp_down: patch.idp_down.unwrap_or(self.idp_down),
            deny_all: patch.deny_all.unwrap_or(self.deny_all),
            rotate_keys: patch.rotate_keys.unwrap_or(self.rotate_keys),
            echo_request: patch.echo_request.unwrap_or(self.echo_request),
        };
        (next, patch.rotate_keys == Some(true))
    }
}

impl From<Faults> for FaultsPatch {
    fn from(f: Faults) -> Self {
        Self {
            idp_down: Some(f.idp_down),
            deny_all: Some(f.deny_all),
            rotate_keys: Some(f.rotate_keys),
            echo_request: Some(f.echo_request),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_patch_keeps_other_knobs() {
        let start = Faults {
            idp_down: true,
            ..Faults::default()
        };
        let patch: FaultsPatch = serde_json::from_str(r#"{"deny_all": true}"#).unwrap();
        let (next, rotate) = start.patched(patch);
        assert!(next.idp_down && next.deny_all && !rotate);
    }

    #[test]
    fn rotate_is_requested_only_when_set_true() {
        let patch: FaultsPatch = serde_json::from_str(r#"{"rotate_keys": true}"#).unwrap();
        assert!(Faults::default().patched(patch).1);
        let off: FaultsPatch = serde_json::from_str(r#"{"rotate_keys": false}"#).unwrap();
        assert!(!Faults::default().patched(off).1);
    }

    #[test]
    fn unknown_knobs_are_refused() {
        assert!(serde_json::from_str::<FaultsPatch>(r#"{"idp_dwn": true}"#).is_err());
    }
}
