//! The cause-and-fix catalogue: every error code Lanyard can meet at every endpoint, mapped to
//! a plain-language cause, what the employee does, and what the admin checks
//! (ema-protocol §1.4, §3.5, §5; RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; OIDC Core §3.1.2.6).
//!
//! One table, so the CLI, the app's Details view and the support bundle say the same thing.
//! A code not in the table is shown honestly as unknown, quoting the server's own words.

use serde::{Deserialize, Serialize};

use crate::protocol::oidc::IdTokenCheck;
use crate::view::connector::{ConnectorError, Stage};

/// Where an error was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// The browser came back to the loopback callback with `error=`.
    OidcCallback,
    /// The ID token failed one of Lanyard's checks.
    IdToken,
    /// The IdP's token endpoint refused the sign-in code.
    IdpToken,
    /// The IdP's RFC 8693 token exchange (ID token → ID-JAG).
    IdpTokenExchange,
    /// The IdP's refresh_token grant (session renewal).
    IdpRefresh,
    /// The connector authorization server's RFC 7523 jwt-bearer grant (ID-JAG → access token).
    ConnectorJwtBearer,
    /// The MCP server itself.
    Mcp,
    /// Metadata discovery (IdP, protected resource, authorization server).
    Discovery,
    Network,
    Tls,
    /// The Lanyard session as a whole (no usable sign-in).
    Session,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OidcCallback => "oidc_callback",
            Self::IdToken => "id_token",
            Self::IdpToken => "idp_token",
            Self::IdpTokenExchange => "idp_token_exchange",
            Self::IdpRefresh => "idp_refresh",
            Self::ConnectorJwtBearer => "connector_jwt_bearer",
            Self::Mcp => "mcp",
            Self::Discovery => "discovery",
            Self::Network => "network",
            Self::Tls => "tls",
            Self::Session => "session",
        }
    }
}

/// Why something failed and what to do, for two readers. Safe to show and to bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Explanation {
    pub code: String,
    pub endpoint: Endpoint,
    pub cause: String,
    /// What the employee does.
    pub employee: String,
    /// What the admin checks.
    pub admin: String,
    /// False when the code is not in the catalogue; `cause` then quotes the server.
    pub known: bool,
    /// The server's own `error_description`, scrubbed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub server_description: Option<String>,
    /// Set by the clock check when a time-related failure is explained by skew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub clock_note: Option<String>,
}

struct Entry {
    endpoint: Endpoint,
    code: &'static str,
    cause: &'static str,
    employee: &'static str,
    admin: &'static str,
}

const fn e(
    endpoint: Endpoint,
    code: &'static str,
    cause: &'static str,
    employee: &'static str,
    admin: &'static str,
) -> Entry {
    Entry {
        endpoint,
        code,
        cause,
        employee,
        admin,
    }
}

use Endpoint::*;

mod table;
use table::{SEND_BUNDLE, TABLE};

/// Every known (endpoint, code) pair, in table order.
pub fn entries() -> Vec<(Endpoint, &'static str)> {
    TABLE.iter().map(|e| (e.endpoint, e.code)).collect()
}

/// Whether `code` is catalogued at `endpoint`.
pub fn is_known(endpoint: Endpoint, code: &str) -> bool {
    TABLE
        .iter()
        .any(|e| e.endpoint == endpoint && e.code == code)
}

