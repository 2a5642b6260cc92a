//! Persisting what a resolution found: each connector's access token to the keyring (or its
//! removal), its trace file, then every record in ONE state-file write — a fan-out of hundreds
//! of connectors must not fsync hundreds of times.
//!
//! A failed renewal keeps a still-valid token unless the failure is a verdict on access
//! (`keeps_token`). A token the keyring refuses to keep is not a grant: the connector is recorded as
//! `unreachable` with code `keyring_unavailable` ("can't save tokens: …"), so status says why
//! and the backoff timer, not a tight loop, decides when to try again.

use chrono::{DateTime, Utc};

use crate::policy::ConnectorConfig;
use crate::store::items;
use crate::store::state::{ConnectorRecord, State, TraceName};
use crate::trace::Trace;
use crate::view::connector::{ConnectorError, ConnectorState, Grant, Resolution, Stage};

use super::context::Context;
use super::{EngineError, schedule};

/// One connector's config and what resolving it produced.
pub(super) type Outcome = (ConnectorConfig, (Resolution, Trace));

/// What the keyring step left for the state file.
type Kept = (
    ConnectorConfig,
    Result<Grant, (ConnectorState, ConnectorError)>,
);

/// Marks the connectors pending (creating their records on first sight).
pub(super) async fn mark_pending(
    ctx: &Context,
    connectors: &[ConnectorConfig],
) -> Result<(), EngineError> {
    let now = ctx.clock.now();
    let connectors = connectors.to_vec();
    ctx.update(move |s| {
        for c in &connectors {
            let rec = s
                .connectors
                .entry(c.id.to_string())
                .or_insert_with(|| pending_record(c, now));
            rec.state = ConnectorState::Pending;
            rec.updated_at = now;
        }
    })
    .await?;
    Ok(())
}

/// Persists outcomes: tokens to the keyring, then every record in one state-file write.
pub(super) async fn record(ctx: &Context, outcomes: Vec<Outcome>) -> Result<(), EngineError> {
    let now = ctx.clock.now();
    let kept = ctx.blocking(move |ctx| keep_all(ctx, outcomes)).await;
    ctx.update(move |s| apply(s, kept, now)).await?;
    Ok(())
}

