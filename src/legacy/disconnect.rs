//! Disconnecting legacy entries, in the order peers.md asks for: snapshot (a private backup)
//! → remove only that entry locally (temp file + rename) → revoke at the server (RFC 7009) →
//! a receipt that says which of those happened. A failed revocation is queued and retried;
//! a failed local removal stops before revoking, so the two never disagree silently.

use serde::{Deserialize, Serialize};

use super::audit::{self, AuditRecord};
use super::backup::{Backup, Change};
use super::clients::{self, Credentials, Found, Target, mcp_remote};
use super::context::LegacyContext;
use super::edit::Edit;
use super::receipt::{Receipt, Revocation};
use super::revoke::{self, Grant};
use super::{ClientApp, LegacyEntry, ScanReport, hooks, queue};
use crate::trace::Trace;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisconnectOptions {
    /// Say what would happen; touch nothing on disk or at the server.
    pub dry_run: bool,
    /// Go ahead even while the owning application is running or holds its lock.
    pub force: bool,
}

/// The ids of every entry that Lanyard's EMA grants cover and that can be disconnected:
/// the "Disconnect all covered by EMA" selection.
pub fn covered_ids(report: &ScanReport) -> Vec<String> {
    report
        .entries
        .iter()
        .filter(|e| e.covered_by_ema && e.can_disconnect)
        .map(|e| e.id.clone())
        .collect()
}

/// Disconnects each entry in turn. The file work (scan, backup, edit, audit, queue) runs on
/// the blocking pool: the app calls this from its async runtime, and a home folder on a slow
/// disk or a Secret Service waiting on D-Bus must not stall the renewals running beside it.
pub async fn disconnect(
    entry_ids: &[String],
    opts: DisconnectOptions,
    ctx: &LegacyContext,
) -> Vec<Receipt> {
    let scan = ctx.clone();
    let found = blocking(move || {
        scan.sweep_temp_files();
        clients::read_all(&scan.home, &scan.index).0
    })
    .await;
    let mut found = match found {
        Ok(found) => found,
        Err(why) => {
            return entry_ids
                .iter()
                .map(|id| Receipt::not_done(id, None, &why.to_string()))
                .collect();
        }
    };
    let mut receipts = Vec::new();
    for id in entry_ids {
        // Taken out of the scan: the same id twice is "removed already" the second time.
        let f = found
            .iter()
            .position(|f| &f.entry.id == id)
            .map(|i| found.swap_remove(i));
        let entry = f.as_ref().map(|f| f.entry.clone());
        let receipt = match f {
            None => Receipt::not_done(
                id,
                None,
                "No such legacy entry (it may have been removed already).",
            ),
            Some(f) => one(f, opts, ctx).await,
        };
        if !opts.dry_run {
            let record = AuditRecord {
                at: ctx.http.clock().now(),
                action: "disconnect".into(),
                entry_id: id.clone(),
                client: receipt.client,
                connector_id: receipt.connector_id.clone(),
                file: entry.map(|e| e.file),
                backup_id: receipt.backup_id.clone(),
                dry_run: opts.dry_run,
                removed_locally: receipt.removed_locally,
                revocation: receipt.revocation.code().into(),
                note: Some(receipt.message.clone()),
            };
            let dir = ctx.state_dir.clone();
            match blocking(move || audit::append(&dir, &record)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "could not append to the legacy audit log")
                }
                Err(e) => tracing::warn!(error = %e, "could not append to the legacy audit log"),
            }
        }
        receipts.push(receipt);
    }
    receipts
}

/// A job on the blocking pool panicked (or was cancelled): one entry's failure, not the
/// caller's.
#[derive(Debug, thiserror::Error)]
#[error("Not changed: Lanyard hit an internal error while reading the file.")]
struct JobFailed;

/// Runs file and keyring work on the blocking pool.
async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JobFailed> {
    tokio::task::spawn_blocking(job).await.map_err(|e| {
        tracing::error!("legacy disconnect job failed: {e}");
        JobFailed
    })
}

/// Why the owning application must not be written under right now, if it must not.
fn busy(f: &Found, ctx: &LegacyContext) -> Option<String> {
    let app = f.entry.client;
    if app == ClientApp::McpRemote
        && let Some(lock) = mcp_remote::lock_file(&f.entry.file)
        && let Ok(text) = std::fs::read_to_string(&lock)
    {
        let pid = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("pid").and_then(serde_json::Value::as_u64));
        if pid.is_none_or(|p| ctx.processes.pid_alive(p)) {
            return Some("mcp-remote holds its lock file for this server".into());
        }
    }
    ctx.processes
        .is_running(app)
        .then(|| format!("{} is running", app.label()))
}

