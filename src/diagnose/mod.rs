//! Support diagnostics: why sign-in or a connector failed, step by step, safe to share.
//!
//! Built on the redacted traces the engine saves: a per-leg `timeline` with the
//! `catalogue`'s cause and fix for each failure, a `clock` skew check from server `Date`
//! headers, a token `inspect`or that never shows a raw token, a connector `readiness` check
//! for any MCP URL, and `doctor` + `bundle` for a report a support person can be sent.
//! No UI here: hosts render these `Serialize` views.

pub mod bundle;
pub mod catalogue;
pub mod clock;
pub mod doctor;
pub mod inspect;
pub mod logs;
pub mod readiness;
pub mod timeline;

pub use bundle::{BundleError, write_bundle};
pub use catalogue::{Endpoint, Explanation, explain};
pub use clock::{ClockCheck, ClockVerdict};
pub use doctor::{DoctorOptions, DoctorReport, doctor, doctor_with};
pub use inspect::{SignatureCheck, TokenKind, TokenView};
pub use logs::{RotatingLog, log_file_path};
pub use readiness::{CheckId, CheckOutcome, ReadinessReport};
pub use timeline::{Timeline, Verdict};
