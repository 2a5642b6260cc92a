//! The session: the IdP client, the renewal ladder (ID token → IdP refresh token → sign in),
//! refresh-token rotation and the keyring items that belong to the session.
//!
//! Every change to the session's tokens — sign-in, refresh, logout — happens under one lock
//! that spans processes (`session.lock` in the state folder): the app's renewal loop and a
//! `lanyard refresh` in a terminal must never spend the same rotated refresh token, or the
//! loser would throw away the winner's (peers.md: claude-code #85236). Whatever is read
//! after taking the lock is current.

use std::fs::File;
use std::sync::Arc;

use crate::protocol::oidc::{IdpClient, LoginError, SessionTokens, SignInOptions};
use crate::secret::Secret;
use crate::store::items;
use crate::store::state::{SessionRecord, StateError, TraceName};
use crate::trace::Trace;

use super::context::Context;
use super::subject::{NoSubject, Subject, keyring};
use super::{EngineError, credentials};

/// The ID token is used as the exchange's subject only while it has at least this long left.
const ID_TOKEN_MIN_REMAINING: chrono::Duration = chrono::Duration::seconds(60);

/// Held while the session's tokens change: the in-process mutex, then the file lock.
struct SessionGuard {
    _local: tokio::sync::OwnedMutexGuard<()>,
    _file: File,
}

pub(super) struct Session {
    ctx: Context,
    idp: tokio::sync::Mutex<Option<IdpClient>>,
    /// Tasks of this process queue here first, so only one of them waits on the file lock.
    local: Arc<tokio::sync::Mutex<()>>,
}

