//! The hardening review's legacy findings (issue 10 items 6, 10, 12), each as the case that
//! went wrong: huge numbers in a store, a panicking reader, symlinks, a file that changes
//! under the edit, racing queue writers, a server that refuses for good, a YAML alias, the
//! owner's folder mode, and backups that held whole files in plain text forever.

use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::clients::{self, Reader};
use super::tests::{World, by_client, world};
use super::*;

fn claude_id(w: &World) -> String {
    w.ctx
        .scan()
        .entries
        .iter()
        .find(|e| e.client == ClientApp::ClaudeCode && e.connector_id.is_some())
        .unwrap()
        .id
        .clone()
}

fn revoke_bodies(w: &World) -> Vec<String> {
    w.stub
        .requests()
        .into_iter()
        .filter(|q| q.path == "/revoke")
        .map(|q| q.body)
        .collect()
}

#[tokio::test]
async fn a_huge_expires_in_is_unknown_not_a_crash() {
    let w = world(true).await;
    let remote = by_client(&w.ctx.scan(), ClientApp::McpRemote)[0]
        .file
        .clone();
    for huge in [json!(i64::MAX), json!("9223372036854775807"), json!(1e300)] {
        let doc = json!({"access_token": "labsecret_at_x", "expires_in": huge});
        std::fs::write(&remote, doc.to_string()).unwrap();
        let r = w.ctx.scan();
        let e = &by_client(&r, ClientApp::McpRemote)[0];
        assert_eq!(e.expires_at, None, "{huge}: unknown, honestly");
        assert!(r.problems.is_empty(), "{:?}", r.problems);
    }
}

#[tokio::test]
async fn a_reader_that_panics_costs_one_problem_line() {
    let w = world(true).await;
    let bomb = Reader {
        app: ClientApp::Codex,
        files: clients::READERS[2].files,
        parse: |_, _, _, _| panic!("a reader bug"),
    };
    let readers = [bomb, clients::claude_code::READER];
    let (found, problems) = clients::read_with(w.home.path(), &w.ctx.index, &readers);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("unreadable") && problems[0].contains(".codex"));
    assert_eq!(found.len(), 2, "Claude Code's entries are still listed");
}

#[cfg(unix)]
#[tokio::test]
async fn a_symlinked_store_is_edited_where_it_points() {
    let w = world(true).await;
    let link = w.home.path().join(".claude/.credentials.json");
    let real = w.home.path().join("dotfiles/claude-credentials.json");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    std::fs::rename(&link, &real).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let id = claude_id(&w);
    let got = disconnect(
        std::slice::from_ref(&id),
        DisconnectOptions::default(),
        &w.ctx,
    )
    .await;
    assert!(got[0].removed_locally, "{got:?}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the owner's symlink is still a symlink"
    );
    assert!(
        !std::fs::read_to_string(&real)
            .unwrap()
            .contains("atlassian|")
    );
    assert!(
        got[0].message.contains("dotfiles/claude-credentials.json"),
        "the receipt names the real file: {}",
        got[0].message
    );
}

#[tokio::test]
async fn a_file_changed_just_before_the_rename_is_left_alone() {
    let w = world(true).await;
    let id = claude_id(&w);
    let claude = w.home.path().join(".claude/.credentials.json");
    let theirs = std::fs::read_to_string(&claude)
        .unwrap()
        .replace("\"max\"", "\"pro\"");
    let write = (claude.clone(), theirs.clone());
    hooks::before_commit(&claude, move || std::fs::write(&write.0, &write.1).unwrap());
    let got = disconnect(
        std::slice::from_ref(&id),
        DisconnectOptions::default(),
        &w.ctx,
    )
    .await;
    assert!(!got[0].removed_locally, "{got:?}");
    assert_eq!(got[0].revocation, Revocation::NotAttempted);
    assert!(got[0].message.contains("changed"), "{}", got[0].message);
    assert_eq!(std::fs::read_to_string(&claude).unwrap(), theirs);
    assert!(revoke_bodies(&w).is_empty(), "nothing revoked");
    assert!(backups(w.state.path()).is_empty(), "no backup left behind");
}

