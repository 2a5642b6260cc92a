//! Text output of `lanyard pilot`: the matrix as a table with mismatches in words, and where
//! the report went. (JSON goes through `render::json_line`.)

use std::path::Path;

use lanyard::pilot::report::PilotReport;
use lanyard::pilot::{Matrix, MatrixCell, Mismatch};
use lanyard::view::connector::ConnectorState;

/// A cell in at most a few characters: icon + word, and the mismatch spelled out.
fn cell_text(cell: &MatrixCell) -> String {
    let state = match cell.state {
        ConnectorState::Granted => "✓ granted",
        ConnectorState::Denied => "✗ denied",
        ConnectorState::Unsupported => "– unsupported",
        ConnectorState::NeedsSignIn => "○ needs sign-in",
        ConnectorState::Misconfigured => "⚙ misconfigured",
        ConnectorState::Unreachable => "⚡ unreachable",
        ConnectorState::Pending => "… pending",
    };
    match cell.mismatch {
        Some(m) => format!("⚠ {} ({state})", m.label().to_uppercase()),
        None => state.to_string(),
    }
}

pub fn matrix(m: &Matrix) {
    let user_w = m
        .users
        .iter()
        .map(|u| u.user.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "Grant matrix: {} users × {} connectors{}",
        m.users.len(),
        m.columns.len(),
        if m.compared {
            ", compared with the expected grants"
        } else {
            ""
        }
    );
    for row in &m.users {
        println!();
        if !row.signed_in {
            let (code, msg) = row
                .error
                .as_ref()
                .map_or(("", ""), |e| (e.code.as_str(), e.message.as_str()));
            println!("{:<user_w$}  not signed in ({code}): {msg}", row.user);
            continue;
        }
        println!("{}", row.user);
        for col in &m.columns {
            let Some(cell) = row.connectors.iter().find(|c| c.id == col.id) else {
                continue;
            };
            let code = cell
                .code
                .as_deref()
                .map(|c| format!("  {c}"))
                .unwrap_or_default();
            println!("  {:<14} {}{code}", col.name, cell_text(cell));
        }
    }
    mismatches(m);
}

/// The mismatches in sentences, then the problems.
fn mismatches(m: &Matrix) {
    let mismatches: Vec<String> = m
        .mismatches()
        .map(|(row, cell, kind)| {
            let name = m
                .columns
                .iter()
                .find(|c| c.id == cell.id)
                .map_or(cell.id.as_str(), |c| c.name.as_str());
            match kind {
                Mismatch::OverGrant => format!(
                    "⚠ over-grant: {} was granted {name}, which the expected grants do not include",
                    row.user
                ),
                Mismatch::UnderGrant => format!(
                    "⚠ under-grant: {} was expected to get {name}, but it was not granted ({})",
                    row.user,
                    cell.code.as_deref().unwrap_or(cell.state.as_str())
                ),
            }
        })
        .collect();
    if !mismatches.is_empty() {
        println!("\nMismatches:");
        for line in mismatches {
            println!("  {line}");
        }
    } else if m.compared {
        println!("\n✓ Every cell is as expected.");
    }
    if !m.problems.is_empty() {
        println!("\nProblems:");
        for p in &m.problems {
            println!("  ⚠ {p}");
        }
    }
    if m.cancelled {
        println!("\nCancelled: users after that point were not signed in.");
    }
}

pub fn report_written(r: &PilotReport, html: &Path, json: Option<&Path>) {
    println!("Pilot report written to {}", html.display());
    if let Some(j) = json {
        println!("Report data written to {}", j.display());
    }
    if let Some(m) = &r.matrix {
        let n = m.mismatches().count();
        if m.compared {
            println!("{n} mismatch(es) between the grants and the expected grants.");
        }
    }
}
