//! The renewal loop for long-running hosts (the app): sleep until the next renewal is due,
//! wake early when something changes, renew what is due, back off when renewing fails. The
//! same loop retries legacy revocations that failed and were queued (legacy/queue.rs): their
//! due times are among the ones it sleeps until.

use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::protocol::oidc::LoginError;
use crate::store::state::SessionRecord;
use crate::trace::Trace;

use super::subject::NoSubject;
use super::{EngineError, Lanyard, schedule};

/// How long queued revocations wait after their queue could not be read or written.
const REVOCATION_PAUSE: chrono::Duration = chrono::Duration::minutes(5);
/// How long the loop sleeps when nothing is scheduled at all.
const IDLE_WAIT: Duration = Duration::from_secs(3600);

impl Lanyard {
    /// When the scheduler should next wake: the earliest connector renewal, session renewal
    /// or queued legacy revocation.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        let revocation = crate::legacy::next_attempt(self.ctx.dir.root())
            .map(|t| t.max(self.revocations_paused_until().unwrap_or(t)));
        self.next_renewal().into_iter().chain(revocation).min()
    }

    fn next_renewal(&self) -> Option<DateTime<Utc>> {
        let state = self.ctx.dir.load().ok()?;
        let session = state.session.as_ref().filter(|s| !s.expired)?;
        let session_at = session.renewable.then(|| session_due(session));
        state
            .connectors
            .iter()
            .filter(|(id, _)| self.ctx.policy.connectors.iter().any(|c| &c.id == *id))
            .filter_map(|(_, r)| r.next_renewal_at)
            .chain(session_at)
            .min()
    }

    /// Renews whatever is due now: the IdP session first (so connectors due at the same time
    /// use the fresh ID token), then the connectors; then retries the queued legacy
    /// revocations that are due. Called by `run` on timers, and directly by tests that move a
    /// `ManualClock`. Counts what it renewed and retried.
    pub async fn renew_due(&self) -> Result<usize, EngineError> {
        let renewed = self.renew_due_session_and_connectors().await;
        let retried = self.retry_due_revocations().await;
        renewed.map(|n| n + retried)
    }

    /// Queued legacy revocations whose time has come, tried again. A retry reads no MCP
    /// client's file, so its context needs no home folder. A queue that can't be read or
    /// written pauses the retries for `REVOCATION_PAUSE` instead of failing the renewals: the
    /// loop's backoff is for renewals, and would delay every token's renewal.
    async fn retry_due_revocations(&self) -> usize {
        let now = self.ctx.clock.now();
        if self.revocations_paused_until().is_some_and(|t| t > now) {
            return 0;
        }
        let due = self
            .ctx
            .blocking(move |c| {
                let due = crate::legacy::next_attempt(c.dir.root()).is_some_and(|t| t <= now);
                // The state only when needed: it names the issuers discovered so far.
                due.then(|| c.dir.load().unwrap_or_default())
            })
            .await;
        let Some(state) = due else {
            return 0;
        };
        let ctx = self.legacy_context_of(&state, PathBuf::new());
        match crate::legacy::retry_due(&ctx).await {
            Ok(receipts) => {
                for r in &receipts {
                    tracing::info!(
                        entry = %r.entry_id,
                        outcome = r.revocation.code(),
                        "queued legacy revocation retried"
                    );
                }
                receipts.len()
            }
            Err(e) => {
                tracing::warn!(error = %e, "queued legacy revocations: paused after an error");
                *self.pause_slot() = Some(now + REVOCATION_PAUSE);
                0
            }
        }
    }

    fn revocations_paused_until(&self) -> Option<DateTime<Utc>> {
        *self.pause_slot()
    }

    fn pause_slot(&self) -> std::sync::MutexGuard<'_, Option<DateTime<Utc>>> {
        self.revocations_paused_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    async fn renew_due_session_and_connectors(&self) -> Result<usize, EngineError> {
        let state = self.ctx.load().await?;
        let Some(session) = state.session.as_ref().filter(|s| !s.expired) else {
            return Ok(0);
        };
        let now = self.ctx.clock.now();
        // The same due time `next_due` named: were the two to disagree, the loop would wake
        // to do nothing, again and again.
        let mut session_unreachable = None;
        if session.renewable && now >= session_due(session) {
            let trace = Trace::new();
            if let Err(NoSubject::Unreachable(why) | NoSubject::Keyring(why)) =
                self.session.subject(&trace, true).await
            {
                session_unreachable = Some(why);
            }
            self.announce();
        }
        let due: Vec<String> = self
            .ctx
            .policy
            .connectors
            .iter()
            .filter(|c| {
                state
                    .connectors
                    .get(c.id.as_str())
                    .and_then(|r| r.next_renewal_at)
                    .is_some_and(|t| t <= now)
            })
            .map(|c| c.id.to_string())
            .collect();
        if due.is_empty() {
            // An error, so `run` backs off before the next try: the session's due time stays
            // in the past until a renewal works.
            return match session_unreachable {
                Some(why) => Err(LoginError::Unreachable(why).into()),
                None => Ok(0),
            };
        }
        self.connectors
            .resolve(&self.session, &due, || self.announce())
            .await?;
        Ok(due.len())
    }

    /// The renewal loop: sleeps until the next due time, wakes early when something changes,
    /// stops when `shutdown` fires. A failing renewal (the state folder or keyring refusing
    /// writes) backs off instead of retrying at once: the due time it failed to move is still
    /// in the past, and without the backoff the loop would spin.
    pub async fn run(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut failures: u32 = 0;
        loop {
            let me = self.clone();
            // Reading the state file blocks: off the runtime, like every other state read.
            let due = tokio::task::spawn_blocking(move || me.next_due())
                .await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            let wait = loop_wait(due, self.ctx.clock.now(), failures);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {
                    match self.renew_due().await {
                        Ok(_) => failures = 0,
                        Err(e) => {
                            failures = failures.saturating_add(1);
                            tracing::warn!(code = e.code(), failures, "renewal failed: {e}");
                        }
                    }
                }
                _ = self.wake.notified() => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// When the session is renewed: a margin before its ID token expires, a share of that
/// token's lifetime (so a short-lived token is not renewed again at once).
fn session_due(session: &SessionRecord) -> DateTime<Utc> {
    let obtained = session
        .id_token_obtained_at
        .unwrap_or(session.signed_in_at)
        .min(session.id_token_expires_at);
    schedule::renewal_at(obtained, Some(session.id_token_expires_at), 0.0)
}

/// How long to sleep: until `due`, but after `failures` failed renewals in a row at least
/// the backoff for that many failures.
pub(super) fn loop_wait(due: Option<DateTime<Utc>>, now: DateTime<Utc>, failures: u32) -> Duration {
    let until_due = due.map_or(IDLE_WAIT, |d| (d - now).to_std().unwrap_or_default());
    if failures == 0 {
        return until_due;
    }
    let floor = schedule::backoff(failures, 0.0)
        .to_std()
        .unwrap_or_default();
    until_due.max(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_renewal_backs_off_instead_of_spinning() {
        let now = Utc::now();
        let overdue = Some(now - chrono::Duration::seconds(30));
        assert_eq!(loop_wait(overdue, now, 0), Duration::ZERO);
        let first = loop_wait(overdue, now, 1);
        let third = loop_wait(overdue, now, 3);
        assert!(first >= Duration::from_secs(1), "{first:?}");
        assert!(third > first, "{third:?} vs {first:?}");
        // Nothing due: the idle wait, failures or not.
        assert_eq!(loop_wait(None, now, 0), IDLE_WAIT);
    }
}