#[tokio::test]
async fn revokes_the_tokens_in_the_bytes_it_edited() {
    let w = world(true).await;
    let id = claude_id(&w);
    let claude = w.home.path().join(".claude/.credentials.json");
    // Claude Code refreshes the grant between Lanyard's scan and its edit.
    let refreshed = std::fs::read_to_string(&claude)
        .unwrap()
        .replace("labsecret_rt_claude_1", "labsecret_rt_claude_new")
        .replace("labsecret_at_claude_1", "labsecret_at_claude_new");
    let write = (claude.clone(), refreshed);
    hooks::after_scan(&claude, move || std::fs::write(&write.0, &write.1).unwrap());
    let got = disconnect(
        std::slice::from_ref(&id),
        DisconnectOptions::default(),
        &w.ctx,
    )
    .await;
    assert!(got[0].removed_locally, "{got:?}");
    let bodies = revoke_bodies(&w);
    assert!(bodies[0].contains("labsecret_rt_claude_new"), "{bodies:?}");
    assert!(bodies.iter().all(|b| !b.contains("claude_1")), "{bodies:?}");
}

#[tokio::test]
async fn the_queue_loses_no_entry_to_concurrent_writers() {
    let w = world(true).await;
    let entry = w.ctx.scan().entries[0].clone();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (ctx, entry) = (w.ctx.clone(), entry.clone());
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let creds = clients::Credentials::default();
                    queue::enqueue(&ctx, &entry, &creds, "HTTP 503", None).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(pending(w.state.path()).len(), 40);
}

#[tokio::test]
async fn a_permanent_refusal_is_reported_and_not_retried() {
    let w = world(true).await;
    w.revoke_status.store(400, Ordering::SeqCst);
    let id = claude_id(&w);
    let got = disconnect(
        std::slice::from_ref(&id),
        DisconnectOptions::default(),
        &w.ctx,
    )
    .await;
    assert!(got[0].removed_locally);
    assert!(
        matches!(&got[0].revocation, Revocation::Failed { reason, .. } if reason.contains("invalid_client")),
        "{got:?}"
    );
    assert!(
        got[0].message.contains("will not retry"),
        "{}",
        got[0].message
    );
    assert!(pending(w.state.path()).is_empty(), "nothing queued");
    assert_eq!(revoke_bodies(&w).len(), 1, "one refusal is enough");
}

#[tokio::test]
async fn the_goose_cut_refuses_to_break_an_alias_elsewhere() {
    let w = world(true).await;
    let goose = w.home.path().join(".config/goose/secrets.yaml");
    let text = std::fs::read_to_string(&goose)
        .unwrap()
        .replace("client_id: legacy-cli", "client_id: &cid legacy-cli")
        + "OTHER_EXTENSION_CLIENT: *cid\n";
    std::fs::write(&goose, &text).unwrap();
    let e = by_client(&w.ctx.scan(), ClientApp::Goose)[0].clone();
    let got = disconnect(&[e.id], DisconnectOptions::default(), &w.ctx).await;
    assert!(!got[0].removed_locally, "{got:?}");
    assert!(
        got[0].message.contains("more than the one entry"),
        "{got:?}"
    );
    assert_eq!(std::fs::read_to_string(&goose).unwrap(), text);
}

#[cfg(unix)]
#[tokio::test]
async fn restore_never_chmods_the_owners_folder() {
    use std::os::unix::fs::PermissionsExt;
    let w = world(true).await;
    let e = by_client(&w.ctx.scan(), ClientApp::McpRemote)[0].clone();
    let dir = e.file.parent().unwrap().to_path_buf();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let got = disconnect(
        std::slice::from_ref(&e.id),
        DisconnectOptions::default(),
        &w.ctx,
    )
    .await;
    assert!(!e.file.exists());
    restore(got[0].backup_id.as_deref().unwrap(), &w.ctx).unwrap();
    assert!(e.file.exists());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o755, "the owner's folder keeps its mode");
    assert_eq!(mode(&e.file), 0o600);
}

