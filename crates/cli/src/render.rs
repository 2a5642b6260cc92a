//! Text and JSON output. Text is short and says what to do; JSON is the versioned contract.

use chrono::{DateTime, Utc};
use lanyard::connector::ConnectorState;
use lanyard::status::{SessionState, StatusView};
use lanyard::{EngineError, LogoutReport};

pub fn json_line<T: serde::Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("lanyard: cannot render JSON: {e}"),
    }
}

pub fn status(status: &StatusView, json: bool) {
    if json {
        return json_line(status);
    }
    let now = Utc::now();
    let s = &status.session;
    let who = s
        .email
        .clone()
        .or_else(|| s.subject.clone())
        .unwrap_or_default();
    let idp = s.issuer.clone().unwrap_or_default();
    match s.state {
        SessionState::SignedOut => println!("Not signed in to {idp}. Run `lanyard login`."),
        SessionState::Expired => {
            println!(
                "Session with {idp} for {who} has ended. Run `lanyard login` to sign in again."
            )
        }
        SessionState::SignedIn => {
            let renew = if s.renewable {
                "renews automatically"
            } else {
                "ends"
            };
            let left = s
                .expires_at
                .map(|e| left(e, now))
                .unwrap_or_else(|| "unknown".into());
            println!("Signed in as {who} at {idp} · session {renew} (ID token {left})");
        }
    }
    if status.connectors.is_empty() {
        println!("\nYour policy lists no connectors.");
        return;
    }
    println!();
    let width = status
        .connectors
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    for c in &status.connectors {
        let detail = match c.state {
            ConnectorState::Granted => {
                let expiry = c
                    .expires_at
                    .map(|e| left(e, now))
                    .unwrap_or_else(|| "expiry unknown".into());
                let tools = c.tools.map(|n| format!(" · {n} tools")).unwrap_or_default();
                format!("{expiry}{tools}")
            }
            ConnectorState::Denied => "Not granted by your organisation".into(),
            ConnectorState::NeedsSignIn => "Sign in to renew".into(),
            ConnectorState::Unsupported => "Not available zero-touch".into(),
            ConnectorState::Misconfigured => "Configuration problem: tell your IT admin".into(),
            ConnectorState::Unreachable => {
                let last = c
                    .expires_at
                    .map(|e| format!("; current access {}", left(e, now)))
                    .unwrap_or_default();
                format!("Can't reach it; retrying{last}")
            }
            ConnectorState::Pending => "Working…".into(),
        };
        let code = c
            .error
            .as_ref()
            .map(|e| format!(" ({})", e.code))
            .unwrap_or_default();
        println!(
            "  {:<width$}  {:<13}  {detail}{code}",
            c.name,
            c.state.as_str()
        );
        if let Some(e) = &c.error {
            println!("  {:<width$}  {:<13}  → {}", "", "", e.hint);
        }
    }
}

pub fn logout(report: &LogoutReport, json: bool) {
    if json {
        return json_line(report);
    }
    println!(
        "Signed out. Forgot the session and {} connector tokens on this machine.",
        report.forgotten_connectors
    );
    match (report.revoked_at_idp, &report.revocation_error) {
        (Some(true), _) => println!("The IdP revoked the session's refresh token."),
        (Some(false), _) => {
            println!("The IdP offers no revocation; its session ends on its own schedule.")
        }
        (None, Some(e)) => {
            println!("Could not revoke at the IdP ({e}); the session ends on its own schedule.")
        }
        (None, None) => {}
    }
}

