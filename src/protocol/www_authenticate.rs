//! Parsing `WWW-Authenticate` (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9728 §5.1): where an MCP
//! server says which protected-resource metadata and scopes it wants.
//!
//! Commas separate both challenges and their parameters, and quoted strings may contain
//! commas and escaped quotes, so this is a small tokenizer rather than a `split(',')`.

/// One challenge: an auth scheme and its parameters (names lower-cased, values unquoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub token68: Option<String>,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a `Bearer` challenge tells an MCP client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    pub resource_metadata: Option<String>,
    pub scope: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl BearerChallenge {
    /// The `scope` parameter split on spaces (empty entries dropped).
    pub fn scopes(&self) -> Option<Vec<String>> {
        let scopes: Vec<String> = self
            .scope
            .as_deref()?
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        (!scopes.is_empty()).then_some(scopes)
    }
}

/// Parses every challenge in one header value. Malformed tails are dropped, not fatal:
/// a server's odd header should degrade to "no hint", never to a failed discovery.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        p.skip_separators();
        if p.peek().is_none() {
            break;
        }
        let Some(token) = p.token() else {
            // Not a token (a stray `=` or quote): skip it so the loop always advances.
            p.i += 1;
            continue;
        };
        p.skip_ws();
        if let Some(last) = out.last_mut()
            && p.peek() == Some(b'=')
            && !p.is_token68_tail()
        {
            // `name=value`: a parameter of the challenge being read.
            p.i += 1;
            p.skip_ws();
            let value = if p.peek() == Some(b'"') {
                p.quoted()
            } else {
                p.token().unwrap_or_default()
            };
            last.params.push((token.to_ascii_lowercase(), value));
            continue;
        }
        // A new challenge: `scheme [token68 | #auth-param]`.
        let mut challenge = Challenge {
            scheme: token,
            token68: None,
            params: Vec::new(),
        };
        let save = p.i;
        if let Some(t68) = p.token68() {
            p.skip_ws();
            if matches!(p.peek(), None | Some(b',')) {
                challenge.token68 = Some(t68);
            } else {
                // It was the first parameter's name; read it again as one.
                p.i = save;
            }
        }
        out.push(challenge);
    }
    out
}

/// The first `Bearer` challenge across all `WWW-Authenticate` header values.
pub fn bearer<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<BearerChallenge> {
    headers
        .into_iter()
        .flat_map(parse)
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
        .map(|c| BearerChallenge {
            resource_metadata: c.param("resource_metadata").map(String::from),
            scope: c.param("scope").map(String::from),
            error: c.param("error").map(String::from),
            error_description: c.param("error_description").map(crate::trace::scrub),
        })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ') | Some(b'\t')) {
            self.i += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ') | Some(b'\t') | Some(b',')) {
            self.i += 1;
        }
    }

    /// RFC 9110 `token` (tchar run).
    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
        {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// RFC 9110 `token68`: base64-ish characters followed by optional `=` padding.
    fn token68(&mut self) -> Option<String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || b"-._~+/".contains(&c))
        {
            self.i += 1;
        }
        if self.i == start {
            return None;
        }
        while self.peek() == Some(b'=') {
            self.i += 1;
        }
        Some(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// After a token, `=` then end/comma means token68 padding, not a parameter.
    fn is_token68_tail(&self) -> bool {
        let mut j = self.i;
        while self.s.get(j) == Some(&b'=') {
            j += 1;
        }
        while matches!(self.s.get(j), Some(b' ') | Some(b'\t')) {
            j += 1;
        }
        matches!(self.s.get(j), None | Some(b','))
    }

    /// A quoted-string with `\` escapes; an unterminated one runs to the end.
    fn quoted(&mut self) -> String {
        self.i += 1; // opening quote
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                b'"' => break,
                _ => out.push(c),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_with_quoted_commas_and_escapes() {
        let h = r#"Bearer resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp", scope="files:read, files:write", error_description="say \"hi\", please""#;
        let c = parse(h);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "Bearer");
        assert_eq!(c[0].param("scope"), Some("files:read, files:write"));
        assert_eq!(c[0].param("error_description"), Some(r#"say "hi", please"#));
        let b = bearer([h]).unwrap();
        assert_eq!(
            b.resource_metadata.as_deref(),
            Some("https://mcp.example/.well-known/oauth-protected-resource/mcp")
        );
    }

    #[test]
    fn multiple_challenges_in_one_header() {
        let h = r#"Basic realm="x, y", charset="UTF-8", Bearer scope="a b", resource_metadata="/prm", DPoP algs="ES256""#;
        let c = parse(h);
        let schemes: Vec<&str> = c.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Basic", "Bearer", "DPoP"]);
        assert_eq!(c[0].param("realm"), Some("x, y"));
        assert_eq!(c[0].param("charset"), Some("UTF-8"));
        let b = bearer([h]).unwrap();
        assert_eq!(b.scopes().unwrap(), ["a", "b"]);
        assert_eq!(b.resource_metadata.as_deref(), Some("/prm"));
        assert_eq!(c[2].param("algs"), Some("ES256"));
    }

    #[test]
    fn bearer_in_a_second_header_value_and_token68() {
        let b = bearer(["Negotiate abc123==", "bearer error=invalid_token"]).unwrap();
        assert_eq!(b.error.as_deref(), Some("invalid_token"));
        assert_eq!(b.resource_metadata, None);
        let c = parse("Negotiate abc123==, Basic realm=r");
        assert_eq!(c[0].token68.as_deref(), Some("abc123=="));
        assert_eq!(c[1].param("realm"), Some("r"));
    }

    #[test]
    fn error_only_and_bare_scheme() {
        let b = bearer([r#"Bearer error="invalid_token""#]).unwrap();
        assert_eq!(b.error.as_deref(), Some("invalid_token"));
        assert!(b.scope.is_none() && b.resource_metadata.is_none());
        assert_eq!(bearer(["Bearer"]).unwrap(), BearerChallenge::default());
        assert!(bearer(["Basic realm=\"x\""]).is_none());
        assert!(bearer([""]).is_none());
    }

    #[test]
    fn garbage_never_panics_or_loops() {
        for h in [
            "=",
            "Bearer ,,, =\"",
            "Bearer a=\"unterminated",
            "\"\"\"",
            "Bearer =x, y",
            "a b c d",
        ] {
            let _ = parse(h);
        }
        assert_eq!(
            bearer(["Bearer a=\"unterminated"])
                .unwrap()
                .resource_metadata,
            None
        );
    }
}
