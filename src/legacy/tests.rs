//! Every store format from its fixture: list, disconnect one entry (everything else keeps its
//! meaning; untouched files keep their bytes), dry run, refusal, queue, restore — against an
//! in-test authorization server.

use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use super::*;
use crate::protocol::discovery::stub_server::{Reply, Stub, http};
use crate::store::MemoryStore;

const OTHER: &str = "https://personal.example";

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/legacy/",
            $name
        ))
    };
}

pub(super) struct World {
    pub home: tempfile::TempDir,
    pub state: tempfile::TempDir,
    pub stub: Stub,
    pub revoke_status: Arc<AtomicU16>,
    pub ctx: LegacyContext,
}

pub(super) async fn world(with_revocation: bool) -> World {
    let revoke_status = Arc::new(AtomicU16::new(200));
    let status = revoke_status.clone();
    let stub = Stub::start(move |req, base| {
        if req
            .path
            .starts_with("/.well-known/oauth-authorization-server")
        {
            let mut doc = json!({"issuer": base, "token_endpoint": format!("{base}/token")});
            if with_revocation {
                doc["revocation_endpoint"] = json!(format!("{base}/revoke"));
            }
            Reply::json(200, doc)
        } else if req.path == "/revoke" {
            match status.load(Ordering::SeqCst) {
                400 => Reply::json(400, json!({"error": "invalid_client"})),
                code => Reply::status(code),
            }
        } else {
            Reply::status(404)
        }
    })
    .await;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let fill = |t: &str| {
        t.replace("{{BASE}}", &stub.base)
            .replace("{{OTHER}}", OTHER)
    };
    let put = |rel: &str, text: &str| {
        let p = h.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, fill(text)).unwrap();
    };
    let hash = md5::hex(format!("{}/mcp", stub.base).as_bytes());
    put(
        &format!(".mcp-auth/mcp-remote-0.1.29/{hash}_tokens.json"),
        fixture!("mcp-remote-tokens.json"),
    );
    put(
        &format!(".mcp-auth/mcp-remote-0.1.29/{hash}_client_info.json"),
        fixture!("mcp-remote-client-info.json"),
    );
    put(
        ".claude/.credentials.json",
        fixture!("claude-credentials.json"),
    );
    put(
        ".codex/.credentials.json",
        fixture!("codex-credentials.json"),
    );
    put(
        ".gemini/mcp-oauth-tokens.json",
        fixture!("gemini-mcp-oauth-tokens.json"),
    );
    put(".config/goose/secrets.yaml", fixture!("goose-secrets.yaml"));
    put(
        ".mcp-inspector/storage/oauth.json",
        fixture!("inspector-oauth.json"),
    );
    let mut db = b"SQLite format 3\0....\x1fdynamicAuthProviders".to_vec();
    db.extend_from_slice(
        format!(r#"[{{"providerId":"{0}","label":"Lab","authorizationServer":"{0}","clientId":"vsc-1"}}]"#, stub.base)
            .as_bytes(),
    );
    let db_path = h.join(".config/Code/User/globalStorage/state.vscdb");
    std::fs::create_dir_all(db_path.parent().unwrap()).unwrap();
    std::fs::write(db_path, db).unwrap();

    let mut index = ConnectorIndex::default();
    index.add_connector("lab", &format!("{}/mcp", stub.base), Some(&stub.base));
    let state = tempfile::tempdir().unwrap();
    let ctx = LegacyContext {
        home: h.to_path_buf(),
        state_dir: state.path().to_path_buf(),
        index,
        ema_granted: HashSet::from(["lab".to_string()]),
        http: http(),
        store: Arc::new(MemoryStore::new()),
        processes: ProcessProbe::Fixed(vec![]),
    };
    World {
        home,
        state,
        stub,
        revoke_status,
        ctx,
    }
}

pub(super) fn by_client(report: &ScanReport, c: ClientApp) -> Vec<&LegacyEntry> {
    report.entries.iter().filter(|e| e.client == c).collect()
}

