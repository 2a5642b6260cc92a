//! The expected-grants file: which connectors the admin meant each test user to get, by user
//! and/or by group, as JSON or CSV. The matrix is compared with it cell by cell.
//!
//! JSON: `{"users": {"ada@corp": ["linear"]}, "groups": {"Eng": ["linear"]},
//! "members": {"ada@corp": ["Eng"]}}` (every key optional; a user's expectation is the union).
//! CSV: `user,connector` lines; an optional `user,connector` header, `#` comments, and
//! `user,` (empty connector) to name a user who should get nothing.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ExpectError {
    #[error("cannot read the expected-grants file {path}: {why}")]
    Unreadable { path: String, why: String },
    #[error("expected-grants file {path}: at {at}: {why}")]
    Invalid {
        path: String,
        /// A JSON key path (`members.ada@corp[0]`) or a CSV line (`line 3`).
        at: String,
        why: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJson {
    #[serde(default)]
    users: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    members: BTreeMap<String, Vec<String>>,
}

/// Expected connector ids per user (emails compared case-insensitively).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    by_user: BTreeMap<String, BTreeSet<String>>,
    /// Problems found while reading that are not fatal (a member of an undefined group).
    notes: Vec<String>,
}

/// The key users are compared by.
pub fn user_key(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Expectations {
    pub fn load(path: &Path) -> Result<Self, ExpectError> {
        let text = std::fs::read_to_string(path).map_err(|e| ExpectError::Unreadable {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// JSON when the text starts with `{`, else CSV. `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Self, ExpectError> {
        let invalid = |at: String, why: String| ExpectError::Invalid {
            path: source.to_string(),
            at,
            why,
        };
        let trimmed = text.trim_start_matches('\u{feff}').trim();
        if trimmed.is_empty() {
            return Err(invalid("(top level)".into(), "the file is empty".into()));
        }
        if trimmed.starts_with('{') {
            let de = &mut serde_json::Deserializer::from_str(trimmed);
            let raw: RawJson = serde_path_to_error::deserialize(de).map_err(|e| {
                let at = match e.path().to_string() {
                    p if p == "." => "(top level)".to_string(),
                    p => p,
                };
                invalid(at, e.into_inner().to_string())
            })?;
            Ok(Self::from_json(raw))
        } else {
            Self::from_csv(trimmed).map_err(|(line, why)| invalid(format!("line {line}"), why))
        }
    }

    fn from_json(raw: RawJson) -> Self {
        let mut out = Self::default();
        for (user, connectors) in raw.users {
            out.entry(&user).extend(connectors);
        }
        for (user, groups) in raw.members {
            let mut set = BTreeSet::new();
            for g in groups {
                match raw.groups.get(&g) {
                    Some(cs) => set.extend(cs.iter().cloned()),
                    None => out.notes.push(format!(
                        "members.{user} names group \"{g}\", which \"groups\" does not define"
                    )),
                }
            }
            out.entry(&user).extend(set);
        }
        out
    }

    fn from_csv(text: &str) -> Result<Self, (usize, String)> {
        let mut out = Self::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let [user, connector] = fields[..] else {
                return Err((
                    i + 1,
                    format!("expected `user,connector`, found {} fields", fields.len()),
                ));
            };
            // The header may only be the first line that is not blank or a comment.
            if out.by_user.is_empty()
                && user.eq_ignore_ascii_case("user")
                && connector.eq_ignore_ascii_case("connector")
            {
                continue;
            }
            if user.is_empty() {
                return Err((i + 1, "the user is empty".into()));
            }
            let set = out.entry(user);
            if !connector.is_empty() {
                set.insert(connector.to_string());
            }
        }
        if out.by_user.is_empty() {
            return Err((1, "no `user,connector` line".into()));
        }
        Ok(out)
    }

    fn entry(&mut self, user: &str) -> &mut BTreeSet<String> {
        self.by_user.entry(user_key(user)).or_default()
    }

    /// The connectors `user` should get; `None` when the file does not name the user.
    pub fn expected(&self, user: &str) -> Option<&BTreeSet<String>> {
        self.by_user.get(&user_key(user))
    }

    /// What is wrong or incomplete in the file compared with this run: unknown connectors,
    /// users in the file who were not run, users run whom the file does not name.
    pub fn problems(&self, users_run: &[String], connector_ids: &[String]) -> Vec<String> {
        let mut problems = self.notes.clone();
        let run: BTreeSet<String> = users_run.iter().map(|u| user_key(u)).collect();
        for (user, connectors) in &self.by_user {
            for c in connectors {
                if !connector_ids.contains(c) {
                    problems.push(format!(
                        "the file expects {user} to get \"{c}\", which is not a connector in the policy"
                    ));
                }
            }
            if !run.contains(user) {
                problems.push(format!(
                    "the file names {user}, who was not in the list of users to test"
                ));
            }
        }
        for user in users_run {
            if self.expected(user).is_none() {
                problems.push(format!(
                    "the file does not name {user}: every grant to them counts as an over-grant"
                ));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(xs: &[&str]) -> BTreeSet<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn json_by_user_and_by_group_combine() {
        let e = Expectations::parse(
            r#"{"users": {"Ada@Lab.example": ["granola"]},
                "groups": {"Eng": ["linear", "supabase"], "All": ["atlassian"]},
                "members": {"ada@lab.example": ["Eng", "All"], "pat@lab.example": ["All", "Nope"]}}"#,
            "x.json",
        )
        .unwrap();
        assert_eq!(
            e.expected("ADA@lab.example"),
            Some(&set(&["atlassian", "granola", "linear", "supabase"]))
        );
        assert_eq!(e.expected("pat@lab.example"), Some(&set(&["atlassian"])));
        assert_eq!(e.expected("sam@lab.example"), None);
        let problems = e.problems(
            &["ada@lab.example".into(), "sam@lab.example".into()],
            &["atlassian".into(), "granola".into(), "linear".into()],
        );
        let text = problems.join("\n");
        assert!(text.contains("group \"Nope\""), "{text}");
        assert!(
            text.contains("\"supabase\", which is not a connector"),
            "{text}"
        );
        assert!(
            text.contains("pat@lab.example, who was not in the list"),
            "{text}"
        );
        assert!(text.contains("does not name sam@lab.example"), "{text}");
        assert_eq!(problems.len(), 4, "{text}");
    }

    #[test]
    fn csv_lines_with_header_comments_and_empty_users() {
        let e = Expectations::parse(
            "# expected grants\nuser,connector\n# engineering\nada@lab.example, linear\nada@lab.example,granola\n\npat@lab.example,\n",
            "x.csv",
        )
        .unwrap();
        assert_eq!(
            e.expected("ada@lab.example"),
            Some(&set(&["granola", "linear"]))
        );
        assert_eq!(e.expected("pat@lab.example"), Some(&set(&[])));
    }

    #[test]
    fn bad_input_names_where() {
        let err = Expectations::parse(r#"{"users": {"a": "linear"}}"#, "x.json").unwrap_err();
        assert!(err.to_string().contains("at users.a"), "{err}");
        let err = Expectations::parse(r#"{"user": {}}"#, "x.json").unwrap_err();
        assert!(err.to_string().contains("unknown field `user`"), "{err}");
        let err = Expectations::parse("ada,linear\nada,linear,extra\n", "x.csv").unwrap_err();
        assert!(err.to_string().contains("x.csv: at line 2"), "{err}");
        let err = Expectations::parse("  \n", "x.csv").unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        let err = Expectations::parse("# only a comment\n", "x.csv").unwrap_err();
        assert!(
            err.to_string().contains("no `user,connector` line"),
            "{err}"
        );
        let err = Expectations::load(Path::new("/nonexistent/x.csv")).unwrap_err();
        assert!(matches!(err, ExpectError::Unreadable { .. }));
    }
}
