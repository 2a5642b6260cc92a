//! Proof that a grant works: MCP `initialize` + `tools/list` with the access token, through
//! rmcp's streamable-HTTP client on our own `reqwest::Client` (no redirects, same timeouts).
//!
//! rmcp sends its own HTTP, so `Http::send` never sees these requests; this module records
//! the `McpInitialize` and `McpToolsList` steps itself, with the same redaction rules.

use chrono::{DateTime, Utc};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use rmcp::ServiceExt as _;
use rmcp::model::{ClientCapabilities, ClientConfig, ErrorCode, Implementation, ProtocolVersion};
use rmcp::service::ClientInitializeError;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransportConfig, StreamableHttpError,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use url::Url;

use crate::http::{Http, check_endpoint};
use crate::secret::Secret;
use crate::trace::{Step, StepKind, Trace, redact_url, scrub};

/// Upper bound for each of initialize and tools/list (rmcp has no overall timeout).
pub const MCP_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("refused to use {0}: plain http is only allowed on loopback")]
    InsecureEndpoint(String),
    /// 401: the token was not accepted (`error` from the challenge, e.g. `invalid_token`).
    #[error("the MCP server rejected the access token (401{})", error.as_deref().map(|e| format!(" {e}")).unwrap_or_default())]
    Unauthorized { error: Option<String> },
    /// 403: typically `insufficient_scope`.
    #[error("the MCP server refused the access token (403{})", error.as_deref().map(|e| format!(" {e}")).unwrap_or_default())]
    Forbidden { error: Option<String> },
    #[error("the MCP server answered HTTP {status}")]
    Status { status: u16 },
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("could not reach the MCP server: {0}")]
    Transport(String),
    #[error("the MCP server broke the protocol: {0}")]
    Protocol(String),
}

impl McpError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::Status { status } => Some(*status),
            _ => None,
        }
    }
}

/// An initialized MCP session authenticated with a bearer token.
pub struct McpSession {
    client: rmcp::service::RunningService<rmcp::RoleClient, ClientConfig>,
    shown: String,
    clock: crate::clock::SharedClock,
}

/// Proof that a token works: `initialize` then `tools/list` with it. Returns the tool count.
pub async fn verify(
    http: &Http,
    mcp_url: &Url,
    access_token: &Secret,
    trace: &Trace,
) -> Result<u32, McpError> {
    let mut session = connect(http, mcp_url, access_token, trace).await?;
    let listed = session
        .tool_names(trace)
        .await
        .map(|t| u32::try_from(t.len()).unwrap_or(u32::MAX));
    session.close().await;
    listed
}

/// `initialize` (recorded as `McpInitialize`) with the token in the `Authorization` header.
pub async fn connect(
    http: &Http,
    mcp_url: &Url,
    access_token: &Secret,
    trace: &Trace,
) -> Result<McpSession, McpError> {
    let shown = redact_url(mcp_url);
    let config = check_endpoint(mcp_url)
        .map_err(|_| McpError::InsecureEndpoint(shown.clone()))
        .and_then(|()| transport_config(mcp_url, access_token));
    let config = match config {
        Ok(config) => config,
        Err(err) => {
            let now = http.clock().now();
            record(
                trace,
                StepKind::McpInitialize,
                &shown,
                now,
                Instant::now(),
                Err(&err),
            );
            return Err(err);
        }
    };
    let client = initialize(http, config, &shown, trace).await?;
    Ok(McpSession {
        client,
        shown,
        clock: http.clock().clone(),
    })
}

/// The `initialize` handshake over `config`, recorded as `McpInitialize` under `shown`.
async fn initialize(
    http: &Http,
    config: StreamableHttpClientTransportConfig,
    shown: &str,
    trace: &Trace,
) -> Result<rmcp::service::RunningService<rmcp::RoleClient, ClientConfig>, McpError> {
    let transport = StreamableHttpClientTransport::with_client(http.client().clone(), config);
    let client_config = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("lanyard", env!("CARGO_PKG_VERSION")),
    )
    // 2026-07-28 dropped the initialize handshake; the proof asked for is initialize + tools/list.
    .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE);
    let (started_at, t0) = (http.clock().now(), Instant::now());
    let init = match tokio::time::timeout(MCP_TIMEOUT, client_config.serve(transport)).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(from_chain(&e)),
        Err(_) => Err(McpError::Timeout(MCP_TIMEOUT)),
    };
    record(
        trace,
        StepKind::McpInitialize,
        shown,
        started_at,
        t0,
        init.as_ref().map(|_| ()),
    );
    init
}

/// rmcp's transport settings for `mcp_url` with the bearer token. The token travels as a
/// sensitive `Authorization` header rather than rmcp's `auth_header`, a plain `String` that
/// the config's derived `Debug` would print.
fn transport_config(
    mcp_url: &Url,
    access_token: &Secret,
) -> Result<StreamableHttpClientTransportConfig, McpError> {
    let mut bearer = HeaderValue::from_str(&format!("Bearer {}", access_token.expose()))
        .map_err(|_| McpError::Protocol("the access token is not a valid header value".into()))?;
    bearer.set_sensitive(true);
    let headers = HashMap::from([(AUTHORIZATION, bearer)]);
    Ok(StreamableHttpClientTransportConfig::with_uri(mcp_url.as_str()).custom_headers(headers))
}

