//! A new Secret Service session when the old one died with its daemon.
//!
//! The `keyring` crate opens one Secret Service connection and one encrypted session per
//! process, on first use, and keeps them. If gnome-keyring (or KWallet's Secret Service) is
//! restarted under a running Lanyard (a crash, a package upgrade), every later call fails with
//! `NoSession` until Lanyard restarts: for a tray app that renews for weeks, every connector
//! would sit in "keyring unavailable". So a call that fails with a platform failure replaces the
//! default store with a fresh one (the bus's activation starts the daemon again if needed) and
//! is tried once more. A locked keyring is not a platform failure and is not retried.

use std::sync::Mutex;

/// How many times the store was replaced: a call that failed on generation `g` replaces it only
/// if nobody else already did since, so a round of concurrent failures reconnects once.
static GENERATION: Mutex<u64> = Mutex::new(0);

/// The generation a call starts on; pass it to [`renew`] if the call fails.
pub(super) fn generation() -> u64 {
    *GENERATION.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes sure the default store is newer than `seen`. True when a retry can use a new session.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
pub(super) fn renew(seen: u64) -> bool {
    let mut generation = GENERATION.lock().unwrap_or_else(|e| e.into_inner());
    if *generation != seen {
        return true;
    }
    match zbus_secret_service_keyring_store::Store::new() {
        Ok(store) => {
            keyring_core::set_default_store(store);
            *generation += 1;
            tracing::info!("keyring: opened a new Secret Service session after a failure");
            true
        }
        Err(e) => {
            tracing::debug!(error = %e, "keyring: no new Secret Service session");
            false
        }
    }
}

/// Keychain and Credential Manager hold no session that could go stale.
#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
pub(super) fn renew(_seen: u64) -> bool {
    false
}
