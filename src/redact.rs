//! One redaction for everything Lanyard shows or writes — traces, the state file's error
//! texts, logs (every writer), support bundles and CLI output — so no two outputs disagree
//! about what a secret looks like.
//!
//! Two layers. A process-wide registry of every secret value this process holds (`Secret::new`
//! registers each one: client secrets from the policy, tokens read from the keyring or a token
//! response, credentials parsed from other apps' files), masked verbatim and in the encodings
//! it travels in (URL, form, base64, JSON), and behind percent or JSON escapes of any
//! dialect (`escaped`: decoded with a map back to the source). Then shape rules for
//! credentials the process never held, such as a server echoing someone's token back: JWTs,
//! secret-bearing form and query fields, `Bearer`/`Basic` credentials, token-like values after token-ish keys, and long
//! opaque runs, also inside URL paths. Each masked value becomes `[sha256:…]` of the value, so
//! support can still tell "the same token" apart.
//!
//! Bottom of the crate: it uses nothing else from it (the canary prefix of the lab is a test
//! concern and does not appear here).

mod escaped;
mod registry;
mod shapes;

#[doc(hidden)]
pub use registry::forget_all_for_fuzzing;
pub use registry::{MIN_REGISTERED_LEN, REGISTRY_CAP, register};

use sha2::{Digest, Sha256};

/// Masks every registered secret (in each of its encodings) and everything credential-shaped.
pub fn redact(text: &str) -> String {
    let known = registry::mask_known(text);
    shapes::mask_shapes(&known)
}

/// Only the registry pass: every secret this process holds, in each encoding. For output that
/// is legitimately token-shaped, such as a public key's coordinates.
pub fn redact_known(text: &str) -> String {
    registry::mask_known(text)
}

/// Text from a server or another program, made safe to print on a terminal: redacted, and
/// every control character (escape sequences, carriage returns, newlines, bidi overrides)
/// replaced, so it cannot move the cursor, recolour, retitle or fake further lines.
pub fn display_safe(text: &str) -> String {
    strip_controls(&redact(text))
}

/// Control characters out: tabs and line breaks become one space, the rest go.
pub fn strip_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Unicode bidirectional overrides and isolates reorder what a terminal shows.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// What a final sweep finds still unmasked: a registered secret or a JWT. `None` when clean.
pub fn leftover(text: &str) -> Option<&'static str> {
    if registry::contains_known(text) {
        return Some("a secret this process holds");
    }
    if shapes::has_jwt(text) {
        return Some("a JWT");
    }
    None
}

/// A URL for display: no userinfo or fragment; query values off a short safe-list become `…`
/// and the rest are redacted; path segments are redacted like any text.
pub fn redact_url(url: &url::Url) -> String {
    const SAFE_QUERY_KEYS: &[&str] = &[
        "response_type",
        "scope",
        "client_id",
        "redirect_uri",
        "code_challenge_method",
        "resource",
        "audience",
        "prompt",
        "error",
        "error_description",
        "iss",
    ];
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_fragment(None);
    if shown.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if SAFE_QUERY_KEYS.contains(&k.as_ref()) {
                    redact(&v)
                } else {
                    "…".into()
                };
                (k.into_owned(), v)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let path = redact(shown.path());
    if path != shown.path() {
        shown.set_path(&path);
    }
    shown.to_string()
}

/// A URL with every query value dropped (names kept): for requests nobody asked for.
pub fn url_without_query_values(url: &url::Url) -> String {
    let mut bare = url.clone();
    bare.set_query(None);
    let mut shown = redact_url(&bare);
    let names: Vec<String> = url
        .query_pairs()
        .map(|(k, _)| url::form_urlencoded::byte_serialize(redact(&k).as_bytes()).collect())
        .collect();
    if !names.is_empty() {
        shown.push('?');
        shown.push_str(&names.join("&"));
    }
    shown
}

/// SHA-256 of the value, first 8 bytes as hex, prefixed so it reads as a label: lets support
/// match "the same token" across records without ever seeing it.
pub fn fingerprint(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// `[sha256:…]`: how a masked value reads.
fn mask_of(value: &str) -> String {
    format!("[{}]", fingerprint(value))
}

#[cfg(test)]
mod tests;
