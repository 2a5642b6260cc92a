//! `pilot.generated.ts`: what the Admin pilot page gets (src/pilot/): the what-if grant matrix
//! of `lanyard pilot matrix --json` (version 1), its progress events, and the policy check.

use super::{File, declare};
use crate::pilot::matrix::{
    ConnectorColumn, Matrix, MatrixCell, MatrixProgress, MatrixRow, Mismatch, ProgressPhase,
    RowError,
};
use crate::pilot::report::{PolicyCheckSection, PolicyProblem};
use crate::pilot::{FlowTiming, LegGroup};

pub(super) fn file() -> File {
    File {
        name: "pilot.generated.ts",
        from: "src/pilot/",
        decls: vec![
            declare::<Mismatch>(),
            declare::<MatrixCell>(),
            declare::<RowError>(),
            declare::<MatrixRow>(),
            declare::<ConnectorColumn>(),
            declare::<LegGroup>(),
            declare::<FlowTiming>(),
            declare::<Matrix>(),
            declare::<ProgressPhase>(),
            declare::<MatrixProgress>(),
            declare::<PolicyProblem>(),
            declare::<PolicyCheckSection>(),
        ],
        tail: String::new(),
    }
}
