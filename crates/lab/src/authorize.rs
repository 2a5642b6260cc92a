//! The authorization endpoint (RFC 6749 §4.1 + PKCE + RFC 9207 `iss`), shared by the IdP's
//! SSO and each connector's legacy per-user OAuth: checks, user choice, code, redirect.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::directory::User;
use crate::html;
use crate::oauth::{Form, intersect, mint, split_scope};
use crate::state::{AuthCode, LabState};

/// Authorization codes live one minute (RFC 6749 §4.1.2 recommends ≤ 10).
const CODE_LIFETIME: i64 = 60;

/// Which server's authorization endpoint this is.
pub struct Target<'a> {
    pub issuer: &'a str,
    /// Absolute URL of this endpoint (the sign-in page submits back to it).
    pub endpoint: String,
    pub title: String,
    /// `None`: the IdP. `Some(i)`: connector `i`'s AS.
    pub connector: Option<usize>,
}

// long: the authorization request's checks in the order RFC 6749 §4.1.2.1 and PKCE give them,
// each failing with its own error; the lab is read as the reference for them.
pub fn authorize(state: &LabState, target: Target<'_>, raw_query: Option<&str>) -> Response {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw_query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let form = match Form::from_pairs(pairs.clone()) {
        Ok(f) => f,
        Err(_) => return html::error_page("A parameter is repeated in the authorization request."),
    };
    let Some(client_id) = form.get("client_id") else {
        return html::error_page("The authorization request has no client_id.");
    };
    if state.client(target.issuer, client_id).is_none() {
        return html::error_page(&format!("Unknown client {client_id}."));
    }
    let Some(redirect_uri) = form.get("redirect_uri") else {
        return html::error_page("The authorization request has no redirect_uri.");
    };
    let redirect_ok = match target.connector {
        None => idp_redirect_allowed(redirect_uri),
        Some(_) => loopback_redirect_allowed(redirect_uri),
    };
    if !redirect_ok {
        return html::error_page(&format!(
            "The redirect URI {redirect_uri} is not registered for {client_id}."
        ));
    }
    let back = Redirect {
        redirect_uri,
        state: form.get("state"),
        iss: target.issuer,
    };
    if form.get("response_type") != Some("code") {
        return back.error(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    let Some(code_challenge) = form.get("code_challenge") else {
        return back.error("invalid_request", "PKCE is required: send code_challenge");
    };
    if form.get("code_challenge_method") != Some("S256") {
        return back.error("invalid_request", "code_challenge_method must be S256");
    }
    let requested = split_scope(form.get("scope"));
    let scope = match target.connector.and_then(|i| state.connectors.get(i)) {
        None => {
            if !requested.iter().any(|s| s == "openid") {
                return back.error("invalid_scope", "the openid scope is required");
            }
            requested
        }
        Some(connector) => {
            if form.get("resource").is_some_and(|r| r != connector.mcp_url) {
                return back.error(
                    "invalid_target",
                    "resource is not served by this authorization server",
                );
            }
            if requested.is_empty() {
                connector.spec.scopes.clone()
            } else {
                let granted = intersect(&requested, &connector.spec.scopes);
                if granted.is_empty() {
                    return back.error("invalid_scope", "none of the requested scopes exist here");
                }
                granted
            }
        }
    };
    let user = match choose_user(state, &form) {
        Ok(Chosen::User(user)) => user,
        Ok(Chosen::AskThePerson) => {
            return html::sign_in_page(
                &target.title,
                &target.endpoint,
                pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                state.directory.emails(),
            );
        }
        Err((error, description)) => return back.error(error, description),
    };
    let code = mint("code");
    state.store().codes.insert(
        code.clone(),
        AuthCode {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            code_challenge: code_challenge.to_string(),
            nonce: form.get("nonce").map(str::to_string),
            scope,
            email: user.email,
            expires_at: state.clock.timestamp() + CODE_LIFETIME,
            connector: target.connector,
        },
    );
    back.to(&[("code", &code)])
}

/// Who signs in, from `login_hint`, `prompt` (OIDC Core §3.1.2.1) and the lab's mode.
enum Chosen {
    User(User),
    /// Interactive mode with no usable hint: show the page.
    AskThePerson,
}

/// The lab keeps no browser session, so every sign-in is fresh: `prompt=login` is honoured
/// by construction. In `--auto-login` mode the auto-login user stands for "the person at the
/// browser", and a `login_hint` naming another directory user signs that user in instead (the
/// admin pilot's unattended matrix); a hint naming nobody gets `login_required`, because no
/// one can sign in unattended. `prompt=none` needs an existing session: only the auto-login
/// user has one.
fn choose_user(state: &LabState, form: &Form) -> Result<Chosen, (&'static str, &'static str)> {
    let prompt: Vec<&str> = form
        .get("prompt")
        .map(|p| p.split(' ').filter(|v| !v.is_empty()).collect())
        .unwrap_or_default();
    let silent = prompt.contains(&"none");
    if silent && prompt.len() > 1 {
        return Err((
            "invalid_request",
            "prompt=none cannot be combined with other prompt values",
        ));
    }
    let hint = form.get("login_hint");
    let auto = state.auto_login.as_deref();
    let known = |email: &str| state.directory.user(email);
    match (auto, hint) {
        (Some(auto), None) => known(auto).map(Chosen::User).ok_or((
            "login_required",
            "the auto-login user is not in the directory",
        )),
        (Some(auto), Some(hint)) => match known(hint) {
            Some(_) if silent && hint != auto => Err((
                "login_required",
                "prompt=none: the hinted user has no session here",
            )),
            Some(user) => Ok(Chosen::User(user)),
            None => Err((
                "login_required",
                "login_hint names no user in the directory",
            )),
        },
        (None, _) if silent => Err(("login_required", "prompt=none: nobody is signed in")),
        (None, Some(hint)) => Ok(known(hint)
            .map(Chosen::User)
            .unwrap_or(Chosen::AskThePerson)),
        (None, None) => Ok(Chosen::AskThePerson),
    }
}

struct Redirect<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
    iss: &'a str,
}

