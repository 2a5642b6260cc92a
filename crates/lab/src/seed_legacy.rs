//! `seed-legacy`: signs a user into lab connectors through the per-user ("legacy")
//! authorization-code + PKCE flow, over real HTTP as public client `legacy-cli`, and writes
//! the real tokens into realistic stores of other MCP clients under a home folder
//! (product.md "lanyard-lab"; formats from peers.md). Tests then prove Lanyard finds them,
//! removes them and revokes them at the lab.

use anyhow::{Context as _, bail};
use base64::Engine as _;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use crate::catalogue::LEGACY_CLIENT_ID;

// The same MD5 source as the core's mcp-remote reader, so the two can never disagree.
#[path = "../../../src/legacy/md5.rs"]
mod md5;

/// mcp-remote's version folder; the scanner reads every `mcp-remote-*` folder.
const MCP_REMOTE_DIR: &str = ".mcp-auth/mcp-remote-0.1.29";

/// One entry written, without its token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeededEntry {
    /// `mcp-remote`, `claude-code`, `codex`, `gemini`, `goose`, `inspector-v2`, `vs-code`.
    pub client: String,
    pub connector: String,
    pub file: PathBuf,
    /// Written as an EMA grant (`enterpriseManaged: true`): a scanner must skip it.
    pub enterprise_managed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeedReport {
    pub home: PathBuf,
    pub user: String,
    pub entries: Vec<SeededEntry>,
}

#[derive(Debug, Clone, Deserialize)]
struct LabConnector {
    id: String,
    mcp_url: String,
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
}

/// Tokens from one legacy sign-in; only ever written into the seeded stores.
struct Tokens {
    access: String,
    refresh: String,
    expires_in: i64,
    scope: String,
}

struct Seeder {
    http: reqwest::Client,
    user: String,
    connectors: Vec<LabConnector>,
    report: SeedReport,
}

/// Seeds `home` with legacy tokens for `user` from the lab at `base` (`http://127.0.0.1:P`).
pub async fn seed_legacy(base: &str, home: &Path, user: &str) -> anyhow::Result<SeedReport> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let base = base.trim_end_matches('/');
    let connectors: Vec<LabConnector> = http
        .get(format!("{base}/lab/connectors"))
        .send()
        .await
        .context("asking the lab for its connectors")?
        .error_for_status()?
        .json()
        .await?;
    let mut s = Seeder {
        http,
        user: user.to_string(),
        connectors,
        report: SeedReport {
            home: home.to_path_buf(),
            user: user.to_string(),
            entries: vec![],
        },
    };
    s.mcp_remote(home, &["linear", "figma"]).await?;
    s.claude_code(home, &["atlassian", "supabase"]).await?;
    s.gemini(home, &["granola", "asana"]).await?;
    s.codex(home, &["linear", "slack"]).await?;
    s.inspector(home, "supabase", "atlassian").await?;
    s.goose(home, "granola").await?;
    s.vscode(home, "canva")?;
    Ok(s.report)
}

impl Seeder {
    fn connector(&self, id: &str) -> anyhow::Result<&LabConnector> {
        self.connectors
            .iter()
            .find(|c| c.id == id)
            .with_context(|| format!("the lab has no connector {id}"))
    }

    fn note(&mut self, client: &str, connector: &str, file: &Path, enterprise_managed: bool) {
        self.report.entries.push(SeededEntry {
            client: client.into(),
            connector: connector.into(),
            file: file.to_path_buf(),
            enterprise_managed,
        });
    }

    /// The authorization-code + PKCE flow as a loopback client: the redirect is read from
    /// the `Location` header instead of being served (nothing listens on the callback port).
    async fn sign_in(&self, id: &str, redirect_uri: &str) -> anyhow::Result<Tokens> {
        let c = self.connector(id)?;
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let verifier = b64.encode(raw);
        let challenge = b64.encode(Sha256::digest(verifier.as_bytes()));
        let state = b64.encode(&raw[..8]);
        let code = self.authorize(c, redirect_uri, &challenge, &state).await?;
        self.redeem(c, redirect_uri, &code, &verifier).await
    }

