//! Goose file store: `~/.config/goose/secrets.yaml`, one shared mapping whose keys
//! `oauth_creds_<extension>` hold `{client_id, token_response{access_token, expires_in?,
//! refresh_token?}}`. Shared blob: only the one top-level key's lines are ever removed.
//!
//! The cut is byte-surgical: the file is a flat top-level mapping written by serde_yaml, so a
//! careful reader of that subset finds each key's span — a line at column 0, its value a
//! JSON-compatible flow/quoted scalar on that line or an indented block of `key: scalar`
//! lines. Anything else is reported as a problem rather than guessed at, and every cut is
//! proved with a full YAML parser before it is written (`prove_removed`).

use serde_json::{Map, Value};
use std::path::Path;
use yaml_rust2::{Yaml, YamlLoader};

use super::{Credentials, Found, Reader, Snapshot, Target, entry, finish, secret_field, str_field};
use crate::legacy::ClientApp;
use crate::legacy::json_edit::EditError;
use crate::legacy::mapping::ConnectorIndex;

const PREFIX: &str = "oauth_creds_";

pub(crate) fn file(home: &Path) -> std::path::PathBuf {
    home.join(".config").join("goose").join("secrets.yaml")
}

/// A top-level key and the byte range of its lines (key line through its indented block).
#[derive(Debug, PartialEq)]
pub(crate) struct Block {
    pub key: String,
    pub start: usize,
    pub end: usize,
}

/// Top-level keys of a block mapping, with their spans. Comments and blank lines between keys
/// belong to the following key's neighbourhood and are never removed.
pub(crate) fn blocks(text: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let first = line.chars().next().unwrap_or(' ');
        let content = line.trim_end();
        if content.is_empty() || first == '#' || first == ' ' || first == '\t' || first == '-' {
            // Indented continuation: extends the current block (blank lines only if more follows).
            if let Some(b) = out.last_mut()
                && !content.is_empty()
                && first != '#'
            {
                b.end = offset;
            }
            continue;
        }
        if content == "---" {
            continue;
        }
        if let Some((key, _)) = content.split_once(':') {
            out.push(Block {
                key: unquote(key.trim()),
                start,
                end: offset,
            });
        }
    }
    out
}

fn unquote(s: &str) -> String {
    if let Some(inner) = s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    if s.starts_with('"') {
        return serde_json::from_str(s).unwrap_or_else(|_| s.to_string());
    }
    s.to_string()
}

/// A scalar on one line: quoted, JSON flow, number, bool, null or plain text.
fn scalar(s: &str) -> Value {
    let s = s.trim();
    if s.is_empty() || s == "~" || s == "null" {
        return Value::Null;
    }
    if s.starts_with('\'') {
        return Value::String(unquote(s));
    }
    if let Ok(v) = serde_json::from_str::<Value>(s) {
        return v;
    }
    Value::String(s.to_string())
}

/// The value of one block: inline after `key:`, or an indented mapping of scalars.
fn value(text: &str) -> Option<Value> {
    let mut lines = text.lines();
    let (_, inline) = lines.next()?.split_once(':')?;
    let inline = inline.trim();
    if !inline.is_empty() {
        let v = scalar(inline);
        // A JSON document stored as a string (keyring-style): parse it.
        return Some(match &v {
            Value::String(s) if s.trim_start().starts_with('{') => {
                serde_json::from_str(s).unwrap_or(v)
            }
            _ => v,
        });
    }
    // Indented block mapping: a stack of (indent, object path).
    let mut root = Map::new();
    let mut stack: Vec<(usize, Vec<String>)> = vec![(0, vec![])];
    for line in lines {
        let indent = line.len() - line.trim_start().len();
        let body = line.trim();
        if body.is_empty() || body.starts_with('#') || body.starts_with('-') {
            continue;
        }
        let (k, v) = body.split_once(':')?;
        while stack.len() > 1 && stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let mut path = stack.last()?.1.clone();
        let key = unquote(k.trim());
        let mut obj = &mut root;
        for p in &path {
            obj = obj.get_mut(p)?.as_object_mut()?;
        }
        if v.trim().is_empty() {
            obj.insert(key.clone(), Value::Object(Map::new()));
            path.push(key);
            stack.push((indent, path));
        } else {
            obj.insert(key, scalar(v));
        }
    }
    Some(Value::Object(root))
}

pub(crate) const READER: Reader = Reader {
    app: ClientApp::Goose,
    files: |home| vec![file(home)],
    parse,
};

