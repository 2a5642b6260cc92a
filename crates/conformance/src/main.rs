//! `lanyard-conformance`: the client the MCP conformance suite launches for `auth/*`
//! scenarios. It runs Lanyard's core against the suite's mock IdP, AS and MCP server and
//! reports the redacted trace; the suite's own checks decide pass or fail.
//!
//! Exit codes: 0 flow completed, 1 the core refused or a server failed, 2 bad invocation,
//! 3 the scenario needs per-user OAuth, which Lanyard does not do.

mod context;
mod flows;

use std::process::ExitCode;

use lanyard::http::Http;
use lanyard::trace::{Step, Trace};

use crate::context::Invocation;
use crate::flows::{Flow, Outcome};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let inv = match Invocation::new(std::env::args().skip(1), |name| std::env::var(name).ok()) {
        Ok(inv) => inv,
        Err(e) => {
            eprintln!("lanyard-conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let flow = Flow::for_scenario(&inv.scenario);
    println!(
        "scenario: {} ({flow:?})",
        if inv.scenario.is_empty() {
            "-"
        } else {
            &inv.scenario
        }
    );
    let http = Http::new(lanyard::clock::system());
    let trace = Trace::new();
    let result = flows::run(flow, &inv, &http, &trace).await;
    for step in trace.steps() {
        println!("  {}", step_line(&step));
    }
    match result {
        Ok(outcome) => {
            println!("{}", outcome_line(&outcome));
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("result: {e}");
            eprintln!("lanyard-conformance: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// One trace step per line; the trace already holds only redacted URLs and scrubbed text.
fn step_line(step: &Step) -> String {
    let status = step
        .status
        .map_or_else(|| "---".to_string(), |s| s.to_string());
    let mut line = format!("{:?} {} {} -> {status}", step.kind, step.method, step.url);
    if let Some(err) = &step.oauth_error {
        line.push_str(&format!(" [{err}]"));
    }
    if let Some(note) = &step.note {
        line.push_str(&format!(" ({note})"));
    }
    line
}

fn outcome_line(o: &Outcome) -> String {
    format!(
        "result: ok; resource {} issuer {}; scopes [{}]; tools/list returned {} tool(s)",
        o.meta.resource,
        o.meta.as_issuer,
        o.granted_scopes.join(" "),
        o.tools
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use lanyard::protocol::oauth_error::OAuthError;
    use lanyard::trace::StepKind;

    #[test]
    fn step_line_shows_status_error_and_note() {
        let step = Step {
            kind: StepKind::JwtBearer,
            method: "POST".into(),
            url: "http://localhost:1/token".into(),
            status: Some(401),
            duration_ms: 3,
            started_at: lanyard::clock::system().now(),
            server_date: None,
            oauth_error: Some(OAuthError {
                error: "invalid_client".into(),
                error_description: Some("Invalid client credentials".into()),
                error_uri: None,
            }),
            note: Some("retrying".into()),
            claims: None,
        };
        assert_eq!(
            step_line(&step),
            "JwtBearer POST http://localhost:1/token -> 401 [invalid_client: Invalid client credentials] (retrying)"
        );
        let failed = Step {
            status: None,
            oauth_error: None,
            note: None,
            ..step
        };
        assert_eq!(
            step_line(&failed),
            "JwtBearer POST http://localhost:1/token -> ---"
        );
    }
}
