//! Shape rules: credentials recognised by how they look, for values this process never held
//! (a server echoing a token, a line from a library). Each rule adds byte ranges to mask; the
//! ranges are merged and each becomes the fingerprint of what it covered.
//!
//! Every pattern starts and ends on ASCII bytes, so ranges always fall on `char` boundaries.

/// Keys whose value is a credential wherever they appear with `=`, `:` or as a JSON member.
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "actor_token",
    "api_key",
    "apikey",
    "assertion",
    "bearer_token",
    "client_assertion",
    "client_secret",
    "code_verifier",
    "device_code",
    "id_jag",
    "id_token",
    "passwd",
    "password",
    "private_key",
    "refresh_token",
    "secret",
    "subject_token",
];

/// Keys that are credentials only as URL query or form fields (`?code=`, `&token=`): in a log
/// line `code=invalid_grant` is an error code.
const FORM_ONLY_KEYS: &[&str] = &["code", "token"];

/// Parts of a key name that make a long token-like value after it suspicious.
const TOKENISH_PARTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "assertion",
    "credential",
    "apikey",
    "api_key",
    "api-key",
    "jag",
    "bearer",
];

/// Authorization schemes whose next word is a credential.
const SCHEMES: &[&str] = &["bearer", "basic", "dpop", "mac", "negotiate"];

pub(super) fn mask_shapes(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut ranges = Vec::new();
    key_values(bytes, &mut ranges);
    authorization(bytes, &mut ranges);
    jwts(bytes, &mut ranges);
    opaque_runs(bytes, &mut ranges);
    apply(text, ranges)
}

/// Whether `text` holds anything JWT-shaped (`eyJ` and at least 8 more base64url characters).
pub(super) fn has_jwt(text: &str) -> bool {
    let mut ranges = Vec::new();
    jwts(text.as_bytes(), &mut ranges);
    !ranges.is_empty()
}

