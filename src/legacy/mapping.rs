//! Which policy connector a legacy entry belongs to: by MCP server URL (normalised), by the
//! authorization server's issuer, or, for mcp-remote (whose files name no URL), by the MD5
//! of a known URL.

use std::collections::HashMap;

use crate::policy::Policy;

use super::md5;

#[derive(Debug, Clone)]
struct Known {
    id: String,
    url: String,
    normalised: String,
    issuer: Option<String>,
}

/// Policy connectors plus extra known URLs, indexed every way an entry can be matched.
#[derive(Debug, Clone, Default)]
pub struct ConnectorIndex {
    connectors: Vec<Known>,
    /// Server URLs that are not connectors (found in MCP client configs), for mcp-remote hashes.
    extra_urls: Vec<String>,
}

impl ConnectorIndex {
    pub fn from_policy(policy: &Policy) -> Self {
        let mut index = Self::default();
        for c in &policy.connectors {
            index.add_connector(&c.id, c.mcp_url.as_str(), None);
        }
        index
    }

    /// Adds the connectors' authorization-server issuers (`connector id -> issuer`), e.g.
    /// from discovered metadata or the lab's ready line.
    pub fn with_issuers(mut self, issuers: &HashMap<String, String>) -> Self {
        for known in &mut self.connectors {
            if let Some(iss) = issuers.get(&known.id) {
                known.issuer = Some(iss.clone());
            }
        }
        self
    }

    pub fn add_connector(&mut self, id: &str, mcp_url: &str, issuer: Option<&str>) {
        let Some(normalised) = normalise(mcp_url) else {
            return;
        };
        self.connectors.push(Known {
            id: id.to_string(),
            url: mcp_url.to_string(),
            normalised,
            issuer: issuer.map(str::to_string),
        });
    }

    /// A server URL seen in some MCP client's configuration (for mcp-remote hashes only).
    pub fn add_known_url(&mut self, url: &str) {
        if !self.extra_urls.iter().any(|u| u == url) {
            self.extra_urls.push(url.to_string());
        }
    }

    pub fn by_url(&self, url: &str) -> Option<&str> {
        let n = normalise(url)?;
        self.connectors
            .iter()
            .find(|k| k.normalised == n)
            .map(|k| k.id.as_str())
    }

    /// Issuers compare exactly, except a trailing slash (clients store them both ways).
    pub fn by_issuer(&self, issuer: &str) -> Option<&str> {
        let want = issuer.trim_end_matches('/');
        self.connectors
            .iter()
            .find(|k| {
                k.issuer
                    .as_deref()
                    .is_some_and(|i| i.trim_end_matches('/') == want)
            })
            .map(|k| k.id.as_str())
    }

    pub fn issuer_of(&self, connector_id: &str) -> Option<&str> {
        self.connectors
            .iter()
            .find(|k| k.id == connector_id)
            .and_then(|k| k.issuer.as_deref())
    }

    pub fn url_of(&self, connector_id: &str) -> Option<&str> {
        self.connectors
            .iter()
            .find(|k| k.id == connector_id)
            .map(|k| k.url.as_str())
    }

    /// The URL (and connector, if it is one) whose mcp-remote hash is `hash`. mcp-remote
    /// hashes `url`, or `url|resource` when a resource is passed; we try the URL as written,
    /// with and without a trailing slash, and with itself as the resource.
    pub fn by_mcp_remote_hash(&self, hash: &str) -> Option<(Option<&str>, String)> {
        let candidates = self
            .connectors
            .iter()
            .map(|k| (Some(k.id.as_str()), k.url.as_str()))
            .chain(self.extra_urls.iter().map(|u| (None, u.as_str())));
        for (id, url) in candidates {
            let trimmed = url.trim_end_matches('/');
            let variants = [
                url.to_string(),
                trimmed.to_string(),
                format!("{trimmed}/"),
                format!("{url}|{url}"),
                format!("{trimmed}|{trimmed}"),
            ];
            if variants.iter().any(|v| md5::hex(v.as_bytes()) == hash) {
                let id = id.or_else(|| self.by_url(url));
                return Some((id, url.to_string()));
            }
        }
        None
    }
}

/// `scheme://host[:port]/path` without query, fragment or trailing slash; host lower-cased.
pub fn normalise(url: &str) -> Option<String> {
    let u = url::Url::parse(url.trim()).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!(
        "{}://{host}{port}{}",
        u.scheme(),
        u.path().trim_end_matches('/')
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> ConnectorIndex {
        let mut i = ConnectorIndex::default();
        i.add_connector(
            "asana",
            "https://mcp.asana.com/v2/mcp",
            Some("https://app.asana.com/"),
        );
        i.add_connector("linear", "https://mcp.linear.app/mcp/", None);
        i
    }

    #[test]
    fn urls_match_after_normalising() {
        let i = index();
        assert_eq!(i.by_url("https://MCP.asana.com/v2/mcp/?x=1"), Some("asana"));
        assert_eq!(i.by_url("https://mcp.linear.app/mcp"), Some("linear"));
        assert_eq!(
            i.by_url("http://mcp.linear.app/mcp"),
            None,
            "the scheme matters"
        );
        assert_eq!(i.by_url("https://mcp.linear.app/mcp/sse"), None);
        assert_eq!(i.by_issuer("https://app.asana.com"), Some("asana"));
        assert_eq!(i.by_issuer("https://evil.example"), None);
    }

    #[test]
    fn mcp_remote_hashes_map_back_to_urls() {
        let mut i = index();
        i.add_known_url("https://other.example/mcp");
        let h = md5::hex(b"https://mcp.asana.com/v2/mcp");
        assert_eq!(
            i.by_mcp_remote_hash(&h),
            Some((Some("asana"), "https://mcp.asana.com/v2/mcp".into()))
        );
        let h = md5::hex(b"https://mcp.linear.app/mcp");
        assert_eq!(i.by_mcp_remote_hash(&h).unwrap().0, Some("linear"));
        let h = md5::hex(b"https://other.example/mcp|https://other.example/mcp");
        assert_eq!(
            i.by_mcp_remote_hash(&h),
            Some((None, "https://other.example/mcp".into()))
        );
        assert_eq!(i.by_mcp_remote_hash("0123"), None);
    }
}