/// Keyring writes and trace files are independent per connector: do them on a few threads,
/// so hundreds of connectors don't wait on one D-Bus round trip at a time.
fn keep_all(ctx: &Context, mut queue: Vec<Outcome>) -> Vec<Kept> {
    let lanes = queue.len().clamp(1, 8);
    let per_lane = queue.len().div_ceil(lanes);
    let mut work = Vec::new();
    while !queue.is_empty() {
        let rest = queue.split_off(per_lane.min(queue.len()));
        work.push(std::mem::replace(&mut queue, rest));
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = work
            .into_iter()
            .map(|lane| scope.spawn(|| lane.into_iter().map(|o| keep(ctx, o)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            // A panicking lane is a bug in our own code; surface it rather than lose records.
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// One connector's keyring write (or removal) and trace file.
fn keep(ctx: &Context, (c, (resolution, trace)): Outcome) -> Kept {
    if let Err(e) = ctx
        .dir
        .save_trace(&TraceName::Connector(c.id.clone()), &trace.steps())
    {
        tracing::warn!(connector = %c.id, "could not save the trace: {e}");
    }
    let item = items::access_token(&c.id);
    let outcome = match resolution {
        Resolution::Granted(grant) => match ctx.store.set(&item, &grant.access_token) {
            Ok(()) => Ok(grant),
            Err(e) => Err(cant_save(&e)),
        },
        Resolution::Failed { state, error, .. } => {
            // A verdict on access (denied, signed out, no longer zero-touch) ends what we
            // held; a renewal that failed otherwise leaves a still-valid token in use.
            let forgotten = if keeps_token(state) {
                Ok(())
            } else {
                ctx.store.delete(&item)
            };
            match forgotten {
                Ok(()) => Err((state, error)),
                Err(e) => Err(cant_save(&e)),
            }
        }
    };
    (c, outcome)
}

/// Whether a failure leaves the connector's token where it is: the network failing, or a
/// server answering something unusable (an HTML page where a token response belongs, a
/// misconfiguration the admin can fix). Neither says the user lost access, and the token the
/// last renewal got is still valid until its expiry, which status keeps showing.
fn keeps_token(state: ConnectorState) -> bool {
    matches!(
        state,
        ConnectorState::Unreachable | ConnectorState::Misconfigured
    )
}

fn cant_save(e: &crate::store::StoreError) -> (ConnectorState, ConnectorError) {
    let error = ConnectorError {
        // The token came from the jwt-bearer leg; keeping it is what failed.
        stage: Stage::JwtBearer,
        code: "keyring_unavailable".into(),
        description: Some(format!("can't save tokens: {e}")),
        hint: "Unlock or start your system keyring; Lanyard tries again on its own.".into(),
    };
    (ConnectorState::Unreachable, error)
}

fn apply(s: &mut State, kept: Vec<Kept>, now: DateTime<Utc>) {
    for (c, outcome) in kept {
        let prev = s.connectors.get(c.id.as_str()).cloned();
        let record = match outcome {
            Ok(grant) => granted_record(&c, grant, now),
            Err((state, error)) => failed_record(&c, prev, state, error, now),
        };
        s.connectors.insert(c.id.to_string(), record);
    }
}

fn granted_record(c: &ConnectorConfig, grant: Grant, now: DateTime<Utc>) -> ConnectorRecord {
    ConnectorRecord {
        name: c.name.clone(),
        mcp_url: c.mcp_url.to_string(),
        state: ConnectorState::Granted,
        expires_at: grant.expires_at,
        scopes: grant.scopes,
        tools: grant.tools,
        error: None,
        updated_at: now,
        failures: 0,
        as_issuer: Some(grant.as_issuer),
        next_renewal_at: Some(schedule::renewal_at(
            now,
            grant.expires_at,
            schedule::jitter(),
        )),
    }
}

fn failed_record(
    c: &ConnectorConfig,
    prev: Option<ConnectorRecord>,
    state: ConnectorState,
    error: ConnectorError,
    now: DateTime<Utc>,
) -> ConnectorRecord {
    let failures = prev.as_ref().map_or(0, |p| p.failures).saturating_add(1);
    let as_issuer = prev.as_ref().and_then(|p| p.as_issuer.clone());
    // While the token is kept, its expiry, scopes and tools stay visible.
    let keep = prev.filter(|_| keeps_token(state));
    ConnectorRecord {
        name: c.name.clone(),
        mcp_url: c.mcp_url.to_string(),
        state,
        expires_at: keep.as_ref().and_then(|p| p.expires_at),
        scopes: keep.as_ref().map(|p| p.scopes.clone()).unwrap_or_default(),
        tools: keep.as_ref().and_then(|p| p.tools),
        error: Some(error),
        updated_at: now,
        failures,
        next_renewal_at: retry_at(state, now, failures),
        as_issuer,
    }
}

pub(super) fn pending_record(c: &ConnectorConfig, now: DateTime<Utc>) -> ConnectorRecord {
    ConnectorRecord {
        name: c.name.clone(),
        mcp_url: c.mcp_url.to_string(),
        state: ConnectorState::Pending,
        expires_at: None,
        scopes: vec![],
        tools: None,
        error: None,
        updated_at: now,
        failures: 0,
        next_renewal_at: None,
        as_issuer: None,
    }
}

/// Which failed states are retried on their own: the network heals; policy does not.
fn retry_at(state: ConnectorState, now: DateTime<Utc>, failures: u32) -> Option<DateTime<Utc>> {
    match state {
        ConnectorState::Unreachable => Some(now + schedule::backoff(failures, schedule::jitter())),
        _ => None,
    }
}