impl Redirect<'_> {
    fn error(&self, error: &str, description: &str) -> Response {
        self.to(&[("error", error), ("error_description", description)])
    }

    /// 302 to the client with `params`, `state` echoed and RFC 9207 `iss`.
    fn to(&self, params: &[(&str, &str)]) -> Response {
        let Ok(mut url) = url::Url::parse(self.redirect_uri) else {
            return html::error_page("The redirect URI is not a URL.");
        };
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k, v);
            }
            if let Some(s) = self.state {
                q.append_pair("state", s);
            }
            q.append_pair("iss", self.iss);
        }
        let mut response = StatusCode::FOUND.into_response();
        if let Ok(location) = HeaderValue::from_str(url.as_str()) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// RFC 8252 §7.3: the admin registers `http://127.0.0.1/callback`; any port is allowed.
pub fn idp_redirect_allowed(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|u| {
        u.scheme() == "http"
            && matches!(u.host_str(), Some("127.0.0.1" | "localhost"))
            && u.port().is_some()
            && u.path() == "/callback"
            && u.fragment().is_none()
    })
}

/// Legacy per-user clients (other MCP apps) use assorted loopback callback paths.
pub fn loopback_redirect_allowed(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|u| {
        u.scheme() == "http"
            && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
            && u.fragment().is_none()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idp_redirects_must_be_loopback_callback_with_a_port() {
        assert!(idp_redirect_allowed("http://127.0.0.1:49152/callback"));
        assert!(idp_redirect_allowed("http://localhost:8080/callback"));
        assert!(!idp_redirect_allowed("http://127.0.0.1/callback"));
        assert!(!idp_redirect_allowed("https://127.0.0.1:1/callback"));
        assert!(!idp_redirect_allowed("http://127.0.0.1:1/other"));
        assert!(!idp_redirect_allowed("http://evil.example:1/callback"));
        assert!(!idp_redirect_allowed(
            "http://127.0.0.1.evil.example:1/callback"
        ));
    }

    #[test]
    fn legacy_redirects_must_be_loopback() {
        assert!(loopback_redirect_allowed(
            "http://localhost:3334/oauth/callback"
        ));
        assert!(!loopback_redirect_allowed(
            "http://example.com:3334/oauth/callback"
        ));
    }
}