pub fn doctor(report: &lanyard::diagnose::doctor::DoctorReport, json: bool) {
    use lanyard::diagnose::timeline::Outcome;
    if json {
        return json_line(report);
    }
    let env = &report.environment;
    println!(
        "Lanyard doctor · incident {} · {}",
        report.incident_id,
        report.generated_at.to_rfc3339()
    );
    println!("  app {} on {} {}", env.app_version, env.os, env.arch);
    let keyring = if env.keyring.reachable {
        "reachable".to_string()
    } else {
        format!(
            "NOT reachable ({})",
            env.keyring.error.clone().unwrap_or_default()
        )
    };
    println!("  keyring {}: {keyring}", env.keyring.backend);
    println!(
        "  policy {} · IdP {} · {} connectors",
        report.policy.source, report.policy.idp_issuer, report.policy.connectors
    );
    for p in &report.policy.problems {
        println!("  policy problem: {p}");
    }
    println!("  log file {}", env.log_file);
    match &report.clock.warning {
        Some(w) => println!("  clock: {w}"),
        None => println!("  clock: in step with the servers Lanyard talked to"),
    }
    if let Some(s) = &report.status {
        println!();
        status(s, false);
    }
    for t in report
        .timelines
        .iter()
        .filter(|t| t.outcome == Outcome::Failed)
    {
        println!();
        println!("── {} ─ what happened", t.name);
        for step in &t.steps {
            let status = step
                .status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "—".into());
            let err = step
                .oauth_error
                .as_ref()
                .map(|e| format!(" {}", e.error))
                .unwrap_or_default();
            println!(
                "  {:<34} {:>4} {:>6} ms{err}",
                step.leg, status, step.duration_ms
            );
        }
        if let Some(f) = &t.failure {
            println!("  cause: {}", f.cause);
            if let Some(d) = &f.server_description {
                println!("  the server said: {d}");
            }
            if let Some(n) = &f.clock_note {
                println!("  clock: {n}");
            }
            println!("  employee: {}", f.employee);
            println!("  admin: {}", f.admin);
        }
    }
    for r in &report.readiness {
        println!();
        println!(
            "── readiness of {} : {}",
            r.mcp_url,
            if r.ready { "ready" } else { "NOT ready" }
        );
        for c in &r.checks {
            println!(
                "  {:<8} {} — {}",
                format!("{:?}", c.outcome).to_lowercase(),
                c.title,
                c.detail
            );
        }
    }
}

pub fn legacy_list(report: &lanyard::legacy::ScanReport, json: bool) {
    if json {
        return json_line(report);
    }
    if report.entries.is_empty() {
        println!("No per-user OAuth tokens from other MCP clients were found.");
    }
    let now = Utc::now();
    for e in &report.entries {
        let what = e
            .connector_id
            .clone()
            .or_else(|| e.server_url.clone())
            .unwrap_or_else(|| "unknown server".into());
        let expiry = e
            .expires_at
            .map(|x| left(x, now))
            .unwrap_or_else(|| "expiry unknown".into());
        let refresh = if e.has_refresh_token {
            " · refresh token"
        } else {
            ""
        };
        let covered = if e.covered_by_ema {
            " · covered by zero-touch"
        } else {
            ""
        };
        let account = e
            .account
            .as_ref()
            .map(|a| format!(" · {a}"))
            .unwrap_or_default();
        println!(
            "  {:<30} {:<14} {what}{account} · {expiry}{refresh}{covered}",
            e.id,
            e.client.label()
        );
        if let Some(n) = &e.note {
            println!("      {n}");
        }
    }
    for p in &report.problems {
        println!("  could not read: {p}");
    }
    let covered = report
        .entries
        .iter()
        .filter(|e| e.covered_by_ema && e.can_disconnect)
        .count();
    if covered > 0 {
        println!(
            "\n{covered} covered by zero-touch: `lanyard legacy disconnect --covered` removes them (add --dry-run to preview)."
        );
    }
}

pub fn receipts(receipts: &[lanyard::legacy::Receipt], json: bool) {
    if json {
        return json_line(&receipts);
    }
    for r in receipts {
        let backup = r
            .backup_id
            .as_ref()
            .map(|b| format!(" (restore: lanyard legacy restore {b})"))
            .unwrap_or_default();
        println!("  {}  {}{backup}", r.entry_id, r.message);
    }
}

pub fn error(e: &EngineError) {
    eprintln!("lanyard: {e}");
    eprintln!("  what to do: {} (code: {})", e.hint(), e.code());
}

/// "54 min left", "1 h 05 min left", "expired 3 min ago".
pub fn left(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (at - now).num_seconds();
    if secs <= 0 {
        return format!("expired {} ago", human(-secs));
    }
    format!("{} left", human(secs))
}

fn human(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        s => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_naturally() {
        let now = Utc::now();
        assert_eq!(left(now + chrono::Duration::seconds(45), now), "45 s left");
        assert_eq!(
            left(now + chrono::Duration::seconds(54 * 60 + 3), now),
            "54 min left"
        );
        assert_eq!(
            left(now + chrono::Duration::seconds(3900), now),
            "1 h 05 min left"
        );
        assert_eq!(
            left(now - chrono::Duration::seconds(180), now),
            "expired 3 min ago"
        );
    }
}
