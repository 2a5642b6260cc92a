//! Core against the real lab on 127.0.0.1:0: real HTTP, the real loopback callback, the real
//! OS keyring (run under scripts/with-keyring.sh). One test binary, a module per feature.

mod support;

mod canary;
mod device_key;
mod diagnose;
mod fault_catalogue;
mod faults;
mod grants;
mod keyring;
mod legacy;
mod pinning;
mod renewal;
mod responsive;
mod security;
