//! Text and JSON output. Text is short and says what to do; JSON is the versioned contract.
//!
//! Every command's text is built whole, then printed by `emit`. Text that a server, a token or
//! another app's file controls (error codes and descriptions, account names, URLs, notes)
//! goes through `safe` first, so it can neither carry a secret nor drive the terminal.

use chrono::{DateTime, Utc};
use lanyard::view::connector::ConnectorState;
use lanyard::view::status::{SessionState, StatusView};
use lanyard::{EngineError, LogoutReport};
use std::fmt::Write as _;

/// `writeln!` into a `String`, which cannot fail.
macro_rules! put {
    ($out:expr) => {{
        let _ = writeln!($out);
    }};
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

/// The one sanitiser for text the user did not write and Lanyard did not choose: redacted,
/// and stripped of control characters (no escape sequences, no forged lines).
pub fn safe(text: &str) -> String {
    lanyard::redact::display_safe(text)
}

/// Prints a command's text after one last pass over all of it.
fn emit(text: &str) {
    print!("{}", final_pass(text));
}

/// Every secret this process holds masked (in any encoding), and no control character but
/// the line breaks the renderer wrote. Only exact secrets: shape rules would mangle output
/// that is legitimately token-shaped, such as `lanyard device-key`'s public key.
fn final_pass(text: &str) -> String {
    let known = lanyard::redact::redact_known(text);
    known
        .split('\n')
        .map(lanyard::redact::strip_controls)
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn json_line<T: serde::Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => emit(&format!("{s}\n")),
        Err(e) => eprintln!("lanyard: cannot render JSON: {e}"),
    }
}

pub fn status(status: &StatusView, json: bool) {
    if json {
        return json_line(status);
    }
    emit(&status_text(status, Utc::now()));
}

// long: the status screen from top to bottom: session line, then one block per connector.
pub fn status_text(status: &StatusView, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let s = &status.session;
    let who = safe(
        &s.email
            .clone()
            .or_else(|| s.subject.clone())
            .unwrap_or_default(),
    );
    let idp = safe(&s.issuer.clone().unwrap_or_default());
    match s.state {
        SessionState::SignedOut => put!(out, "Not signed in to {idp}. Run `lanyard login`."),
        SessionState::Expired => {
            put!(
                out,
                "Session with {idp} for {who} has ended. Run `lanyard login` to sign in again."
            );
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
            put!(
                out,
                "Signed in as {who} at {idp} · session {renew} (ID token {left})"
            );
        }
    }
    if status.connectors.is_empty() {
        put!(out, "\nYour policy lists no connectors.");
        return out;
    }
    put!(out);
    let width = status
        .connectors
        .iter()
        .map(|c| safe(&c.name).chars().count())
        .max()
        .unwrap_or(0);
    for c in &status.connectors {
        let detail = connector_detail(c, now);
        let code = c
            .error
            .as_ref()
            .map(|e| format!(" ({})", safe(&e.code)))
            .unwrap_or_default();
        put!(
            out,
            "  {:<width$}  {:<13}  {detail}{code}",
            safe(&c.name),
            c.state.as_str()
        );
        if let Some(e) = &c.error {
            put!(out, "  {:<width$}  {:<13}  → {}", "", "", safe(&e.hint));
        }
    }
    out
}

fn connector_detail(c: &lanyard::view::status::ConnectorView, now: DateTime<Utc>) -> String {
    match c.state {
        ConnectorState::Granted => {
            let expiry = c
                .expires_at
                .map(|e| left(e, now))
                .unwrap_or_else(|| "expiry unknown".into());
            let tools = c.tools.map(|n| format!(" · {n} tools")).unwrap_or_default();
            format!("{expiry}{tools}")
        }
        ConnectorState::Unreachable => {
            let last = c
                .expires_at
                .map(|e| format!("; current access {}", left(e, now)))
                .unwrap_or_default();
            format!("{}{last}", c.label())
        }
        _ => c.label().into(),
    }
}