/// The explanation of `code` at `endpoint`. `who` is the connector's display name;
/// `server_description` is the server's own `error_description` (already scrubbed).
pub fn explain(
    endpoint: Endpoint,
    code: &str,
    server_description: Option<&str>,
    who: Option<&str>,
) -> Explanation {
    let who = who.unwrap_or("this connector");
    let fill = |s: &str| s.replace("{who}", who).replace("{issuer}", "idp.issuer");
    let description = server_description.map(crate::trace::scrub);
    match TABLE
        .iter()
        .find(|e| e.endpoint == endpoint && e.code == code)
    {
        Some(entry) => Explanation {
            code: code.to_string(),
            endpoint,
            cause: capitalise(&fill(entry.cause)),
            employee: fill(entry.employee),
            admin: fill(entry.admin),
            known: true,
            server_description: description,
            clock_note: None,
        },
        None => {
            let code = crate::trace::scrub(code);
            let cause = match &description {
                Some(d) => format!(
                    "Lanyard does not know the code \"{code}\" at the {}. The server's own description: \"{d}\"",
                    place(endpoint)
                ),
                None => format!(
                    "Lanyard does not know the code \"{code}\" at the {}, and the server gave no description.",
                    place(endpoint)
                ),
            };
            Explanation {
                code: code.clone(),
                endpoint,
                cause,
                employee: SEND_BUNDLE.to_string(),
                admin: format!(
                    "Look up the code \"{code}\" in the documentation of the {}; the timeline shows the request that got it.",
                    place(endpoint)
                ),
                known: false,
                server_description: description,
                clock_note: None,
            }
        }
    }
}

/// The explanation of a connector's recorded error (`ConnectorError` from the state file):
/// the stage names the endpoint, except for codes that belong to the network or the session.
pub fn explain_connector_error(error: &ConnectorError, who: Option<&str>) -> Explanation {
    let endpoint = endpoint_for(error.stage, &error.code);
    explain(endpoint, &error.code, error.description.as_deref(), who)
}

/// Which catalogue endpoint a (stage, code) pair belongs to.
pub fn endpoint_for(stage: Stage, code: &str) -> Endpoint {
    let by_stage = match stage {
        Stage::Discovery => Discovery,
        Stage::TokenExchange => IdpTokenExchange,
        Stage::JwtBearer => ConnectorJwtBearer,
        Stage::Mcp => Mcp,
    };
    if is_known(by_stage, code) {
        return by_stage;
    }
    [Network, Tls, Session, Discovery]
        .into_iter()
        .find(|e| is_known(*e, code))
        .unwrap_or(by_stage)
}

/// The catalogue code of an ID-token check.
pub fn id_token_code(check: &IdTokenCheck) -> &'static str {
    match check {
        IdTokenCheck::Malformed => "malformed",
        IdTokenCheck::Algorithm => "algorithm",
        IdTokenCheck::UnknownKey => "unknown_key",
        IdTokenCheck::Signature => "signature",
        IdTokenCheck::Issuer => "issuer",
        IdTokenCheck::Audience => "audience",
        IdTokenCheck::Expired => "expired",
        IdTokenCheck::IssuedInFuture => "issued_in_future",
        IdTokenCheck::Nonce => "nonce",
        IdTokenCheck::Other(_) => "other",
    }
}

/// Recovers the ID-token check from the trace note `"ID token refused: <Display>"`.
pub fn id_token_code_from_note(note: &str) -> Option<&'static str> {
    let text = note.strip_prefix("ID token refused: ")?;
    let known = [
        IdTokenCheck::Malformed,
        IdTokenCheck::Algorithm,
        IdTokenCheck::UnknownKey,
        IdTokenCheck::Signature,
        IdTokenCheck::Issuer,
        IdTokenCheck::Audience,
        IdTokenCheck::Expired,
        IdTokenCheck::IssuedInFuture,
        IdTokenCheck::Nonce,
    ];
    Some(
        known
            .iter()
            .find(|c| c.to_string() == text)
            .map(id_token_code)
            .unwrap_or("other"),
    )
}

/// Classifies a transport failure's text (from `HttpError`/`McpError`, already scrubbed).
pub fn network_code(note: &str) -> (Endpoint, &'static str) {
    let n = note.to_ascii_lowercase();
    if n.contains("certificate") || n.contains("unknownissuer") || n.contains("invalid peer") {
        (Tls, "certificate")
    } else if n.contains("tls") || n.contains("handshake") {
        (Tls, "tls")
    } else if n.contains("timed out") || n.contains("timeout") {
        (Network, "timeout")
    } else if n.contains("refused to use") || n.contains("plain http") {
        (Discovery, "insecure_endpoint")
    } else if n.contains("refused") {
        (Network, "connect_refused")
    } else if n.contains("dns") || n.contains("lookup") || n.contains("resolve") {
        (Network, "dns")
    } else {
        (Network, "network")
    }
}

