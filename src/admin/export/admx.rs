//! Group Policy templates: `Lanyard.admx` (the settings and the registry values they write,
//! the layout of `admin::registry`) and `en-US/Lanyard.adml` (their names, help and the
//! policy's values as each field's default). An admin copies both into the PolicyDefinitions
//! store, enables "Company IdP" and each connector's policy, and Group Policy writes exactly
//! what the `.reg` export would.
//!
//! A template is shared in the domain's central store, so it never carries a client secret:
//! an inline secret is refused (use `{"env": …}`, `{"file": …}`, or the `.reg` export).

use std::fmt::Write as _;

use super::document::{PolicyDocument, SecretDocument};
use super::xml::{Element, escape, parse};
use crate::admin::registry::{POLICY_KEY, RegKey, RegValue, to_registry};

const NS: &str = "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions";
const METHODS: [&str; 4] = [
    "none",
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];

#[derive(Debug, thiserror::Error)]
pub enum AdmxError {
    #[error(
        "{0} has an inline client_secret; a Group Policy template is shared, so it never carries one: use {{\"env\": NAME}} or {{\"file\": PATH}}, or deploy the secret with the .reg export"
    )]
    InlineSecret(String),
    #[error("{0}")]
    Xml(#[from] super::xml::XmlError),
    #[error("template: {0}")]
    Template(String),
}

/// One field of a policy: an ADMX element and its ADML presentation.
struct Field {
    id: &'static str,
    label: &'static str,
    kind: Kind,
    required: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Method,
    /// A whole number Group Policy itself keeps within these bounds (a DWORD).
    Decimal {
        min: u32,
        max: u32,
    },
}

const fn f(id: &'static str, label: &'static str, kind: Kind, required: bool) -> Field {
    Field {
        id,
        label,
        kind,
        required,
    }
}

const IDP_FIELDS: &[Field] = &[
    f(
        "IdpIssuer",
        "Issuer (exactly as in the IdP's discovery document)",
        Kind::Text,
        true,
    ),
    f(
        "IdpClientId",
        "Lanyard's client id at the IdP",
        Kind::Text,
        true,
    ),
    f(
        "IdpTokenEndpointAuthMethod",
        "Client authentication",
        Kind::Method,
        true,
    ),
    f(
        "IdpClientSecretEnv",
        "Client secret from this environment variable",
        Kind::Text,
        false,
    ),
    f(
        "IdpClientSecretFile",
        "Client secret from this file",
        Kind::Text,
        false,
    ),
    f("IdpScopes", "Scopes (space-separated)", Kind::Text, false),
    f(
        "IdpMaxConcurrentRequests",
        "Requests in flight at once to the IdP (1 to 64)",
        // The policy's own bounds (`policy::MAX_CONCURRENT_REQUESTS`; a test checks).
        Kind::Decimal { min: 1, max: 64 },
        false,
    ),
];

const CONNECTOR_FIELDS: &[Field] = &[
    f(
        "Order",
        "Position in the list",
        Kind::Decimal { min: 0, max: 9999 },
        true,
    ),
    f("Name", "Display name", Kind::Text, true),
    f("McpUrl", "MCP server URL", Kind::Text, true),
    f(
        "ClientId",
        "Lanyard's client id at the connector's authorization server",
        Kind::Text,
        true,
    ),
    f(
        "TokenEndpointAuthMethod",
        "Client authentication",
        Kind::Method,
        true,
    ),
    f(
        "ClientSecretEnv",
        "Client secret from this environment variable",
        Kind::Text,
        false,
    ),
    f(
        "ClientSecretFile",
        "Client secret from this file",
        Kind::Text,
        false,
    ),
    f(
        "Scopes",
        "Scopes (space-separated; empty: the server decides)",
        Kind::Text,
        false,
    ),
    f(
        "AsIssuer",
        "Pinned authorization server issuer (as_issuer)",
        Kind::Text,
        false,
    ),
    f(
        "TokenEndpointOrigin",
        "Other origin allowed for the token endpoint",
        Kind::Text,
        false,
    ),
];

