//! The connectors the lab runs: names, tools, scopes, and each vendor's quirks (client
//! authentication method, issuer with a path, no ID-JAG support, no `resource_metadata`).

use serde::{Deserialize, Serialize};

use crate::breakage::Breakage;

/// RFC 6749 §2.3 / OIDC client authentication methods, as spelled in metadata and the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientMethod {
    None,
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
}

impl ClientMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// One connector: a vendor with its own origin, authorization server and MCP server.
#[derive(Debug, Clone)]
pub struct ConnectorSpec {
    pub id: String,
    pub name: String,
    /// `(tool name, description)`.
    pub tools: Vec<(String, String)>,
    /// Everything the AS knows; also the default grant when a client asks for none.
    pub scopes: Vec<String>,
    /// How Lanyard's client (`lanyard-<id>`) authenticates at this AS.
    pub method: ClientMethod,
    /// The Python MCP SDK's server quirk: Basic auth, but `client_id` must also be in the body.
    pub body_client_id_with_basic: bool,
    /// Whether the AS supports the jwt-bearer grant with the ID-JAG profile.
    pub supports_id_jag: bool,
    /// Issuer path after the origin (`""` or `"/oauth2"`).
    pub issuer_path: &'static str,
    /// Whether the MCP 401 names the PRM URL (`resource_metadata`).
    pub challenge_names_metadata: bool,
    /// `--broken-connectors`: the one duty this connector deliberately neglects.
    pub broken: Option<Breakage>,
}

impl ConnectorSpec {
    fn new(id: &str, name: &str, tools: &[(&str, &str)]) -> Self {
        Self {
            id: id.to_string(),
            name: name.to_string(),
            tools: tools
                .iter()
                .map(|(n, d)| (n.to_string(), d.to_string()))
                .collect(),
            scopes: vec![format!("{id}:read"), format!("{id}:write")],
            method: ClientMethod::ClientSecretBasic,
            body_client_id_with_basic: false,
            supports_id_jag: true,
            issuer_path: "",
            challenge_names_metadata: true,
            broken: None,
        }
    }

    /// Lanyard's client id at this connector's AS (also the ID-JAG `client_id` claim).
    pub fn lanyard_client_id(&self) -> String {
        format!("lanyard-{}", self.id)
    }
}

/// The public client other MCP apps use for per-user ("legacy") OAuth at every connector.
pub const LEGACY_CLIENT_ID: &str = "legacy-cli";

/// The eight product connectors, then `synthetic` extra ones (`synth-001`…).
// long: a table: the eight product connectors, one literal each, then the synthetic ones.
pub fn catalogue(synthetic: usize) -> Vec<ConnectorSpec> {
    let mut atlassian = ConnectorSpec::new(
        "atlassian",
        "Atlassian",
        &[
            ("search_jira_issues", "Search Jira issues with JQL"),
            ("get_confluence_page", "Read a Confluence page"),
            ("create_jira_issue", "Create a Jira issue"),
        ],
    );
    atlassian.issuer_path = "/oauth2";
    let mut granola = ConnectorSpec::new(
        "granola",
        "Granola",
        &[
            ("list_meetings", "List recent meetings"),
            ("get_meeting_notes", "Read the notes of a meeting"),
            ("search_transcripts", "Search meeting transcripts"),
        ],
    );
    granola.method = ClientMethod::ClientSecretPost;
    granola.challenge_names_metadata = false;
    let linear = ConnectorSpec::new(
        "linear",
        "Linear",
        &[
            ("list_issues", "List Linear issues"),
            ("create_issue", "Create a Linear issue"),
            ("search_issues", "Search Linear issues"),
            ("list_projects", "List Linear projects"),
        ],
    );
    let mut supabase = ConnectorSpec::new(
        "supabase",
        "Supabase",
        &[
            ("list_projects", "List Supabase projects"),
            ("list_tables", "List tables of a database"),
            ("execute_sql", "Run a read-only SQL query"),
        ],
    );
    supabase.body_client_id_with_basic = true;
    let figma = ConnectorSpec::new(
        "figma",
        "Figma",
        &[
            ("get_file", "Read a Figma file"),
            ("get_comments", "List comments on a Figma file"),
            ("export_frame", "Export a frame as PNG"),
        ],
    );
    let canva = ConnectorSpec::new(
        "canva",
        "Canva",
        &[
            ("list_designs", "List Canva designs"),
            ("create_design", "Create a Canva design"),
            ("export_design", "Export a Canva design"),
        ],
    );
    let asana = ConnectorSpec::new(
        "asana",
        "Asana",
        &[
            ("list_tasks", "List Asana tasks"),
            ("create_task", "Create an Asana task"),
            ("list_projects", "List Asana projects"),
        ],
    );
    let mut slack = ConnectorSpec::new(
        "slack",
        "Slack",
        &[
            ("list_channels", "List Slack channels"),
            ("post_message", "Post a Slack message"),
            ("search_messages", "Search Slack messages"),
        ],
    );
    slack.supports_id_jag = false;

    let mut all = vec![
        atlassian, granola, linear, supabase, figma, canva, asana, slack,
    ];
    for n in 1..=synthetic {
        all.push(ConnectorSpec::new(
            &format!("synth-{n:03}"),
            &format!("Synthetic {n:03}"),
            &[
                ("ping", "Answer pong"),
                ("echo", "Echo the input"),
                ("status", "Report status"),
            ],
        ));
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quirks_are_where_the_brief_puts_them() {
        let all = catalogue(2);
        let by = |id: &str| all.iter().find(|c| c.id == id).unwrap().clone();
        assert_eq!(all.len(), 10);
        assert_eq!(by("atlassian").issuer_path, "/oauth2");
        assert_eq!(by("granola").method, ClientMethod::ClientSecretPost);
        assert!(!by("granola").challenge_names_metadata);
        assert!(by("supabase").body_client_id_with_basic);
        assert!(!by("slack").supports_id_jag);
        assert_eq!(by("synth-002").name, "Synthetic 002");
        assert_eq!(by("linear").lanyard_client_id(), "lanyard-linear");
    }
}
