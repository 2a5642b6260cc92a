//! The static policy check: every problem in a policy file at once, each with its key path,
//! without the network. `policy::parse` stops at the first error (it is what the engine
//! needs); an admin fixing a file wants the whole list, so this walks the JSON value against
//! the schema of known keys and then checks the values and how they fit together.

use serde_json::{Map, Value};
use std::collections::HashMap;

use super::problem::{Problem, Severity, closest, join};
use crate::policy::{self, AuthMethod, is_reserved_id};

const ROOT_KEYS: &[&str] = &["idp", "connectors", "pilot_machine"];
const IDP_KEYS: &[&str] = &[
    "issuer",
    "client_id",
    "client_secret",
    "token_endpoint_auth_method",
    "scopes",
    "max_concurrent_requests",
];
/// Above this many requests at once to the IdP, a warning: the policy works, but this is
/// where IdPs' concurrent-request limits start to answer 429.
const CONCURRENCY_WARN_ABOVE: usize = 32;
const CONNECTOR_KEYS: &[&str] = &[
    "id",
    "name",
    "mcp_url",
    "client_id",
    "client_secret",
    "token_endpoint_auth_method",
    "scopes",
    "as_issuer",
    "token_endpoint_origin",
];
const METHODS: &[&str] = &[
    "none",
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];

/// The policy text is not JSON at all: nothing else can be said about it.
#[derive(Debug, thiserror::Error)]
#[error("not valid JSON: {0}")]
pub struct NotJson(pub String);

/// Every static problem in `text`, in file order. A list without errors (warnings allowed)
/// means `policy::parse` accepts it.
pub fn check_text(text: &str) -> Result<Vec<Problem>, NotJson> {
    let root: Value = serde_json::from_str(text).map_err(|e| NotJson(e.to_string()))?;
    let mut problems = check_value(&root);
    if !problems.iter().any(|p| p.severity == Severity::Error) {
        // A safety net, so this check and the engine's parser can never disagree in silence.
        if let Err(e) = policy::parse(text, std::path::Path::new("policy")) {
            problems.push(Problem::at("(policy)", "invalid", e.to_string()));
        }
    }
    Ok(problems)
}

/// Every static problem of a policy already parsed as JSON.
pub fn check_value(root: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    let Some(map) = root.as_object() else {
        out.push(
            Problem::at("(top level)", "wrong_type", "expected an object")
                .fix("start from `lanyard policy init`"),
        );
        return out;
    };
    unknown_keys(map, ROOT_KEYS, "", &mut out);
    match map.get("idp") {
        None => out.push(
            Problem::at("idp", "missing_key", "the IdP section is missing").fix(
                "add \"idp\": {\"issuer\": …, \"client_id\": …} (or run `lanyard policy init`)",
            ),
        ),
        Some(Value::Object(idp)) => check_idp(idp, &mut out),
        Some(_) => out.push(wrong_type("idp", "an object")),
    }
    match map.get("connectors") {
        None => {}
        Some(Value::Array(items)) => check_connectors(items, &mut out),
        Some(_) => out.push(wrong_type("connectors", "an array of connector objects")),
    }
    if map.get("pilot_machine").is_some_and(|v| !v.is_boolean()) {
        out.push(wrong_type("pilot_machine", "true or false"));
    }
    out
}

fn check_idp(idp: &Map<String, Value>, out: &mut Vec<Problem>) {
    unknown_keys(idp, IDP_KEYS, "idp", out);
    url_at(idp, "issuer", "idp", true, out);
    non_empty_at(idp, "client_id", "idp", out);
    check_auth(idp, "idp", None, out);
    if let Some(scopes) = scopes_at(idp, "idp", out)
        && !scopes.iter().any(|s| s == "openid")
    {
        out.push(
            Problem::at("idp.scopes", "bad_value", "must include \"openid\"")
                .fix("add \"openid\" to idp.scopes"),
        );
    }
    check_concurrency(idp, out);
}

/// `idp.max_concurrent_requests`: refused where `parse` refuses it; a warning when high.
fn check_concurrency(idp: &Map<String, Value>, out: &mut Vec<Problem>) {
    const PATH: &str = "idp.max_concurrent_requests";
    // `null` is an absent key to `parse` (the default), so here too.
    let Some(value) = idp.get("max_concurrent_requests").filter(|v| !v.is_null()) else {
        return;
    };
    match policy::check_concurrency(value) {
        Err(why) => out.push(
            Problem::at(PATH, "bad_value", why.to_string()).fix(format!(
                "write a number such as 16, or leave the key out for the default ({})",
                crate::http::DEFAULT_PER_HOST_CONCURRENCY
            )),
        ),
        Ok(n) if n > CONCURRENCY_WARN_ABOVE => out.push(
            Problem::at(
                PATH,
                "high_concurrency",
                format!("{n} requests at once to the IdP"),
            )
            .fix("many IdPs limit concurrent requests per client or per org (Okta's concurrent rate limit, for one); check that yours allows this many, or lower it")
            .warning(),
        ),
        Ok(_) => {}
    }
}

