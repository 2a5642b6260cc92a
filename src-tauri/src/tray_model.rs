//! The tray's content as a pure function of the status view: which icon (by shape as well as
//! colour), the tooltip, and the menu lines. Unit-tested without a display; `tray.rs` only
//! turns this model into Tauri objects.

use chrono::{DateTime, Duration, Utc};

use lanyard::view::connector::ConnectorState;
use lanyard::view::status::{ConnectorView, SessionState, StatusView};
use lanyard::view::time_left::left;

/// The four icons: each has its own shape, so state never depends on colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayIcon {
    /// Hollow ring.
    SignedOut,
    /// Filled disc with a check.
    AllGood,
    /// Triangle with an exclamation mark.
    NeedsAttention,
    /// Disc with a clock hand.
    SessionEndingSoon,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuEntry {
    /// Information only (greyed out).
    Label(String),
    Action {
        id: &'static str,
        label: String,
    },
    Separator,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayModel {
    pub icon: TrayIcon,
    pub tooltip: String,
    pub menu: Vec<MenuEntry>,
}

pub const REFRESH: &str = "refresh";
pub const OPEN: &str = "open";
pub const SIGN_IN: &str = "sign_in";
pub const SIGN_OUT: &str = "sign_out";
pub const QUIT: &str = "quit";

/// Legacy per-user connections found on the machine: (all, covered by zero-touch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegacyCount {
    pub total: usize,
    pub covered: usize,
}

pub const LEGACY: &str = "legacy";

pub fn build(
    status: &StatusView,
    legacy: LegacyCount,
    now: DateTime<Utc>,
    warn_before: Duration,
) -> TrayModel {
    let icon = icon_of(status, now, warn_before);
    let mut menu = vec![MenuEntry::Label(session_line(status, now))];
    if !status.connectors.is_empty() {
        menu.push(MenuEntry::Separator);
    }
    for c in &status.connectors {
        menu.push(MenuEntry::Label(connector_line(c, now)));
    }
    if legacy.total > 0 {
        menu.push(MenuEntry::Separator);
        let covered = if legacy.covered > 0 {
            format!(" ({} covered by zero-touch)", legacy.covered)
        } else {
            String::new()
        };
        menu.push(MenuEntry::Action {
            id: LEGACY,
            label: format!("Legacy connections: {}{covered}…", legacy.total),
        });
    }
    menu.push(MenuEntry::Separator);
    menu.extend(actions(status.session.state == SessionState::SignedIn));
    TrayModel {
        icon,
        tooltip: tooltip(icon, status),
        menu,
    }
}

/// Signed out, then anything needing attention, then a session about to end, else all good.
fn icon_of(status: &StatusView, now: DateTime<Utc>, warn_before: Duration) -> TrayIcon {
    let s = &status.session;
    let signed_in = s.state == SessionState::SignedIn;
    let ending_soon =
        signed_in && !s.renewable && s.expires_at.is_some_and(|e| e - now <= warn_before);
    let attention = status.connectors.iter().any(|c| {
        matches!(
            c.state,
            ConnectorState::Misconfigured
                | ConnectorState::Unreachable
                | ConnectorState::NeedsSignIn
        )
    });
    if !signed_in {
        TrayIcon::SignedOut
    } else if attention {
        TrayIcon::NeedsAttention
    } else if ending_soon {
        TrayIcon::SessionEndingSoon
    } else {
        TrayIcon::AllGood
    }
}

/// Who is signed in and how long the session lasts.
fn session_line(status: &StatusView, now: DateTime<Utc>) -> String {
    let s = &status.session;
    let who = s
        .email
        .clone()
        .or_else(|| s.subject.clone())
        .unwrap_or_else(|| "you".into());
    match s.state {
        SessionState::SignedOut => "Not signed in".to_string(),
        SessionState::Expired => format!("Session ended for {who}: sign in again"),
        SessionState::SignedIn => match (s.renewable, s.expires_at) {
            (true, Some(e)) => format!(
                "Signed in as {who} · {} · renews automatically",
                left(e, now)
            ),
            (true, None) => format!("Signed in as {who} · renews automatically"),
            (false, Some(e)) => format!("Signed in as {who} · session {}", left(e, now)),
            (false, None) => format!("Signed in as {who}"),
        },
    }
}

