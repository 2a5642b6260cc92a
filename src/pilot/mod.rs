//! The admin pilot: prove an EMA set-up on one machine before rolling it out. A what-if grant
//! `matrix` signs in each test user in a throw-away `profile` (never the admin's own session,
//! state or keyring items) and resolves every connector; `expect` compares it with the grants
//! the admin intended; `report` renders one self-contained HTML page to share.

pub mod expect;
pub mod matrix;
pub mod profile;
pub mod report;
mod report_data;
mod report_html;
mod timing;

pub use expect::{ExpectError, Expectations};
pub use matrix::{
    Matrix, MatrixCell, MatrixControl, MatrixOptions, MatrixProgress, MatrixRow, Mismatch,
    ProgressPhase, RowError, run_matrix,
};
pub use profile::{ProfileError, ProfileOptions, ProfileStore, ThrowawayProfile};
pub use report::{PilotReport, PolicyCheckSection, ReportError};
pub use timing::{FlowTiming, LegGroup};

#[cfg(test)]
mod tests;
