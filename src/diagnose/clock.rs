//! Clock skew from server `Date` headers: for each server (origin), the median of
//! `server Date − local time at the middle of the request`, a warning past 30 s that says
//! which side is off, and the sentence that explains an `exp`/`iat` failure with it.
//!
//! `Date` has one-second resolution and is stamped somewhere inside the request, so each
//! sample is ±(1 s + half the round trip); the median over several requests smooths that.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::catalogue::{Endpoint, Explanation};
use crate::protocol::oauth_error::ErrorCode;
use crate::trace::Step;

/// Past this, a skew is worth a warning (the lab's and the conformance suite's JWT tolerance).
pub const SKEW_WARNING_SECS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct OriginOffset {
    /// `scheme://host:port`.
    pub origin: String,
    /// What this server is for a person ("your company's sign-in service (IdP)", "Linear").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub label: Option<String>,
    /// Server clock minus local clock, in seconds: positive = the server is ahead.
    pub offset_secs: i64,
    pub samples: usize,
    /// `|offset_secs| > SKEW_WARNING_SECS`.
    pub off: bool,
}

/// Which side is most likely wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClockVerdict {
    /// No `Date` header was seen.
    Unknown,
    InSync,
    /// Every measured server agrees with the others and disagrees with this computer.
    /// `offset_secs` is the local clock minus the servers' (positive = local is ahead).
    LocalClock {
        offset_secs: i64,
    },
    /// Some servers are off while others agree with this computer.
    Servers {
        origins: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ClockCheck {
    pub origins: Vec<OriginOffset>,
    pub verdict: ClockVerdict,
    /// One sentence for a person, when something is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub warning: Option<String>,
}

impl ClockCheck {
    /// The measured offset for the origin of `url`, if any.
    pub fn offset_for(&self, url: &str) -> Option<&OriginOffset> {
        let origin = origin_of(url)?;
        self.origins.iter().find(|o| o.origin == origin)
    }
}

/// `scheme://host:port` of a URL (the key offsets are grouped by).
pub fn origin_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Measures every origin in `steps`. `labels` maps an origin to a name for people.
pub fn check(steps: &[Step], labels: &BTreeMap<String, String>) -> ClockCheck {
    let mut samples: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for step in steps {
        let (Some(server), Some(origin)) = (step.server_date, origin_of(&step.url)) else {
            continue;
        };
        samples
            .entry(origin)
            .or_default()
            .push(sample(step.started_at, step.duration_ms, server));
    }
    let origins: Vec<OriginOffset> = samples
        .into_iter()
        .map(|(origin, mut s)| {
            let offset_secs = median(&mut s);
            OriginOffset {
                label: labels.get(&origin).cloned(),
                off: offset_secs.abs() > SKEW_WARNING_SECS,
                origin,
                offset_secs,
                samples: s.len(),
            }
        })
        .collect();
    let verdict = verdict(&origins);
    let warning = warning(&origins, &verdict);
    ClockCheck {
        origins,
        verdict,
        warning,
    }
}

/// One sample: the server's `Date` against the local clock at the middle of the request.
fn sample(started_at: DateTime<Utc>, duration_ms: u64, server: DateTime<Utc>) -> i64 {
    let half = chrono::Duration::milliseconds(i64::try_from(duration_ms / 2).unwrap_or(0));
    let local_mid = started_at + half;
    // `Date` truncates to the second: compare against the local time truncated the same way.
    server.timestamp() - local_mid.timestamp()
}

fn median(values: &mut [i64]) -> i64 {
    values.sort_unstable();
    match values.len() {
        0 => 0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2,
    }
}

fn verdict(origins: &[OriginOffset]) -> ClockVerdict {
    if origins.is_empty() {
        return ClockVerdict::Unknown;
    }
    let off: Vec<&OriginOffset> = origins.iter().filter(|o| o.off).collect();
    if off.is_empty() {
        return ClockVerdict::InSync;
    }
    let min = off.iter().map(|o| o.offset_secs).min().unwrap_or(0);
    let max = off.iter().map(|o| o.offset_secs).max().unwrap_or(0);
    let agree = max - min <= SKEW_WARNING_SECS;
    if off.len() == origins.len() && agree {
        // Every server agrees with every other: this computer is the odd one out.
        let mut all: Vec<i64> = off.iter().map(|o| o.offset_secs).collect();
        return ClockVerdict::LocalClock {
            offset_secs: -median(&mut all),
        };
    }
    ClockVerdict::Servers {
        origins: off.iter().map(|o| o.origin.clone()).collect(),
    }
}

fn name(o: &OriginOffset) -> String {
    match &o.label {
        Some(l) => format!("{l} ({})", o.origin),
        None => o.origin.clone(),
    }
}

/// "2 min 5 s" style, for a person.
pub fn human_secs(secs: i64) -> String {
    let s = secs.abs();
    match s {
        0..=89 => format!("{s} s"),
        90..=5399 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

fn warning(origins: &[OriginOffset], verdict: &ClockVerdict) -> Option<String> {
    match verdict {
        ClockVerdict::Unknown | ClockVerdict::InSync => None,
        ClockVerdict::LocalClock { offset_secs } => {
            let dir = if *offset_secs > 0 {
                "ahead of"
            } else {
                "behind"
            };
            let names: Vec<String> = origins.iter().map(name).collect();
            let whom = if names.len() == 1 {
                names[0].clone()
            } else {
                format!("every server Lanyard talked to ({})", names.join(", "))
            };
            Some(format!(
                "This computer's clock is {} {dir} {whom}. Turn on automatic date and time; tokens look {} until it is fixed.",
                human_secs(*offset_secs),
                if *offset_secs > 0 {
                    "expired or stale"
                } else {
                    "issued in the future"
                }
            ))
        }
        ClockVerdict::Servers { .. } => {
            let parts: Vec<String> = origins
                .iter()
                .filter(|o| o.off)
                .map(|o| {
                    let dir = if o.offset_secs > 0 {
                        "ahead of"
                    } else {
                        "behind"
                    };
                    format!(
                        "{}'s clock is {} {dir} this computer's",
                        name(o),
                        human_secs(o.offset_secs)
                    )
                })
                .collect();
            Some(format!(
                "{}, while other servers agree with this computer: the server side is off. Tell IT.",
                parts.join("; ")
            ))
        }
    }
}

/// Adds a clock note to an explanation of a time-related failure (`exp`/`iat`) when the
/// server it came from (`url`) is measurably off. Returns whether a note was added.
pub fn explain_time(explanation: &mut Explanation, check: &ClockCheck, url: &str) -> bool {
    if !is_time_related(explanation) {
        return false;
    }
    let Some(o) = check
        .offset_for(url)
        .filter(|o| o.off)
        .or_else(|| check.origins.iter().find(|o| o.off))
    else {
        return false;
    };
    let (dir, effect) = if o.offset_secs > 0 {
        (
            "ahead of",
            "so its fresh tokens look issued in the future here",
        )
    } else {
        ("behind", "so its tokens look already expired here")
    };
    let side = match &check.verdict {
        ClockVerdict::LocalClock { .. } => "This computer's clock is the one that is off.",
        _ => {
            "Other servers agree with this computer, so the server's clock is the one that is off."
        }
    };
    explanation.clock_note = Some(format!(
        "{}'s clock is {} {dir} this computer's, {effect}. {side}",
        name(o),
        human_secs(o.offset_secs)
    ));
    true
}

fn is_time_related(x: &Explanation) -> bool {
    match x.endpoint {
        Endpoint::IdToken => matches!(x.code.as_str(), "expired" | "issued_in_future"),
        Endpoint::ConnectorJwtBearer | Endpoint::IdpTokenExchange | Endpoint::IdpRefresh => {
            let d = x
                .server_description
                .as_deref()
                .unwrap_or("")
                .to_ascii_lowercase();
            ErrorCode::parse(&x.code) == ErrorCode::InvalidGrant
                && ["exp", "iat", "future", "not yet valid", "nbf", "clock"]
                    .iter()
                    .any(|w| d.contains(w))
        }
        Endpoint::Mcp => x
            .server_description
            .as_deref()
            .is_some_and(|d| d.contains("expired")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::StepKind;

    fn step(url: &str, local: DateTime<Utc>, server_offset: i64) -> Step {
        Step {
            kind: StepKind::IdpDiscovery,
            method: "GET".into(),
            url: url.into(),
            status: Some(200),
            duration_ms: 40,
            started_at: local,
            server_date: Some(local + chrono::Duration::seconds(server_offset)),
            oauth_error: None,
            note: None,
            claims: None,
        }
    }

    #[test]
    fn all_servers_ahead_means_the_local_clock_is_behind() {
        let now = Utc::now();
        let steps = vec![
            step("http://127.0.0.1:1/idp/x", now, 120),
            step("http://127.0.0.1:1/idp/y", now, 121),
            step("http://127.0.0.1:2/mcp", now, 119),
        ];
        let labels = BTreeMap::from([("http://127.0.0.1:1".to_string(), "IdP".to_string())]);
        let c = check(&steps, &labels);
        assert_eq!(c.origins.len(), 2);
        assert!((119..=121).contains(&c.origins[0].offset_secs));
        assert_eq!(c.origins[0].label.as_deref(), Some("IdP"));
        assert!(
            matches!(c.verdict, ClockVerdict::LocalClock { offset_secs } if (-121..=-119).contains(&offset_secs))
        );
        let w = c.warning.unwrap();
        // `Date` has one-second resolution: 1 min 59 s or 2 min 0 s.
        assert!(
            w.starts_with("This computer's clock is ") && w.contains("behind every server"),
            "{w}"
        );
    }

    #[test]
    fn one_server_off_blames_the_server() {
        let now = Utc::now();
        let steps = vec![
            step("https://idp.example/a", now, 0),
            step("https://linear.example/t", now, -300),
        ];
        let c = check(&steps, &BTreeMap::new());
        assert_eq!(
            c.verdict,
            ClockVerdict::Servers {
                origins: vec!["https://linear.example".into()]
            }
        );
        assert!(
            c.warning
                .unwrap()
                .contains("https://linear.example's clock is 5 min 0 s behind")
        );
    }

    #[test]
    fn small_offsets_and_no_dates_do_not_warn() {
        let now = Utc::now();
        let c = check(&[step("https://idp.example/a", now, 3)], &BTreeMap::new());
        assert_eq!(c.verdict, ClockVerdict::InSync);
        assert!(c.warning.is_none());
        let mut s = step("https://idp.example/a", now, 0);
        s.server_date = None;
        assert_eq!(check(&[s], &BTreeMap::new()).verdict, ClockVerdict::Unknown);
    }

    #[test]
    fn time_failures_get_a_clock_note_others_do_not() {
        let now = Utc::now();
        let c = check(
            &[step("http://127.0.0.1:9/idp/token", now, 120)],
            &BTreeMap::new(),
        );
        let mut x =
            super::super::catalogue::explain(Endpoint::IdToken, "issued_in_future", None, None);
        assert!(explain_time(&mut x, &c, "http://127.0.0.1:9/idp/token"));
        let note = x.clock_note.unwrap();
        assert!(
            note.contains("2 min 0 s ahead of this computer's")
                && note.contains("issued in the future"),
            "{note}"
        );
        let mut y = super::super::catalogue::explain(
            Endpoint::IdpTokenExchange,
            "invalid_target",
            None,
            None,
        );
        assert!(!explain_time(&mut y, &c, "http://127.0.0.1:9/idp/token"));
    }
}
