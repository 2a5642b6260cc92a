//! `diagnostics.generated.ts`: what the Details and Diagnostics views get (src/diagnose/, with
//! the trace's step kinds and the OAuth error body): timelines, clock offsets, decoded tokens,
//! readiness checks and the doctor report.

use super::{File, declare};
use crate::diagnose::catalogue::{Endpoint, Explanation};
use crate::diagnose::clock::{ClockCheck, ClockVerdict, OriginOffset};
use crate::diagnose::doctor::{DoctorReport, Environment, KeyringCheck, NamedToken, PolicyCheck};
use crate::diagnose::inspect::{SignatureCheck, TimeClaim, TokenKind, TokenView};
use crate::diagnose::readiness::{Check, CheckId, CheckOutcome, ReadinessReport};
use crate::diagnose::timeline::{KeyClaims, Outcome, Timeline, TimelineStep, Verdict};
use crate::protocol::oauth_error::OAuthError;
use crate::trace::StepKind;

pub(super) fn file() -> File {
    File {
        name: "diagnostics.generated.ts",
        from: "src/diagnose/, src/trace.rs and\n// src/protocol/oauth_error.rs",
        decls: vec![
            declare::<StepKind>(),
            declare::<OAuthError>(),
            declare::<Endpoint>(),
            declare::<Explanation>(),
            declare::<Verdict>(),
            declare::<TimelineStep>(),
            declare::<KeyClaims>(),
            declare::<Outcome>(),
            declare::<Timeline>(),
            declare::<OriginOffset>(),
            declare::<ClockVerdict>(),
            declare::<ClockCheck>(),
            declare::<TokenKind>(),
            declare::<SignatureCheck>(),
            declare::<TimeClaim>(),
            declare::<TokenView>(),
            declare::<CheckId>(),
            declare::<CheckOutcome>(),
            declare::<Check>(),
            declare::<ReadinessReport>(),
            declare::<KeyringCheck>(),
            declare::<Environment>(),
            declare::<PolicyCheck>(),
            declare::<NamedToken>(),
            declare::<DoctorReport>(),
        ],
        tail: String::new(),
    }
}
