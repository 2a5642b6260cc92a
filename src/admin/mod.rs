//! The admin's policy tools: onboard a connector from its MCP URL, start a policy from the
//! IdP's discovery document, check a policy (statically and live), export it for a fleet's
//! MDM, and read it back from each platform's managed location. No printing: the CLI renders.

pub mod check;
pub mod export;
pub mod idp;
pub mod init;
pub mod managed;
pub mod onboard;
pub mod policy_file;
pub mod problem;
pub mod registry;
pub mod static_check;