/// `(admx, adml)` texts for `doc`.
pub fn write(doc: &PolicyDocument) -> Result<(String, String), AdmxError> {
    if matches!(doc.idp.client_secret, Some(SecretDocument::Inline(_))) {
        return Err(AdmxError::InlineSecret("idp".into()));
    }
    for (i, c) in doc.connectors.iter().enumerate() {
        if matches!(c.client_secret, Some(SecretDocument::Inline(_))) {
            return Err(AdmxError::InlineSecret(format!(
                "connectors[{i}] ({})",
                c.id
            )));
        }
    }
    let registry = to_registry(doc);
    let mut policies = Vec::new();
    policies.push(Policy {
        name: "Idp".into(),
        display: "Company IdP".into(),
        help: "Idp_Help",
        category: "Lanyard",
        key: POLICY_KEY.to_string(),
        fields: IDP_FIELDS,
        values: &registry,
    });
    let empty = RegKey::default();
    let list = registry
        .subkey(crate::admin::registry::CONNECTORS)
        .unwrap_or(&empty);
    for c in &doc.connectors {
        policies.push(Policy {
            name: format!("Connector_{}", c.id),
            display: format!("Connector: {}", c.name),
            help: "Connector_Help",
            category: "LanyardConnectors",
            key: format!(r"{POLICY_KEY}\Connectors\{}", c.id),
            fields: CONNECTOR_FIELDS,
            values: list.subkey(&c.id).unwrap_or(&empty),
        });
    }
    Ok((admx(&policies), adml(&policies)))
}

struct Policy<'a> {
    name: String,
    display: String,
    help: &'static str,
    category: &'static str,
    key: String,
    fields: &'static [Field],
    values: &'a RegKey,
}

fn admx(policies: &[Policy<'_>]) -> String {
    let mut x = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<policyDefinitions xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" xmlns="{NS}">
  <policyNamespaces>
    <target prefix="lanyard" namespace="Lanyard.Policies.Lanyard" />
    <using prefix="windows" namespace="Microsoft.Policies.Windows" />
  </policyNamespaces>
  <resources minRequiredRevision="1.0" />
  <supportedOn>
    <definitions>
      <definition name="SUPPORTED_Lanyard" displayName="$(string.SUPPORTED_Lanyard)" />
    </definitions>
  </supportedOn>
  <categories>
    <category name="Lanyard" displayName="$(string.Lanyard)" />
    <category name="LanyardConnectors" displayName="$(string.LanyardConnectors)">
      <parentCategory ref="Lanyard" />
    </category>
  </categories>
  <policies>
"#
    );
    for p in policies {
        let _ = write!(
            x,
            "    <policy name=\"{n}\" class=\"Machine\" displayName=\"$(string.{n})\" explainText=\"$(string.{h})\" presentation=\"$(presentation.{n})\" key=\"{k}\">\n      <parentCategory ref=\"{c}\" />\n      <supportedOn ref=\"SUPPORTED_Lanyard\" />\n      <elements>\n",
            n = escape(&p.name),
            h = p.help,
            k = escape(&p.key),
            c = p.category,
        );
        for field in p.fields {
            element(&mut x, field);
        }
        x.push_str("      </elements>\n    </policy>\n");
    }
    x.push_str("  </policies>\n</policyDefinitions>\n");
    x
}

/// One field of a policy as an ADMX element: text, a decimal (order, concurrency) or the
/// method enum.
fn element(x: &mut String, field: &Field) {
    let req = if field.required {
        " required=\"true\""
    } else {
        ""
    };
    let id = field.id;
    let _ = match field.kind {
        Kind::Text => writeln!(x, "        <text id=\"{id}\" valueName=\"{id}\"{req} />"),
        Kind::Decimal { min, max } => writeln!(
            x,
            "        <decimal id=\"{id}\" valueName=\"{id}\" minValue=\"{min}\" maxValue=\"{max}\"{req} />"
        ),
        Kind::Method => {
            let _ = writeln!(x, "        <enum id=\"{id}\" valueName=\"{id}\"{req}>");
            for m in METHODS {
                let _ = writeln!(
                    x,
                    "          <item displayName=\"$(string.Method_{m})\"><value><string>{m}</string></value></item>"
                );
            }
            writeln!(x, "        </enum>")
        }
    };
}

