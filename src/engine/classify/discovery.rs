//! Discovery failures (protected-resource metadata, AS metadata, the MCP server's first
//! answer) as rows of the connector state table.

use crate::protocol::discovery::DiscoveryError;
use crate::view::connector::{ConnectorState, Stage};

use super::{RATE_LIMITED, Row, TOO_MANY_REQUESTS, http, rate_limited_hint, unreachable_hint};

// long: one arm per `DiscoveryError` variant, so a new variant fails to compile here until it
// has a state, a code and a hint; the table reads best whole.
pub(super) fn discovery(e: &DiscoveryError, who: &str) -> Row {
    use ConnectorState::*;
    let d = Some(e.to_string());
    let admin = |what: &str| {
        format!(
            "{who}'s server {what}. Tell your IT admin; Lanyard will not send credentials there."
        )
    };
    let (state, code, hint) = match e {
        DiscoveryError::Http { source, .. } => return http(Stage::Discovery, source, who),
        DiscoveryError::NoAuthRequired => (
            Misconfigured,
            "no_auth_required",
            format!(
                "{who}'s MCP server answered without asking for a token. Check its mcp_url in the policy."
            ),
        ),
        DiscoveryError::UnexpectedStatus {
            status: TOO_MANY_REQUESTS,
            ..
        } => (Unreachable, RATE_LIMITED, rate_limited_hint(who, false)),
        DiscoveryError::UnexpectedStatus { status, .. } if *status >= 500 => {
            (Unreachable, "server_error", unreachable_hint(who))
        }
        DiscoveryError::UnexpectedStatus { .. } => (
            Misconfigured,
            "unexpected_status",
            format!(
                "{who}'s MCP server did not answer as an MCP server should. Check its mcp_url in the policy."
            ),
        ),
        DiscoveryError::ProtectedResourceMetadataNotFound { .. } => (
            Misconfigured,
            "no_resource_metadata",
            format!(
                "{who}'s MCP server does not publish protected-resource metadata. Check its mcp_url in the policy."
            ),
        ),
        DiscoveryError::ResourceMetadataCrossOrigin { .. } => (
            Misconfigured,
            "resource_metadata_cross_origin",
            admin("points to metadata on another site"),
        ),
        DiscoveryError::ResourceMismatch { .. } => (
            Misconfigured,
            "resource_mismatch",
            admin("describes a different resource than the one configured"),
        ),
        DiscoveryError::AuthorizationServerMetadataNotFound { .. } => (
            Misconfigured,
            "no_as_metadata",
            format!("{who}'s authorization server publishes no metadata. Tell your IT admin."),
        ),
        DiscoveryError::IssuerMismatch { .. } => (
            Misconfigured,
            "issuer_mismatch",
            admin("names an authorization server whose metadata claims a different issuer"),
        ),
        DiscoveryError::AsIssuerNotAllowed { .. } => (
            Misconfigured,
            "as_issuer_not_allowed",
            admin("names an authorization server the policy does not allow (as_issuer)"),
        ),
        DiscoveryError::AsIssuerChanged { .. } => (
            Misconfigured,
            "as_issuer_changed",
            admin("now names a different authorization server than the one that granted access"),
        ),
        DiscoveryError::TokenEndpointOtherOrigin { .. } => (
            Misconfigured,
            "token_endpoint_other_origin",
            admin("uses a token endpoint on another site than its authorization server"),
        ),
        DiscoveryError::InvalidMetadata { .. } => (
            Misconfigured,
            "invalid_metadata",
            format!("{who}'s server published metadata Lanyard cannot use. Tell your IT admin."),
        ),
        DiscoveryError::InsecureEndpoint { .. } => {
            (Misconfigured, "insecure_endpoint", admin("uses plain http"))
        }
        DiscoveryError::NoIdJagSupport { .. } => (
            Unsupported,
            "no_id_jag_support",
            format!(
                "{who} does not support zero-touch sign-in yet; connect it from the app that uses it."
            ),
        ),
    };
    (Stage::Discovery, state, code.into(), d, hint)
}
