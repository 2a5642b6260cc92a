//! The protocol legs, one file per concept and named after its RFC: OIDC sign-in (`oidc/`),
//! protected-resource and authorization-server discovery (RFC 9728 / RFC 8414, `discovery`,
//! `www_authenticate`, and `as_metadata`, the one AS-metadata fetch), the RFC 8693 token
//! exchange (`token_exchange`), the RFC 7523 jwt-bearer grant (`jwt_bearer`) and the
//! token-endpoint POST they share (`token_endpoint`), client authentication (`client_auth`,
//! `device_key`), OAuth errors, unverified JWT reads (`jwt_peek`) and proof that a token
//! works (`mcp`). Nothing here stores or schedules:
//! that is the engine's job.

pub mod as_metadata;
pub mod client_auth;
pub mod device_key;
pub mod discovery;
pub mod jwt_bearer;
pub mod jwt_peek;
pub mod mcp;
pub mod oauth_error;
pub mod oidc;
pub mod token_endpoint;
pub mod token_exchange;
pub mod www_authenticate;
