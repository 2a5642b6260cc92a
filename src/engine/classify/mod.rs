//! From a failed leg to a connector state and a person-readable cause (ema-protocol §1.4,
//! §3.5, §9; product.md's state table). One table, so CLI, tray and window agree.

use crate::http::HttpError;
use crate::protocol::discovery::DiscoveryError;
use crate::protocol::mcp::McpError;
use crate::protocol::oauth_error::ErrorCode;
use crate::protocol::token_endpoint::ExchangeError;
use crate::trace::scrub;
use crate::view::connector::{ConnectorError, ConnectorState, Stage};

mod discovery;

use discovery::discovery;

/// What failed, and where. `stage` of `Exchange` is `TokenExchange` (IdP) or `JwtBearer` (AS).
#[derive(Debug)]
pub enum Failure {
    Discovery(DiscoveryError),
    Exchange(Stage, ExchangeError),
    Mcp(McpError),
}

/// True for the IdP token-exchange codes that mean "your organisation's policy says no": they
/// put a connector in `denied`.
pub fn is_denial_code(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::InvalidTarget
            | ErrorCode::AccessDenied
            | ErrorCode::UnauthorizedClient
            | ErrorCode::InvalidScope
    )
}

/// The IdP refused the subject token (`invalid_grant`): the engine should refresh the ID
/// token (or use the IdP refresh token) and try once more before asking for a sign-in.
pub fn wants_fresh_subject(failure: &Failure) -> bool {
    matches!(failure, Failure::Exchange(Stage::TokenExchange, e) if e.oauth_code() == Some(ErrorCode::InvalidGrant))
}

pub fn classify(failure: &Failure) -> (ConnectorState, ConnectorError) {
    classify_named(failure, None)
}

/// As [`classify`], naming the connector (its display name) in the hint.
pub fn classify_named(failure: &Failure, name: Option<&str>) -> (ConnectorState, ConnectorError) {
    let who = name.unwrap_or("this connector");
    let (stage, state, code, description, hint) = match failure {
        Failure::Discovery(e) => discovery(e, who),
        Failure::Exchange(stage, e) => {
            let (state, code, description, hint) = exchange(*stage, e, who);
            (*stage, state, code, description, hint)
        }
        Failure::Mcp(e) => mcp(e, who),
    };
    (
        state,
        ConnectorError {
            stage,
            code,
            description: description.map(|d| scrub(&d)),
            hint,
        },
    )
}

/// One row of the table: where it failed, the state, the code, what the server said, the hint.
type Row = (Stage, ConnectorState, String, Option<String>, String);

// long: one arm per `ExchangeError` variant (and 429 apart from the other statuses), so a new
// variant fails to compile here until it has a state, a code and a hint.
fn exchange(
    stage: Stage,
    e: &ExchangeError,
    who: &str,
) -> (ConnectorState, String, Option<String>, String) {
    use ConnectorState::*;
    let at_idp = stage == Stage::TokenExchange;
    let place = if at_idp {
        "your organisation's sign-in service"
    } else {
        "the connector's authorization server"
    };
    let admin = |code: &str| {
        format!(
            "{place} rejected Lanyard's request ({code}). Tell your IT admin; the policy entry for {who} may be wrong."
        )
    };
    match e {
        ExchangeError::Http(source) => {
            let (_, state, code, d, hint) = http(stage, source, who);
            (state, code, d, hint)
        }
        ExchangeError::ClientAuth(inner) => (
            Misconfigured,
            "client_auth".into(),
            Some(inner.to_string()),
            format!("Lanyard's credentials for {place} are not usable. Tell your IT admin."),
        ),
        ExchangeError::OAuth { status, error }
        | ExchangeError::WantsClientIdInBody { status, error } => {
            let code = error.error.as_str();
            let d = error.error_description.clone();
            let (state, hint) = oauth_refusal(at_idp, code, *status, who, admin);
            (state, code.to_string(), d, hint)
        }
        ExchangeError::Status {
            status: TOO_MANY_REQUESTS,
        } => (
            Unreachable,
            RATE_LIMITED.into(),
            Some(e.to_string()),
            rate_limited_hint(who, at_idp),
        ),
        ExchangeError::Status { status } if *status >= 500 => (
            Unreachable,
            "server_error".into(),
            Some(e.to_string()),
            unreachable_hint(who),
        ),
        ExchangeError::Status { .. } => (
            Misconfigured,
            "unexpected_status".into(),
            Some(e.to_string()),
            admin("unexpected status"),
        ),
        ExchangeError::InvalidResponse(_) => (
            Misconfigured,
            "invalid_response".into(),
            Some(e.to_string()),
            admin("unusable response"),
        ),
        ExchangeError::WrongIssuedTokenType(_) => (
            Misconfigured,
            "wrong_issued_token_type".into(),
            Some(e.to_string()),
            format!("{place} answered with something other than an ID-JAG. Tell your IT admin."),
        ),
    }
}