pub fn logout(report: &LogoutReport, json: bool) {
    if json {
        return json_line(report);
    }
    let mut out = String::new();
    put!(
        out,
        "Signed out. Forgot the session and {} connector tokens on this machine.",
        report.forgotten_connectors
    );
    match (report.revoked_at_idp, &report.revocation_error) {
        (Some(true), _) => put!(out, "The IdP revoked the session's refresh token."),
        (Some(false), _) => {
            put!(
                out,
                "The IdP offers no revocation; its session ends on its own schedule."
            );
        }
        (None, Some(e)) => {
            put!(
                out,
                "Could not revoke at the IdP ({}); the session ends on its own schedule.",
                safe(e)
            );
        }
        (None, None) => {}
    }
    emit(&out);
}

pub fn doctor(report: &lanyard::diagnose::doctor::DoctorReport, json: bool) {
    if json {
        return json_line(report);
    }
    emit(&doctor_text(report));
}

pub fn doctor_text(report: &lanyard::diagnose::doctor::DoctorReport) -> String {
    let mut out = String::new();
    let env = &report.environment;
    put!(
        out,
        "Lanyard doctor · incident {} · {}",
        report.incident_id,
        report.generated_at.to_rfc3339()
    );
    put!(out, "  app {} on {} {}", env.app_version, env.os, env.arch);
    let keyring = if env.keyring.reachable {
        "reachable".to_string()
    } else {
        format!(
            "NOT reachable ({})",
            safe(&env.keyring.error.clone().unwrap_or_default())
        )
    };
    put!(out, "  keyring {}: {keyring}", env.keyring.backend);
    put!(
        out,
        "  policy {} · IdP {} · {} connectors",
        safe(&report.policy.source),
        safe(&report.policy.idp_issuer),
        report.policy.connectors
    );
    for p in &report.policy.problems {
        put!(out, "  policy problem: {}", safe(p));
    }
    put!(out, "  log file {}", safe(&env.log_file));
    match &report.clock.warning {
        Some(w) => put!(out, "  clock: {}", safe(w)),
        None => put!(out, "  clock: in step with the servers Lanyard talked to"),
    }
    if let Some(s) = &report.status {
        put!(out);
        out.push_str(&status_text(s, Utc::now()));
    }
    failed_timelines(&mut out, &report.timelines);
    for r in &report.readiness {
        put!(out);
        put!(
            out,
            "── readiness of {} : {}",
            safe(&r.mcp_url),
            if r.ready { "ready" } else { "NOT ready" }
        );
        for c in &r.checks {
            put!(
                out,
                "  {:<8} {} — {}",
                format!("{:?}", c.outcome).to_lowercase(),
                c.title,
                safe(&c.detail)
            );
        }
    }
    out
}

fn failed_timelines(out: &mut String, timelines: &[lanyard::diagnose::Timeline]) {
    use lanyard::diagnose::timeline::Outcome;
    for t in timelines.iter().filter(|t| t.outcome == Outcome::Failed) {
        put!(out);
        put!(out, "── {} ─ what happened", safe(&t.name));
        for step in &t.steps {
            let status = step
                .status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "—".into());
            let err = step
                .oauth_error
                .as_ref()
                .map(|e| format!(" {}", safe(&e.error)))
                .unwrap_or_default();
            put!(
                out,
                "  {:<34} {:>4} {:>6} ms{err}",
                safe(&step.leg),
                status,
                step.duration_ms
            );
        }
        if let Some(f) = &t.failure {
            put!(out, "  cause: {}", safe(&f.cause));
            if let Some(d) = &f.server_description {
                put!(out, "  the server said: {}", safe(d));
            }
            if let Some(n) = &f.clock_note {
                put!(out, "  clock: {}", safe(n));
            }
            put!(out, "  employee: {}", safe(&f.employee));
            put!(out, "  admin: {}", safe(&f.admin));
        }
    }
}

pub fn legacy_list(report: &lanyard::legacy::ScanReport, json: bool) {
    if json {
        return json_line(report);
    }
    emit(&legacy_list_text(report, Utc::now()));
}

