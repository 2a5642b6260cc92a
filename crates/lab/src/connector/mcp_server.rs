//! Each connector's MCP server (rmcp streamable HTTP): a few tools named after the product,
//! answering with small canned text. The bearer check sits in front of it (`bearer`).

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::json;
use std::sync::Arc;

use crate::catalogue::ConnectorSpec;

#[derive(Debug, Clone)]
pub struct ConnectorMcp {
    spec: Arc<ConnectorSpec>,
}

impl ConnectorMcp {
    fn tools(&self) -> Vec<Tool> {
        let schema = json!({
            "type": "object",
            "properties": {"query": {"type": "string", "description": "Optional filter or input"}},
        });
        let schema = match schema {
            serde_json::Value::Object(map) => Arc::new(map),
            _ => Arc::default(),
        };
        self.spec
            .tools
            .iter()
            .map(|(name, description)| Tool::new(name.clone(), description.clone(), schema.clone()))
            .collect()
    }
}

impl ServerHandler for ConnectorMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                format!("{} (lanyard-lab)", self.spec.name),
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(format!(
                "Lab stand-in for the {} MCP server.",
                self.spec.name
            ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if !self.spec.tools.iter().any(|(n, _)| *n == request.name) {
            return Err(ErrorData::invalid_params(
                format!("unknown tool {}", request.name),
                None,
            ));
        }
        let query = request
            .arguments
            .as_ref()
            .and_then(|a| a.get("query"))
            .and_then(|q| q.as_str())
            .unwrap_or("");
        let text = format!(
            "{} {}: 3 results{}",
            self.spec.name,
            request.name,
            if query.is_empty() {
                String::new()
            } else {
                format!(" for \"{query}\"")
            }
        );
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
    }
}

/// The service for `/mcp` and a function that ends its sessions at shutdown.
pub fn service(
    spec: ConnectorSpec,
) -> (
    StreamableHttpService<ConnectorMcp, LocalSessionManager>,
    Box<dyn FnOnce() + Send + Sync>,
) {
    let config = StreamableHttpServerConfig::default();
    let cancel = config.cancellation_token.clone();
    let spec = Arc::new(spec);
    let service = StreamableHttpService::new(
        move || Ok(ConnectorMcp { spec: spec.clone() }),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    (service, Box::new(move || cancel.cancel()))
}
