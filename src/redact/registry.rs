//! The process-wide registry of secret values, and masking of their exact occurrences in the
//! encodings a value travels in: as is, URL-/form-encoded, base64 (standard and URL-safe,
//! padded or not) and JSON-escaped.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// Values shorter than this are not registered: masking them would shred ordinary text, and
/// nothing Lanyard issues or stores as a credential is that short.
pub const MIN_REGISTERED_LEN: usize = 8;

/// Values remembered at most; past it the least recently registered are forgotten (tokens
/// renewed long ago). A value registered again — a client secret is re-read at each use —
/// counts as new.
pub const REGISTRY_CAP: usize = 4096;

/// New values wait in a short list, scanned directly, until this many have arrived; then
/// the automaton is rebuilt with them. Tokens arrive in bursts (a refresh of every
/// connector), and rebuilding for each would cost a full build per token.
const PENDING_MAX: usize = 64;

struct Registry {
    /// value → when it was last registered (a counter, not a clock).
    values: HashMap<String, u64>,
    tick: u64,
    /// An automaton over every value registered before the pending ones; `None` after an
    /// eviction or once `pending` is full, rebuilt on the next use.
    matcher: Option<Arc<Matcher>>,
    /// (encoded form, mask) of values registered since `matcher` was built, longest first.
    pending: Pending,
}

struct Matcher {
    automaton: AhoCorasick,
    /// Pattern index → the mask of the raw value it encodes.
    masks: Vec<String>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| {
    Mutex::new(Registry {
        values: HashMap::new(),
        tick: 0,
        matcher: None,
        pending: Arc::default(),
    })
});

/// Remembers `value` as a secret for the rest of the process (see the module's note).
pub fn register(value: &str) {
    if value.len() < MIN_REGISTERED_LEN {
        return;
    }
    let mut reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    reg.tick += 1;
    let tick = reg.tick;
    if reg.values.insert(value.to_string(), tick).is_some() {
        return;
    }
    if reg.values.len() > REGISTRY_CAP {
        forget_oldest(&mut reg.values);
        reg.matcher = None;
    }
    if reg.matcher.is_none() || reg.pending.len() >= PENDING_MAX {
        // The next use rebuilds from `values`, this one included.
        reg.matcher = None;
        reg.pending = Arc::default();
        return;
    }
    let mask = super::mask_of(value);
    let pending = Arc::make_mut(&mut reg.pending);
    pending.extend(encodings(value).into_iter().map(|f| (f, mask.clone())));
    pending.sort_by_key(|(form, _)| std::cmp::Reverse(form.len()));
}

/// Forgets every registered value. Only for fuzzing, where each input is a process of its
/// own: a registry grown over millions of inputs would cost a rebuild per 64 of them.
pub fn forget_all_for_fuzzing() {
    let mut reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    reg.values.clear();
    reg.matcher = None;
    reg.pending = Arc::default();
}

/// Drops the least recently registered quarter, so eviction is rare.
pub(super) fn forget_oldest(values: &mut HashMap<String, u64>) {
    let mut ticks: Vec<u64> = values.values().copied().collect();
    ticks.sort_unstable();
    let drop = (ticks.len() / 4).max(1);
    if let Some(&cutoff) = ticks.get(drop - 1) {
        values.retain(|_, t| *t > cutoff);
    }
}

/// The automaton (built now if needed) and the values registered since.
type Pending = Arc<Vec<(String, String)>>;

fn snapshot() -> (Option<Arc<Matcher>>, Pending) {
    let mut reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    if reg.values.is_empty() {
        return (None, Arc::default());
    }
    if reg.matcher.is_none() {
        reg.matcher = build(reg.values.keys()).map(Arc::new);
        reg.pending = Arc::default();
    }
    (reg.matcher.clone(), reg.pending.clone())
}

fn build<'a>(values: impl Iterator<Item = &'a String>) -> Option<Matcher> {
    let mut patterns = Vec::new();
    let mut masks = Vec::new();
    for value in values {
        let mask = super::mask_of(value);
        for form in encodings(value) {
            patterns.push(form);
            masks.push(mask.clone());
        }
    }
    // Leftmost-longest: a padded base64 form wins over its unpadded prefix.
    let automaton = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&patterns)
        .ok()?;
    Some(Matcher { automaton, masks })
}