fn adml(policies: &[Policy<'_>]) -> String {
    let mut strings = vec![
        ("Lanyard".to_string(), "Lanyard".to_string()),
        ("LanyardConnectors".into(), "Connectors".into()),
        ("SUPPORTED_Lanyard".into(), "Lanyard 0.1 and later".into()),
        ("Idp_Help".into(), "The company identity provider Lanyard signs in with (OIDC). Lanyard refuses an IdP whose discovery document names another issuer. A client secret here is readable on every machine the policy reaches: prefer \"none\" or \"private_key_jwt\" with the device key (lanyard device-key). Requests in flight at once (default 8): with many connectors every token exchange goes to the IdP, so a higher number resolves them sooner; keep it within your IdP's concurrent-request rate limits.".into()),
        ("Connector_Help".into(), "One MCP connector Lanyard gets a zero-touch grant for. Its ID-JAG and client credentials go only to the pinned authorization server (AsIssuer), else to the one that granted it first.".into()),
    ];
    for m in METHODS {
        strings.push((format!("Method_{m}"), m.to_string()));
    }
    let mut presentations = String::new();
    for p in policies {
        strings.push((p.name.clone(), p.display.clone()));
        presentations.push_str(&presentation(p));
    }
    let mut table = String::new();
    for (id, text) in strings {
        let _ = writeln!(
            table,
            "      <string id=\"{}\">{}</string>",
            escape(&id),
            escape(&text)
        );
    }
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<policyDefinitionResources xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" xmlns="{NS}">
  <displayName>Lanyard</displayName>
  <description>Lanyard's admin policy: the company IdP and the MCP connectors it grants.</description>
  <resources>
    <stringTable>
{table}    </stringTable>
    <presentationTable>
{presentations}    </presentationTable>
  </resources>
</policyDefinitionResources>
"#
    )
}

/// A policy's presentation: one control per field, its default the value the policy holds.
fn presentation(p: &Policy<'_>) -> String {
    let mut presentations = String::new();
    let _ = writeln!(
        presentations,
        "      <presentation id=\"{}\">",
        escape(&p.name)
    );
    for field in p.fields {
        let label = escape(field.label);
        let id = field.id;
        let value = p.values.values.get(id);
        let _ = match (field.kind, value) {
            (Kind::Decimal { .. }, Some(RegValue::Dword(n))) => writeln!(
                presentations,
                "        <decimalTextBox refId=\"{id}\" defaultValue=\"{n}\">{label}</decimalTextBox>"
            ),
            (Kind::Method, Some(RegValue::Sz(m))) => {
                let item = METHODS.iter().position(|x| x == m).unwrap_or(0);
                writeln!(
                    presentations,
                    "        <dropdownList refId=\"{id}\" defaultItem=\"{item}\" noSort=\"true\">{label}</dropdownList>"
                )
            }
            (_, Some(RegValue::Sz(v))) => writeln!(
                presentations,
                "        <textBox refId=\"{id}\"><label>{label}</label><defaultValue>{}</defaultValue></textBox>",
                escape(v)
            ),
            _ => writeln!(
                presentations,
                "        <textBox refId=\"{id}\"><label>{label}</label></textBox>"
            ),
        };
    }
    presentations.push_str("      </presentation>\n");
    presentations
}

/// The registry content Group Policy writes when every policy of the templates is enabled
/// with its default values: how a test reads the templates back into a policy.
pub fn read(admx_text: &str, adml_text: &str) -> Result<RegKey, AdmxError> {
    let admx = parse(admx_text)?;
    let adml = parse(adml_text)?;
    let bad = AdmxError::Template;
    let mut root = RegKey::default();
    for policy in admx.descendants("policy") {
        let key = policy
            .attr("key")
            .ok_or_else(|| bad("a policy without key".into()))?;
        let rest = key
            .strip_prefix(POLICY_KEY)
            .ok_or_else(|| bad(format!("key {key} is outside {POLICY_KEY}")))?;
        let target = rest
            .split('\\')
            .filter(|s| !s.is_empty())
            .fold(&mut root, |k, s| k.subkey_mut(s));
        let presentation = policy
            .attr("presentation")
            .and_then(|p| p.strip_prefix("$(presentation.")?.strip_suffix(')'))
            .and_then(|id| {
                adml.descendants("presentation")
                    .find(|p| p.attr("id") == Some(id))
            })
            .ok_or_else(|| bad(format!("no presentation for policy {key}")))?;
        for element in policy
            .child("elements")
            .map(|e| e.children.as_slice())
            .unwrap_or_default()
        {
            if let Some((name, value)) = default_value(element, presentation)? {
                target.values.insert(name, value);
            }
        }
    }
    Ok(root)
}