    /// The authorization request; the code from the redirect, its `state` checked.
    async fn authorize(
        &self,
        c: &LabConnector,
        redirect_uri: &str,
        challenge: &str,
        state: &str,
    ) -> anyhow::Result<String> {
        let id = &c.id;
        let response = self
            .http
            .get(&c.authorization_endpoint)
            .query(&[
                ("response_type", "code"),
                ("client_id", LEGACY_CLIENT_ID),
                ("redirect_uri", redirect_uri),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
                ("state", state),
                ("login_hint", &self.user),
                ("resource", &c.mcp_url),
            ])
            .send()
            .await?;
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .with_context(|| {
                format!(
                    "{id}: the authorization endpoint did not redirect ({})",
                    response.status()
                )
            })?;
        let location = url::Url::parse(location)?;
        let param = |name: &str| {
            location
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if let Some(error) = param("error") {
            bail!("{id}: authorization failed: {error}");
        }
        if param("state").as_deref() != Some(state) {
            bail!("{id}: state mismatch on the redirect");
        }
        param("code").context("no code on the redirect")
    }

    /// The code for tokens at the connector's token endpoint.
    async fn redeem(
        &self,
        c: &LabConnector,
        redirect_uri: &str,
        code: &str,
        verifier: &str,
    ) -> anyhow::Result<Tokens> {
        let body: Value = self
            .http
            .post(&c.token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier),
                ("client_id", LEGACY_CLIENT_ID),
                ("resource", &c.mcp_url),
            ])
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("{}: the token request failed", c.id))?
            .json()
            .await?;
        let field = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(Tokens {
            access: field("access_token"),
            refresh: field("refresh_token"),
            expires_in: body
                .get("expires_in")
                .and_then(Value::as_i64)
                .unwrap_or(3600),
            scope: field("scope"),
        })
    }

    async fn mcp_remote(&mut self, home: &Path, ids: &[&str]) -> anyhow::Result<()> {
        let redirect = "http://localhost:3334/oauth/callback";
        for id in ids {
            let t = self.sign_in(id, redirect).await?;
            let hash = md5::hex(self.connector(id)?.mcp_url.as_bytes());
            let dir = home.join(MCP_REMOTE_DIR);
            let info = json!({
                "redirect_uris": [redirect],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "client_name": "MCP CLI Proxy",
                "client_id": LEGACY_CLIENT_ID,
            });
            write(&dir.join(format!("{hash}_client_info.json")), &info)?;
            let tokens = json!({
                "access_token": t.access, "token_type": "Bearer", "expires_in": t.expires_in,
                "refresh_token": t.refresh, "scope": t.scope,
            });
            let file = dir.join(format!("{hash}_tokens.json"));
            write(&file, &tokens)?;
            self.note("mcp-remote", id, &file, false);
        }
        Ok(())
    }

    async fn claude_code(&mut self, home: &Path, ids: &[&str]) -> anyhow::Result<()> {
        let file = home.join(".claude/.credentials.json");
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut map = serde_json::Map::new();
        for id in ids {
            let t = self.sign_in(id, "http://localhost:51234/callback").await?;
            let c = self.connector(id)?;
            let key = format!("{id}|{}", &md5::hex(c.mcp_url.as_bytes())[..16]);
            map.insert(
                key,
                json!({
                    "serverName": id, "serverUrl": c.mcp_url,
                    "accessToken": t.access, "refreshToken": t.refresh,
                    "expiresAt": now_ms + t.expires_in * 1000, "scope": t.scope,
                    "clientId": LEGACY_CLIENT_ID,
                    "discoveryState": {"authorizationServerUrl": c.issuer},
                }),
            );
            self.note("claude-code", id, &file, false);
        }
        // The account login lives in the same file and must survive any MCP disconnect.
        let doc = json!({
            "claudeAiOauth": {
                "accessToken": "labsecret_account_at_claude",
                "refreshToken": "labsecret_account_rt_claude",
                "expiresAt": now_ms + 8 * 3600 * 1000,
                "scopes": ["user:inference", "user:profile"],
                "subscriptionType": "max",
            },
            "mcpOAuth": map,
        });
        write(&file, &doc)
    }

    async fn gemini(&mut self, home: &Path, ids: &[&str]) -> anyhow::Result<()> {
        let file = home.join(".gemini/mcp-oauth-tokens.json");
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut items = Vec::new();
        for id in ids {
            let t = self
                .sign_in(id, "http://localhost:7777/oauth/callback")
                .await?;
            let c = self.connector(id)?;
            items.push(json!({
                "serverName": id,
                "token": {
                    "accessToken": t.access, "refreshToken": t.refresh,
                    "expiresAt": now_ms + t.expires_in * 1000, "tokenType": "Bearer", "scope": t.scope,
                },
                "clientId": LEGACY_CLIENT_ID,
                "tokenUrl": c.token_endpoint,
                "mcpServerUrl": c.mcp_url,
                "updatedAt": now_ms,
            }));
            self.note("gemini", id, &file, false);
        }
        write(&file, &Value::Array(items))
    }

    async fn codex(&mut self, home: &Path, ids: &[&str]) -> anyhow::Result<()> {
        let file = home.join(".codex/.credentials.json");
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut map = serde_json::Map::new();
        for id in ids {
            let t = self.sign_in(id, "http://127.0.0.1:1455/callback").await?;
            let c = self.connector(id)?;
            let key = format!("{id}|{}", &md5::hex(c.mcp_url.as_bytes())[..16]);
            map.insert(
                key,
                json!({
                    "server_name": id, "server_url": c.mcp_url, "client_id": LEGACY_CLIENT_ID,
                    "access_token": t.access, "expires_at": now_ms + t.expires_in * 1000,
                    "refresh_token": t.refresh,
                    "scopes": t.scope.split(' ').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
                }),
            );
            self.note("codex", id, &file, false);
        }
        write(&file, &Value::Object(map))
    }

    async fn inspector(&mut self, home: &Path, legacy: &str, ema: &str) -> anyhow::Result<()> {
        let file = home.join(".mcp-inspector/storage/oauth.json");
        let mut servers = serde_json::Map::new();
        for (id, managed) in [(legacy, false), (ema, true)] {
            let redirect = "http://localhost:6274/oauth/callback";
            let t = self.sign_in(id, redirect).await?;
            let c = self.connector(id)?;
            let mut entry = json!({
                "clientInformation": {"client_id": LEGACY_CLIENT_ID, "redirect_uris": [redirect]},
                "tokens": {
                    "access_token": t.access, "token_type": "Bearer",
                    "refresh_token": t.refresh, "expires_in": t.expires_in, "scope": t.scope,
                },
            });
            if managed {
                entry["enterpriseManaged"] = json!(true);
            }
            servers.insert(
                c.mcp_url.clone(),
                json!({"byIssuer": {c.issuer.clone(): entry}}),
            );
            self.note("inspector-v2", id, &file, managed);
        }
        write(&file, &json!({"version": 1, "servers": servers}))
    }

    async fn goose(&mut self, home: &Path, id: &str) -> anyhow::Result<()> {
        let file = home.join(".config/goose/secrets.yaml");
        let t = self
            .sign_in(id, "http://localhost:8020/oauth_callback")
            .await?;
        let c = self.connector(id)?;
        let yaml = format!(
            "GOOSE_PROVIDER__API_KEY: labsecret_provider_key\noauth_creds_{id}:\n  client_id: {LEGACY_CLIENT_ID}\n  server_url: '{}'\n  token_response:\n    access_token: {}\n    refresh_token: {}\n    expires_in: {}\n",
            c.mcp_url, t.access, t.refresh, t.expires_in
        );
        write_text(&file, &yaml)?;
        self.note("goose", id, &file, false);
        Ok(())
    }

    /// Not a real SQLite database (that needs a SQLite library): a file whose bytes hold the
    /// `dynamicAuthProviders` row the way a small SQLite cell does, key then JSON value.
    fn vscode(&mut self, home: &Path, id: &str) -> anyhow::Result<()> {
        let file = home.join(".config/Code/User/globalStorage/state.vscdb");
        let c = self.connector(id)?;
        let providers = json!([{
            "providerId": c.issuer, "label": id, "authorizationServer": c.issuer, "clientId": "vscode-dcr-client",
        }]);
        let mut bytes = b"SQLite format 3\0".to_vec();
        bytes.extend_from_slice(&[0u8; 84]);
        bytes.extend_from_slice(b"\x17\x1fdynamicAuthProviders");
        bytes.extend_from_slice(providers.to_string().as_bytes());
        bytes.extend_from_slice(&[0u8; 16]);
        write_bytes(&file, &bytes)?;
        self.note("vs-code", id, &file, false);
        Ok(())
    }
}

fn write(path: &Path, value: &Value) -> anyhow::Result<()> {
    write_text(path, &serde_json::to_string_pretty(value)?)
}

fn write_text(path: &Path, text: &str) -> anyhow::Result<()> {
    write_bytes(path, text.as_bytes())
}

/// 0600, like the clients themselves write token files.
fn write_bytes(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
