//! Lanyard's headless core: zero-touch (EMA / ID-JAG) sign-in, per-connector grants,
//! renewal, storage and redacted traces. No UI, no CLI parsing, no printing: the hosts
//! (`crates/cli`, `src-tauri`) call into this crate and render what it returns.
//!
//! The tree shows the layers, bottom to top: the base (`secret`, `clock`, `trace`, `http`,
//! `policy`); `protocol/` (each leg in a file named after its RFC); `store/` (keyring and
//! state file) and `view/` (what hosts render); `engine/` (session, connectors, renewal);
//! then the features built on them: `legacy/` and `diagnose/`.

pub mod admin;
pub mod atomic;
pub mod clock;
pub mod diagnose;
pub mod engine;
#[doc(hidden)]
pub mod fuzz_api;
pub mod http;
pub mod legacy;
pub mod pilot;
pub mod policy;
pub mod protocol;
pub mod redact;
pub mod secret;
pub mod store;
pub mod trace;
#[cfg(test)]
mod typescript;
pub mod view;

pub use engine::{EngineError, Lanyard, LogoutReport, Options};
