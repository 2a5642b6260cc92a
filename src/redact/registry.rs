//! The process-wide registry of secret values, and masking of their exact occurrences in the
//! encodings a value travels in: as is, URL-/form-encoded, base64 (standard and URL-safe,
//! padded or not) and JSON-escaped.
//!
//! Every encoded form is indexed by its last 8 bytes. A search looks up the 8 bytes ending at
//! each position of the text and compares the few forms filed under them, so adding a value
//! costs a few hash inserts and never a rebuild. (An Aho-Corasick automaton over every form
//! was here before: each rebuild, over thousands of token-length forms and under the lock,
//! stalled a 256-connector refresh for seconds; the tail of a token is random, so the index
//! keeps one or two forms per key.)

use base64::Engine as _;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

/// Values shorter than this are not registered: masking them would shred ordinary text, and
/// nothing Lanyard issues or stores as a credential is that short.
pub const MIN_REGISTERED_LEN: usize = 8;

/// Values remembered at most; past it the least recently registered are forgotten (tokens
/// renewed long ago). A value registered again — a client secret is re-read at each use —
/// counts as new.
pub const REGISTRY_CAP: usize = 4096;

/// Bytes of a form's tail used as its index key: every form is at least this long.
const TAIL: usize = MIN_REGISTERED_LEN;

struct Registry {
    /// value → when it was last registered (a counter, not a clock).
    values: HashMap<String, u64>,
    tick: u64,
    index: Index,
}

/// Every encoded form of every registered value, filed by its last `TAIL` bytes.
#[derive(Default)]
struct Index {
    forms: Vec<Form>,
    by_tail: HashMap<u64, Vec<usize>, foldhash::fast::RandomState>,
}

struct Form {
    bytes: Box<[u8]>,
    /// The mask of the raw value this form encodes.
    mask: Arc<str>,
}

/// One occurrence of a form in a text: its byte range and the form's index.
type Hit = (usize, usize, usize);

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(|| {
    RwLock::new(Registry {
        values: HashMap::new(),
        tick: 0,
        index: Index::default(),
    })
});

fn read() -> std::sync::RwLockReadGuard<'static, Registry> {
    REGISTRY.read().unwrap_or_else(|e| e.into_inner())
}

fn write() -> std::sync::RwLockWriteGuard<'static, Registry> {
    REGISTRY.write().unwrap_or_else(|e| e.into_inner())
}

/// Remembers `value` as a secret for the rest of the process (see the module's note).
pub fn register(value: &str) {
    if value.len() < MIN_REGISTERED_LEN {
        return;
    }
    let mut reg = write();
    reg.tick += 1;
    let tick = reg.tick;
    if reg.values.insert(value.to_string(), tick).is_some() {
        return;
    }
    if reg.values.len() > REGISTRY_CAP {
        forget_oldest(&mut reg.values);
        // Rare (once per REGISTRY_CAP / 4 new values), and only hash inserts.
        let mut index = Index::default();
        for v in reg.values.keys() {
            index.add(v);
        }
        reg.index = index;
    } else {
        reg.index.add(value);
    }
}

/// Forgets every registered value. Only for fuzzing, where each input is a process of its
/// own: a registry grown over millions of inputs would slow every input down.
pub fn forget_all_for_fuzzing() {
    let mut reg = write();
    reg.values.clear();
    reg.index = Index::default();
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

fn tail_key(bytes: &[u8]) -> u64 {
    let mut key = [0u8; TAIL];
    key.copy_from_slice(&bytes[bytes.len() - TAIL..]);
    u64::from_le_bytes(key)
}

impl Index {
    fn add(&mut self, value: &str) {
        let mask: Arc<str> = super::mask_of(value).into();
        for form in encodings(value) {
            let id = self.forms.len();
            self.by_tail
                .entry(tail_key(form.as_bytes()))
                .or_default()
                .push(id);
            self.forms.push(Form {
                bytes: form.into_bytes().into_boxed_slice(),
                mask: mask.clone(),
            });
        }
    }

    /// Every occurrence of a form in `hay`, in order of where it ends; stops at the first when
    /// `first_only`.
    fn find(&self, hay: &[u8], first_only: bool, hits: &mut Vec<Hit>) {
        if self.forms.is_empty() || hay.len() < TAIL {
            return;
        }
        for end in TAIL..=hay.len() {
            let Some(ids) = self.by_tail.get(&tail_key(&hay[..end])) else {
                continue;
            };
            for &id in ids {
                let form = &self.forms[id].bytes;
                if form.len() <= end && hay[end - form.len()..end] == form[..] {
                    hits.push((end - form.len(), end, id));
                    if first_only {
                        return;
                    }
                }
            }
        }
    }

    /// `hits` as disjoint ranges in order, overlapping ones joined (so no part of either
    /// value shows), each with the mask of the one that starts first (the longest there).
    fn spans(&self, mut hits: Vec<Hit>) -> Vec<(usize, usize, Arc<str>)> {
        hits.sort_by_key(|(s, e, _)| (*s, std::cmp::Reverse(*e)));
        let mut spans: Vec<(usize, usize, Arc<str>)> = Vec::with_capacity(hits.len());
        for (start, end, id) in hits {
            match spans.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => spans.push((start, end, self.forms[id].mask.clone())),
            }
        }
        spans
    }
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
    let reg = read();
    let index = &reg.index;
    let mut hits = Vec::new();
    index.find(text.as_bytes(), false, &mut hits);
    let out = replace(text, index.spans(hits));
    let spans = escaped_spans(&out, index, false);
    replace(&out, spans)
}

/// `text` with each span replaced by its mask.
fn replace(text: &str, spans: Vec<(usize, usize, Arc<str>)>) -> String {
    if spans.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end, mask) in spans {
        out.push_str(&text[last..start]);
        out.push_str(&mask);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// Where registered values hide behind escapes in `text`: disjoint source ranges, in order,
/// each with its mask.
fn escaped_spans(text: &str, index: &Index, first_only: bool) -> Vec<(usize, usize, Arc<str>)> {
    let mut found = Vec::new();
    for d in super::escaped::decodings(text) {
        let mut hits = Vec::new();
        index.find(&d.bytes, first_only, &mut hits);
        for (start, end, id) in hits {
            let (start, end) = d.source(start, end);
            if text.is_char_boundary(start) && text.is_char_boundary(end) {
                found.push((start, end, id));
            }
        }
        if first_only && !found.is_empty() {
            break;
        }
    }
    index.spans(found)
}

/// Whether any registered value (in any encoding, or behind escapes) occurs in `text`.
pub(super) fn contains_known(text: &str) -> bool {
    let reg = read();
    let mut hits = Vec::new();
    reg.index.find(text.as_bytes(), true, &mut hits);
    !hits.is_empty() || !escaped_spans(text, &reg.index, true).is_empty()
}

#[cfg(test)]
pub(super) fn registered(value: &str) -> bool {
    read().values.contains_key(value)
}
