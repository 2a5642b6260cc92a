//! Revocations that failed (server down, 503) wait here to be retried. The queue file
//! (`<state_dir>/legacy-revocations.json`) holds only metadata; the tokens go to the OS
//! keyring through `SecretStore`, under `legacy/<queue id>/…`. Every read-change-write of the
//! file happens under a cross-process lock, so the app and the CLI never drop each other's
//! entries; the network calls of a retry happen outside it. A revocation the server refuses
//! for good (`invalid_client`, another 4xx) leaves the queue and is reported, not retried.
//!
//! The app's renewal loop retries what is due (`retry_due`, engine/renewal.rs): a minute after
//! the failure, then doubling up to an hour, or later when the server's `Retry-After` asks.
//! The app's own disconnect wakes the loop; an entry the CLI queued is seen at the loop's next
//! wake-up (the next renewal, at most an hour). `lanyard legacy retry` tries everything at once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

use super::audit::{self, AuditRecord};
use super::clients::Credentials;
use super::context::LegacyContext;
use super::receipt::{Receipt, Revocation};
use super::revoke::{self, Grant};
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
    /// When the app tries again. Entries queued by a version without it are due at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl QueuedRevocation {
    fn due_at(&self) -> DateTime<Utc> {
        self.next_attempt_at.unwrap_or(self.queued_at)
    }
}

/// The first retry waits this long after a failure…
const FIRST_RETRY: Duration = Duration::from_secs(60);
/// …each next one twice as long, up to this: the local entry is gone already, so nothing is
/// urgent, and a server down for maintenance should not hear from every laptop of a fleet.
const LONGEST_RETRY: Duration = Duration::from_secs(3600);
/// A `Retry-After` longer than this is read as this (a day): the grant should not wait weeks.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// How long to wait after the `attempts`-th failed attempt (1-based), honouring the server's
/// `Retry-After` when it asks for longer.
pub(crate) fn retry_delay(attempts: u32, retry_after: Option<Duration>) -> Duration {
    let doubling = 1_u32 << attempts.saturating_sub(1).min(10);
    let ours = FIRST_RETRY.saturating_mul(doubling).min(LONGEST_RETRY);
    retry_after.map_or(ours, |r| ours.max(r.min(LONGEST_RETRY_AFTER)))
}

/// `now + delay`; the delays here are at most a day, so the fallback is never reached.
fn after(now: DateTime<Utc>, delay: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(delay)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When the earliest queued revocation is due, if any is queued.
pub fn next_attempt(state_dir: &Path) -> Option<DateTime<Utc>> {
    pending(state_dir)
        .iter()
        .map(QueuedRevocation::due_at)
        .min()
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
    retry_after: Option<Duration>,
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
    let now = ctx.http.clock().now();
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
        queued_at: now,
        attempts: 1,
        last_error: reason.to_string(),
        next_attempt_at: Some(after(now, retry_delay(1, retry_after))),
    });
    save(&ctx.state_dir, &queue)
}

/// Tries every queued revocation again, due or not (`lanyard legacy retry`: a person asked).
/// Done ones leave the queue (and their keyring items), and so do ones the server refuses for
/// good.
pub async fn retry_queued(ctx: &LegacyContext) -> Result<Vec<Receipt>, LegacyError> {
    retry(ctx, false).await
}

/// Tries again the queued revocations whose time has come (the app's renewal loop).
pub async fn retry_due(ctx: &LegacyContext) -> Result<Vec<Receipt>, LegacyError> {
    retry(ctx, true).await
}

async fn retry(ctx: &LegacyContext, only_due: bool) -> Result<Vec<Receipt>, LegacyError> {
    let now = ctx.http.clock().now();
    let c = ctx.clone();
    let due = off_runtime(move || due_with_credentials(&c, only_due, now)).await?;
    let mut tried = Vec::new();
    for (q, creds) in due {
        let outcome = match creds {
            Ok(creds) => revoke::revoke(&ctx.http, &Trace::new(), &grant(&q, &creds))
                .await
                .into_revocation(),
            // This entry's tokens can't be read now: it waits for its next try, the others go on.
            Err(e) => still_failing(e.to_string()),
        };
        tried.push((q, outcome));
    }
    let c = ctx.clone();
    off_runtime(move || settle(&c, tried)).await
}