fn default_value(
    element: &Element,
    presentation: &Element,
) -> Result<Option<(String, RegValue)>, AdmxError> {
    let bad = |why: &str| AdmxError::Template(why.to_string());
    let id = element
        .attr("id")
        .ok_or_else(|| bad("an element without id"))?;
    let name = element
        .attr("valueName")
        .ok_or_else(|| bad("an element without valueName"))?;
    let shown = presentation
        .children
        .iter()
        .find(|p| p.attr("refId") == Some(id));
    let value = match (element.name.as_str(), shown) {
        ("text", Some(p)) => p
            .child("defaultValue")
            .map(|d| RegValue::Sz(d.text.clone())),
        ("decimal", Some(p)) => p
            .attr("defaultValue")
            .map(|v| {
                v.parse()
                    .map(RegValue::Dword)
                    .map_err(|_| bad("a decimal default that is not a number"))
            })
            .transpose()?,
        ("enum", Some(p)) => {
            let items: Vec<&str> = element
                .children
                .iter()
                .filter_map(|i| Some(i.child("value")?.child("string")?.text.as_str()))
                .collect();
            p.attr("defaultItem")
                .and_then(|d| d.parse::<usize>().ok())
                .and_then(|d| items.get(d))
                .map(|s| RegValue::Sz((*s).to_string()))
        }
        (_, None) => return Err(bad("an element without presentation")),
        (other, _) => return Err(AdmxError::Template(format!("unexpected element {other}"))),
    };
    Ok(value.map(|v| (name.to_string(), v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::export::document::tests::{FULL, full};
    use crate::admin::registry::from_registry;

    #[test]
    fn the_templates_are_well_formed_and_read_back_into_the_same_policy() {
        let doc = PolicyDocument::from_policy(&full());
        let (admx_text, adml_text) = write(&doc).unwrap();
        let admx = parse(&admx_text).unwrap();
        let adml = parse(&adml_text).unwrap();
        assert_eq!(admx.name, "policyDefinitions");
        assert_eq!(adml.name, "policyDefinitionResources");
        assert_eq!(admx.descendants("policy").count(), 1 + doc.connectors.len());
        // Every string and presentation the ADMX refers to exists in the ADML.
        for reference in admx_text.split("$(").skip(1) {
            let (kind, rest) = reference.split_once('.').unwrap();
            let id = rest.split(')').next().unwrap();
            let table = if kind == "string" {
                "string"
            } else {
                "presentation"
            };
            assert!(
                adml.descendants(table).any(|s| s.attr("id") == Some(id)),
                "{kind}.{id}"
            );
        }

        // The IdP's concurrency: a number box within the policy's bounds, the value as default.
        let (lo, hi) = (
            crate::policy::MAX_CONCURRENT_REQUESTS.start(),
            crate::policy::MAX_CONCURRENT_REQUESTS.end(),
        );
        let decimal = format!(
            "<decimal id=\"IdpMaxConcurrentRequests\" valueName=\"IdpMaxConcurrentRequests\" minValue=\"{lo}\" maxValue=\"{hi}\" />"
        );
        assert!(admx_text.contains(&decimal), "{admx_text}");
        assert!(
            adml_text.contains(
                "<decimalTextBox refId=\"IdpMaxConcurrentRequests\" defaultValue=\"24\">"
            ),
            "{adml_text}"
        );

        let key = read(&admx_text, &adml_text).unwrap();
        let json = from_registry(&key, POLICY_KEY).unwrap();
        let back = crate::policy::parse(&json.to_string(), std::path::Path::new("t")).unwrap();
        assert_eq!(PolicyDocument::from_policy(&back), doc);
        assert_eq!(back.idp.max_concurrent_requests, 24);
        assert!(FULL.contains("<&>"), "the escaping case is exercised");
    }

    #[test]
    fn templates_never_carry_an_inline_secret() {
        let text = FULL.replace(
            "{\"file\": \"/etc/lanyard/linear.secret\"}",
            "\"labsecret_x\"",
        );
        let policy = crate::policy::parse(&text, std::path::Path::new("x")).unwrap();
        let e = write(&PolicyDocument::from_policy(&policy))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("connectors[0] (linear)") && !e.contains("labsecret_x"),
            "{e}"
        );
    }
}
