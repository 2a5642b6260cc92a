use super::*;
use crate::protocol::oauth_error::OAuthError;
use ConnectorState::*;

fn oauth(stage: Stage, status: u16, code: &str) -> Failure {
    let error = OAuthError {
        error: code.into(),
        error_description: Some("why".into()),
        error_uri: None,
    };
    Failure::Exchange(stage, ExchangeError::OAuth { status, error })
}

#[test]
fn product_state_table() {
    use Stage::{JwtBearer as As, TokenExchange as Idp};
    let rows: Vec<(Failure, ConnectorState, &str)> = vec![
        (oauth(Idp, 400, "invalid_target"), Denied, "invalid_target"),
        (oauth(Idp, 400, "access_denied"), Denied, "access_denied"),
        (
            oauth(Idp, 400, "unauthorized_client"),
            Denied,
            "unauthorized_client",
        ),
        (oauth(Idp, 400, "invalid_scope"), Denied, "invalid_scope"),
        (oauth(As, 400, "access_denied"), Denied, "access_denied"),
        (
            oauth(Idp, 400, "invalid_grant"),
            NeedsSignIn,
            "invalid_grant",
        ),
        (
            oauth(Idp, 401, "insufficient_user_authentication"),
            NeedsSignIn,
            "insufficient_user_authentication",
        ),
        (
            oauth(Idp, 401, "invalid_client"),
            Misconfigured,
            "invalid_client",
        ),
        (
            oauth(Idp, 400, "invalid_request"),
            Misconfigured,
            "invalid_request",
        ),
        (
            oauth(Idp, 400, "unsupported_grant_type"),
            Misconfigured,
            "unsupported_grant_type",
        ),
        (
            oauth(As, 401, "invalid_client"),
            Misconfigured,
            "invalid_client",
        ),
        (
            oauth(As, 400, "invalid_request"),
            Misconfigured,
            "invalid_request",
        ),
        (
            oauth(As, 400, "unsupported_grant_type"),
            Misconfigured,
            "unsupported_grant_type",
        ),
        (
            oauth(As, 400, "invalid_grant"),
            Misconfigured,
            "invalid_grant",
        ),
        (
            oauth(Idp, 503, "temporarily_unavailable"),
            Unreachable,
            "temporarily_unavailable",
        ),
        (oauth(As, 500, "server_error"), Unreachable, "server_error"),
        (oauth(As, 502, "weird"), Unreachable, "weird"),
        (
            Failure::Exchange(Idp, ExchangeError::Status { status: 502 }),
            Unreachable,
            "server_error",
        ),
        (
            Failure::Exchange(
                As,
                ExchangeError::Http(HttpError::Connect("refused".into())),
            ),
            Unreachable,
            "network",
        ),
        (
            Failure::Exchange(
                As,
                ExchangeError::Http(HttpError::Timeout(std::time::Duration::from_secs(1))),
            ),
            Unreachable,
            "timeout",
        ),
        (
            Failure::Exchange(
                As,
                ExchangeError::Http(HttpError::InsecureEndpoint("http://x".into())),
            ),
            Misconfigured,
            "insecure_endpoint",
        ),
        (
            Failure::Exchange(Idp, ExchangeError::WrongIssuedTokenType(None)),
            Misconfigured,
            "wrong_issued_token_type",
        ),
        (
            Failure::Discovery(DiscoveryError::IssuerMismatch {
                expected: "a".into(),
                found: "a/".into(),
            }),
            Misconfigured,
            "issuer_mismatch",
        ),
        (
            Failure::Discovery(DiscoveryError::ResourceMismatch {
                expected: "a".into(),
                found: "b".into(),
            }),
            Misconfigured,
            "resource_mismatch",
        ),
        (
            Failure::Discovery(DiscoveryError::InvalidMetadata {
                what: "x",
                why: "y".into(),
            }),
            Misconfigured,
            "invalid_metadata",
        ),
        (
            Failure::Discovery(DiscoveryError::NoIdJagSupport { issuer: "a".into() }),
            Unsupported,
            "no_id_jag_support",
        ),
        (
            Failure::Discovery(DiscoveryError::Http {
                what: "MCP server",
                source: HttpError::Connect("connection refused".into()),
            }),
            Unreachable,
            "network",
        ),
        (
            Failure::Discovery(DiscoveryError::UnexpectedStatus {
                what: "x",
                status: 503,
            }),
            Unreachable,
            "server_error",
        ),
        (
            Failure::Mcp(McpError::Unauthorized {
                error: Some("invalid_token".into()),
            }),
            Misconfigured,
            "invalid_token",
        ),
        (
            Failure::Mcp(McpError::Forbidden { error: None }),
            Misconfigured,
            "mcp_forbidden",
        ),
        (
            Failure::Mcp(McpError::Transport("refused".into())),
            Unreachable,
            "network",
        ),
        (
            Failure::Mcp(McpError::Status { status: 503 }),
            Unreachable,
            "server_error",
        ),
        // 429 is throttling: transient wherever it comes from, never the admin's policy entry.
        (
            Failure::Exchange(Idp, ExchangeError::Status { status: 429 }),
            Unreachable,
            "rate_limited",
        ),
        (oauth(Idp, 429, "slow_down"), Unreachable, "slow_down"),
        (
            oauth(As, 429, "invalid_request"),
            Unreachable,
            "invalid_request",
        ),
        (
            Failure::Discovery(DiscoveryError::UnexpectedStatus {
                what: "x",
                status: 429,
            }),
            Unreachable,
            "rate_limited",
        ),
        (
            Failure::Mcp(McpError::Status { status: 429 }),
            Unreachable,
            "rate_limited",
        ),
    ];
    for (failure, state, code) in rows {
        let (got, err) = classify(&failure);
        assert_eq!((got, err.code.as_str()), (state, code), "{failure:?}");
        assert!(!err.hint.is_empty());
    }
}

#[test]
fn stages_and_hints_speak_to_a_person() {
    let (_, e) = classify_named(
        &oauth(Stage::TokenExchange, 400, "invalid_target"),
        Some("Asana"),
    );
    assert_eq!(e.stage, Stage::TokenExchange);
    assert_eq!(
        e.hint,
        "If you need Asana, ask your IT admin to assign it to you."
    );
    assert_eq!(e.description.as_deref(), Some("why"));
    let (_, e) = classify(&oauth(Stage::JwtBearer, 400, "invalid_grant"));
    assert!(e.hint.contains("one retry"), "{}", e.hint);
    assert_eq!(e.stage, Stage::JwtBearer);
    let (_, e) = classify(&Failure::Mcp(McpError::Timeout(
        std::time::Duration::from_secs(1),
    )));
    assert_eq!(e.stage, Stage::Mcp);
}

#[test]
fn only_idp_invalid_grant_asks_for_a_fresh_subject() {
    assert!(wants_fresh_subject(&oauth(
        Stage::TokenExchange,
        400,
        "invalid_grant"
    )));
    assert!(!wants_fresh_subject(&oauth(
        Stage::JwtBearer,
        400,
        "invalid_grant"
    )));
    assert!(!wants_fresh_subject(&oauth(
        Stage::TokenExchange,
        400,
        "invalid_target"
    )));
    assert!(is_denial_code(ErrorCode::InvalidScope) && !is_denial_code(ErrorCode::InvalidGrant));
}