/// File and keyring work runs off the async runtime: a Secret Service call can wait on D-Bus,
/// and in the app the renewals share the runtime. A panic in the job is re-raised here.
async fn off_runtime<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(job).await {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// A queued revocation and its tokens, or why they could not be read.
type ToTry = (QueuedRevocation, Result<Credentials, LegacyError>);
/// A queued revocation, what its try came to, and the `Retry-After` of a still-busy server.
type Tried = (QueuedRevocation, (Revocation, Option<Duration>));

/// The queued revocations to try (all, or the due ones), each with its tokens from the
/// keyring.
fn due_with_credentials(
    ctx: &LegacyContext,
    only_due: bool,
    now: DateTime<Utc>,
) -> Result<Vec<ToTry>, LegacyError> {
    let queue = {
        let _lock = files::lock(&ctx.state_dir, LOCK)?;
        pending(&ctx.state_dir)
    };
    Ok(queue
        .into_iter()
        .filter(|q| !only_due || q.due_at() <= now)
        .map(|q| {
            let creds = credentials(ctx, &q);
            (q, creds)
        })
        .collect())
}

fn credentials(ctx: &LegacyContext, q: &QueuedRevocation) -> Result<Credentials, LegacyError> {
    Ok(Credentials {
        refresh: ctx.store.get(&item(&q.id, "refresh_token"))?,
        access: ctx.store.get(&item(&q.id, "access_token"))?,
        client_secret: ctx.store.get(&item(&q.id, "client_secret"))?,
        auth_method: q.auth_method.clone(),
    })
}

fn grant<'a>(q: &'a QueuedRevocation, creds: &'a Credentials) -> Grant<'a> {
    Grant {
        issuer: q.issuer.as_deref(),
        server_url: q.server_url.as_deref(),
        client_id: q.client_id.as_deref(),
        creds,
    }
}

fn still_failing(reason: String) -> (Revocation, Option<Duration>) {
    (
        Revocation::Failed {
            reason,
            permanent: false,
        },
        None,
    )
}

/// After the tries: a settled entry's tokens leave the keyring (if the keyring refuses, the
/// entry stays queued, so they are not forgotten there), each try is audited, and the queue is
/// written back under its lock, re-read first so entries queued meanwhile (by another
/// process) stay. An entry still failing waits longer each time.
fn settle(ctx: &LegacyContext, tried: Vec<Tried>) -> Result<Vec<Receipt>, LegacyError> {
    let mut receipts = Vec::new();
    let mut settled = Vec::new();
    let mut failing = Vec::new();
    for (q, (revocation, retry_after)) in tried {
        match &revocation {
            Revocation::Failed {
                reason,
                permanent: false,
            } => failing.push((q.id.clone(), reason.clone(), retry_after)),
            _ => match forget_tokens(ctx, &q) {
                Ok(()) => settled.push(q.id.clone()),
                Err(e) => failing.push((q.id.clone(), e.to_string(), None)),
            },
        }
        audit_retry(ctx, &q, &revocation);
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
    let _lock = files::lock(&ctx.state_dir, LOCK)?;
    let mut queue = pending(&ctx.state_dir);
    queue.retain(|q| !settled.contains(&q.id));
    let now = ctx.http.clock().now();
    for q in &mut queue {
        if let Some((_, reason, retry_after)) = failing.iter().find(|(id, ..)| id == &q.id) {
            q.attempts = q.attempts.saturating_add(1);
            q.last_error = reason.clone();
            q.next_attempt_at = Some(after(now, retry_delay(q.attempts, *retry_after)));
        }
    }
    save(&ctx.state_dir, &queue)?;
    Ok(receipts)
}

fn forget_tokens(ctx: &LegacyContext, q: &QueuedRevocation) -> Result<(), LegacyError> {
    for what in ["refresh_token", "access_token", "client_secret"] {
        ctx.store.delete(&item(&q.id, what))?;
    }
    Ok(())
}

/// The audit line of one try. An audit log that can't be written is logged, and does not undo
/// a revocation that happened.
fn audit_retry(ctx: &LegacyContext, q: &QueuedRevocation, revocation: &Revocation) {
    let record = AuditRecord {
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
    };
    if let Err(e) = audit::append(&ctx.state_dir, &record) {
        tracing::warn!(error = %e, "could not write the legacy audit log");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_a_minute_then_double_up_to_an_hour() {
        let secs = |a| retry_delay(a, None).as_secs();
        assert_eq!([secs(1), secs(2), secs(3), secs(6)], [60, 120, 240, 1920]);
        assert_eq!(secs(7), 3600, "64 min is capped at the hour");
        assert_eq!(secs(u32::MAX), 3600);
        assert_eq!(secs(0), 60, "a zero count is read as the first failure");
    }

    #[test]
    fn retry_after_is_honoured_when_longer_and_capped_at_a_day() {
        let d = |a, r| retry_delay(a, Some(Duration::from_secs(r))).as_secs();
        assert_eq!(d(1, 300), 300);
        assert_eq!(d(1, 10), 60, "never sooner than our own schedule");
        assert_eq!(d(7, 600), 3600);
        assert_eq!(d(1, 30 * 86_400), 86_400);
    }
}
