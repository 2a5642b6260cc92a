//! One thing wrong with a policy, said so an admin can fix it: where (the key path), what is
//! wrong, and what to change. The static and the live check both produce these.

use serde::Serialize;

/// Which check found the problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Found {
    /// Reading the file alone.
    Static,
    /// Asking the IdP and the connectors' servers.
    Live,
}

/// Whether the policy works with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Something fails until it is fixed (`policy check` exits 4).
    Error,
    /// Works, but not fully (a connector not zero-touch yet is shown as `unsupported`; one
    /// without revocation can't be revoked at sign-out).
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The key path in the policy (`connectors[2].client_secret`, `idp.issuer`, `(top level)`).
    pub path: String,
    /// A stable code scripts can branch on (`unknown_key`, `duplicate_id`, `issuer_mismatch` …).
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// What to change, and where.
    pub fix: String,
    pub found: Found,
    pub severity: Severity,
    /// The connector the problem belongs to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector: Option<String>,
}

impl Problem {
    pub fn at(path: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            code: code.to_string(),
            message: message.into(),
            fix: String::new(),
            found: Found::Static,
            severity: Severity::Error,
            connector: None,
        }
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = fix.into();
        self
    }

    pub fn live(mut self) -> Self {
        self.found = Found::Live;
        self
    }

    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn connector(mut self, id: Option<&str>) -> Self {
        self.connector = id.map(String::from);
        self
    }

    /// One line: `path: message → fix` (warnings say so first).
    pub fn line(&self) -> String {
        let lead = match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        if self.fix.is_empty() {
            format!("{lead}{}: {}", self.path, self.message)
        } else {
            format!("{lead}{}: {} → {}", self.path, self.message, self.fix)
        }
    }
}

/// `connectors[3].client_secret`-style paths.
pub(crate) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The allowed key closest to a misspelt one (at most two edits away), for "did you mean".
pub(crate) fn closest<'a>(key: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (edit_distance(key, a), *a))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (prev + cost).min(row[j] + 1).min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_suggestions() {
        let p = Problem::at("connectors[0].nmae", "unknown_key", "unknown key `nmae`")
            .fix("did you mean `name`?");
        assert_eq!(
            p.line(),
            "connectors[0].nmae: unknown key `nmae` → did you mean `name`?"
        );
        assert_eq!(closest("nmae", &["id", "name"]), Some("name"));
        assert_eq!(closest("scope", &["scopes", "name"]), Some("scopes"));
        assert_eq!(closest("colour", &["id", "name"]), None);
        assert_eq!(join("", "idp"), "idp");
        assert_eq!(join("idp", "issuer"), "idp.issuer");
    }
}