pub fn legacy_list_text(report: &lanyard::legacy::ScanReport, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    if report.entries.is_empty() {
        put!(
            out,
            "No per-user OAuth tokens from other MCP clients were found."
        );
    }
    for e in &report.entries {
        let what = safe(
            &e.connector_id
                .clone()
                .or_else(|| e.server_url.clone())
                .unwrap_or_else(|| "unknown server".into()),
        );
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
            .map(|a| format!(" · {}", safe(a)))
            .unwrap_or_default();
        put!(
            out,
            "  {:<30} {:<14} {what}{account} · {expiry}{refresh}{covered}",
            e.id,
            e.client.label()
        );
        if let Some(n) = &e.note {
            put!(out, "      {}", safe(n));
        }
    }
    for p in &report.problems {
        put!(out, "  could not read: {}", safe(p));
    }
    let covered = report
        .entries
        .iter()
        .filter(|e| e.covered_by_ema && e.can_disconnect)
        .count();
    if covered > 0 {
        put!(
            out,
            "\n{covered} covered by zero-touch: `lanyard legacy disconnect --covered` removes them (add --dry-run to preview)."
        );
    }
    out
}

pub fn receipts(receipts: &[lanyard::legacy::Receipt], json: bool) {
    if json {
        return json_line(&receipts);
    }
    let mut out = String::new();
    for r in receipts {
        let backup = r
            .backup_id
            .as_ref()
            .map(|b| format!(" (restore: lanyard legacy restore {b})"))
            .unwrap_or_default();
        put!(out, "  {}  {}{backup}", r.entry_id, safe(&r.message));
    }
    emit(&out);
}

pub fn error(e: &EngineError) {
    eprintln!("lanyard: {}", safe(&e.to_string()));
    eprintln!("  what to do: {} (code: {})", safe(&e.hint()), e.code());
}

/// "54 min left", "expired 3 min ago": the core's one formatter, also the tray's.
pub use lanyard::view::time_left::left;

#[cfg(test)]
mod tests {
    use super::*;

    use lanyard::view::connector::{ConnectorError, Stage};
    use lanyard::view::status::{ConnectorView, SessionView};

    fn hostile_status() -> StatusView {
        StatusView {
            version: 1,
            session: SessionView {
                state: SessionState::SignedIn,
                issuer: Some("https://idp.example\u{1b}]0;owned\u{7}".into()),
                subject: None,
                email: Some("ada@lab.example\u{1b}[2J\u{1b}[H".into()),
                expires_at: None,
                renewable: true,
            },
            connectors: vec![ConnectorView {
                id: "linear".into(),
                name: "Linear\u{9b}31m".into(),
                mcp_url: "https://mcp.example/mcp".into(),
                state: ConnectorState::Denied,
                expires_at: None,
                scopes: vec![],
                tools: None,
                error: Some(ConnectorError {
                    stage: Stage::TokenExchange,
                    code: "access_denied\r\u{1b}[32mgranted".into(),
                    description: None,
                    hint: "ask IT\n  linear  granted\u{202e} cli-echo-secret-0123456789".into(),
                }),
            }],
        }
    }

    #[test]
    fn server_text_cannot_drive_the_terminal_or_show_a_secret() {
        let _held = lanyard::secret::Secret::new("cli-echo-secret-0123456789");
        let text = status_text(&hostile_status(), Utc::now());
        let bad: Vec<char> = text
            .chars()
            .filter(|c| (c.is_control() && *c != '\n') || *c == '\u{202e}')
            .collect();
        assert!(bad.is_empty(), "control characters {bad:?} in {text:?}");
        // Each connector is one line plus its hint: no line was forged.
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(!text.contains("cli-echo-secret"), "{text}");
        assert!(text.contains("access_denied"), "{text}");
    }

    #[test]
    fn the_last_pass_keeps_lines_but_no_escape_or_held_secret() {
        let held = lanyard::secret::Secret::new("cli-final-pass-secret-42");
        let text = format!("a\u{1b}[2Jb\n{{\"x\": \"{}\"}}\n", held.expose());
        let out = final_pass(&text);
        assert_eq!(
            out,
            format!("a[2Jb\n{{\"x\": \"[{}]\"}}\n", held.fingerprint())
        );
    }
}
