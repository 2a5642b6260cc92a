//! Claude Code: `~/.claude/.credentials.json`, map `mcpOAuth["<serverName>|<hash>"]`. The same
//! file holds the account login (`claudeAiOauth`), so only the one `mcpOAuth` member is ever
//! touched (claude-code #43000, #90647, #92748). `expiresAt` is epoch ms; 0 means broken (#95113).

use serde_json::Value;
use std::path::Path;

use super::{
    Credentials, Found, Reader, Target, entry, epoch, finish, parse_json, secret_field, str_field,
};
use crate::legacy::ClientApp;
use crate::legacy::json_edit::Seg;
use crate::legacy::mapping::ConnectorIndex;

pub(crate) fn file(home: &Path) -> std::path::PathBuf {
    home.join(".claude").join(".credentials.json")
}

pub(crate) const READER: Reader = Reader {
    app: ClientApp::ClaudeCode,
    files: |home| vec![file(home)],
    parse: |snap, index, out, problems| {
        parse_json(snap, out, problems, |doc| {
            Ok(entries(&snap.path, doc, index))
        })
    },
};

fn entries(path: &Path, doc: &Value, index: &ConnectorIndex) -> Vec<Found> {
    let mut out = Vec::new();
    let Some(map) = doc.get("mcpOAuth").and_then(Value::as_object) else {
        return out;
    };
    for (key, v) in map {
        let issuer = v
            .get("discoveryState")
            .and_then(|d| str_field(d, "authorizationServerUrl"));
        let mut e = entry(
            ClientApp::ClaudeCode,
            path,
            key,
            str_field(v, "serverUrl"),
            issuer,
            str_field(v, "clientId"),
            index,
        );
        let expiry = epoch(v.get("expiresAt"));
        if expiry.is_none() && v.get("expiresAt").and_then(Value::as_i64) == Some(0) {
            e.note = Some("expiry unknown (Claude Code stored expiresAt: 0)".into());
        }
        let creds = Credentials {
            access: secret_field(v, "accessToken"),
            refresh: secret_field(v, "refreshToken"),
            client_secret: secret_field(v, "clientSecret"),
            auth_method: None,
        };
        let target = Target::Json {
            path: vec![Seg::Key("mcpOAuth".into()), Seg::Key(key.clone())],
        };
        out.push(finish(e, target, creds, expiry));
    }
    out
}