fn apply(text: &str, mut ranges: Vec<(usize, usize)>) -> String {
    if ranges.is_empty() {
        return text.to_string();
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in merged {
        out.push_str(&text[at..start]);
        out.push_str(&super::mask_of(&text[start..end]));
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Base64 (standard and URL-safe), RFC 6750 b64token, and `.` for JWTs.
fn is_tok(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.~+/=".contains(&b)
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn run(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    let mut end = from;
    while end < bytes.len() && keep(bytes[end]) {
        end += 1;
    }
    end
}

fn skip_spaces(bytes: &[u8], from: usize) -> usize {
    run(bytes, from, |b| b == b' ' || b == b'\t')
}

/// A value that reads like a credential rather than a word: long, or mixing digits and
/// letters of both cases.
fn opaque(value: &[u8]) -> bool {
    let digit = value.iter().any(u8::is_ascii_digit);
    let upper = value.iter().any(u8::is_ascii_uppercase);
    let lower = value.iter().any(u8::is_ascii_lowercase);
    value.len() >= 20 || (value.len() >= 8 && (digit || (upper && lower)))
}

/// `key=value`, `key: value` and `"key": "value"` where the key names a credential.
fn key_values(bytes: &[u8], ranges: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    while i < bytes.len() {
        if !is_ident(bytes[i]) || (i > 0 && is_ident(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let key_end = run(bytes, i, is_ident);
        if let Some(range) = value_after_key(bytes, i, key_end) {
            ranges.push(range);
        }
        i = key_end;
    }
}

fn value_after_key(bytes: &[u8], start: usize, key_end: usize) -> Option<(usize, usize)> {
    let key = std::str::from_utf8(&bytes[start..key_end])
        .ok()?
        .to_ascii_lowercase();
    let quoted_key = matches!(bytes.get(key_end), Some(b'"' | b'\''));
    let mut at = skip_spaces(bytes, key_end + usize::from(quoted_key));
    let separator = *bytes.get(at)?;
    if separator != b'=' && separator != b':' {
        return None;
    }
    at = skip_spaces(bytes, at + 1);
    let quoted_value = matches!(bytes.get(at), Some(b'"' | b'\''));
    at += usize::from(quoted_value);
    let secret_key = SECRET_KEYS.contains(&key.as_str());
    let form_field = separator == b'='
        && FORM_ONLY_KEYS.contains(&key.as_str())
        && (start == 0 || b"?&\"'".contains(&bytes[start - 1]));
    let tokenish = TOKENISH_PARTS.iter().any(|p| key.contains(p));
    let end = if separator == b'=' && (secret_key || form_field) {
        // Form values are percent-encoded: everything up to the next delimiter.
        run(bytes, at, |b| {
            !b.is_ascii_whitespace() && !b"&\"'<>,;)]}".contains(&b)
        })
    } else {
        run(bytes, at, |b| is_tok(b) || b == b'%')
    };
    let value = &bytes[at..end];
    let mask = if value.is_empty() || value.starts_with(b"sha256") {
        false
    } else if (separator == b'=' && (secret_key || form_field)) || (quoted_value && secret_key) {
        true
    } else if secret_key || tokenish {
        opaque(value) && (value.len() >= 20 || secret_key)
    } else {
        false
    };
    mask.then_some((at, end))
}

/// `Authorization: [scheme] credential`, and `Bearer|Basic|… credential` anywhere.
fn authorization(bytes: &[u8], ranges: &mut Vec<(usize, usize)>) {
    let lower = bytes.to_ascii_lowercase();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphabetic() || (i > 0 && is_ident(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let word_end = run(bytes, i, is_ident);
        let word = &lower[i..word_end];
        if word == b"authorization" {
            let mut at = skip_spaces(bytes, word_end);
            if matches!(bytes.get(at), Some(b'"' | b'\'')) {
                at = skip_spaces(bytes, at + 1);
            }
            if matches!(bytes.get(at), Some(b':' | b'=')) {
                at = skip_spaces(bytes, at + 1);
                if matches!(bytes.get(at), Some(b'"' | b'\'')) {
                    at += 1;
                }
                let scheme_end = run(bytes, at, |b| b.is_ascii_alphabetic());
                if SCHEMES
                    .iter()
                    .any(|s| s.as_bytes() == &lower[at..scheme_end])
                {
                    at = skip_spaces(bytes, scheme_end);
                }
                credential(bytes, at, true, ranges);
            }
        } else if SCHEMES.iter().any(|s| s.as_bytes() == word) {
            let at = skip_spaces(bytes, word_end);
            if at > word_end {
                credential(bytes, at, false, ranges);
            }
        }
        i = word_end;
    }
}

/// The b64token at `at`; after `Authorization:` always masked, after a bare scheme word only
/// when it does not read like prose (or an auth-param such as `realm="…"`).
fn credential(bytes: &[u8], at: usize, certain: bool, ranges: &mut Vec<(usize, usize)>) {
    let end = run(bytes, at, |b| is_tok(b) && b != b'=');
    let end = run(bytes, end, |b| b == b'=');
    if end == at || bytes.get(end) == Some(&b'"') {
        return;
    }
    if certain || opaque(&bytes[at..end]) {
        ranges.push((at, end));
    }
}

/// `eyJ` (base64 of `{"`) and the base64url/`.` run after it, when that run is long enough
/// to be a JOSE header.
fn jwts(bytes: &[u8], ranges: &mut Vec<(usize, usize)>) {
    let jose = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let mut i = 0;
    while i + 3 <= bytes.len() {
        if &bytes[i..i + 3] != b"eyJ" {
            i += 1;
            continue;
        }
        let header_end = run(bytes, i + 3, jose);
        if header_end - (i + 3) < 8 {
            i += 3;
            continue;
        }
        let mut end = run(bytes, header_end, |b| jose(b) || b == b'.');
        while end > header_end && bytes[end - 1] == b'.' {
            end -= 1;
        }
        ranges.push((i, end));
        i = end;
    }
}

/// Long opaque runs: each maximal run of token characters, split at `=` between a name and a
/// value and, inside URLs and paths, at `/`, judged piece by piece.
fn opaque_runs(bytes: &[u8], ranges: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    while i < bytes.len() {
        if !is_tok(bytes[i]) {
            i += 1;
            continue;
        }
        let end = run(bytes, i, is_tok);
        let mut piece_start = i;
        for k in i..=end {
            let split = k == end || (bytes[k] == b'=' && k + 1 < end && bytes[k + 1] != b'=');
            if split {
                judge(bytes, piece_start, k, ranges);
                piece_start = k + 1;
            }
        }
        i = end;
    }
}

fn judge(bytes: &[u8], start: usize, end: usize, ranges: &mut Vec<(usize, usize)>) {
    let mut end = end;
    while end > start && bytes[end - 1] == b'.' {
        end -= 1;
    }
    let piece = &bytes[start..end];
    let is_path = piece.starts_with(b"/") || piece.windows(2).any(|w| w == b"//");
    if !is_path {
        if long_opaque(piece) {
            ranges.push((start, end));
        }
        return;
    }
    let mut seg_start = start;
    for k in start..=end {
        if k == end || bytes[k] == b'/' {
            if long_opaque(&bytes[seg_start..k]) {
                ranges.push((seg_start, k));
            }
            seg_start = k + 1;
        }
    }
}

/// 32+ characters mixing letters and digits, or 20+ mixing digits and both cases (an RFC
/// 6749-style token such as `2YotnFZFEjr1zCsicMWpAA`).
fn long_opaque(piece: &[u8]) -> bool {
    let digit = piece.iter().any(u8::is_ascii_digit);
    let upper = piece.iter().any(u8::is_ascii_uppercase);
    let lower = piece.iter().any(u8::is_ascii_lowercase);
    (piece.len() >= 32 && digit && (upper || lower))
        || (piece.len() >= 20 && digit && upper && lower)
}
