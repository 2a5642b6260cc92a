//! Timings per leg from a flow's recorded steps: how long discovery, the token exchange at the
//! IdP, the jwt-bearer redemption and the MCP check took, per connector and for sign-in.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::trace::{Step, StepKind};

/// The legs a pilot report shows as columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum LegGroup {
    /// IdP discovery, signing keys and the sign-in code redemption.
    SignIn,
    /// MCP probe, protected-resource and authorization-server metadata.
    Discovery,
    /// RFC 8693 at the IdP: ID token → ID-JAG.
    TokenExchange,
    /// RFC 7523 at the connector's authorization server: ID-JAG → access token.
    JwtBearer,
    /// MCP `initialize` + `tools/list` with the new token.
    McpCheck,
    /// Refresh and revocation.
    Other,
}

impl LegGroup {
    pub const COLUMNS: [LegGroup; 5] = [
        Self::SignIn,
        Self::Discovery,
        Self::TokenExchange,
        Self::JwtBearer,
        Self::McpCheck,
    ];

    pub fn of(kind: StepKind) -> Self {
        use StepKind::*;
        match kind {
            IdpDiscovery | Jwks | Authorization | Callback | Token | DeviceAuthorization
            | DevicePoll => Self::SignIn,
            McpProbe | ProtectedResourceMetadata | AuthorizationServerMetadata => Self::Discovery,
            TokenExchange => Self::TokenExchange,
            JwtBearer => Self::JwtBearer,
            McpInitialize | McpToolsList | McpToolCall => Self::McpCheck,
            Refresh | Revocation => Self::Other,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::SignIn => "Sign-in (IdP)",
            Self::Discovery => "Discovery",
            Self::TokenExchange => "ID-JAG at the IdP",
            Self::JwtBearer => "JWT-bearer at the connector",
            Self::McpCheck => "MCP check",
            Self::Other => "Other",
        }
    }
}

/// One flow's time per leg, in milliseconds (the browser's own time is not a step's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FlowTiming {
    /// The test user the flow ran for.
    pub user: String,
    /// `"sign-in"` or a connector id.
    pub flow: String,
    pub legs: BTreeMap<LegGroup, u64>,
    pub total_ms: u64,
}

impl FlowTiming {
    pub fn from_steps(user: &str, flow: &str, steps: &[Step]) -> Self {
        let mut legs = BTreeMap::new();
        for s in steps {
            *legs.entry(LegGroup::of(s.kind)).or_insert(0) += s.duration_ms;
        }
        Self {
            user: user.to_string(),
            flow: flow.to_string(),
            total_ms: legs.values().sum(),
            legs,
        }
    }
}

/// Per flow and leg, the median over users (what a report shows: typical, not one lucky run).
pub fn medians(timings: &[FlowTiming]) -> Vec<(String, BTreeMap<LegGroup, u64>, u64)> {
    let mut flows: Vec<String> = Vec::new();
    for t in timings {
        if !flows.contains(&t.flow) {
            flows.push(t.flow.clone());
        }
    }
    flows
        .into_iter()
        .map(|flow| {
            let runs: Vec<&FlowTiming> = timings.iter().filter(|t| t.flow == flow).collect();
            let mut legs = BTreeMap::new();
            for leg in LegGroup::COLUMNS.into_iter().chain([LegGroup::Other]) {
                let values: Vec<u64> = runs
                    .iter()
                    .filter_map(|r| r.legs.get(&leg).copied())
                    .collect();
                if let Some(m) = median(values) {
                    legs.insert(leg, m);
                }
            }
            let total = median(runs.iter().map(|r| r.total_ms).collect()).unwrap_or(0);
            (flow, legs, total)
        })
        .collect()
}

fn median(mut values: Vec<u64>) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[values.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(kind: StepKind, ms: u64) -> Step {
        Step {
            kind,
            method: "POST".into(),
            url: "http://127.0.0.1/x".into(),
            status: Some(200),
            duration_ms: ms,
            started_at: chrono::Utc::now(),
            server_date: None,
            oauth_error: None,
            note: None,
            claims: None,
        }
    }

    #[test]
    fn steps_are_summed_per_leg_and_medians_taken_per_flow() {
        let steps = [
            step(StepKind::McpProbe, 3),
            step(StepKind::ProtectedResourceMetadata, 2),
            step(StepKind::TokenExchange, 10),
            step(StepKind::JwtBearer, 7),
            step(StepKind::McpInitialize, 4),
            step(StepKind::McpToolsList, 1),
        ];
        let a = FlowTiming::from_steps("ada", "linear", &steps);
        assert_eq!(a.legs[&LegGroup::Discovery], 5);
        assert_eq!(a.legs[&LegGroup::McpCheck], 5);
        assert_eq!(a.total_ms, 27);
        let b = FlowTiming::from_steps("sam", "linear", &steps[..3]);
        let c = FlowTiming::from_steps("pat", "linear", &[step(StepKind::TokenExchange, 30)]);
        let m = medians(&[a, b, c]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].1[&LegGroup::TokenExchange], 10);
        assert_eq!(m[0].1[&LegGroup::Discovery], 5);
    }
}