fn check_connectors(items: &[Value], out: &mut Vec<Problem>) {
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut urls: HashMap<String, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("connectors[{i}]");
        let Some(c) = item.as_object() else {
            out.push(wrong_type(&at, "a connector object"));
            continue;
        };
        let id = c.get("id").and_then(Value::as_str);
        let before = out.len();
        unknown_keys(c, CONNECTOR_KEYS, &at, out);
        check_id(c, &at, &mut ids, i, out);
        if let Some(url) = url_at(c, "mcp_url", &at, true, out) {
            let key = url.to_string();
            if let Some(first) = urls.insert(key.clone(), i) {
                out.push(
                    Problem::at(
                        join(&at, "mcp_url"),
                        "duplicate_url",
                        format!("{key} is already connectors[{first}]'s mcp_url"),
                    )
                    .fix(format!(
                        "remove one of the two entries (connectors[{first}] or {at})"
                    )),
                );
            }
        }
        if c.contains_key("name") && !c.get("name").is_some_and(Value::is_string) {
            out.push(wrong_type(&join(&at, "name"), "a string"));
        }
        non_empty_at(c, "client_id", &at, out);
        check_auth(c, &at, id, out);
        scopes_at(c, &at, out);
        url_at(c, "as_issuer", &at, false, out);
        if let Some(v) = c.get("token_endpoint_origin") {
            match v.as_str().map(policy::check_origin) {
                Some(Ok(_)) => {}
                Some(Err(why)) => out.push(
                    Problem::at(
                        join(&at, "token_endpoint_origin"),
                        "bad_value",
                        why.to_string(),
                    )
                    .fix("give the origin only, e.g. \"https://tokens.example.com\""),
                ),
                None => out.push(wrong_type(&join(&at, "token_endpoint_origin"), "a string")),
            }
        }
        for p in &mut out[before..] {
            p.connector = id.map(String::from);
        }
    }
}

fn check_id(
    c: &Map<String, Value>,
    at: &str,
    ids: &mut HashMap<String, usize>,
    i: usize,
    out: &mut Vec<Problem>,
) {
    let path = join(at, "id");
    let Some(id) = string_at(c, "id", at, true, out) else {
        return;
    };
    let fine = !id.is_empty()
        && id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    if !fine {
        out.push(
            Problem::at(&path, "bad_value", format!("\"{id}\" is not a usable id"))
                .fix("use letters, digits, '-' or '_' (e.g. \"linear\")"),
        );
    } else if is_reserved_id(id) {
        out.push(
            Problem::at(
                &path,
                "reserved_id",
                format!(
                    "\"{id}\" is reserved for Lanyard's own records ({})",
                    policy::RESERVED_IDS.join(", ")
                ),
            )
            .fix("choose another id for this connector"),
        );
    }
    // Case-insensitively: trace files named after ids share one folder on macOS and Windows.
    if let Some(first) = ids.insert(id.to_ascii_lowercase(), i) {
        out.push(
            Problem::at(
                &path,
                "duplicate_id",
                format!("\"{id}\" is already connectors[{first}]'s id"),
            )
            .fix("give each connector its own id"),
        );
    }
}

/// The auth method's value, and whether the secret fits it (required / set but unused).
fn check_auth(map: &Map<String, Value>, at: &str, who: Option<&str>, out: &mut Vec<Problem>) {
    let has_secret = check_secret(map, at, out);
    let method = match map.get("token_endpoint_auth_method") {
        None => None,
        Some(Value::String(m)) => match METHODS.iter().position(|x| x == m) {
            Some(_) => serde_json::from_value::<AuthMethod>(Value::String(m.clone())).ok(),
            None => {
                out.push(
                    Problem::at(
                        join(at, "token_endpoint_auth_method"),
                        "bad_value",
                        format!("unknown method \"{m}\""),
                    )
                    .fix(format!("use one of: {}", METHODS.join(", "))),
                );
                return;
            }
        },
        Some(_) => {
            out.push(wrong_type(
                &join(at, "token_endpoint_auth_method"),
                "a string",
            ));
            return;
        }
    };
    let subject = who.map_or_else(|| "the IdP".to_string(), |w| format!("connector {w}"));
    match (method, has_secret) {
        (Some(m @ (AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost)), false) => out.push(
            Problem::at(join(at, "client_secret"), "secret_missing", format!(
                "token_endpoint_auth_method is {}, which needs a client secret, and none is set",
                m.as_str()
            ))
            .fix(format!(
                "add client_secret for {subject} as {{\"env\": NAME}} or {{\"file\": PATH}}, or use none / private_key_jwt if its server allows"
            )),
        ),
        (Some(m @ (AuthMethod::None | AuthMethod::PrivateKeyJwt)), true) => out.push(
            Problem::at(join(at, "client_secret"), "secret_unused", format!(
                "a client secret is set but never sent: token_endpoint_auth_method is {}",
                m.as_str()
            ))
            .fix("remove client_secret (a secret deployed to every machine is exposed on every machine), or change token_endpoint_auth_method"),
        ),
        _ => {}
    }
}

