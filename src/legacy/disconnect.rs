//! Disconnecting legacy entries, in the order peers.md asks for: snapshot (a private backup)
//! → remove only that entry locally (temp file + rename) → revoke at the server (RFC 7009) →
//! a receipt that says which of those happened. A failed revocation is queued and retried;
//! a failed local removal stops before revoking, so the two never disagree silently.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use super::audit::{self, AuditRecord};
use super::clients::{self, Found, Target, goose, mcp_remote};
use super::mapping::ConnectorIndex;
use super::process::{ProcessProbe, pid_alive};
use super::restore::Backup;
use super::revoke::{self, Grant, Outcome};
use super::{ClientApp, LegacyEntry, LegacyError, ScanReport, files, io_err, json_edit, queue};
use crate::http::Http;
use crate::store::SecretStore;
use crate::trace::Trace;

/// Everything disconnect, retry and restore need; the home folder and state folder are
/// parameters so tests and the lab use temporary ones.
#[derive(Debug, Clone)]
pub struct LegacyContext {
    pub home: PathBuf,
    pub state_dir: PathBuf,
    pub index: ConnectorIndex,
    /// Connector ids Lanyard holds a zero-touch grant for.
    pub ema_granted: HashSet<String>,
    pub http: Http,
    /// Where tokens of queued revocations wait (the OS keyring in the app).
    pub store: Arc<dyn SecretStore>,
    pub processes: ProcessProbe,
}

impl LegacyContext {
    pub fn scan(&self) -> ScanReport {
        super::scan_with(&self.home, &self.index, &self.ema_granted)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisconnectOptions {
    /// Say what would happen; touch nothing on disk or at the server.
    pub dry_run: bool,
    /// Go ahead even while the owning application is running or holds its lock.
    pub force: bool,
}

/// What happened at the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Revocation {
    Revoked,
    /// No revocation endpoint: the grant may persist at the provider.
    NoEndpoint,
    /// Queued for retry.
    Failed {
        reason: String,
    },
    /// Dry run, refused, or local removal failed first.
    NotAttempted,
}

impl Revocation {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::NoEndpoint => "no_endpoint",
            Self::Failed { .. } => "failed",
            Self::NotAttempted => "not_attempted",
        }
    }

    pub(crate) fn message(&self, client: ClientApp, removed: bool) -> String {
        let app = client.label();
        match (self, removed) {
            (Self::Revoked, true) => format!("Revoked at the server and removed from {app}."),
            (Self::Revoked, false) => "Revoked at the server.".into(),
            (Self::NoEndpoint, _) => format!(
                "Removed from {app} only: the provider has no revocation endpoint, so the grant may persist at the provider until it expires."
            ),
            (Self::Failed { reason }, _) => format!(
                "Removed from {app}; revocation at the server failed ({reason}) and is queued for retry."
            ),
            (Self::NotAttempted, _) => format!("Nothing changed in {app}."),
        }
    }
}

