//! Lanyard's headless core: zero-touch (EMA / ID-JAG) sign-in, per-connector grants,
//! renewal, storage and redacted traces. No UI, no CLI parsing, no printing: the hosts
//! (`crates/cli`, `src-tauri`) call into this crate and render what it returns.

pub mod admin;
pub mod classify;
pub mod client_auth;
pub mod clock;
pub mod connector;
pub mod device_key;
pub mod diagnose;
pub mod discovery;
pub mod engine;
pub mod exchange;
pub mod http;
pub mod jwt_peek;
pub mod legacy;
pub mod mcp;
pub mod oauth_error;
pub mod oidc;
pub mod policy;
pub mod resolve;
pub mod schedule;
pub mod secret;
pub mod state;
pub mod status;
pub mod store;
pub mod trace;
pub mod view;
pub mod www_authenticate;

pub use engine::{EngineError, Lanyard, LogoutReport, Options};
