//! Legacy per-user connections against the real lab: `seed_legacy` writes real tokens into
//! other clients' stores, the scanner maps them, disconnect revokes them at the lab (proved by
//! `/lab/grants`), leaves everything else in the files alone, and restore puts one back.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use lanyard::clock;
use lanyard::http::Http;
use lanyard::legacy::{
    self, ClientApp, ConnectorIndex, DisconnectOptions, LegacyContext, ProcessProbe, Revocation,
};
use lanyard::store::MemoryStore;
use lanyard_lab::Lab;

use crate::support::{assert_no_secrets, lab_for};

const ADA: &str = "ada@lab.example";

fn context(lab: &Lab, home: &Path, state: &Path) -> LegacyContext {
    let policy = lanyard::policy::load(lab.policy_path()).expect("the lab's policy loads");
    let issuers: HashMap<String, String> = lab
        .ready()
        .connectors
        .iter()
        .map(|c| (c.id.clone(), c.issuer.clone()))
        .collect();
    LegacyContext {
        home: home.to_path_buf(),
        state_dir: state.to_path_buf(),
        index: ConnectorIndex::from_policy(&policy).with_issuers(&issuers),
        // What Lanyard would hold for ada after a zero-touch sign-in.
        ema_granted: ["atlassian", "granola", "linear", "supabase"]
            .map(String::from)
            .into(),
        http: Http::new(clock::system()),
        store: Arc::new(MemoryStore::new()),
        processes: ProcessProbe::Fixed(vec![]),
    }
}

fn legacy_grants(lab: &Lab) -> Vec<String> {
    let mut g: Vec<String> = lab
        .grants()
        .into_iter()
        .filter(|g| g.kind == "legacy")
        .map(|g| g.connector)
        .collect();
    g.sort();
    g
}

#[tokio::test]
async fn seeded_tokens_are_found_disconnected_revoked_and_restorable() {
    let lab = lab_for(ADA).await;
    let home = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let seeded = lanyard_lab::seed_legacy(lab.base(), home.path(), ADA)
        .await
        .expect("seed");
    assert_no_secrets("seed report", &serde_json::to_string(&seeded).unwrap());
    assert_eq!(
        legacy_grants(&lab).len(),
        11,
        "one live grant per seeded token set"
    );

    let ctx = context(&lab, home.path(), state.path());
    let report = ctx.scan();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_no_secrets("scan", &serde_json::to_string(&report).unwrap());
    assert_eq!(report.entries.len(), 11, "{:#?}", report.entries); // EMA Inspector entry skipped
    assert!(
        report.entries.iter().all(|e| e.connector_id.is_some()),
        "every entry is mapped"
    );
    let per = |c: ClientApp| report.entries.iter().filter(|e| e.client == c).count();
    assert_eq!(
        ClientApp::ALL.map(per),
        [2, 2, 2, 2, 1, 1, 1],
        "mcp-remote, Claude Code, Codex, Gemini, Goose, Inspector, VS Code"
    );
    let covered = legacy::covered_ids(&report);
    assert_eq!(covered.len(), 7);

    let claude = home.path().join(".claude/.credentials.json");
    let account_before: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&claude).unwrap()).unwrap();
    let receipts = legacy::disconnect(&covered, DisconnectOptions::default(), &ctx).await;
    assert_no_secrets("receipts", &serde_json::to_string(&receipts).unwrap());
    for r in &receipts {
        assert!(r.removed_locally, "{r:?}");
        assert_eq!(r.revocation, Revocation::Revoked, "{r:?}");
    }
    // Revoked at the server: only the entries not covered by EMA (and the EMA-managed
    // Inspector entry, which is not legacy) still hold live grants.
    assert_eq!(
        legacy_grants(&lab),
        ["asana", "atlassian", "figma", "slack"]
    );

    let account_after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&claude).unwrap()).unwrap();
    assert_eq!(
        account_after["claudeAiOauth"],
        account_before["claudeAiOauth"]
    );
    assert_eq!(account_after["mcpOAuth"], serde_json::json!({}));
    let left: HashSet<String> = ctx
        .scan()
        .entries
        .into_iter()
        .filter_map(|e| e.connector_id.map(|c| format!("{}:{c}", e.client.slug())))
        .collect();
    let want: HashSet<String> = [
        "mcp-remote:figma",
        "codex:slack",
        "gemini:asana",
        "vs-code:canva",
    ]
    .map(String::from)
    .into();
    assert_eq!(left, want);
    let audit = std::fs::read_to_string(state.path().join("legacy-audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count(), 7);
    assert_no_secrets("audit log", &audit);

    // Restore the Claude Code Atlassian entry: back in the file, but revoked at the lab.
    let atlassian = receipts
        .iter()
        .find(|r| {
            r.client == Some(ClientApp::ClaudeCode)
                && r.connector_id.as_deref() == Some("atlassian")
        })
        .unwrap();
    let restored = legacy::restore(atlassian.backup_id.as_deref().unwrap(), &ctx).unwrap();
    assert!(restored.message.contains("can't be un-revoked"));
    assert!(
        ctx.scan()
            .entries
            .iter()
            .any(|e| e.id == atlassian.entry_id)
    );
    let account_now: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&claude).unwrap()).unwrap();
    assert_eq!(
        account_now["claudeAiOauth"],
        account_before["claudeAiOauth"]
    );
    assert_eq!(
        legacy_grants(&lab),
        ["asana", "atlassian", "figma", "slack"]
    );
}