/// One entry's outcome. Holds no token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub entry_id: String,
    pub client: Option<ClientApp>,
    pub connector_id: Option<String>,
    pub removed_locally: bool,
    /// The private copy of the file taken before the change.
    pub backup: Option<PathBuf>,
    /// What `restore` takes to put the local entry back.
    pub backup_id: Option<String>,
    pub revocation: Revocation,
    /// One sentence for a person.
    pub message: String,
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
    let (found, _) = clients::read_all(&ctx.home, &ctx.index);
    let mut receipts = Vec::new();
    for id in entry_ids {
        let receipt = match found.iter().find(|f| &f.entry.id == id) {
            None => not_done(
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

fn not_done(id: &str, entry: Option<&LegacyEntry>, message: &str) -> Receipt {
    Receipt {
        entry_id: id.to_string(),
        client: entry.map(|e| e.client),
        connector_id: entry.and_then(|e| e.connector_id.clone()),
        removed_locally: false,
        backup: None,
        backup_id: None,
        revocation: Revocation::NotAttempted,
        message: message.to_string(),
    }
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
        if pid.is_none_or(pid_alive) {
            return Some("mcp-remote holds its lock file for this server".into());
        }
    }
    ctx.processes
        .is_running(app)
        .then(|| format!("{} is running", app.label()))
}

async fn one(f: &Found, opts: DisconnectOptions, ctx: &LegacyContext) -> Receipt {
    let e = &f.entry;
    if !e.can_disconnect || f.target == Target::Nothing {
        let why = e
            .note
            .clone()
            .unwrap_or_else(|| "Lanyard cannot remove this entry.".into());
        return not_done(&e.id, Some(e), &why);
    }
    if !opts.force
        && let Some(why) = busy(f, ctx)
    {
        return not_done(
            &e.id,
            Some(e),
            &format!("Not changed: {why}. Quit it and try again, or force."),
        );
    }
    let issuer = e.issuer.clone().or_else(|| {
        e.connector_id
            .as_deref()
            .and_then(|c| ctx.index.issuer_of(c))
            .map(str::to_string)
    });
    if opts.dry_run {
        let at = issuer
            .as_deref()
            .or(e.server_url.as_deref())
            .unwrap_or("its server");
        return not_done(
            &e.id,
            Some(e),
            &format!(
                "Would back up {}, remove this entry from {} and revoke it at {at}.",
                e.file.display(),
                e.client.label()
            ),
        );
    }

    // 1. Snapshot.
    let mut backup = match Backup::take(ctx, e, &f.target) {
        Ok(b) => b,
        Err(err) => {
            return not_done(
                &e.id,
                Some(e),
                &format!("Not changed: backup failed ({err})"),
            );
        }
    };
    // 2. Remove locally.
    let after = match remove_locally(f) {
        Ok(after) => after,
        Err(err) => {
            return Receipt {
                backup: Some(backup.path.clone()),
                backup_id: Some(backup.id.clone()),
                ..not_done(&e.id, Some(e), &format!("Not changed: {err}"))
            };
        }
    };
    if let Err(err) = backup.record_after(&after) {
        tracing::warn!(error = %err, "could not record the backup's after-state");
    }
    // 3. Revoke.
    let grant = Grant {
        issuer: issuer.as_deref(),
        server_url: e.server_url.as_deref(),
        client_id: e.client_id.as_deref(),
        creds: &f.creds,
    };
    let revocation = match revoke::revoke(&ctx.http, &Trace::new(), &grant).await {
        Outcome::Revoked => Revocation::Revoked,
        Outcome::NoEndpoint => Revocation::NoEndpoint,
        Outcome::Failed(reason) => {
            if let Err(err) = queue::enqueue(ctx, e, &f.creds, &reason) {
                tracing::warn!(error = %err, "could not queue the failed revocation");
            }
            Revocation::Failed { reason }
        }
    };
    Receipt {
        entry_id: e.id.clone(),
        client: Some(e.client),
        connector_id: e.connector_id.clone(),
        removed_locally: true,
        backup: Some(backup.path.clone()),
        backup_id: Some(backup.id.clone()),
        message: revocation.message(e.client, true),
        revocation,
    }
}

/// Removes the entry from its file; returns the file's content afterwards (`None`: deleted).
fn remove_locally(f: &Found) -> Result<Option<Vec<u8>>, LegacyError> {
    let file = &f.entry.file;
    match &f.target {
        Target::WholeFile => {
            std::fs::remove_file(file).map_err(|e| io_err(file, e))?;
            Ok(None)
        }
        Target::Json { path } => {
            let text = std::fs::read_to_string(file).map_err(|e| io_err(file, e))?;
            let out = json_edit::remove(&text, path)?;
            files::replace(file, out.as_bytes())?;
            Ok(Some(out.into_bytes()))
        }
        Target::YamlKey { key } => {
            let text = std::fs::read_to_string(file).map_err(|e| io_err(file, e))?;
            let out = goose::remove_key(&text, key).ok_or(json_edit::EditError::NotFound)?;
            files::replace(file, out.as_bytes())?;
            Ok(Some(out.into_bytes()))
        }
        Target::Nothing => Err(json_edit::EditError::NotFound.into()),
    }
}
