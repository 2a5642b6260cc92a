//! The renewal loop for long-running hosts (the app): sleep until the next renewal is due,
//! wake early when something changes, renew what is due, back off when renewing fails.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

use crate::trace::Trace;

use super::session::ID_TOKEN_MIN_REMAINING;
use super::{EngineError, Lanyard, schedule};

/// How long the loop sleeps when nothing is scheduled at all.
const IDLE_WAIT: Duration = Duration::from_secs(3600);

impl Lanyard {
    /// When the scheduler should next wake: the earliest connector renewal or session renewal.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        let state = self.ctx.dir.load().ok()?;
        let session = state.session.as_ref().filter(|s| !s.expired)?;
        let session_due = session.renewable.then(|| {
            schedule::renewal_at(
                session.signed_in_at.min(session.id_token_expires_at),
                Some(session.id_token_expires_at),
                0.0,
            )
        });
        state
            .connectors
            .iter()
            .filter(|(id, _)| self.ctx.policy.connectors.iter().any(|c| &c.id == *id))
            .filter_map(|(_, r)| r.next_renewal_at)
            .chain(session_due)
            .min()
    }

    /// Renews whatever is due now. Called by `run` on timers, and directly by tests that
    /// move a `ManualClock`.
    pub async fn renew_due(&self) -> Result<usize, EngineError> {
        let state = self.ctx.load().await?;
        let Some(session) = state.session.as_ref().filter(|s| !s.expired) else {
            return Ok(0);
        };
        let now = self.ctx.clock.now();
        let due: Vec<String> = self
            .ctx
            .policy
            .connectors
            .iter()
            .filter(|c| {
                state
                    .connectors
                    .get(&c.id)
                    .and_then(|r| r.next_renewal_at)
                    .is_some_and(|t| t <= now)
            })
            .map(|c| c.id.clone())
            .collect();
        if due.is_empty() {
            if session.renewable && session.id_token_expires_at - now <= ID_TOKEN_MIN_REMAINING {
                // Keep the IdP session warm even when no connector is due.
                let trace = Trace::new();
                use crate::engine::session::NoSubject;
                if let Err(NoSubject::Unreachable(why) | NoSubject::Keyring(why)) =
                    self.session.subject(&trace, true).await
                {
                    tracing::info!("session renewal will be retried: {why}");
                }
                self.announce();
            }
            return Ok(0);
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