#[tokio::test]
async fn dry_run_touches_neither_disk_nor_server() {
    let lab = lab_for(ADA).await;
    let home = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    lanyard_lab::seed_legacy(lab.base(), home.path(), ADA)
        .await
        .unwrap();
    let before = crate::support::all_text_under(home.path());
    let ctx = context(&lab, home.path(), state.path());
    let ids = legacy::covered_ids(&ctx.scan());
    let receipts = legacy::disconnect(
        &ids,
        DisconnectOptions {
            dry_run: true,
            force: false,
        },
        &ctx,
    )
    .await;
    assert!(
        receipts
            .iter()
            .all(|r| !r.removed_locally && r.revocation == Revocation::NotAttempted)
    );
    assert_eq!(crate::support::all_text_under(home.path()), before);
    assert_eq!(legacy_grants(&lab).len(), 11);
    assert!(std::fs::read_dir(state.path()).unwrap().next().is_none());
}

#[tokio::test]
async fn revocation_failing_while_the_lab_is_down_is_queued() {
    let lab = lab_for(ADA).await;
    let home = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    lanyard_lab::seed_legacy(lab.base(), home.path(), ADA)
        .await
        .unwrap();
    let ctx = context(&lab, home.path(), state.path());
    let report = ctx.scan();
    let gemini = report
        .entries
        .iter()
        .find(|e| e.client == ClientApp::Gemini && e.connector_id.as_deref() == Some("granola"))
        .unwrap()
        .id
        .clone();
    lab.shutdown().await;
    let receipts = legacy::disconnect(
        std::slice::from_ref(&gemini),
        DisconnectOptions::default(),
        &ctx,
    )
    .await;
    assert!(
        receipts[0].removed_locally,
        "local removal does not wait for the server"
    );
    assert!(
        matches!(receipts[0].revocation, Revocation::Failed { .. }),
        "{receipts:?}"
    );
    let queued = legacy::pending(state.path());
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].entry_id, gemini);
    assert_no_secrets(
        "queue file",
        &std::fs::read_to_string(state.path().join("legacy-revocations.json")).unwrap(),
    );
    let retried = legacy::retry_queued(&ctx).await.unwrap();
    assert!(matches!(retried[0].revocation, Revocation::Failed { .. }));
    assert_eq!(legacy::pending(state.path())[0].attempts, 2);
}

