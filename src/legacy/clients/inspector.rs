//! MCP Inspector v2: `~/.mcp-inspector/storage/oauth.json`, `servers[<url>].byIssuer[<issuer>]
//! {clientInformation, tokens}`. Entries marked `enterpriseManaged: true` (on the issuer entry
//! or the server) are EMA grants, not legacy ones, and are skipped.

use serde_json::Value;
use std::path::Path;

use super::{
    Credentials, Found, Reader, Target, entry, epoch, finish, parse_json, secret_field, str_field,
};
use crate::legacy::ClientApp;
use crate::legacy::json_edit::Seg;
use crate::legacy::mapping::ConnectorIndex;

pub(crate) fn file(home: &Path) -> std::path::PathBuf {
    home.join(".mcp-inspector")
        .join("storage")
        .join("oauth.json")
}

fn enterprise_managed(v: &Value) -> bool {
    v.get("enterpriseManaged")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

pub(crate) const READER: Reader = Reader {
    app: ClientApp::InspectorV2,
    files: |home| vec![file(home)],
    parse: |snap, index, out, problems| {
        parse_json(snap, out, problems, |doc| {
            Ok(entries(&snap.path, doc, index))
        })
    },
};

fn entries(path: &Path, doc: &Value, index: &ConnectorIndex) -> Vec<Found> {
    let mut out = Vec::new();
    let Some(servers) = doc.get("servers").and_then(Value::as_object) else {
        return out;
    };
    for (url, server) in servers {
        if enterprise_managed(server) {
            continue;
        }
        let Some(by_issuer) = server.get("byIssuer").and_then(Value::as_object) else {
            continue;
        };
        for (issuer, v) in by_issuer {
            if enterprise_managed(v) {
                continue;
            }
            let info = v.get("clientInformation").cloned().unwrap_or(Value::Null);
            let tokens = v.get("tokens").cloned().unwrap_or(Value::Null);
            let e = entry(
                ClientApp::InspectorV2,
                path,
                &format!("{url}|{issuer}"),
                Some(url.clone()),
                Some(issuer.clone()),
                str_field(&info, "client_id"),
                index,
            );
            let creds = Credentials {
                access: secret_field(&tokens, "access_token"),
                refresh: secret_field(&tokens, "refresh_token"),
                client_secret: secret_field(&info, "client_secret"),
                auth_method: str_field(&info, "token_endpoint_auth_method"),
            };
            let expiry = epoch(tokens.get("expires_at")).or_else(|| epoch(v.get("expiresAt")));
            let target = Target::Json {
                path: vec![
                    Seg::Key("servers".into()),
                    Seg::Key(url.clone()),
                    Seg::Key("byIssuer".into()),
                    Seg::Key(issuer.clone()),
                ],
            };
            out.push(finish(e, target, creds, expiry));
        }
    }
    out
}