/// `initialize` without a token, for the servers that let it through (some protect only
/// their tools): the server's own name (`serverInfo.title`, else `name`), which `lanyard
/// policy add` uses to name a connector. A server that wants a token answers `Unauthorized`.
pub async fn anonymous_server_name(
    http: &Http,
    mcp_url: &Url,
    trace: &Trace,
) -> Result<Option<String>, McpError> {
    let shown = redact_url(mcp_url);
    if check_endpoint(mcp_url).is_err() {
        return Err(McpError::InsecureEndpoint(shown));
    }
    let config = StreamableHttpClientTransportConfig::with_uri(mcp_url.as_str());
    let client = initialize(http, config, &shown, trace).await?;
    let name = client
        .peer_info()
        .and_then(|info| info.server_info.clone())
        .map(|server| server.title.unwrap_or(server.name));
    let _ = tokio::time::timeout(Duration::from_secs(5), client.cancel()).await;
    Ok(name
        .map(|n: String| scrub(&n))
        .filter(|n| !n.trim().is_empty()))
}

impl McpSession {
    /// `tools/list` (all pages), recorded as `McpToolsList`. A server without tools is fine.
    pub async fn tool_names(&mut self, trace: &Trace) -> Result<Vec<String>, McpError> {
        let (started_at, t0) = (self.clock.now(), Instant::now());
        let listed = match tokio::time::timeout(MCP_TIMEOUT, self.client.list_all_tools()).await {
            Ok(Ok(tools)) => Ok(tools.into_iter().map(|t| t.name.to_string()).collect()),
            Ok(Err(rmcp::ServiceError::McpError(e))) if e.code == ErrorCode::METHOD_NOT_FOUND => {
                Ok(vec![])
            }
            Ok(Err(e)) => Err(from_chain(&e)),
            Err(_) => Err(McpError::Timeout(MCP_TIMEOUT)),
        };
        record(
            trace,
            StepKind::McpToolsList,
            &self.shown,
            started_at,
            t0,
            listed.as_ref().map(|_| ()),
        );
        listed
    }

    /// `tools/call` with no arguments, recorded as `McpToolCall`; whether the tool itself
    /// reported an error is not the question, only whether the token was accepted.
    pub async fn call_tool(&mut self, name: &str, trace: &Trace) -> Result<(), McpError> {
        let (started_at, t0) = (self.clock.now(), Instant::now());
        let params = rmcp::model::CallToolRequestParams::new(name.to_string());
        let called = match tokio::time::timeout(MCP_TIMEOUT, self.client.call_tool(params)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(from_chain(&e)),
            Err(_) => Err(McpError::Timeout(MCP_TIMEOUT)),
        };
        record(
            trace,
            StepKind::McpToolCall,
            &self.shown,
            started_at,
            t0,
            called.as_ref().map(|_| ()),
        );
        called
    }

    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.client.close()).await;
    }
}

fn record(
    trace: &Trace,
    kind: StepKind,
    url: &str,
    started_at: DateTime<Utc>,
    t0: Instant,
    outcome: Result<(), &McpError>,
) {
    let (status, note) = match outcome {
        Ok(()) => (Some(200), None),
        Err(e) => (e.status(), Some(scrub(&e.to_string()))),
    };
    trace.push(Step {
        kind,
        method: "POST".into(),
        url: url.to_string(),
        status,
        duration_ms: t0.elapsed().as_millis() as u64,
        started_at,
        server_date: None,
        oauth_error: None,
        note,
        claims: None,
    });
}

/// Finds what went wrong in rmcp's error chain: the HTTP-level error of the reqwest client if
/// there is one (status, challenge), else a scrubbed description.
fn from_chain(err: &(dyn std::error::Error + 'static)) -> McpError {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(http_err) = e.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
            return from_transport(http_err);
        }
        // rmcp keeps the transport error in a field that is not marked as the source.
        if let Some(ClientInitializeError::TransportError { error, .. }) =
            e.downcast_ref::<ClientInitializeError>()
        {
            current = Some(error);
            continue;
        }
        current = e.source();
    }
    let text = scrub(&err.to_string());
    // An unchallenged 401/403 only survives as text ("HTTP 401 Unauthorized: …").
    if text.contains("HTTP 401") {
        return McpError::Unauthorized { error: None };
    }
    if text.contains("HTTP 403") {
        return McpError::Forbidden { error: None };
    }
    McpError::Protocol(text)
}

fn from_transport(err: &StreamableHttpError<reqwest::Error>) -> McpError {
    let challenge_error = |header: &str| {
        crate::protocol::www_authenticate::bearer([header])
            .and_then(|c| c.error)
            .map(|e| scrub(&e))
    };
    match err {
        StreamableHttpError::AuthRequired(e) => McpError::Unauthorized {
            error: challenge_error(&e.www_authenticate_header),
        },
        StreamableHttpError::InsufficientScope(e) => McpError::Forbidden {
            error: challenge_error(&e.www_authenticate_header),
        },
        StreamableHttpError::HttpStatus(e) => McpError::Status { status: e.status },
        StreamableHttpError::Client(e) => {
            if let Some(status) = e.status() {
                return McpError::Status {
                    status: status.as_u16(),
                };
            }
            // reqwest's Display names the URL; the root cause does not.
            let mut cause = if e.is_connect() {
                "connection failed".to_string()
            } else {
                "transport error".to_string()
            };
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                cause = s.to_string();
                source = s.source();
            }
            if e.is_timeout() {
                McpError::Timeout(MCP_TIMEOUT)
            } else {
                McpError::Transport(scrub(&cause))
            }
        }
        StreamableHttpError::Io(e) => McpError::Transport(scrub(&e.to_string())),
        StreamableHttpError::UnexpectedServerResponse(text) if text.starts_with("HTTP 401") => {
            McpError::Unauthorized { error: None }
        }
        StreamableHttpError::UnexpectedServerResponse(text) if text.starts_with("HTTP 403") => {
            McpError::Forbidden { error: None }
        }
        other => McpError::Protocol(scrub(&other.to_string())),
    }
}

#[cfg(test)]
#[path = "mcp_tests.rs"]
pub(crate) mod tests;