/// The state and hint for an OAuth error `code` from the IdP (`at_idp`) or the connector's AS.
fn oauth_refusal(
    at_idp: bool,
    code: &str,
    status: u16,
    who: &str,
    admin: impl Fn(&str) -> String,
) -> (ConnectorState, String) {
    use ConnectorState::*;
    match (at_idp, ErrorCode::parse(code)) {
        (true, c) if is_denial_code(c) => (Denied, denied_hint(who)),
        (false, ErrorCode::AccessDenied) => (Denied, denied_hint(who)),
        (true, ErrorCode::InvalidGrant) => (
            NeedsSignIn,
            "Your sign-in has expired or was not accepted. Sign in again.".into(),
        ),
        (_, ErrorCode::InsufficientUserAuthentication) => (
            NeedsSignIn,
            format!(
                "Your organisation wants a fresh sign-in before granting {who}. Sign in again."
            ),
        ),
        (false, ErrorCode::InvalidGrant) => (
            Misconfigured,
            format!(
                "{who}'s authorization server did not accept the grant from your organisation \
                 (invalid_grant), even after one retry with a fresh one. Tell your IT admin: \
                 the trust between the two may be misconfigured."
            ),
        ),
        (_, ErrorCode::TemporarilyUnavailable | ErrorCode::ServerError) => {
            (Unreachable, unreachable_hint(who))
        }
        _ if status == TOO_MANY_REQUESTS => (Unreachable, rate_limited_hint(who, at_idp)),
        _ if status >= 500 => (Unreachable, unreachable_hint(who)),
        _ => (Misconfigured, admin(code)),
    }
}

fn mcp(e: &McpError, who: &str) -> Row {
    use ConnectorState::*;
    let d = Some(e.to_string());
    let (state, code, hint) = match e {
        McpError::Unauthorized { error } => (
            Misconfigured,
            error.clone().unwrap_or_else(|| "mcp_unauthorized".into()),
            format!(
                "{who}'s MCP server refused a freshly issued token. Tell your IT admin: the \
                 authorization server and the MCP server disagree about the token's audience."
            ),
        ),
        McpError::Forbidden { error } => (
            Misconfigured,
            error.clone().unwrap_or_else(|| "mcp_forbidden".into()),
            format!(
                "{who}'s MCP server wants more access than was granted. Tell your IT admin (the policy's scopes for {who})."
            ),
        ),
        McpError::Status {
            status: TOO_MANY_REQUESTS,
        } => (
            Unreachable,
            RATE_LIMITED.into(),
            rate_limited_hint(who, false),
        ),
        McpError::Status { status } if *status >= 500 => {
            (Unreachable, "server_error".into(), unreachable_hint(who))
        }
        McpError::Status { .. } | McpError::Protocol(_) => (
            Misconfigured,
            "mcp_protocol".into(),
            format!(
                "{who}'s MCP server did not behave as an MCP server. Check its mcp_url in the policy."
            ),
        ),
        McpError::Timeout(_) => (Unreachable, "timeout".into(), unreachable_hint(who)),
        McpError::Transport(_) => (Unreachable, "network".into(), unreachable_hint(who)),
        McpError::InsecureEndpoint(_) => (
            Misconfigured,
            "insecure_endpoint".into(),
            format!("{who}'s mcp_url is plain http. Tell your IT admin."),
        ),
    };
    (Stage::Mcp, state, code, d, hint)
}

fn http(stage: Stage, e: &HttpError, who: &str) -> Row {
    let d = Some(e.to_string());
    match e {
        HttpError::InsecureEndpoint(_) | HttpError::LoopbackNotNamed(_) => (
            stage,
            ConnectorState::Misconfigured,
            "insecure_endpoint".into(),
            d,
            format!("A server for {who} uses plain http. Tell your IT admin."),
        ),
        HttpError::Timeout(_) => (
            stage,
            ConnectorState::Unreachable,
            "timeout".into(),
            d,
            unreachable_hint(who),
        ),
        _ => (
            stage,
            ConnectorState::Unreachable,
            "network".into(),
            d,
            unreachable_hint(who),
        ),
    }
}

fn denied_hint(who: &str) -> String {
    let need = if who == "this connector" {
        "it".to_string()
    } else {
        who.to_string()
    };
    // The state's label already says "Not granted by your organisation" and shows the code;
    // the hint says what to do about it.
    format!("If you need {need}, ask your IT admin to assign it to you.")
}

fn unreachable_hint(who: &str) -> String {
    format!("Can't reach {who} right now; Lanyard will retry.")
}

/// HTTP 429: the server is throttling (RFC 6585 §4). Transient, so `unreachable` and retried
/// with backoff like a 5xx, never `misconfigured`: nothing in the policy entry is wrong.
const TOO_MANY_REQUESTS: u16 = 429;
const RATE_LIMITED: &str = "rate_limited";

/// At the IdP (`at_idp`), a 429 is what a fleet-wide burst of renewals or a high
/// `idp.max_concurrent_requests` runs into, so the hint names the setting for the admin.
fn rate_limited_hint(who: &str, at_idp: bool) -> String {
    if at_idp {
        format!(
            "Your organisation's sign-in service asked Lanyard to slow down while getting {who}; \
             Lanyard will retry. If it keeps happening, tell your IT admin (the policy's \
             idp.max_concurrent_requests may be above what the IdP allows)."
        )
    } else {
        format!("{who} asked Lanyard to slow down (too many requests); Lanyard will retry.")
    }
}

#[cfg(test)]
mod tests;
