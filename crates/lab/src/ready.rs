//! The one JSON line `lanyard-lab serve` prints when every listener is up (product.md contract).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Ready {
    /// `http://127.0.0.1:PORT` of the IdP listener (also serves `/lab/*`).
    pub base: String,
    pub idp_issuer: String,
    /// Path of the Lanyard policy file written for this lab.
    pub policy: String,
    pub connectors: Vec<ReadyConnector>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReadyConnector {
    pub id: String,
    pub mcp_url: String,
    /// The connector authorization server's issuer (RFC 8414), exact string.
    pub issuer: String,
}