pub(super) fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn json_of(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn lists_every_store_mapped_and_without_tokens() {
    let w = world(true).await;
    let r = w.ctx.scan();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    let counts: Vec<usize> = ClientApp::ALL
        .iter()
        .map(|c| by_client(&r, *c).len())
        .collect();
    // mcp-remote, Claude Code, Codex, Gemini, Goose, Inspector (EMA entry skipped), VS Code.
    assert_eq!(counts, [1, 2, 2, 2, 1, 1, 1]);
    let mapped: Vec<&LegacyEntry> = r
        .entries
        .iter()
        .filter(|e| e.connector_id.as_deref() == Some("lab"))
        .collect();
    assert_eq!(
        mapped.len(),
        7,
        "every lab entry is mapped: {:#?}",
        r.entries
    );
    assert!(mapped.iter().all(|e| e.covered_by_ema));
    let remote = by_client(&r, ClientApp::McpRemote)[0];
    assert_eq!(
        remote.server_url.as_deref(),
        Some(format!("{}/mcp", w.stub.base).as_str())
    );
    assert!(remote.has_refresh_token && remote.expires_at.is_some());
    let broken = r
        .entries
        .iter()
        .find(|e| {
            e.server_url.as_deref() == Some("https://personal.example/mcp")
                && e.client == ClientApp::ClaudeCode
        })
        .unwrap();
    assert_eq!(broken.expires_at, None);
    assert!(broken.note.as_deref().unwrap().contains("expiresAt: 0"));
    assert_eq!(broken.connector_id, None);
    let vscode = by_client(&r, ClientApp::VsCode)[0];
    assert!(!vscode.can_disconnect && vscode.note.as_deref().unwrap().contains("Remove Dynamic"));
    let text = serde_json::to_string(&r).unwrap();
    assert!(!text.contains("labsecret_"), "a scan never carries a token");
    // Covered selection leaves out VS Code (cannot) and unmapped entries.
    assert_eq!(covered_ids(&r).len(), 6);
}

#[tokio::test]
async fn disconnect_removes_one_entry_and_revokes_refresh_then_access() {
    let w = world(true).await;
    let before = snapshot(w.home.path());
    let claude = w.home.path().join(".claude/.credentials.json");
    let old = json_of(&claude);
    let r = w.ctx.scan();
    let id = r
        .entries
        .iter()
        .find(|e| e.client == ClientApp::ClaudeCode && e.connector_id.is_some())
        .unwrap()
        .id
        .clone();
    let receipts = disconnect(
        std::slice::from_ref(&id),
        DisconnectOptions::default(),
        &w.ctx,
    )
    .await;
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].revocation, Revocation::Revoked, "{receipts:?}");
    assert!(receipts[0].removed_locally);
    let new = json_of(&claude);
    assert_eq!(
        new["claudeAiOauth"], old["claudeAiOauth"],
        "the account login survives"
    );
    assert_eq!(
        new["extraKeyFromANewerVersion"],
        old["extraKeyFromANewerVersion"]
    );
    let mut expected = old.clone();
    expected["mcpOAuth"]
        .as_object_mut()
        .unwrap()
        .remove("atlassian|9f1c2d3e4b5a6978");
    assert_eq!(new, expected);
    let text = std::fs::read_to_string(&claude).unwrap();
    assert!(
        text.contains("\"expiresAt\": 1893456000000,\n    \"scopes\""),
        "formatting kept"
    );
    // Every other file: byte for byte.
    let after = snapshot(w.home.path());
    for (path, bytes) in &before {
        if path != &claude {
            assert_eq!(after.get(path), Some(bytes), "{} changed", path.display());
        }
    }
    let revokes: Vec<String> = w
        .stub
        .requests()
        .into_iter()
        .filter(|q| q.path == "/revoke")
        .map(|q| q.body)
        .collect();
    assert_eq!(
        revokes,
        [
            "token=labsecret_rt_claude_1&token_type_hint=refresh_token&client_id=legacy-cli",
            "token=labsecret_at_claude_1&token_type_hint=access_token&client_id=legacy-cli"
        ]
    );
    // Backup is private and sealed; the audit log has no token.
    let backup = receipts[0].backup.clone().unwrap();
    assert!(!String::from_utf8_lossy(&std::fs::read(&backup).unwrap()).contains("labsecret_"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let audit = std::fs::read_to_string(w.state.path().join("legacy-audit.jsonl")).unwrap();
    assert!(audit.contains(&id) && !audit.contains("labsecret_"));
    assert!(w.ctx.scan().entries.iter().all(|e| e.id != id));
}

#[tokio::test]
async fn every_json_store_keeps_its_other_entries() {
    let w = world(true).await;
    let r = w.ctx.scan();
    for client in [
        ClientApp::Codex,
        ClientApp::Gemini,
        ClientApp::InspectorV2,
        ClientApp::Goose,
        ClientApp::McpRemote,
    ] {
        let e = by_client(&r, client)
            .into_iter()
            .find(|e| e.connector_id.is_some())
            .unwrap();
        let before = std::fs::read_to_string(&e.file).unwrap();
        let receipts = disconnect(
            std::slice::from_ref(&e.id),
            DisconnectOptions::default(),
            &w.ctx,
        )
        .await;
        assert_eq!(
            receipts[0].revocation,
            Revocation::Revoked,
            "{client:?}: {receipts:?}"
        );
        match client {
            ClientApp::McpRemote => assert!(!e.file.exists()),
            ClientApp::Goose => {
                let after = std::fs::read_to_string(&e.file).unwrap();
                assert!(
                    !after.contains("oauth_creds_linear") && !after.contains("labsecret_at_goose")
                );
                assert!(after.contains("OPENAI_API_KEY: labsecret_not_an_oauth_token\nGITHUB_PERSONAL_ACCESS_TOKEN: \"labsecret_pat_keep\"\n"));
            }
            _ => {
                let after = std::fs::read_to_string(&e.file).unwrap();
                assert_ne!(before, after);
                for keep in [
                    "labsecret_at_codex_personal",
                    "labsecret_at_gemini_2",
                    "labsecret_at_inspector_ema",
                ] {
                    assert_eq!(
                        before.contains(keep),
                        after.contains(keep),
                        "{client:?} lost {keep}"
                    );
                }
            }
        }
    }
    let left: Vec<ClientApp> = w
        .ctx
        .scan()
        .entries
        .iter()
        .filter(|e| e.connector_id.is_some())
        .map(|e| e.client)
        .collect();
    assert_eq!(
        left,
        [ClientApp::ClaudeCode, ClientApp::VsCode],
        "only the ones not disconnected"
    );
}

#[tokio::test]
async fn dry_run_changes_nothing_anywhere() {
    let w = world(true).await;
    let before = snapshot(w.home.path());
    let ids = covered_ids(&w.ctx.scan());
    let receipts = disconnect(
        &ids,
        DisconnectOptions {
            dry_run: true,
            force: false,
        },
        &w.ctx,
    )
    .await;
    assert!(
        receipts
            .iter()
            .all(|r| !r.removed_locally && r.revocation == Revocation::NotAttempted)
    );
    assert!(receipts[0].message.starts_with("Would back up"));
    assert_eq!(snapshot(w.home.path()), before);
    assert!(
        w.stub.requests().is_empty(),
        "no request reached the server"
    );
    assert!(
        snapshot(w.state.path()).is_empty(),
        "no backup, no audit line"
    );
}

#[tokio::test]
async fn refuses_while_the_owner_runs_or_holds_its_lock_unless_forced() {
    let mut w = world(true).await;
    let r = w.ctx.scan();
    let remote = by_client(&r, ClientApp::McpRemote)[0].clone();
    let lock = mcp_remote_lock(&remote.file);
    std::fs::write(&lock, r#"{"pid": 1, "port": 3334, "timestamp": 1}"#).unwrap();
    let got = disconnect(
        std::slice::from_ref(&remote.id),
        DisconnectOptions::default(),
        &w.ctx,
    )
    .await;
    assert!(
        !got[0].removed_locally && got[0].message.contains("lock"),
        "{got:?}"
    );
    assert!(remote.file.exists());
    let got = disconnect(
        std::slice::from_ref(&remote.id),
        DisconnectOptions {
            dry_run: false,
            force: true,
        },
        &w.ctx,
    )
    .await;
    assert!(got[0].removed_locally);

    w.ctx.processes = ProcessProbe::Fixed(vec![ClientApp::Gemini]);
    let gemini = by_client(&r, ClientApp::Gemini)[0].clone();
    let got = disconnect(&[gemini.id], DisconnectOptions::default(), &w.ctx).await;
    assert!(got[0].message.contains("Gemini CLI is running"), "{got:?}");
}

fn mcp_remote_lock(tokens: &Path) -> PathBuf {
    clients::mcp_remote::lock_file(tokens).unwrap()
}

#[tokio::test]
async fn failed_revocations_are_queued_without_tokens_and_retried() {
    let w = world(true).await;
    w.revoke_status.store(503, Ordering::SeqCst);
    let r = w.ctx.scan();
    let id = by_client(&r, ClientApp::Codex)
        .into_iter()
        .find(|e| e.connector_id.is_some())
        .unwrap()
        .id
        .clone();
    let got = disconnect(
        std::slice::from_ref(&id),
        DisconnectOptions::default(),
        &w.ctx,
    )
    .await;
    assert!(got[0].removed_locally);
    assert!(
        matches!(&got[0].revocation, Revocation::Failed { reason, permanent: false } if reason.contains("503"))
    );
    let q = pending(w.state.path());
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].entry_id, id);
    let file = std::fs::read_to_string(w.state.path().join("legacy-revocations.json")).unwrap();
    assert!(
        !file.contains("labsecret_"),
        "tokens live in the keyring, not the queue file"
    );

    let again = retry_queued(&w.ctx).await.unwrap();
    assert!(matches!(again[0].revocation, Revocation::Failed { .. }));
    assert_eq!(pending(w.state.path())[0].attempts, 2);

    w.revoke_status.store(200, Ordering::SeqCst);
    let done = retry_queued(&w.ctx).await.unwrap();
    assert_eq!(done[0].revocation, Revocation::Revoked);
    assert!(pending(w.state.path()).is_empty());
    let last = w
        .stub
        .requests()
        .into_iter()
        .rfind(|q| q.path == "/revoke")
        .unwrap();
    assert_eq!(
        last.body,
        "token=labsecret_at_codex&token_type_hint=access_token&client_id=legacy-cli"
    );
}

