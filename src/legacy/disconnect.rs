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
use super::revoke::{self, Grant, Outcome};
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

pub async fn disconnect(
    entry_ids: &[String],
    opts: DisconnectOptions,
    ctx: &LegacyContext,
) -> Vec<Receipt> {
    ctx.sweep_temp_files();
    let (found, _) = clients::read_all(&ctx.home, &ctx.index);
    let mut receipts = Vec::new();
    for id in entry_ids {
        let receipt = match found.iter().find(|f| &f.entry.id == id) {
            None => Receipt::not_done(
                id,
                None,
                "No such legacy entry (it may have been removed already).",
            ),
            Some(f) => one(f, opts, ctx).await,
        };
        let entry = found.iter().find(|f| &f.entry.id == id).map(|f| &f.entry);
        let record = AuditRecord {
            at: ctx.http.clock().now(),
            action: "disconnect".into(),
            entry_id: id.clone(),
            client: receipt.client,
            connector_id: receipt.connector_id.clone(),
            file: entry.map(|e| e.file.clone()),
            backup_id: receipt.backup_id.clone(),
            dry_run: opts.dry_run,
            removed_locally: receipt.removed_locally,
            revocation: receipt.revocation.code().into(),
            note: Some(receipt.message.clone()),
        };
        if !opts.dry_run
            && let Err(e) = audit::append(&ctx.state_dir, &record)
        {
            tracing::warn!(error = %e, "could not append to the legacy audit log");
        }
        receipts.push(receipt);
    }
    receipts
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

async fn one(f: &Found, opts: DisconnectOptions, ctx: &LegacyContext) -> Receipt {
    let e = &f.entry;
    let issuer = e.issuer.clone().or_else(|| {
        e.connector_id
            .as_deref()
            .and_then(|c| ctx.index.issuer_of(c))
            .map(str::to_string)
    });
    match refusal(f, opts, ctx, issuer.as_deref()) {
        Some(receipt) => receipt,
        None => apply(e, issuer.as_deref(), ctx).await,
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

/// Backup → local removal → revocation, for the entry as the file holds it right now.
async fn apply(e: &LegacyEntry, issuer: Option<&str>, ctx: &LegacyContext) -> Receipt {
    // The owning application may write between the scan and now: read the file once, and
    // from here on edit, back up and revoke exactly what those bytes hold.
    hooks::run_after_scan();
    let edit = match Edit::prepare(e, &ctx.index) {
        Ok(edit) => edit,
        Err(err) => return Receipt::not_done(&e.id, Some(e), &format!("Not changed: {err}")),
    };
    // 1. Back up the entry.
    let change = Change {
        entry: &edit.found.entry,
        target: &edit.found.target,
        real_file: &edit.real_file,
        before: &edit.before,
        after: edit.after.as_deref(),
        entry_span: edit.entry_span,
    };
    let backup = match Backup::take(ctx, &change) {
        Ok(b) => b,
        Err(err) => {
            let why = format!("Not changed: backup failed ({err})");
            return Receipt::not_done(&e.id, Some(e), &why);
        }
    };
    // 2. Remove locally, if the file is still what was read.
    if let Err(err) = edit.commit() {
        backup.discard();
        return Receipt::not_done(&e.id, Some(e), &format!("Not changed: {err}"));
    }
    // 3. Revoke what was removed.
    let found = &edit.found;
    let revocation = revoke_removed(&found.entry, issuer, &found.creds, ctx).await;
    let mut message = revocation.message(e.client, true);
    if edit.via_symlink {
        message.push_str(&format!(
            " ({} is a symlink; Lanyard edited the file it points to, {}.)",
            e.file.display(),
            edit.real_file.display()
        ));
    }
    Receipt {
        entry_id: e.id.clone(),
        client: Some(e.client),
        connector_id: e.connector_id.clone(),
        removed_locally: true,
        backup: Some(backup.path.clone()),
        backup_id: Some(backup.id.clone()),
        message,
        revocation,
    }
}

async fn revoke_removed(
    e: &LegacyEntry,
    issuer: Option<&str>,
    creds: &Credentials,
    ctx: &LegacyContext,
) -> Revocation {
    let grant = Grant {
        issuer,
        server_url: e.server_url.as_deref(),
        client_id: e.client_id.as_deref(),
        creds,
    };
    match revoke::revoke(&ctx.http, &Trace::new(), &grant).await {
        Outcome::Revoked => Revocation::Revoked,
        Outcome::NoEndpoint => Revocation::NoEndpoint,
        Outcome::Refused(reason) => Revocation::Failed {
            reason,
            permanent: true,
        },
        Outcome::Failed(reason) => {
            if let Err(err) = queue::enqueue(ctx, e, creds, &reason) {
                tracing::warn!(error = %err, "could not queue the failed revocation");
            }
            Revocation::Failed {
                reason,
                permanent: false,
            }
        }
    }
}
