//! The connectors: every connector of the policy resolved at once (each in its own future with
//! its own trace, so one never hurts another), one retry of those whose subject token went
//! stale, and the outcome persisted (`record`).

use tracing::Instrument;

use crate::engine::resolve::{ConnectorContext, resolve_connector};
use crate::policy::ConnectorConfig;
use crate::protocol::discovery::MetadataCache;
use crate::protocol::oidc::IdpClient;
use crate::trace::Trace;
use crate::view::connector::{ConnectorError, ConnectorState, Resolution, Stage};

use super::context::Context;
use super::record::{self, Outcome};
use super::session::Session;
use super::subject::{NoSubject, Subject};
use super::{EngineError, credentials};

pub(super) struct Connectors {
    ctx: Context,
    cache: MetadataCache,
}

impl Connectors {
    pub fn new(ctx: Context) -> Self {
        let cache = MetadataCache::default();
        // The authorization servers that granted before stay pinned across restarts
        // (issue 10 item 3): a server that now names another AS is refused.
        match ctx.dir.load() {
            Ok(state) => cache.recall_grants(&state),
            Err(e) => tracing::warn!("could not read the recorded authorization servers: {e}"),
        }
        Self { ctx, cache }
    }

    fn configs(&self, ids: &[String]) -> Vec<ConnectorConfig> {
        self.ctx
            .policy
            .connectors
            .iter()
            .filter(|c| ids.iter().any(|id| c.id == *id))
            .cloned()
            .collect()
    }

    /// Resolves the given connectors concurrently (each request capped per host by `Http`).
    /// `announce` is called once they are marked pending and once more at the end.
    pub async fn resolve(
        &self,
        session: &Session,
        ids: &[String],
        announce: impl Fn(),
    ) -> Result<(), EngineError> {
        let connectors = self.configs(ids);
        record::mark_pending(&self.ctx, &connectors).await?;
        announce();

        let session_trace = Trace::new();
        let subject = match session.subject(&session_trace, false).await {
            Ok(s) => s,
            Err(why) => {
                return self
                    .fail_all(&session_trace, connectors, why, announce)
                    .await;
            }
        };
        let idp = match session.idp_client(&session_trace).await {
            Ok(idp) => idp,
            Err(e) => {
                let why = NoSubject::from_engine(&e);
                return self
                    .fail_all(&session_trace, connectors, why, announce)
                    .await;
            }
        };
        let mut results = self.resolve_all(&idp, &connectors, &subject).await;

        // An IdP `invalid_grant` means the subject token went stale: renew the session once
        // and retry just those connectors.
        let stale: Vec<usize> = (0..results.len())
            .filter(|&i| is_stale_subject(&results[i].0))
            .collect();
        if !stale.is_empty() {
            let retry: Vec<ConnectorConfig> =
                stale.iter().map(|&i| connectors[i].clone()).collect();
            match session.subject(&session_trace, true).await {
                Ok(fresh) => {
                    let again = self.resolve_all(&idp, &retry, &fresh).await;
                    for (i, r) in stale.into_iter().zip(again) {
                        results[i] = r;
                    }
                }
                Err(why) => {
                    for (i, failed) in stale.into_iter().zip(no_subject_outcomes(&retry, why)) {
                        results[i] = failed.1;
                    }
                }
            }
        }
        let outcomes: Vec<Outcome> = connectors.into_iter().zip(results).collect();
        let recorded = record::record(&self.ctx, outcomes).await;
        if !session_trace.steps().is_empty() {
            self.ctx
                .save_trace(
                    crate::store::state::TraceName::SessionRefresh,
                    &session_trace,
                )
                .await;
        }
        announce();
        recorded
    }

    async fn resolve_all(
        &self,
        idp: &IdpClient,
        connectors: &[ConnectorConfig],
        subject: &Subject,
    ) -> Vec<(Resolution, Trace)> {
        futures::future::join_all(connectors.iter().map(|c| self.resolve_one(idp, c, subject)))
            .await
    }

    async fn resolve_one(
        &self,
        idp: &IdpClient,
        c: &ConnectorConfig,
        subject: &Subject,
    ) -> (Resolution, Trace) {
        let trace = Trace::new();
        let span = tracing::info_span!("connector", id = %c.id);
        let config = c.clone();
        let auth = self
            .ctx
            .blocking(move |ctx| {
                credentials::client_auth(
                    ctx.store.as_ref(),
                    &config.client_id,
                    config.token_endpoint_auth_method,
                    config.client_secret.as_ref(),
                )
            })
            .await;
        let auth = match auth {
            Ok(a) => a,
            Err(e) => {
                let error = ConnectorError {
                    stage: Stage::TokenExchange,
                    code: e.code().into(),
                    description: Some(e.to_string()),
                    hint: "Ask your IT admin to check this connector's client credentials in the policy.".into(),
                };
                let failed = Resolution::Failed {
                    state: ConnectorState::Misconfigured,
                    error,
                    fresh_subject: false,
                };
                return (failed, trace);
            }
        };
        let ctx = ConnectorContext {
            http: &self.ctx.http,
            cache: &self.cache,
            idp_issuer: idp.issuer(),
            idp_token_endpoint: idp.token_endpoint(),
            idp_auth: idp.auth(),
        };
        let r = resolve_connector(&ctx, c, &auth, subject.as_token(), &trace)
            .instrument(span.clone())
            .await;
        tracing::info!(parent: &span, state = %r.state(), "resolved");
        (r, trace)
    }

    /// No subject token: every connector asked for gets the same explained failure.
    async fn fail_all(
        &self,
        session_trace: &Trace,
        connectors: Vec<ConnectorConfig>,
        why: NoSubject,
        announce: impl Fn(),
    ) -> Result<(), EngineError> {
        self.ctx
            .save_trace(
                crate::store::state::TraceName::SessionRefresh,
                session_trace,
            )
            .await;
        let outcomes = no_subject_outcomes(&connectors, why);
        let recorded = record::record(&self.ctx, outcomes).await;
        announce();
        recorded
    }
}

fn no_subject_outcomes(connectors: &[ConnectorConfig], why: NoSubject) -> Vec<Outcome> {
    let (state, code, hint, description) = match why {
        NoSubject::NeedsSignIn(d) => (
            ConnectorState::NeedsSignIn,
            "needs_sign_in",
            "Your company sign-in has ended. Sign in again to renew this connector.",
            d,
        ),
        NoSubject::Unreachable(d) => (
            ConnectorState::Unreachable,
            "idp_unreachable",
            "Can't reach your company's sign-in service; Lanyard keeps retrying and keeps current access until it expires.",
            d,
        ),
        NoSubject::Keyring(d) => (
            ConnectorState::Unreachable,
            "keyring_unavailable",
            "Your system keyring is locked or not running: unlock it. Lanyard keeps retrying and keeps current access until it expires.",
            format!("can't read the session from the keyring: {d}"),
        ),
    };
    connectors
        .iter()
        .map(|c| {
            let error = ConnectorError {
                stage: Stage::TokenExchange,
                code: code.into(),
                description: Some(crate::trace::scrub(&description)),
                hint: hint.into(),
            };
            let failed = Resolution::Failed {
                state,
                error,
                fresh_subject: false,
            };
            (c.clone(), (failed, Trace::new()))
        })
        .collect()
}

/// The IdP refused the subject token itself (`classify::wants_fresh_subject`).
fn is_stale_subject(r: &Resolution) -> bool {
    matches!(
        r,
        Resolution::Failed {
            fresh_subject: true,
            ..
        }
    )
}