#[tokio::test]
async fn no_revocation_endpoint_gives_a_local_only_receipt() {
    let w = world(false).await;
    let r = w.ctx.scan();
    let id = by_client(&r, ClientApp::Gemini)
        .into_iter()
        .find(|e| e.connector_id.is_some())
        .unwrap()
        .id
        .clone();
    let got = disconnect(&[id], DisconnectOptions::default(), &w.ctx).await;
    assert_eq!(got[0].revocation, Revocation::NoEndpoint);
    assert!(got[0].removed_locally && got[0].message.contains("may persist at the provider"));
    assert!(pending(w.state.path()).is_empty());
}

#[tokio::test]
async fn restore_puts_the_entry_back_whole_or_merged() {
    let w = world(true).await;
    let claude = w.home.path().join(".claude/.credentials.json");
    let original = std::fs::read(&claude).unwrap();
    let r = w.ctx.scan();
    let id = r
        .entries
        .iter()
        .find(|e| e.client == ClientApp::ClaudeCode && e.connector_id.is_some())
        .unwrap()
        .id
        .clone();
    let got = disconnect(
        std::slice::from_ref(&id),
        DisconnectOptions::default(),
        &w.ctx,
    )
    .await;
    let backup_id = got[0].backup_id.clone().unwrap();
    let report = restore(&backup_id, &w.ctx).unwrap();
    assert!(report.whole_file && report.message.contains("can't be un-revoked"));
    assert_eq!(
        std::fs::read(&claude).unwrap(),
        original,
        "unchanged file: byte-identical restore"
    );
    assert!(w.ctx.scan().entries.iter().any(|e| e.id == id));

    // Disconnect again, then Claude Code changes the file: only the entry goes back.
    let got = disconnect(
        std::slice::from_ref(&id),
        DisconnectOptions {
            dry_run: false,
            force: false,
        },
        &w.ctx,
    )
    .await;
    let changed = std::fs::read_to_string(&claude)
        .unwrap()
        .replace("\"max\"", "\"pro\"");
    std::fs::write(&claude, changed).unwrap();
    let report = restore(got[0].backup_id.as_deref().unwrap(), &w.ctx).unwrap();
    assert!(!report.whole_file);
    let now = json_of(&claude);
    assert_eq!(now["mcpOAuth"].as_object().unwrap().len(), 2);
    assert_eq!(
        now["claudeAiOauth"]["subscriptionType"], "pro",
        "the app's own change survives"
    );
    assert_eq!(now["mcpOAuth"], json_of_bytes(&original)["mcpOAuth"]);
    assert!(
        matches!(
            restore(got[0].backup_id.as_deref().unwrap(), &w.ctx),
            Err(LegacyError::UnknownBackup(_))
        ),
        "a restored backup is gone"
    );
    assert!(restore("../etc/passwd", &w.ctx).is_err());

    // Arrays: a Gemini entry goes back at the end.
    let gem = by_client(&r, ClientApp::Gemini)
        .into_iter()
        .find(|e| e.connector_id.is_some())
        .unwrap()
        .clone();
    let got = disconnect(
        std::slice::from_ref(&gem.id),
        DisconnectOptions::default(),
        &w.ctx,
    )
    .await;
    let other = by_client(&r, ClientApp::Gemini)
        .into_iter()
        .find(|e| e.connector_id.is_none())
        .unwrap()
        .clone();
    // Touch the file so the merge path runs.
    let t = std::fs::read_to_string(&gem.file)
        .unwrap()
        .replace("1751000000001", "1751000000002");
    std::fs::write(&gem.file, t).unwrap();
    restore(got[0].backup_id.as_deref().unwrap(), &w.ctx).unwrap();
    let ids: Vec<String> = w
        .ctx
        .scan()
        .entries
        .iter()
        .filter(|e| e.client == ClientApp::Gemini)
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(ids, [other.id, gem.id]);
    assert!(
        backups(w.state.path()).is_empty(),
        "every restored backup was deleted"
    );
}

fn json_of_bytes(b: &[u8]) -> Value {
    serde_json::from_slice(b).unwrap()
}
