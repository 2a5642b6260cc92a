//! What hosts show: the connector state vocabulary (`connector`), the `status --json`
//! version 1 types (`status`), and the builder that makes a `StatusView` from the policy and
//! the state file (`build`), and how time left reads (`time_left`). Every type here is
//! `Serialize` and holds no `Secret`.

mod build;
pub mod connector;
pub mod status;
pub mod time_left;

pub use build::build;
