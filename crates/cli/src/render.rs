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