fn parse(
    snap: &Snapshot,
    index: &ConnectorIndex,
    out: &mut Vec<Found>,
    problems: &mut Vec<String>,
) {
    let path = &snap.path;
    let text = match snap.text() {
        Ok(t) => t,
        Err(p) => return problems.push(p.to_string()),
    };
    for block in blocks(text)
        .into_iter()
        .filter(|b| b.key.starts_with(PREFIX))
    {
        let Some(v) = value(&text[block.start..block.end]).filter(Value::is_object) else {
            problems.push(format!(
                "{}: `{}` is not in a format Lanyard reads",
                path.display(),
                block.key
            ));
            continue;
        };
        let tokens = v.get("token_response").cloned().unwrap_or(Value::Null);
        let server_url = str_field(&v, "server_url").or_else(|| str_field(&v, "endpoint"));
        let mut e = entry(
            ClientApp::Goose,
            path,
            &block.key,
            server_url,
            str_field(&v, "issuer"),
            str_field(&v, "client_id"),
            index,
        );
        if e.server_url.is_none() {
            e.note = Some(format!("Goose extension {}", &block.key[PREFIX.len()..]));
        }
        let creds = Credentials {
            access: secret_field(&tokens, "access_token"),
            refresh: secret_field(&tokens, "refresh_token"),
            client_secret: secret_field(&v, "client_secret"),
            auth_method: None,
        };
        // `expires_in` with no issue time recorded: unknown, honestly.
        out.push(finish(e, Target::YamlKey { key: block.key }, creds, None));
    }
}

/// `text` without the top-level key `key` (its line and indented block); other bytes kept.
pub(crate) fn remove_key(text: &str, key: &str) -> Option<String> {
    let b = blocks(text).into_iter().find(|b| b.key == key)?;
    Some(format!("{}{}", &text[..b.start], &text[b.end..]))
}

/// The safety net JSON edits have (see `json_edit`), for YAML: a full YAML parser must read
/// `before` and `after` as one mapping each, and `after` must mean exactly `before` without
/// `key`. Our cut understands only the subset serde_yaml writes; anything beyond it that the
/// cut would damage (an alias into the removed block, a multi-line flow value) is caught here.
pub(crate) fn prove_removed(before: &str, after: &str, key: &str) -> Result<(), EditError> {
    let mut expected = mapping(before)?;
    let got = mapping(after).map_err(|_| EditError::Unsafe)?;
    if expected.remove(&Yaml::String(key.to_string())).is_none() || got != expected {
        return Err(EditError::Unsafe);
    }
    Ok(())
}

/// The top-level mapping of a one-document YAML file (an empty file is an empty mapping).
fn mapping(text: &str) -> Result<yaml_rust2::yaml::Hash, EditError> {
    let docs =
        YamlLoader::load_from_str(text).map_err(|e| EditError::InvalidYaml(e.to_string()))?;
    match docs.as_slice() {
        [] => Ok(Default::default()),
        [Yaml::Hash(map)] => Ok(map.clone()),
        _ => Err(EditError::InvalidYaml("not a single mapping".into())),
    }
}

/// The exact lines of `key` in `text`, to put back on restore.
pub(crate) fn key_text(text: &str, key: &str) -> Option<String> {
    let (start, end) = key_span(text, key)?;
    Some(text[start..end].to_string())
}

/// Where the lines of `key` are in `text`: their byte range.
pub(crate) fn key_span(text: &str, key: &str) -> Option<(usize, usize)> {
    let b = blocks(text).into_iter().find(|b| b.key == key)?;
    Some((b.start, b.end))
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "# goose secrets\nOPENAI_API_KEY: sk-keep-me\noauth_creds_linear:\n  client_id: legacy-cli\n  server_url: https://mcp.linear.app/mcp\n  token_response:\n    access_token: at-1\n    refresh_token: 'rt-1'\n    expires_in: 3600\noauth_creds_flow: '{\"client_id\": \"c2\", \"token_response\": {\"access_token\": \"at-2\"}}'\nGITHUB_TOKEN: \"ghp-keep\"\n";

    #[test]
    fn reads_block_and_string_forms() {
        let bs = blocks(YAML);
        let keys: Vec<&str> = bs.iter().map(|b| b.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "OPENAI_API_KEY",
                "oauth_creds_linear",
                "oauth_creds_flow",
                "GITHUB_TOKEN"
            ]
        );
        let v = value(&YAML[bs[1].start..bs[1].end]).unwrap();
        assert_eq!(v["client_id"], "legacy-cli");
        assert_eq!(v["token_response"]["refresh_token"], "rt-1");
        assert_eq!(v["token_response"]["expires_in"], 3600);
        let v = value(&YAML[bs[2].start..bs[2].end]).unwrap();
        assert_eq!(v["token_response"]["access_token"], "at-2");
    }

    #[test]
    fn removes_one_key_and_nothing_else() {
        let out = remove_key(YAML, "oauth_creds_linear").unwrap();
        assert_eq!(
            out,
            "# goose secrets\nOPENAI_API_KEY: sk-keep-me\noauth_creds_flow: '{\"client_id\": \"c2\", \"token_response\": {\"access_token\": \"at-2\"}}'\nGITHUB_TOKEN: \"ghp-keep\"\n"
        );
        let lines = key_text(YAML, "oauth_creds_linear").unwrap();
        assert!(
            lines.starts_with("oauth_creds_linear:\n") && lines.ends_with("expires_in: 3600\n")
        );
        assert_eq!(remove_key(YAML, "nope"), None);
    }
}
