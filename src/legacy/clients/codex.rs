//! Codex CLI file store: `$CODEX_HOME/.credentials.json` (default `~/.codex`), a map keyed
//! `<server_name>|<hash>` of `{server_name, server_url, client_id, access_token, expires_at?,
//! refresh_token?, scopes[]}`. (Its keyring store, service `Codex MCP Credentials`, is not read.)

use serde_json::Value;
use std::path::Path;

use super::{
    Credentials, Found, ReadError, Reader, Target, entry, epoch, finish, parse_json, secret_field,
    str_field,
};
use crate::legacy::ClientApp;
use crate::legacy::json_edit::Seg;
use crate::legacy::mapping::ConnectorIndex;

pub(crate) fn file(home: &Path) -> std::path::PathBuf {
    home.join(".codex").join(".credentials.json")
}

pub(crate) const READER: Reader = Reader {
    app: ClientApp::Codex,
    files: |home| vec![file(home)],
    parse: |snap, index, out, problems| {
        parse_json(snap, out, problems, |doc| entries(&snap.path, doc, index))
    },
};

fn entries(path: &Path, doc: &Value, index: &ConnectorIndex) -> Result<Vec<Found>, ReadError> {
    let mut out = Vec::new();
    let Some(map) = doc.as_object() else {
        return Err(ReadError::NotTheShape {
            path: path.to_path_buf(),
            expected: "a JSON object",
        });
    };
    for (key, v) in map {
        // Only token entries: an object with an access token or a server URL.
        if v.get("access_token").is_none() && v.get("server_url").is_none() {
            continue;
        }
        let e = entry(
            ClientApp::Codex,
            path,
            key,
            str_field(v, "server_url"),
            None,
            str_field(v, "client_id"),
            index,
        );
        let creds = Credentials {
            access: secret_field(v, "access_token"),
            refresh: secret_field(v, "refresh_token"),
            client_secret: secret_field(v, "client_secret"),
            auth_method: None,
        };
        let target = Target::Json {
            path: vec![Seg::Key(key.clone())],
        };
        out.push(finish(e, target, creds, epoch(v.get("expires_at"))));
    }
    Ok(out)
}