fn place(endpoint: Endpoint) -> &'static str {
    match endpoint {
        OidcCallback => "IdP's sign-in page",
        IdToken => "ID-token check",
        IdpToken | IdpRefresh => "IdP's token endpoint",
        IdpTokenExchange => "IdP's token exchange",
        ConnectorJwtBearer => "connector's authorization server",
        Mcp => "MCP server",
        Discovery => "metadata discovery",
        Network | Tls => "network",
        Session => "Lanyard session",
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_the_brief_names_is_catalogued() {
        let want: &[(Endpoint, &[&str])] = &[
            (
                OidcCallback,
                &[
                    "access_denied",
                    "login_required",
                    "consent_required",
                    "interaction_required",
                    "invalid_request",
                    "unauthorized_client",
                    "unsupported_response_type",
                    "invalid_scope",
                    "server_error",
                    "temporarily_unavailable",
                ],
            ),
            (
                IdToken,
                &[
                    "malformed",
                    "algorithm",
                    "unknown_key",
                    "signature",
                    "issuer",
                    "audience",
                    "expired",
                    "issued_in_future",
                    "nonce",
                    "other",
                ],
            ),
            (
                IdpTokenExchange,
                &[
                    "invalid_target",
                    "access_denied",
                    "unauthorized_client",
                    "invalid_scope",
                    "invalid_grant",
                    "invalid_client",
                    "invalid_request",
                    "insufficient_user_authentication",
                    "unsupported_grant_type",
                    "server_error",
                    "temporarily_unavailable",
                ],
            ),
            (
                ConnectorJwtBearer,
                &[
                    "invalid_grant",
                    "access_denied",
                    "invalid_client",
                    "unauthorized_client",
                    "unsupported_grant_type",
                    "invalid_target",
                    "invalid_request",
                    "invalid_scope",
                ],
            ),
            (
                Mcp,
                &["invalid_token", "insufficient_scope", "no_auth_required"],
            ),
            (
                Discovery,
                &[
                    "issuer_mismatch",
                    "resource_mismatch",
                    "no_id_jag_support",
                    "no_resource_metadata",
                    "no_as_metadata",
                ],
            ),
            (Network, &["timeout", "connect_refused", "dns"]),
            (Tls, &["certificate"]),
        ];
        for (endpoint, codes) in want {
            for code in *codes {
                assert!(is_known(*endpoint, code), "{endpoint:?} {code}");
            }
        }
        // No duplicates: one answer per (endpoint, code).
        let mut all = entries();
        let n = all.len();
        all.sort_by_key(|(e, c)| (e.as_str(), *c));
        all.dedup();
        assert_eq!(all.len(), n);
    }

    #[test]
    fn invalid_target_speaks_to_employee_and_admin_separately() {
        let x = explain(
            IdpTokenExchange,
            "invalid_target",
            Some("ada is not assigned"),
            Some("Asana"),
        );
        assert!(x.known);
        assert_eq!(
            x.cause,
            "The organisation hasn't assigned Asana to this user (no resource connection for this audience and resource)"
        );
        assert_eq!(x.employee, "Ask IT to give you access to Asana.");
        assert!(
            x.admin
                .contains("group assignment for Asana's resource connection"),
            "{}",
            x.admin
        );
        assert_eq!(x.server_description.as_deref(), Some("ada is not assigned"));
        for (endpoint, code) in entries() {
            let x = explain(endpoint, code, None, None);
            assert!(!x.cause.is_empty() && !x.employee.is_empty() && !x.admin.is_empty());
            assert!(
                !x.cause.contains('{') && !x.admin.contains('{'),
                "{code}: {}",
                x.admin
            );
        }
    }

    #[test]
    fn unknown_codes_are_honest_and_quote_the_server() {
        let x = explain(
            ConnectorJwtBearer,
            "weird_thing",
            Some("tenant is frozen"),
            None,
        );
        assert!(!x.known);
        assert!(
            x.cause.contains("does not know the code \"weird_thing\""),
            "{}",
            x.cause
        );
        assert!(x.cause.contains("\"tenant is frozen\""), "{}", x.cause);
        let x = explain(Mcp, "odd", None, None);
        assert!(x.cause.contains("gave no description"));
        // A token pasted into a description is scrubbed.
        let x = explain(
            Mcp,
            "odd",
            Some("bad eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"),
            None,
        );
        assert!(!x.cause.contains("eyJ"), "{}", x.cause);
    }

    #[test]
    fn connector_errors_map_to_the_right_endpoint() {
        let err = |stage, code: &str| ConnectorError {
            stage,
            code: code.into(),
            description: None,
            hint: String::new(),
        };
        assert_eq!(
            explain_connector_error(&err(Stage::TokenExchange, "invalid_target"), None).endpoint,
            IdpTokenExchange
        );
        assert_eq!(
            explain_connector_error(&err(Stage::JwtBearer, "invalid_grant"), None).endpoint,
            ConnectorJwtBearer
        );
        assert_eq!(
            explain_connector_error(&err(Stage::TokenExchange, "idp_unreachable"), None).endpoint,
            Session
        );
        assert_eq!(
            explain_connector_error(&err(Stage::Mcp, "timeout"), None).endpoint,
            Network
        );
        let x = explain_connector_error(&err(Stage::Discovery, "no_id_jag_support"), Some("Slack"));
        assert!(x.known && x.cause.contains("Slack"));
    }

    #[test]
    fn a_throttled_leg_is_explained_and_at_the_idp_names_the_setting() {
        use crate::engine::classify::{Failure, classify_named};
        use crate::protocol::token_endpoint::ExchangeError;
        let at_idp = Failure::Exchange(Stage::TokenExchange, ExchangeError::Status { status: 429 });
        let (_, err) = classify_named(&at_idp, Some("Linear"));
        assert!(
            err.hint.contains("idp.max_concurrent_requests"),
            "{}",
            err.hint
        );
        let x = explain_connector_error(&err, Some("Linear"));
        assert_eq!((x.known, x.endpoint), (true, Network));
        assert!(
            x.admin.contains("idp.max_concurrent_requests"),
            "{}",
            x.admin
        );
        // A connector's own server throttling is not the IdP setting's doing.
        let at_mcp = Failure::Mcp(crate::protocol::mcp::McpError::Status { status: 429 });
        let (_, err) = classify_named(&at_mcp, Some("Linear"));
        assert!(
            err.hint.contains("Linear") && !err.hint.contains("max_concurrent"),
            "{}",
            err.hint
        );
    }

    #[test]
    fn notes_and_checks_map_to_codes() {
        assert_eq!(
            id_token_code_from_note(&format!(
                "ID token refused: {}",
                IdTokenCheck::IssuedInFuture
            )),
            Some("issued_in_future")
        );
        assert_eq!(
            id_token_code_from_note("ID token refused: something new"),
            Some("other")
        );
        assert_eq!(id_token_code_from_note("unrelated"), None);
        assert_eq!(
            network_code("could not connect: Connection refused (os error 111)"),
            (Network, "connect_refused")
        );
        assert_eq!(network_code("timed out after 10s"), (Network, "timeout"));
        assert_eq!(
            network_code("transport error: invalid peer certificate: UnknownIssuer"),
            (Tls, "certificate")
        );
        assert_eq!(
            network_code("could not connect: dns error: failed to lookup address"),
            (Network, "dns")
        );
    }
}