/// Issue 10 item 6 against the lab and the real keyring: the backup of a Goose disconnect
/// holds neither Goose's unrelated API key nor any token in plain text; its key is a keyring
/// item; restore re-inserts the entry into a file Goose changed since; purge deletes every
/// backup and the key.
#[tokio::test]
async fn goose_backups_are_sealed_restorable_and_purged() {
    let lab = lab_for(ADA).await;
    let home = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    lanyard_lab::seed_legacy(lab.base(), home.path(), ADA)
        .await
        .unwrap();
    let mut ctx = context(&lab, home.path(), state.path());
    ctx.store = Arc::new(lanyard::store::KeyringStore::open(state.path()).expect("keyring"));
    let goose = ctx
        .scan()
        .entries
        .into_iter()
        .find(|e| e.client == ClientApp::Goose)
        .unwrap();
    let original = std::fs::read_to_string(&goose.file).unwrap();
    let receipts = legacy::disconnect(
        std::slice::from_ref(&goose.id),
        DisconnectOptions::default(),
        &ctx,
    )
    .await;
    assert!(receipts[0].removed_locally, "{receipts:?}");
    assert_eq!(receipts[0].revocation, Revocation::Revoked);
    let backups = crate::support::all_text_under(&state.path().join("legacy-backups"));
    assert_no_secrets("legacy backups", &backups);
    assert!(!backups.contains("labsecret_provider_key"));
    assert!(
        !backups.contains("token_response"),
        "the entry's body is sealed (only its key name is in the metadata)"
    );

    // Goose writes its file meanwhile; restore puts only the entry back.
    let path = goose.file.clone();
    let changed = std::fs::read_to_string(&path).unwrap() + "GOOSE_MODEL: lab-model\n";
    std::fs::write(&path, &changed).unwrap();
    let report = legacy::restore(receipts[0].backup_id.as_deref().unwrap(), &ctx).unwrap();
    assert!(!report.whole_file);
    let now = std::fs::read_to_string(&path).unwrap();
    assert!(now.starts_with(&changed), "Goose's change survives");
    assert!(ctx.scan().entries.iter().any(|e| e.id == goose.id));
    let entry_lines: String = original
        .lines()
        .skip_while(|l| !l.starts_with("oauth_creds_granola"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(now.ends_with(&entry_lines), "the entry's own lines: {now}");
    assert!(ctx.backups().is_empty(), "a restored backup is deleted");

    // Disconnect again, then purge: no backup, no key.
    let again = legacy::disconnect(
        std::slice::from_ref(&goose.id),
        DisconnectOptions::default(),
        &ctx,
    )
    .await;
    assert!(again[0].removed_locally, "{again:?}");
    assert_eq!(ctx.backups().len(), 1);
    assert_eq!(legacy::purge_backups(&ctx).unwrap(), 1);
    assert!(ctx.backups().is_empty());
    assert!(
        legacy::restore(again[0].backup_id.as_deref().unwrap(), &ctx).is_err(),
        "a purged backup is gone"
    );
}

/// Issue 10 item 10: the lab refuses a revocation for good (the stored client is unknown to
/// it: `invalid_client`); the receipt says so and nothing is queued to retry forever.
#[tokio::test]
async fn a_revocation_the_lab_refuses_for_good_is_not_queued() {
    let lab = lab_for(ADA).await;
    let home = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    lanyard_lab::seed_legacy(lab.base(), home.path(), ADA)
        .await
        .unwrap();
    let codex = home.path().join(".codex/.credentials.json");
    let text = std::fs::read_to_string(&codex).unwrap();
    std::fs::write(
        &codex,
        text.replace("\"client_id\": \"", "\"client_id\": \"unknown-"),
    )
    .unwrap();
    let ctx = context(&lab, home.path(), state.path());
    let entry = ctx
        .scan()
        .entries
        .into_iter()
        .find(|e| e.client == ClientApp::Codex && e.covered_by_ema)
        .unwrap();
    let before = legacy_grants(&lab);
    let receipts = legacy::disconnect(
        std::slice::from_ref(&entry.id),
        DisconnectOptions::default(),
        &ctx,
    )
    .await;
    assert!(receipts[0].removed_locally);
    assert!(
        matches!(&receipts[0].revocation, Revocation::Failed { reason, permanent: true } if reason.contains("invalid_client")),
        "{receipts:?}"
    );
    assert!(receipts[0].message.contains("will not retry"));
    assert!(legacy::pending(state.path()).is_empty(), "nothing queued");
    assert_eq!(
        legacy_grants(&lab),
        before,
        "the grant is still live at the lab"
    );
}

/// A revocation that failed at disconnect is retried by the engine's renewal loop (the app's)
/// when it is due, with backoff, and never before: the revocation leg answers 500, so the
/// disconnect queues it for a minute later; the next due time the loop sleeps until is that
/// minute; a retry still failing doubles the wait; once the lab answers again, the grant is
/// gone at the lab and the queue is empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_revocation_is_retried_by_the_renewal_loop_when_due() {
    use crate::support::sign_in_options;
    use crate::support::{curl_browser, engine_with, fail_revocations, manual_clock};
    use chrono::Duration;
    use lanyard::clock::Clock;
    use lanyard_lab::Faults;

    let lab = lab_for(ADA).await;
    let home = tempfile::tempdir().unwrap();
    lanyard_lab::seed_legacy(lab.base(), home.path(), ADA)
        .await
        .unwrap();
    let clock = manual_clock();
    let env = engine_with(lab.policy_path(), Some(clock.clone()));
    env.engine
        .sign_in(sign_in_options(curl_browser()))
        .await
        .unwrap();
    let granola = |lab: &Lab| {
        legacy_grants(lab)
            .iter()
            .filter(|c| *c == "granola")
            .count()
    };
    let before = granola(&lab);
    let mut ctx = env.engine.legacy_context(home.path().to_path_buf());
    ctx.processes = ProcessProbe::Fixed(vec![]);
    let gemini = ctx
        .scan()
        .entries
        .into_iter()
        .find(|e| e.client == ClientApp::Gemini && e.connector_id.as_deref() == Some("granola"))
        .unwrap()
        .id;
    fail_revocations(&lab);
    let receipts = legacy::disconnect(&[gemini], DisconnectOptions::default(), &ctx).await;
    assert!(
        matches!(
            &receipts[0].revocation,
            Revocation::Failed {
                permanent: false,
                ..
            }
        ),
        "{receipts:?}"
    );
    let queued_for = clock.now() + Duration::seconds(60);
    assert_eq!(legacy::next_attempt(env.state.path()), Some(queued_for));
    assert_eq!(
        env.engine.next_due(),
        Some(queued_for),
        "the loop wakes for the revocation before any renewal"
    );

    // Not due yet, even with the lab healthy: nothing is sent.
    lab.set_faults(Faults::default());
    clock.advance(Duration::seconds(59));
    env.engine.renew_due().await.unwrap();
    assert_eq!(legacy::pending(env.state.path())[0].attempts, 1);
    assert_eq!(granola(&lab), before);

    // Due, still failing: the next try waits twice as long.
    fail_revocations(&lab);
    clock.advance(Duration::seconds(1));
    env.engine.renew_due().await.unwrap();
    let q = legacy::pending(env.state.path());
    assert_eq!(q[0].attempts, 2);
    assert_eq!(
        q[0].next_attempt_at,
        Some(clock.now() + Duration::seconds(120))
    );

    // Due again, the lab healthy: revoked there, gone from the queue.
    lab.set_faults(Faults::default());
    clock.advance(Duration::seconds(120));
    assert!(env.engine.renew_due().await.unwrap() >= 1);
    assert!(legacy::pending(env.state.path()).is_empty());
    assert_eq!(granola(&lab), before - 1, "the grant is revoked at the lab");
    assert_eq!(legacy::next_attempt(env.state.path()), None);
}
