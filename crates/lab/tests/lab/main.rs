//! The lab against real HTTP on loopback: every protocol check a client depends on.

mod common;
mod connector_as;
mod device;
mod faults;
mod idp;
mod login_hint;
mod mcp;