/// "Linear: granted · 54 min left", "Asana: not granted by your IdP (access_denied)".
fn connector_line(c: &ConnectorView, now: DateTime<Utc>) -> String {
    let what = match c.state {
        ConnectorState::Granted => match c.expires_at {
            Some(e) => format!("granted · {}", left(e, now)),
            None => "granted · expiry unknown".into(),
        },
        ConnectorState::Denied => format!(
            "{}{}",
            lower_first(c.label()),
            c.error
                .as_ref()
                .map(|e| format!(" ({})", e.code))
                .unwrap_or_default()
        ),
        _ => lower_first(c.label()),
    };
    format!("{}: {what}", c.name)
}

/// The menu's commands; refresh and sign out only when signed in.
fn actions(signed_in: bool) -> Vec<MenuEntry> {
    let action = |id, label: &str| MenuEntry::Action {
        id,
        label: label.into(),
    };
    let mut menu = Vec::new();
    if signed_in {
        menu.push(action(REFRESH, "Refresh now"));
    }
    menu.push(action(OPEN, "Open Lanyard"));
    menu.push(if signed_in {
        action(SIGN_OUT, "Sign out")
    } else {
        action(SIGN_IN, "Sign in…")
    });
    menu.push(MenuEntry::Separator);
    menu.push(action(QUIT, "Quit Lanyard"));
    menu
}

fn tooltip(icon: TrayIcon, status: &StatusView) -> String {
    let granted = status
        .connectors
        .iter()
        .filter(|c| c.state == ConnectorState::Granted)
        .count();
    match icon {
        TrayIcon::SignedOut => "Lanyard: not signed in".to_string(),
        TrayIcon::NeedsAttention => {
            format!("Lanyard: {granted} connectors granted; some need attention")
        }
        TrayIcon::SessionEndingSoon => "Lanyard: your session ends soon, sign in again".to_string(),
        TrayIcon::AllGood => format!("Lanyard: {granted} connectors granted"),
    }
}