/// `value` and each distinct encoding of it.
pub(super) fn encodings(value: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or(value)
        .to_string();
    let mut forms = vec![
        value.to_string(),
        url::form_urlencoded::byte_serialize(value.as_bytes()).collect(),
        percent_encode(value, false),
        percent_encode(value, true),
        STANDARD.encode(value),
        STANDARD_NO_PAD.encode(value),
        URL_SAFE.encode(value),
        URL_SAFE_NO_PAD.encode(value),
        json.replace('/', "\\/"),
        json,
    ];
    forms.sort();
    forms.dedup();
    forms.retain(|f| f.len() >= MIN_REGISTERED_LEN);
    forms
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
fn percent_encode(value: &str, lower_hex: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else if lower_hex {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `text` with each occurrence of a registered value (in any of its encodings) masked, also
/// behind percent or JSON escapes of any dialect (`escaped`).
pub(super) fn mask_known(text: &str) -> String {
    let (matcher, pending) = snapshot();
    let mut out = match &matcher {
        Some(m) => {
            let mut out = String::with_capacity(text.len());
            let mut last = 0;
            for found in m.automaton.find_iter(text) {
                out.push_str(&text[last..found.start()]);
                out.push_str(&m.masks[found.pattern().as_usize()]);
                last = found.end();
            }
            out.push_str(&text[last..]);
            out
        }
        None => text.to_string(),
    };
    for (form, mask) in pending.iter() {
        if out.contains(form.as_str()) {
            out = out.replace(form.as_str(), mask);
        }
    }
    let spans = escaped_spans(&out, matcher.as_deref(), &pending);
    if spans.is_empty() {
        return out;
    }
    let mut masked = String::with_capacity(out.len());
    let mut last = 0;
    for (start, end, mask) in spans {
        masked.push_str(&out[last..start]);
        masked.push_str(&mask);
        last = end;
    }
    masked.push_str(&out[last..]);
    masked
}

/// Where registered values hide behind escapes in `text`: disjoint source ranges, in order,
/// each with its mask.
fn escaped_spans(
    text: &str,
    matcher: Option<&Matcher>,
    pending: &[(String, String)],
) -> Vec<(usize, usize, String)> {
    let decodings = super::escaped::decodings(text);
    if decodings.is_empty() {
        return Vec::new();
    }
    let recent = (!pending.is_empty())
        .then(|| AhoCorasick::new(pending.iter().map(|(form, _)| form)).ok())
        .flatten();
    let mut found = Vec::new();
    for d in &decodings {
        if let Some(m) = matcher {
            for hit in m.automaton.find_iter(&d.bytes[..]) {
                let (start, end) = d.source(hit.start(), hit.end());
                found.push((start, end, m.masks[hit.pattern().as_usize()].clone()));
            }
        }
        if let Some(recent) = &recent {
            for hit in recent.find_iter(&d.bytes[..]) {
                let (start, end) = d.source(hit.start(), hit.end());
                found.push((start, end, pending[hit.pattern().as_usize()].1.clone()));
            }
        }
    }
    found.retain(|(s, e, _)| text.is_char_boundary(*s) && text.is_char_boundary(*e));
    found.sort_by_key(|(s, e, _)| (*s, std::cmp::Reverse(*e)));
    let mut spans: Vec<(usize, usize, String)> = Vec::with_capacity(found.len());
    for (start, end, mask) in found {
        match spans.last_mut() {
            Some(last) if start < last.1 => last.1 = last.1.max(end),
            _ => spans.push((start, end, mask)),
        }
    }
    spans
}

/// Whether any registered value (in any encoding, or behind escapes) occurs in `text`.
pub(super) fn contains_known(text: &str) -> bool {
    let (matcher, pending) = snapshot();
    matcher.as_ref().is_some_and(|m| m.automaton.is_match(text))
        || pending.iter().any(|(form, _)| text.contains(form.as_str()))
        || !escaped_spans(text, matcher.as_deref(), &pending).is_empty()
}

#[cfg(test)]
pub(super) fn registered(value: &str) -> bool {
    REGISTRY
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values
        .contains_key(value)
}
