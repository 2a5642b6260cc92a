//! Revocations that failed (server down, 503) wait here to be retried. The queue file
//! (`<state_dir>/legacy-revocations.json`) holds only metadata; the tokens go to the OS
//! keyring through `SecretStore`, under `legacy/<queue id>/…`. Every read-change-write of the
//! file happens under a cross-process lock, so the app and the CLI never drop each other's
//! entries; the network calls of a retry happen outside it. A revocation the server refuses
//! for good (`invalid_client`, another 4xx) leaves the queue and is reported, not retried.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;

use super::audit::{self, AuditRecord};
use super::clients::Credentials;
use super::context::LegacyContext;
use super::receipt::{Receipt, Revocation};
use super::revoke::{self, Grant, Outcome};
use super::{ClientApp, LegacyEntry, LegacyError, files, io_err};
use crate::trace::Trace;

pub(crate) const FILE: &str = "legacy-revocations.json";
const LOCK: &str = "legacy-revocations.lock";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueuedRevocation {
    pub id: String,
    pub entry_id: String,
    pub client: ClientApp,
    pub connector_id: Option<String>,
    pub issuer: Option<String>,
    pub server_url: Option<String>,
    pub client_id: Option<String>,
    pub auth_method: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub attempts: u32,
    pub last_error: String,
}

fn item(id: &str, what: &str) -> String {
    format!("legacy/{id}/{what}")
}

/// What is waiting, oldest first.
pub fn pending(state_dir: &Path) -> Vec<QueuedRevocation> {
    std::fs::read(state_dir.join(FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save(state_dir: &Path, queue: &[QueuedRevocation]) -> Result<(), LegacyError> {
    let path = state_dir.join(FILE);
    let bytes = serde_json::to_vec_pretty(queue).map_err(|e| io_err(&path, e))?;
    super::files::write_private(&path, &bytes)
}

pub(crate) fn enqueue(
    ctx: &LegacyContext,
    entry: &LegacyEntry,
    creds: &Credentials,
    reason: &str,
) -> Result<(), LegacyError> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let pairs = [
        ("refresh_token", &creds.refresh),
        ("access_token", &creds.access),
        ("client_secret", &creds.client_secret),
    ];
    for (what, value) in pairs {
        if let Some(v) = value {
            ctx.store.set(&item(&id, what), v)?;
        }
    }
    let _lock = files::lock(&ctx.state_dir, LOCK)?;
    let mut queue = pending(&ctx.state_dir);
    queue.push(QueuedRevocation {
        id,
        entry_id: entry.id.clone(),
        client: entry.client,
        connector_id: entry.connector_id.clone(),
        issuer: entry.issuer.clone().or_else(|| {
            entry
                .connector_id
                .as_deref()
                .and_then(|c| ctx.index.issuer_of(c))
                .map(str::to_string)
        }),
        server_url: entry.server_url.clone(),
        client_id: entry.client_id.clone(),
        auth_method: creds.auth_method.clone(),
        queued_at: ctx.http.clock().now(),
        attempts: 1,
        last_error: reason.to_string(),
    });
    save(&ctx.state_dir, &queue)
}

/// Tries every queued revocation again; done ones leave the queue (and their keyring items),
/// and so do ones the server refuses for good.
pub async fn retry_queued(ctx: &LegacyContext) -> Result<Vec<Receipt>, LegacyError> {
    let queue = {
        let _lock = files::lock(&ctx.state_dir, LOCK)?;
        pending(&ctx.state_dir)
    };
    let mut receipts = Vec::new();
    let mut settled = Vec::new();
    let mut still_failing = Vec::new();
    for q in queue {
        let revocation = retry_one(ctx, &q).await?;
        match &revocation {
            Revocation::Failed {
                reason,
                permanent: false,
            } => still_failing.push((q.id.clone(), reason.clone())),
            _ => settled.push(q.id.clone()),
        }
        receipts.push(Receipt {
            entry_id: q.entry_id.clone(),
            client: Some(q.client),
            connector_id: q.connector_id.clone(),
            removed_locally: true,
            backup: None,
            backup_id: None,
            message: revocation.message(q.client, true),
            revocation,
        });
    }
    // Re-read under the lock: entries queued meanwhile (by another process) stay.
    let _lock = files::lock(&ctx.state_dir, LOCK)?;
    let mut queue = pending(&ctx.state_dir);
    queue.retain(|q| !settled.contains(&q.id));
    for q in &mut queue {
        if let Some((_, reason)) = still_failing.iter().find(|(id, _)| id == &q.id) {
            q.attempts = q.attempts.saturating_add(1);
            q.last_error = reason.clone();
        }
    }
    save(&ctx.state_dir, &queue)?;
    Ok(receipts)
}

async fn retry_one(ctx: &LegacyContext, q: &QueuedRevocation) -> Result<Revocation, LegacyError> {
    let creds = Credentials {
        refresh: ctx.store.get(&item(&q.id, "refresh_token"))?,
        access: ctx.store.get(&item(&q.id, "access_token"))?,
        client_secret: ctx.store.get(&item(&q.id, "client_secret"))?,
        auth_method: q.auth_method.clone(),
    };
    let grant = Grant {
        issuer: q.issuer.as_deref(),
        server_url: q.server_url.as_deref(),
        client_id: q.client_id.as_deref(),
        creds: &creds,
    };
    let revocation = match revoke::revoke(&ctx.http, &Trace::new(), &grant).await {
        Outcome::Revoked => Revocation::Revoked,
        Outcome::NoEndpoint => Revocation::NoEndpoint,
        Outcome::Failed(reason) => Revocation::Failed {
            reason,
            permanent: false,
        },
        Outcome::Refused(reason) => Revocation::Failed {
            reason,
            permanent: true,
        },
    };
    if !matches!(
        revocation,
        Revocation::Failed {
            permanent: false,
            ..
        }
    ) {
        for what in ["refresh_token", "access_token", "client_secret"] {
            ctx.store.delete(&item(&q.id, what))?;
        }
    }
    audit::append(
        &ctx.state_dir,
        &AuditRecord {
            at: ctx.http.clock().now(),
            action: "retry".into(),
            entry_id: q.entry_id.clone(),
            client: Some(q.client),
            connector_id: q.connector_id.clone(),
            file: None,
            backup_id: None,
            dry_run: false,
            removed_locally: true,
            revocation: revocation.code().into(),
            note: None,
        },
    )?;
    Ok(revocation)
}
