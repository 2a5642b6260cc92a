//! Gemini CLI: `~/.gemini/mcp-oauth-tokens.json`, an array of `{serverName, token{accessToken,
//! refreshToken?, expiresAt?, tokenType, scope?}, clientId?, tokenUrl?, mcpServerUrl?,
//! updatedAt}`. Its `/auth logout` leaves these behind (gemini-cli #19923).

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
    home.join(".gemini").join("mcp-oauth-tokens.json")
}

pub(crate) const READER: Reader = Reader {
    app: ClientApp::Gemini,
    files: |home| vec![file(home)],
    parse: |snap, index, out, problems| {
        parse_json(snap, out, problems, |doc| entries(&snap.path, doc, index))
    },
};

fn entries(path: &Path, doc: &Value, index: &ConnectorIndex) -> Result<Vec<Found>, ReadError> {
    let mut out = Vec::new();
    let Some(items) = doc.as_array() else {
        return Err(ReadError::NotTheShape {
            path: path.to_path_buf(),
            expected: "a JSON array",
        });
    };
    for (i, v) in items.iter().enumerate() {
        let server = str_field(v, "serverName").unwrap_or_default();
        let url = str_field(v, "mcpServerUrl");
        // The id follows the server, not the position, so it survives other entries' removal.
        let key = format!("{server}|{}", url.as_deref().unwrap_or_default());
        let token = v.get("token").cloned().unwrap_or(Value::Null);
        let mut e = entry(
            ClientApp::Gemini,
            path,
            &key,
            url,
            None,
            str_field(v, "clientId"),
            index,
        );
        if e.connector_id.is_none()
            && let Some(token_url) = str_field(v, "tokenUrl")
        {
            // No MCP URL stored: the token endpoint's origin may still be a known issuer.
            e.connector_id = issuer_from_token_url(&token_url)
                .and_then(|iss| index.by_issuer(&iss).map(str::to_string));
        }
        let creds = Credentials {
            access: secret_field(&token, "accessToken"),
            refresh: secret_field(&token, "refreshToken"),
            client_secret: None,
            auth_method: None,
        };
        let target = Target::Json {
            path: vec![Seg::Index(i)],
        };
        out.push(finish(e, target, creds, epoch(token.get("expiresAt"))));
    }
    Ok(out)
}

/// `https://as.example/oauth2/token` -> `https://as.example/oauth2` (a guess, used only to map).
fn issuer_from_token_url(token_url: &str) -> Option<String> {
    let trimmed = token_url.trim_end_matches('/');
    let (base, _) = trimmed.rsplit_once('/')?;
    Some(base.to_string())
}