impl Session {
    pub fn new(ctx: Context) -> Self {
        Self {
            ctx,
            idp: tokio::sync::Mutex::new(None),
            local: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    async fn lock(&self) -> Result<SessionGuard, StateError> {
        let local = self.local.clone().lock_owned().await;
        let file = self.ctx.blocking(|c| c.dir.lock_session()).await?;
        Ok(SessionGuard {
            _local: local,
            _file: file,
        })
    }

    /// The discovered IdP, cached for the engine's life.
    pub async fn idp_client(&self, trace: &Trace) -> Result<IdpClient, EngineError> {
        let mut cached = self.idp.lock().await;
        if let Some(c) = cached.as_ref() {
            return Ok(c.clone());
        }
        let auth = self
            .ctx
            .blocking(|c| {
                let cfg = &c.policy.idp;
                credentials::client_auth(
                    c.store.as_ref(),
                    &cfg.client_id,
                    cfg.token_endpoint_auth_method,
                    cfg.client_secret.as_ref(),
                )
            })
            .await?;
        let client = IdpClient::discover(&self.ctx.http, &self.ctx.policy.idp, auth, trace).await?;
        *cached = Some(client.clone());
        Ok(client)
    }

    /// Interactive sign-in; the tokens and the session record are stored under the lock.
    pub async fn sign_in(&self, opts: SignInOptions) -> Result<(), EngineError> {
        let trace = Trace::new();
        let result = async {
            let idp = self.idp_client(&trace).await?;
            Ok::<_, EngineError>(idp.sign_in(opts, &trace).await?)
        }
        .await;
        self.ctx.save_trace(TraceName::SignIn, &trace).await;
        let tokens = result?;
        let _guard = self.lock().await?;
        self.store_sign_in(tokens).await
    }

    async fn store_sign_in(&self, tokens: SessionTokens) -> Result<(), EngineError> {
        let now = self.ctx.clock.now();
        let SessionTokens {
            id_token,
            refresh_token,
            identity: id,
        } = tokens;
        let renewable = refresh_token.is_some();
        self.ctx.set_secret(items::ID_TOKEN, id_token).await?;
        match refresh_token {
            Some(rt) => self.ctx.set_secret(items::REFRESH_TOKEN, rt).await?,
            None => self.ctx.delete_secret(items::REFRESH_TOKEN).await?,
        }
        self.ctx
            .update(move |s| {
                s.session = Some(SessionRecord {
                    issuer: id.issuer,
                    subject: id.subject,
                    email: id.email,
                    name: id.name,
                    id_token_expires_at: id.expires_at,
                    renewable,
                    signed_in_at: now,
                    id_token_obtained_at: Some(now),
                    expired: false,
                    renewal_failing: false,
                });
            })
            .await?;
        Ok(())
    }

    /// The renewal ladder: a valid ID token; else the IdP refresh token (rotated tokens are
    /// stored before anything else); else the user must sign in.
    pub async fn subject(&self, trace: &Trace, force_refresh: bool) -> Result<Subject, NoSubject> {
        let unreachable = |e: &dyn std::fmt::Display| NoSubject::Unreachable(e.to_string());
        let _guard = self.lock().await.map_err(|e| unreachable(&e))?;
        let state = self.ctx.load().await.map_err(|e| unreachable(&e))?;
        let Some(session) = state.session else {
            return Err(NoSubject::NeedsSignIn("not signed in".into()));
        };
        let now = self.ctx.clock.now();
        let id_token = self
            .ctx
            .secret(items::ID_TOKEN)
            .await
            .map_err(|e| keyring(&e))?;
        if !force_refresh
            && session.id_token_expires_at - now > ID_TOKEN_MIN_REMAINING
            && let Some(t) = id_token
        {
            return Ok(Subject::IdToken(t));
        }
        let Some(rt) = self
            .ctx
            .secret(items::REFRESH_TOKEN)
            .await
            .map_err(|e| keyring(&e))?
        else {
            self.mark_expired().await;
            return Err(NoSubject::NeedsSignIn(
                "the ID token expired and there is no refresh token".into(),
            ));
        };
        let result = match self.idp_client(trace).await {
            Ok(idp) => self.refresh(&idp, rt, &session.subject, trace).await,
            Err(e) => Err(NoSubject::from_engine(&e)),
        };
        if matches!(result, Err(NoSubject::Unreachable(_))) {
            // Recorded so the status can say the session will lapse unless a retry works.
            self.mark_renewal_failing().await;
        }
        self.ctx.save_trace(TraceName::SessionRefresh, trace).await;
        result
    }

    /// One refresh_token grant. The rotated refresh token is stored before the new ID token
    /// is verified: the old one is already spent, whatever the verification says.
    // long: the order of these steps is invariant 6 of ARCHITECTURE.md (store the rotated
    // token first, then verify, then record); one sequence read top to bottom shows it.
    async fn refresh(
        &self,
        idp: &IdpClient,
        rt: Secret,
        subject: &str,
        trace: &Trace,
    ) -> Result<Subject, NoSubject> {
        let unreachable = |e: &dyn std::fmt::Display| NoSubject::Unreachable(e.to_string());
        let fresh = match idp.refresh(&rt, trace).await {
            Ok(fresh) => fresh,
            // No verdict on the refresh token (an outage, or an answer that is not a token
            // response at all, such as a proxy's page): keep it and try again later.
            Err(LoginError::Unreachable(why) | LoginError::InvalidResponse(why)) => {
                return Err(NoSubject::Unreachable(why));
            }
            Err(e) => {
                self.mark_expired().await;
                if let Err(d) = self.ctx.delete_secret(items::REFRESH_TOKEN).await {
                    tracing::warn!("could not forget the refused refresh token: {d}");
                }
                return Err(NoSubject::NeedsSignIn(e.to_string()));
            }
        };
        if let Some(new_rt) = &fresh.refresh_token {
            self.ctx
                .set_secret(items::REFRESH_TOKEN, new_rt.clone())
                .await
                .map_err(|e| keyring(&e))?;
        }
        let current_rt = fresh.refresh_token.unwrap_or(rt);
        let Some(idt) = fresh.id_token else {
            // OIDC §12.2: a refresh response may omit the ID token.
            return if idp.supports_refresh_token_subject() {
                Ok(Subject::RefreshToken(current_rt))
            } else {
                Err(NoSubject::NeedsSignIn(
                    "the IdP renewed the session without a new ID token".into(),
                ))
            };
        };
        let identity = match idp.verify_refreshed_id_token(&idt, trace).await {
            Ok(identity) => identity,
            Err(LoginError::Unreachable(why)) => return Err(NoSubject::Unreachable(why)),
            Err(e) => return Err(NoSubject::NeedsSignIn(e.to_string())),
        };
        // OIDC §12.2: a refreshed ID token must be about the same person.
        if identity.subject != subject {
            self.mark_expired().await;
            return Err(NoSubject::NeedsSignIn(
                "the IdP returned an ID token for a different subject".into(),
            ));
        }
        self.ctx
            .set_secret(items::ID_TOKEN, idt.clone())
            .await
            .map_err(|e| keyring(&e))?;
        let expires_at = identity.expires_at;
        let obtained_at = self.ctx.clock.now();
        self.ctx
            .update(move |s| {
                if let Some(sess) = s.session.as_mut() {
                    sess.id_token_expires_at = expires_at;
                    sess.id_token_obtained_at = Some(obtained_at);
                    sess.expired = false;
                    sess.renewable = true;
                    sess.renewal_failing = false;
                }
            })
            .await
            .map_err(|e| unreachable(&e))?;
        Ok(Subject::IdToken(idt))
    }

    async fn mark_renewal_failing(&self) {
        let marked = self
            .ctx
            .update(|s| {
                if let Some(sess) = s.session.as_mut() {
                    sess.renewal_failing = true;
                }
            })
            .await;
        if let Err(e) = marked {
            tracing::warn!("could not record that renewing the session fails: {e}");
        }
    }

    async fn mark_expired(&self) {
        let marked = self
            .ctx
            .update(|s| {
                if let Some(sess) = s.session.as_mut() {
                    sess.expired = true;
                    sess.renewable = false;
                }
            })
            .await;
        if let Err(e) = marked {
            tracing::warn!("could not record that the session expired: {e}");
        }
    }

    /// Revokes the IdP refresh token where possible and forgets the session's keyring items.
    /// Runs `forget` (the connectors' part of logout) while the session lock is held.
    pub async fn logout<F, Fut>(
        &self,
        forget: F,
    ) -> Result<(Option<bool>, Option<String>), EngineError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(), EngineError>>,
    {
        let _guard = self.lock().await?;
        let trace = Trace::new();
        let mut revoked = None;
        let mut revocation_error = None;
        if let Some(rt) = self.ctx.secret(items::REFRESH_TOKEN).await? {
            match self.idp_client(&trace).await {
                Ok(idp) => match idp.revoke_refresh_token(&rt, &trace).await {
                    Ok(r) => revoked = Some(r),
                    Err(e) => revocation_error = Some(e.to_string()),
                },
                Err(e) => revocation_error = Some(e.to_string()),
            }
        }
        forget().await?;
        self.ctx.delete_secret(items::ID_TOKEN).await?;
        self.ctx.delete_secret(items::REFRESH_TOKEN).await?;
        self.ctx.save_trace(TraceName::SignOut, &trace).await;
        Ok((revoked, revocation_error))
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