/// Whether a (well-formed) client secret is set.
fn check_secret(map: &Map<String, Value>, at: &str, out: &mut Vec<Problem>) -> bool {
    let path = join(at, "client_secret");
    let fix = "write it as a string, {\"env\": NAME} or {\"file\": PATH}";
    match map.get("client_secret") {
        None => false,
        Some(Value::String(s)) if s.is_empty() => {
            out.push(Problem::at(&path, "bad_value", "is empty").fix(fix));
            false
        }
        Some(Value::String(_)) => true,
        Some(Value::Object(o)) => {
            let form = ["file", "env"].into_iter().find(|k| o.contains_key(*k));
            let allowed: &[&str] = match form {
                Some("file") => &["file"],
                Some(_) => &["env"],
                None => &["file", "env"],
            };
            unknown_keys(o, allowed, &path, out);
            match form.and_then(|k| o.get(k)) {
                Some(Value::String(v)) if !v.is_empty() => true,
                Some(_) => {
                    out.push(
                        Problem::at(
                            &path,
                            "bad_value",
                            "the file or env name must be a non-empty string",
                        )
                        .fix(fix),
                    );
                    false
                }
                None => {
                    out.push(
                        Problem::at(
                            &path,
                            "wrong_type",
                            "expected {\"env\": NAME} or {\"file\": PATH}",
                        )
                        .fix(fix),
                    );
                    false
                }
            }
        }
        Some(_) => {
            out.push(wrong_type(&path, "a string, {\"file\": PATH} or {\"env\": NAME}").fix(fix));
            false
        }
    }
}

fn scopes_at(map: &Map<String, Value>, at: &str, out: &mut Vec<Problem>) -> Option<Vec<String>> {
    let path = join(at, "scopes");
    let value = map.get("scopes")?;
    let Some(items) = value.as_array() else {
        out.push(wrong_type(&path, "an array of scope strings"));
        return None;
    };
    if items.is_empty() {
        out.push(
            Problem::at(&path, "bad_value", "is empty")
                .fix("list at least one scope, or leave the key out to let the server decide"),
        );
        return None;
    }
    let mut scopes = Vec::new();
    for (i, s) in items.iter().enumerate() {
        match s.as_str() {
            Some(s) if !s.is_empty() && !s.contains(char::is_whitespace) => {
                scopes.push(s.to_string())
            }
            _ => out.push(
                Problem::at(
                    format!("{path}[{i}]"),
                    "bad_value",
                    "each scope is one non-empty word",
                )
                .fix("split space-separated scopes into separate strings"),
            ),
        }
    }
    Some(scopes)
}

fn url_at(
    map: &Map<String, Value>,
    key: &str,
    at: &str,
    required: bool,
    out: &mut Vec<Problem>,
) -> Option<url::Url> {
    let value = string_at(map, key, at, required, out)?;
    match policy::check_url(value) {
        Ok(url) => Some(url),
        Err(why) => {
            let code = match why {
                policy::FieldError::NotHttps => "insecure_url",
                _ => "bad_value",
            };
            out.push(
                Problem::at(join(at, key), code, format!("\"{value}\": {why}"))
                    .fix("use an absolute https URL (plain http only for 127.0.0.1 in tests)"),
            );
            None
        }
    }
}

fn non_empty_at(map: &Map<String, Value>, key: &str, at: &str, out: &mut Vec<Problem>) {
    if let Some(v) = string_at(map, key, at, true, out)
        && v.trim().is_empty()
    {
        out.push(
            Problem::at(join(at, key), "bad_value", "is empty")
                .fix("put the client id registered for Lanyard here"),
        );
    }
}

fn string_at<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    at: &str,
    required: bool,
    out: &mut Vec<Problem>,
) -> Option<&'a str> {
    match map.get(key) {
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            out.push(wrong_type(&join(at, key), "a string"));
            None
        }
        None if required => {
            out.push(
                Problem::at(join(at, key), "missing_key", format!("`{key}` is required")).fix(
                    format!(
                        "add \"{key}\" to {}",
                        if at.is_empty() { "the file" } else { at }
                    ),
                ),
            );
            None
        }
        None => None,
    }
}

fn unknown_keys(map: &Map<String, Value>, allowed: &[&str], at: &str, out: &mut Vec<Problem>) {
    for key in map.keys().filter(|k| !allowed.contains(&k.as_str())) {
        let fix = match closest(key, allowed) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("remove it; allowed here: {}", allowed.join(", ")),
        };
        out.push(
            Problem::at(join(at, key), "unknown_key", format!("unknown key `{key}`")).fix(fix),
        );
    }
}

fn wrong_type(path: &str, expected: &str) -> Problem {
    Problem::at(path, "wrong_type", format!("expected {expected}"))
        .fix(format!("write {path} as {expected}"))
}

#[cfg(test)]
#[path = "static_check_tests.rs"]
mod tests;
