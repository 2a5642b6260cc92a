//! Why one policy value was refused. `parse` puts it after the key path in
//! `PolicyError::Invalid`; `policy check` turns each kind into its own problem code (an
//! insecure URL is `insecure_url`, not a generic `bad_value`), so callers match the kind, not
//! the wording.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("expected letters, digits, '-' or '_'")]
    IdShape,
    #[error("\"{id}\" is reserved for Lanyard's own records ({}); choose another id", reserved.join(", "))]
    ReservedId {
        id: String,
        reserved: &'static [&'static str],
    },
    #[error("duplicate connector id \"{0}\"")]
    DuplicateId(String),
    #[error("expected an absolute URL ({0})")]
    NotAbsoluteUrl(url::ParseError),
    #[error("expected an https URL (plain http is allowed only for 127.0.0.1/localhost)")]
    NotHttps,
    #[error("expected an origin only, like https://tokens.example.com (no path)")]
    NotOrigin,
    #[error("required when token_endpoint_auth_method is {0}")]
    SecretRequired(&'static str),
    #[error("must not be empty")]
    Empty,
    #[error("must include \"openid\"")]
    NoOpenid,
    #[error("each scope is one non-empty word")]
    ScopeShape,
    #[error("list at least one scope, or leave the key out to let the server decide")]
    NoScopes,
    #[error("expected a whole number from {min} to {max}, found {found}")]
    OutOfRange {
        min: usize,
        max: usize,
        /// The value as written (JSON), so `"8"` shows its quotes.
        found: String,
    },
}