#[tokio::test]
async fn backups_hold_only_the_entry_and_encrypted() {
    let w = world(true).await;
    let id = claude_id(&w);
    let claude = w.home.path().join(".claude/.credentials.json");
    let original = std::fs::read(&claude).unwrap();
    let got = disconnect(
        std::slice::from_ref(&id),
        DisconnectOptions::default(),
        &w.ctx,
    )
    .await;
    for (path, bytes) in super::tests::snapshot(w.state.path()) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("labsecret_") && !text.contains("claudeAiOauth"),
            "{} holds a token or the account login in plain text",
            path.display()
        );
    }
    // Opened with the keyring's key: the one entry, not the rest of the file.
    let (_, payload) = backup::load(&w.ctx, got[0].backup_id.as_deref().unwrap()).unwrap();
    assert!(payload.removed.contains("labsecret_rt_claude_1"));
    assert!(!payload.removed.contains("claudeAiOauth") && !payload.removed.contains("broken|"));
    assert!(payload.entry_text().starts_with('{') && payload.entry_text().ends_with('}'));
    assert!(w.ctx.store.get(backup::KEY_ITEM).unwrap().is_some());
    // Restore still puts it back, byte for byte, and the backup is then gone.
    let report = restore(got[0].backup_id.as_deref().unwrap(), &w.ctx).unwrap();
    assert!(report.whole_file);
    assert_eq!(std::fs::read(&claude).unwrap(), original);
    assert!(backups(w.state.path()).is_empty());
    assert!(super::tests::snapshot(&w.state.path().join("legacy-backups")).is_empty());
}

#[tokio::test]
async fn a_backup_without_its_key_cannot_be_read_back() {
    let w = world(true).await;
    let id = claude_id(&w);
    let got = disconnect(&[id], DisconnectOptions::default(), &w.ctx).await;
    w.ctx.store.delete(backup::KEY_ITEM).unwrap();
    let err = restore(got[0].backup_id.as_deref().unwrap(), &w.ctx).unwrap_err();
    assert!(err.to_string().contains("key"), "{err}");
}

#[tokio::test]
async fn backups_expire_after_the_retention_period() {
    let clock = Arc::new(crate::clock::ManualClock::new(chrono::Utc::now()));
    let mut w = world(true).await;
    w.ctx.http = crate::http::Http::new(clock.clone());
    let id = claude_id(&w);
    disconnect(&[id], DisconnectOptions::default(), &w.ctx).await;
    assert_eq!(backups(w.state.path()).len(), 1);
    clock.advance(chrono::Duration::days(29));
    w.ctx.scan();
    assert_eq!(backups(w.state.path()).len(), 1, "kept for 30 days");
    clock.advance(chrono::Duration::days(2));
    w.ctx.scan();
    assert!(backups(w.state.path()).is_empty(), "deleted after 30 days");
    assert!(super::tests::snapshot(&w.state.path().join("legacy-backups")).is_empty());
}

#[test]
fn the_retention_setting_is_read_and_bounded() {
    assert_eq!(backup::retention_days(None), 30);
    assert_eq!(backup::retention_days(Some("7")), 7);
    assert_eq!(backup::retention_days(Some("0")), 30);
    assert_eq!(backup::retention_days(Some("99999999999")), 30);
    assert_eq!(backup::retention_days(Some("soon")), 30);
}

#[tokio::test]
async fn purge_deletes_every_backup_and_the_key() {
    let w = world(true).await;
    let ids = covered_ids(&w.ctx.scan());
    disconnect(&ids, DisconnectOptions::default(), &w.ctx).await;
    assert_eq!(backups(w.state.path()).len(), ids.len());
    assert_eq!(purge_backups(&w.ctx).unwrap(), ids.len());
    assert!(backups(w.state.path()).is_empty());
    assert!(super::tests::snapshot(&w.state.path().join("legacy-backups")).is_empty());
    assert!(w.ctx.store.get(backup::KEY_ITEM).unwrap().is_none());
}
