//! What the session hands the connectors for their token exchanges: a subject token (the
//! ID token, or the IdP refresh token where the IdP accepts one), or why there is none, in
//! the terms each connector's record needs (sign in, unreachable, or the keyring).

use crate::protocol::token_exchange::SubjectToken;
use crate::secret::Secret;

use super::EngineError;

/// The subject token for the next exchange, owned.
pub(super) enum Subject {
    IdToken(Secret),
    RefreshToken(Secret),
}

impl Subject {
    pub fn as_token(&self) -> SubjectToken<'_> {
        match self {
            Self::IdToken(s) => SubjectToken::IdToken(s),
            Self::RefreshToken(s) => SubjectToken::RefreshToken(s),
        }
    }
}

/// Why a subject token could not be had.
pub(super) enum NoSubject {
    NeedsSignIn(String),
    Unreachable(String),
    /// The keyring refused (locked, not running): nothing is wrong with the IdP or the
    /// session, and the person must be told which of the two to fix.
    Keyring(String),
}

impl NoSubject {
    /// An engine failure on the way to a subject token, by what failed.
    pub fn from_engine(e: &EngineError) -> Self {
        match e {
            EngineError::Store(s) => Self::Keyring(s.to_string()),
            other => Self::Unreachable(other.to_string()),
        }
    }
}

pub(super) fn keyring(e: &crate::store::StoreError) -> NoSubject {
    NoSubject::Keyring(e.to_string())
}
