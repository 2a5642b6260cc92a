//! Persisting what a resolution found: each connector's trace file, then every access token in
//! ONE keyring write (store/connector_tokens.rs) and every record in ONE state-file write — a
//! fan-out of hundreds of connectors must not make hundreds of D-Bus calls or fsyncs.
//!
//! A failed renewal keeps a still-valid token unless the failure is a verdict on access
//! (`keeps_token`). A token the keyring refuses to keep is not a grant: the connector is recorded as
//! `unreachable` with code `keyring_unavailable` ("can't save tokens: …"), so status says why
//! and the backoff timer, not a tight loop, decides when to try again.

use chrono::{DateTime, Utc};

use crate::policy::ConnectorConfig;
use crate::store::state::{ConnectorRecord, State, TraceName};
use crate::store::{ConnectorTokens, StoreError, items};
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

/// Persists outcomes: trace files, then the tokens (one keyring item) and every record (one
/// state-file write) together under the state file's cross-process lock, so two processes
/// renewing at once never write back each other's older token set.
pub(super) async fn record(ctx: &Context, outcomes: Vec<Outcome>) -> Result<(), EngineError> {
    let now = ctx.clock.now();
    ctx.blocking(move |ctx| {
        save_traces(ctx, &outcomes);
        ctx.dir.update(|s| {
            let kept = keep_tokens(ctx, outcomes, s.connectors.keys());
            apply(s, kept, now)
        })
    })
    .await?;
    Ok(())
}

/// Trace files are independent per connector: write them on a few threads, so hundreds of
/// connectors don't wait on one fsync at a time.
fn save_traces(ctx: &Context, outcomes: &[Outcome]) {
    let lanes = outcomes.len().clamp(1, 8);
    let per_lane = outcomes.len().div_ceil(lanes).max(1);
    std::thread::scope(|scope| {
        for lane in outcomes.chunks(per_lane) {
            scope.spawn(move || {
                for (c, (_, trace)) in lane {
                    let name = TraceName::Connector(c.id.clone());
                    if let Err(e) = ctx.dir.save_trace(&name, &trace.steps()) {
                        tracing::warn!(connector = %c.id, "could not save the trace: {e}");
                    }
                }
            });
        }
    });
}

/// Every connector's token change in one keyring read and one write: a grant adds its token,
/// a verdict on access removes it, any other failure leaves it. If the keyring refuses, each
/// connector whose token had to change is recorded as unable to save. `known`: the connectors
/// the state file has records for (an older version kept a token item only for those).
fn keep_tokens<'a>(
    ctx: &Context,
    outcomes: Vec<Outcome>,
    known: impl Iterator<Item = &'a String>,
) -> Vec<Kept> {
    let store = ctx.store.as_ref();
    let loaded = match ConnectorTokens::load(store) {
        // A damaged item holds nothing usable: this round's tokens replace it.
        Err(StoreError::Damaged { .. }) => Ok(ConnectorTokens::default()),
        other => other,
    };
    let mut tokens = match loaded {
        Ok(t) => t,
        Err(e) => return outcomes.into_iter().map(|o| unchanged(o, &e)).collect(),
    };
    let first_write = tokens.is_new();
    let mut taken_away = Vec::new();
    let mut changed = false;
    let decided: Vec<(ConnectorConfig, Resolution)> = outcomes
        .into_iter()
        .map(|(c, (resolution, _))| {
            match &resolution {
                Resolution::Granted(grant) => {
                    tokens.insert(c.id.as_str(), grant.access_token.clone());
                    changed = true;
                }
                Resolution::Failed { state, .. } if !keeps_token(*state) => {
                    changed |= tokens.remove(c.id.as_str());
                    taken_away.push(c.id.to_string());
                }
                Resolution::Failed { .. } => {}
            }
            (c, resolution)
        })
        .collect();
    let saved = if first_write {
        // Read only here, once per profile: every other round leaves `known` untouched.
        let mut ids: Vec<String> = known.cloned().collect();
        ids.extend(decided.iter().map(|(c, _)| c.id.to_string()));
        migrate(store, &mut tokens, ids, &taken_away)
    } else if changed {
        tokens.save(store)
    } else {
        Ok(())
    };
    decided
        .into_iter()
        .map(|(c, resolution)| {
            let outcome = match (resolution, &saved) {
                (Resolution::Granted(grant), Ok(())) => Ok(grant),
                (Resolution::Failed { state, error, .. }, Ok(())) => Err((state, error)),
                (Resolution::Failed { state, error, .. }, Err(_)) if keeps_token(state) => {
                    Err((state, error))
                }
                (_, Err(e)) => Err(cant_save(e)),
            };
            (c, outcome)
        })
        .collect()
}

/// The first write of the shared item, once per profile: every per-connector item an older
/// version left is moved into it (unless this round took that access away, or renewed it) and
/// deleted, so from then on a round touches the one item only, whatever the verdicts.
fn migrate(
    store: &dyn crate::store::SecretStore,
    tokens: &mut ConnectorTokens,
    mut ids: Vec<String>,
    taken_away: &[String],
) -> Result<(), StoreError> {
    ids.sort();
    ids.dedup();
    let mut older = Vec::new();
    for id in &ids {
        let item = items::access_token(id);
        if let Some(token) = store.get(&item)? {
            if tokens.get(id).is_none() && !taken_away.contains(id) {
                tokens.insert(id, token);
            }
            older.push(item);
        }
    }
    tokens.save(store)?;
    older.iter().try_for_each(|item| store.delete(item))
}

/// What a connector records when the token item could not even be read: a failure that keeps
/// its token needed no keyring change; anything else could not be saved.
fn unchanged((c, (resolution, _)): Outcome, e: &StoreError) -> Kept {
    let outcome = match resolution {
        Resolution::Failed { state, error, .. } if keeps_token(state) => Err((state, error)),
        _ => Err(cant_save(e)),
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

fn cant_save(e: &StoreError) -> (ConnectorState, ConnectorError) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::store::{MemoryStore, SecretStore};

    #[test]
    fn the_first_write_moves_still_valid_older_items_in_and_deletes_them_all() {
        let store = MemoryStore::new();
        let old = |id: &str| Secret::new(format!("labsecret_at_{id}_older"));
        for id in ["kept", "renewed", "denied"] {
            store.set(&items::access_token(id), &old(id)).unwrap();
        }
        let mut tokens = ConnectorTokens::load(&store).unwrap();
        tokens.insert("renewed", Secret::new("labsecret_at_renewed_new"));
        let ids = ["kept", "renewed", "denied", "never-held"].map(String::from);
        migrate(&store, &mut tokens, ids.to_vec(), &["denied".into()]).unwrap();

        let shared = ConnectorTokens::load(&store).unwrap();
        assert_eq!(
            shared.get("kept"),
            Some(&old("kept")),
            "a still-valid token moves in"
        );
        assert_eq!(
            shared.get("renewed").unwrap().expose(),
            "labsecret_at_renewed_new"
        );
        assert!(shared.get("denied").is_none(), "a verdict is not undone");
        assert_eq!(shared.len(), 2);
        for id in ids {
            assert!(
                store.get(&items::access_token(&id)).unwrap().is_none(),
                "{id}"
            );
        }
    }
}