/// The core's words after "Name: " in a menu line ("Asana: not granted by …").
fn lower_first(label: &str) -> String {
    let mut chars = label.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lanyard::view::connector::{ConnectorError, Stage};
    use lanyard::view::status::{ConnectorView, SessionView};

    fn connector(
        id: &str,
        state: ConnectorState,
        expires_in: Option<i64>,
        now: DateTime<Utc>,
    ) -> ConnectorView {
        ConnectorView {
            id: id.into(),
            name: id[..1].to_uppercase() + &id[1..],
            mcp_url: format!("http://127.0.0.1/{id}"),
            state,
            expires_at: expires_in.map(|s| now + Duration::seconds(s)),
            scopes: vec![],
            tools: None,
            error: (state == ConnectorState::Denied).then(|| ConnectorError {
                stage: Stage::TokenExchange,
                code: "invalid_target".into(),
                description: None,
                hint: "ask IT".into(),
            }),
        }
    }

    fn status(
        state: SessionState,
        renewable: bool,
        expires_in: i64,
        connectors: Vec<ConnectorView>,
        now: DateTime<Utc>,
    ) -> StatusView {
        StatusView {
            version: 1,
            session: SessionView {
                state,
                issuer: Some("http://127.0.0.1/idp".into()),
                subject: Some("u-ada".into()),
                email: Some("ada@lab.example".into()),
                expires_at: Some(now + Duration::seconds(expires_in)),
                renewable,
            },
            connectors,
        }
    }

    #[test]
    fn signed_in_with_grants_and_a_denial() {
        let now = Utc::now();
        let s = status(
            SessionState::SignedIn,
            true,
            3600,
            vec![
                connector("linear", ConnectorState::Granted, Some(54 * 60 + 5), now),
                connector("asana", ConnectorState::Denied, None, now),
                connector("slack", ConnectorState::Unsupported, None, now),
            ],
            now,
        );
        let m = build(&s, LegacyCount::default(), now, Duration::minutes(15));
        assert_eq!(
            m.icon,
            TrayIcon::AllGood,
            "denied and unsupported are decisions, not problems"
        );
        assert_eq!(
            m.menu[0],
            MenuEntry::Label(
                "Signed in as ada@lab.example · 1 h 00 min left · renews automatically".into()
            )
        );
        assert!(
            m.menu
                .contains(&MenuEntry::Label("Linear: granted · 54 min left".into()))
        );
        assert!(m.menu.contains(&MenuEntry::Label(
            "Asana: not granted by your organisation (invalid_target)".into()
        )));
        assert!(
            m.menu
                .contains(&MenuEntry::Label("Slack: not available zero-touch".into()))
        );
        assert!(m.menu.contains(&MenuEntry::Action {
            id: REFRESH,
            label: "Refresh now".into()
        }));
        assert!(m.menu.contains(&MenuEntry::Action {
            id: SIGN_OUT,
            label: "Sign out".into()
        }));
        assert!(
            !m.menu
                .iter()
                .any(|e| matches!(e, MenuEntry::Action { id: SIGN_IN, .. }))
        );
        assert_eq!(
            m.menu.last(),
            Some(&MenuEntry::Action {
                id: QUIT,
                label: "Quit Lanyard".into()
            })
        );
        assert_eq!(m.tooltip, "Lanyard: 1 connectors granted");
        assert!(
            !m.menu
                .iter()
                .any(|e| matches!(e, MenuEntry::Action { id: LEGACY, .. })),
            "none found, no line"
        );
        let with_legacy = build(
            &s,
            LegacyCount {
                total: 5,
                covered: 3,
            },
            now,
            Duration::minutes(15),
        );
        assert!(with_legacy.menu.contains(&MenuEntry::Action {
            id: LEGACY,
            label: "Legacy connections: 5 (3 covered by zero-touch)…".into()
        }));
    }

    #[test]
    fn icon_follows_the_worst_state() {
        let now = Utc::now();
        let out = status(SessionState::SignedOut, false, 0, vec![], now);
        let m = build(&out, LegacyCount::default(), now, Duration::minutes(15));
        assert_eq!(m.icon, TrayIcon::SignedOut);
        assert!(m.menu.contains(&MenuEntry::Action {
            id: SIGN_IN,
            label: "Sign in…".into()
        }));
        assert!(
            !m.menu
                .iter()
                .any(|e| matches!(e, MenuEntry::Action { id: REFRESH, .. }))
        );

        let unreachable = status(
            SessionState::SignedIn,
            true,
            3600,
            vec![connector(
                "linear",
                ConnectorState::Unreachable,
                Some(100),
                now,
            )],
            now,
        );
        assert_eq!(
            build(
                &unreachable,
                LegacyCount::default(),
                now,
                Duration::minutes(15)
            )
            .icon,
            TrayIcon::NeedsAttention
        );

        let ending = status(
            SessionState::SignedIn,
            false,
            10 * 60,
            vec![connector("linear", ConnectorState::Granted, Some(100), now)],
            now,
        );
        let m = build(&ending, LegacyCount::default(), now, Duration::minutes(15));
        assert_eq!(m.icon, TrayIcon::SessionEndingSoon);
        assert_eq!(
            m.menu[0],
            MenuEntry::Label("Signed in as ada@lab.example · session 10 min left".into())
        );

        let not_yet = status(SessionState::SignedIn, false, 20 * 60, vec![], now);
        assert_eq!(
            build(&not_yet, LegacyCount::default(), now, Duration::minutes(15)).icon,
            TrayIcon::AllGood
        );
    }
}
