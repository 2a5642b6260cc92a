//! What the conformance harness hands a client: the server URL (last argument), the scenario
//! name (`MCP_CONFORMANCE_SCENARIO`) and scenario data (`MCP_CONFORMANCE_CONTEXT`, JSON).
//!
//! The context carries an ID token, client secrets and workload JWTs, so every such field is
//! wrapped in `Secret` as it is read, and errors name the missing field, never a value.

use lanyard::secret::Secret;
use serde_json::{Map, Value};
use url::Url;

pub const SCENARIO_ENV: &str = "MCP_CONFORMANCE_SCENARIO";
pub const CONTEXT_ENV: &str = "MCP_CONFORMANCE_CONTEXT";

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("usage: lanyard-conformance <mcp-server-url> (the conformance harness appends it)")]
    NoServerUrl,
    #[error("the server URL is not a URL: {0}")]
    BadServerUrl(url::ParseError),
    #[error("{CONTEXT_ENV} is not set; this scenario needs it")]
    NoContext,
    // serde_json's syntax errors name a line and column, never the text.
    #[error("{CONTEXT_ENV} is not a JSON object: {0}")]
    NotJson(String),
    #[error("{CONTEXT_ENV} has no string field `{0}`")]
    Missing(&'static str),
    #[error("{CONTEXT_ENV} field `{0}` is not a URL")]
    NotUrl(&'static str),
}

/// One run of the client, as the harness started it.
#[derive(Debug)]
pub struct Invocation {
    pub mcp_url: Url,
    /// Empty when run by hand without the harness.
    pub scenario: String,
    /// The raw context JSON, parsed per flow (each scenario has its own fields).
    context: Option<String>,
}

impl Invocation {
    /// From the process arguments (after the program name) and an environment lookup.
    pub fn new(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ContextError> {
        // The harness appends the URL after whatever the command already had: take the last.
        let url = args.into_iter().last().ok_or(ContextError::NoServerUrl)?;
        let mcp_url = Url::parse(&url).map_err(ContextError::BadServerUrl)?;
        Ok(Self {
            mcp_url,
            scenario: env(SCENARIO_ENV).unwrap_or_default(),
            context: env(CONTEXT_ENV),
        })
    }

    fn fields(&self) -> Result<Map<String, Value>, ContextError> {
        let raw = self.context.as_deref().ok_or(ContextError::NoContext)?;
        match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(ContextError::NotJson("not an object".into())),
            Err(e) => Err(ContextError::NotJson(format!(
                "line {} column {}",
                e.line(),
                e.column()
            ))),
        }
    }

    pub fn enterprise(&self) -> Result<EnterpriseContext, ContextError> {
        let f = self.fields()?;
        Ok(EnterpriseContext {
            client_id: text(&f, "client_id")?,
            client_secret: Secret::new(text(&f, "client_secret")?),
            idp_client_id: text(&f, "idp_client_id")?,
            idp_id_token: Secret::new(text(&f, "idp_id_token")?),
            idp_token_endpoint: url(&f, "idp_token_endpoint")?,
        })
    }

    pub fn workload(&self) -> Result<WorkloadContext, ContextError> {
        let f = self.fields()?;
        Ok(WorkloadContext {
            client_id: text(&f, "client_id")?,
            assertion: Secret::new(text(&f, "valid_jwt")?),
        })
    }
}

/// `auth/enterprise-managed-authorization`: the employee's ID token and both registrations.
#[derive(Debug)]
pub struct EnterpriseContext {
    /// The client's registration at the connector's authorization server.
    pub client_id: String,
    pub client_secret: Secret,
    /// The client's registration at the IdP (the ID token's `aud`).
    pub idp_client_id: String,
    pub idp_id_token: Secret,
    // `idp_issuer` is not read: the context names the token endpoint itself.
    pub idp_token_endpoint: Url,
}

/// `auth/wif-jwt-bearer`: a workload JWT to present as the jwt-bearer assertion.
#[derive(Debug)]
pub struct WorkloadContext {
    pub client_id: String,
    pub assertion: Secret,
}

fn text(fields: &Map<String, Value>, name: &'static str) -> Result<String, ContextError> {
    match fields.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(ContextError::Missing(name)),
    }
}

fn url(fields: &Map<String, Value>, name: &'static str) -> Result<Url, ContextError> {
    Url::parse(&text(fields, name)?).map_err(|_| ContextError::NotUrl(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMA: &str = r#"{"name":"auth/enterprise-managed-authorization",
        "client_id":"conformance-test-xaa-client","client_secret":"labsecret_cs",
        "idp_client_id":"conformance-test-idp-client","idp_id_token":"eyJhbGciOiJFUzI1NiJ9.e30.sig",
        "idp_issuer":"http://localhost:1","idp_token_endpoint":"http://localhost:1/token"}"#;

    fn invocation(context: Option<&str>) -> Invocation {
        let context = context.map(String::from);
        Invocation::new(
            ["--flag".to_string(), "http://localhost:9/mcp".to_string()],
            move |name| match name {
                SCENARIO_ENV => Some("auth/enterprise-managed-authorization".into()),
                CONTEXT_ENV => context.clone(),
                _ => None,
            },
        )
        .unwrap()
    }

    #[test]
    fn server_url_is_the_last_argument() {
        let inv = invocation(None);
        assert_eq!(inv.mcp_url.as_str(), "http://localhost:9/mcp");
        assert_eq!(inv.scenario, "auth/enterprise-managed-authorization");
        assert!(matches!(
            Invocation::new(Vec::new(), |_| None),
            Err(ContextError::NoServerUrl)
        ));
    }

    #[test]
    fn enterprise_context_wraps_secrets() {
        let ctx = invocation(Some(EMA)).enterprise().unwrap();
        assert_eq!(ctx.idp_client_id, "conformance-test-idp-client");
        assert_eq!(ctx.idp_token_endpoint.as_str(), "http://localhost:1/token");
        assert_eq!(ctx.idp_id_token.expose(), "eyJhbGciOiJFUzI1NiJ9.e30.sig");
        let shown = format!("{ctx:?}");
        assert!(
            !shown.contains("eyJ") && !shown.contains("labsecret_"),
            "{shown}"
        );
    }

    #[test]
    fn errors_name_the_field_never_a_value() {
        let without_secret = EMA.replace(r#""client_secret":"labsecret_cs","#, "");
        let err = invocation(Some(&without_secret)).enterprise().unwrap_err();
        assert!(
            matches!(err, ContextError::Missing("client_secret")),
            "{err}"
        );

        let bad_url = EMA.replace("http://localhost:1/token", "labsecret_not a url");
        let err = invocation(Some(&bad_url))
            .enterprise()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("idp_token_endpoint") && !err.contains("labsecret_"),
            "{err}"
        );

        let broken = invocation(Some(r#"{"idp_id_token": "eyJ"#))
            .enterprise()
            .unwrap_err()
            .to_string();
        assert!(!broken.contains("eyJ"), "{broken}");
        assert!(matches!(
            invocation(None).workload(),
            Err(ContextError::NoContext)
        ));
    }

    #[test]
    fn workload_context_uses_the_valid_jwt() {
        let ctx = invocation(Some(
            r#"{"client_id":"conformance-wif-workload","valid_jwt":"eyJ.a.b","expired_jwt":"eyJ.c.d"}"#,
        ))
        .workload()
        .unwrap();
        assert_eq!(ctx.client_id, "conformance-wif-workload");
        assert_eq!(ctx.assertion.expose(), "eyJ.a.b");
    }
}