async fn one(f: Found, opts: DisconnectOptions, ctx: &LegacyContext) -> Receipt {
    let e = f.entry.clone();
    let issuer = e.issuer.clone().or_else(|| {
        e.connector_id
            .as_deref()
            .and_then(|c| ctx.index.issuer_of(c))
            .map(str::to_string)
    });
    let local = {
        let (ctx, issuer) = (ctx.clone(), issuer.clone());
        blocking(move || match refusal(&f, opts, &ctx, issuer.as_deref()) {
            Some(receipt) => Err(Box::new(receipt)),
            None => remove_locally(&f.entry, &ctx),
        })
        .await
    };
    match local {
        Ok(Ok(removed)) => revoke_and_report(&e, removed, issuer.as_deref(), ctx).await,
        Ok(Err(receipt)) => *receipt,
        Err(why) => Receipt::not_done(&e.id, Some(&e), &why.to_string()),
    }
}

/// The receipt when this entry is not to be touched (can't be, owner busy, or a dry run).
fn refusal(
    f: &Found,
    opts: DisconnectOptions,
    ctx: &LegacyContext,
    issuer: Option<&str>,
) -> Option<Receipt> {
    let e = &f.entry;
    if !e.can_disconnect || f.target == Target::Nothing {
        let why = e
            .note
            .clone()
            .unwrap_or_else(|| "Lanyard cannot remove this entry.".into());
        return Some(Receipt::not_done(&e.id, Some(e), &why));
    }
    if !opts.force
        && let Some(why) = busy(f, ctx)
    {
        let why = format!("Not changed: {why}. Quit it and try again, or force.");
        return Some(Receipt::not_done(&e.id, Some(e), &why));
    }
    opts.dry_run.then(|| {
        let at = issuer.or(e.server_url.as_deref()).unwrap_or("its server");
        let what = format!(
            "Would back up {}, remove this entry from {} and revoke it at {at}.",
            e.file.display(),
            e.client.label()
        );
        Receipt::not_done(&e.id, Some(e), &what)
    })
}

/// What the local half of a disconnect leaves for the revocation.
struct Removed {
    /// The entry and credentials as parsed from the bytes that were edited.
    found: Found,
    backup: Backup,
    real_file: std::path::PathBuf,
    via_symlink: bool,
}

/// Backup → local removal, for the entry as the file holds it right now (blocking: file and
/// keyring work). Revocation follows in [`revoke_and_report`].
/// The error is the receipt to give (boxed: it is large, and the happy path shouldn't carry it).
fn remove_locally(e: &LegacyEntry, ctx: &LegacyContext) -> Result<Removed, Box<Receipt>> {
    // The owning application may write between the scan and now: read the file once, and
    // from here on edit, back up and revoke exactly what those bytes hold.
    hooks::run_after_scan(&e.file);
    let not_done = |why: String| Box::new(Receipt::not_done(&e.id, Some(e), &why));
    let edit =
        Edit::prepare(e, &ctx.index).map_err(|err| not_done(format!("Not changed: {err}")))?;
    // 1. Back up the entry.
    let change = Change {
        entry: &edit.found.entry,
        target: &edit.found.target,
        real_file: &edit.real_file,
        before: &edit.before,
        after: edit.after.as_deref(),
        entry_span: edit.entry_span,
    };
    let backup = Backup::take(ctx, &change)
        .map_err(|err| not_done(format!("Not changed: backup failed ({err})")))?;
    // 2. Remove locally, if the file is still what was read.
    if let Err(err) = edit.commit() {
        backup.discard();
        return Err(not_done(format!("Not changed: {err}")));
    }
    Ok(Removed {
        found: edit.found,
        backup,
        real_file: edit.real_file,
        via_symlink: edit.via_symlink,
    })
}

/// 3. Revoke what was removed, and say what happened.
async fn revoke_and_report(
    e: &LegacyEntry,
    removed: Removed,
    issuer: Option<&str>,
    ctx: &LegacyContext,
) -> Receipt {
    let found = removed.found;
    let revocation = revoke_removed(found.entry, issuer, found.creds, ctx).await;
    let mut message = revocation.message(e.client, true);
    if removed.via_symlink {
        message.push_str(&format!(
            " ({} is a symlink; Lanyard edited the file it points to, {}.)",
            e.file.display(),
            removed.real_file.display()
        ));
    }
    Receipt {
        entry_id: e.id.clone(),
        client: Some(e.client),
        connector_id: e.connector_id.clone(),
        removed_locally: true,
        backup: Some(removed.backup.path.clone()),
        backup_id: Some(removed.backup.id.clone()),
        message,
        revocation,
    }
}

async fn revoke_removed(
    e: LegacyEntry,
    issuer: Option<&str>,
    creds: Credentials,
    ctx: &LegacyContext,
) -> Revocation {
    let grant = Grant {
        issuer,
        server_url: e.server_url.as_deref(),
        client_id: e.client_id.as_deref(),
        creds: &creds,
    };
    let (revocation, retry_after) = revoke::revoke(&ctx.http, &Trace::new(), &grant)
        .await
        .into_revocation();
    if let Revocation::Failed {
        reason,
        permanent: false,
    } = &revocation
    {
        // The queue file and the keyring (where queued tokens wait): blocking work.
        let (qctx, why) = (ctx.clone(), reason.clone());
        match blocking(move || queue::enqueue(&qctx, &e, &creds, &why, retry_after)).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "could not queue the failed revocation"),
            Err(err) => tracing::warn!(error = %err, "could not queue the failed revocation"),
        }
    }
    revocation
}
