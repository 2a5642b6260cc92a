//! Run-time fault knobs (`POST /lab/faults`, `Lab::set_faults`): IdP outage, blanket policy
//! denial, signing-key rotation, token endpoints that echo the request back, and one protocol
//! leg answering badly (`leg_fault`: 500, slow, garbage or oversized) for fault catalogues.

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
    /// One leg answers badly until cleared (`null`); absent from older clients' bodies.
    #[serde(default)]
    pub leg_fault: Option<LegFault>,
}

/// A protocol leg, as the lab's endpoints serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Leg {
    /// The IdP's OIDC discovery document.
    IdpDiscovery,
    IdpJwks,
    /// Every grant at the IdP's token endpoint (the three below included).
    IdpToken,
    /// `authorization_code` at the IdP (sign-in).
    SignIn,
    /// `refresh_token` at the IdP (session renewal).
    IdpRefresh,
    /// RFC 8693 at the IdP (ID token or refresh token → ID-JAG).
    TokenExchange,
    /// RFC 9728 protected-resource metadata of a connector.
    ResourceMetadata,
    /// RFC 8414 metadata of a connector's authorization server.
    AsMetadata,
    /// RFC 7523 at a connector's authorization server (ID-JAG → access token).
    JwtBearer,
    /// A connector's MCP server.
    Mcp,
    /// RFC 7009 at the IdP or a connector's authorization server.
    Revocation,
}

impl Leg {
    /// Whether a request on leg `actual` is covered by a fault set on `self`.
    pub fn covers(self, actual: Leg) -> bool {
        self == actual
            || (self == Leg::IdpToken
                && matches!(actual, Leg::SignIn | Leg::IdpRefresh | Leg::TokenExchange))
    }
}

/// How a faulty leg answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegFaultKind {
    /// HTTP 500 with an OAuth `server_error` body.
    Error500,
    /// The real answer, after `delay_ms` (default 30 000: past any client timeout).
    Slow,
    /// HTTP 200 with an HTML page where JSON belongs (a captive portal, a proxy).
    Garbage,
    /// HTTP 200 with a JSON body of 2 MiB (over any sane client's cap).
    Oversized,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegFault {
    pub leg: Leg,
    pub kind: LegFaultKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

/// A partial `POST /lab/faults` body: absent fields keep their current value.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsPatch {
    pub idp_down: Option<bool>,
    pub deny_all: Option<bool>,
    pub rotate_keys: Option<bool>,
    pub echo_request: Option<bool>,
    /// Absent: unchanged; `null`: cleared.
    #[serde(default, deserialize_with = "present")]
    pub leg_fault: Option<Option<LegFault>>,
}

/// A field that is present (even as `null`) becomes `Some`.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

impl Faults {
    /// The faults after `patch`; the bool says whether a key rotation was asked for.
    pub fn patched(self, patch: FaultsPatch) -> (Faults, bool) {
        let next = Faults {
            idp_down: patch.idp_down.unwrap_or(self.idp_down),
            deny_all: patch.deny_all.unwrap_or(self.deny_all),
            rotate_keys: patch.rotate_keys.unwrap_or(self.rotate_keys),
            echo_request: patch.echo_request.unwrap_or(self.echo_request),
            leg_fault: patch.leg_fault.unwrap_or(self.leg_fault),
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
            leg_fault: Some(f.leg_fault),
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
    fn leg_fault_is_set_kept_and_cleared() {
        let set: FaultsPatch =
            serde_json::from_str(r#"{"leg_fault": {"leg": "jwt_bearer", "kind": "garbage"}}"#)
                .unwrap();
        let (on, _) = Faults::default().patched(set);
        let fault = on.leg_fault.unwrap();
        assert_eq!(
            (fault.leg, fault.kind),
            (Leg::JwtBearer, LegFaultKind::Garbage)
        );
        let other: FaultsPatch = serde_json::from_str(r#"{"deny_all": false}"#).unwrap();
        assert_eq!(on.patched(other).0.leg_fault, Some(fault));
        let clear: FaultsPatch = serde_json::from_str(r#"{"leg_fault": null}"#).unwrap();
        assert_eq!(on.patched(clear).0.leg_fault, None);
        assert!(Leg::IdpToken.covers(Leg::IdpRefresh) && !Leg::IdpRefresh.covers(Leg::IdpToken));
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
