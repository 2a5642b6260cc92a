//! The harnesses behind the fuzz targets in `fuzz/` (`make fuzz`): one `fn(&[u8])` per
//! target that panics when a property breaks. `cargo test` replays every checked-in input
//! (`fuzz/corpus/<target>/`, `fuzz/artifacts/<target>/`) through the same functions, so a
//! crash found once stays fixed without a nightly toolchain or libFuzzer.
//!
//! Not API: hidden from the docs, used by nothing else. It reaches a few crate-private parsers
//! (legacy store readers, Goose's YAML cut, discovery's metadata checks) so the public API
//! does not have to widen for the fuzzers.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use crate::legacy::clients::{self, Snapshot, Target, goose as goose_store};
use crate::legacy::json_edit::{self as edit, EditError, Seg};
use crate::legacy::{ClientApp, ConnectorIndex};
use crate::secret::Secret;

/// A harness: panics when the property it checks breaks on `data`.
pub type Harness = fn(&[u8]);

/// Every target: its name (the folder under `fuzz/corpus/`) and its harness.
pub const TARGETS: &[(&str, Harness)] = &[
    ("redaction", redaction),
    ("legacy_scan", legacy_scan),
    ("json_edit", json_edit),
    ("www_authenticate", www_authenticate),
    ("goose", goose),
    ("jwt_inspect", jwt_inspect),
    ("oauth_error", oauth_error),
    ("policy", policy),
    ("discovery_metadata", discovery_metadata),
    ("oidc_metadata", oidc_metadata),
];

/// What each fuzz target runs: `harness` on `data`, as if in a fresh process (the secrets
/// registry emptied first, so an input behaves the same whatever ran before it). Never call
/// it outside a fuzzer: it forgets every secret this process holds.
pub fn fuzz_one(harness: Harness, data: &[u8]) {
    crate::redact::forget_all_for_fuzzing();
    harness(data);
}

/// The fuzzer's bytes read as choices, front to back; zeros once they run out.
struct Choices<'a>(&'a [u8]);

impl<'a> Choices<'a> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *first
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
}

/// `data` split at its first NUL byte (the second part empty when there is none).
fn halves(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 18, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

/// `text` with every mask Lanyard writes (`[sha256:` + 16 hex + `]`) replaced by NUL, which no
/// planted secret contains: what is left is what redaction let through.
fn without_masks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("[sha256:") {
        let tail = &rest[at + 8..];
        let hex = tail.bytes().take(16).filter(u8::is_ascii_hexdigit).count();
        if hex == 16 && tail.as_bytes().get(16) == Some(&b']') {
            out.push_str(&rest[..at]);
            out.push('\0');
            rest = &tail[17..];
        } else {
            out.push_str(&rest[..at + 1]);
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// The redaction property: a secret the process holds (8–64 visible ASCII characters, as RFC
/// 6749 allows in tokens and client secrets), planted in one of the forms it travels in
/// between arbitrary text, never survives `redact` — neither as planted nor as itself.
pub fn redaction(data: &[u8]) {
    let mut c = Choices(data);
    let len = 8 + usize::from(c.byte() % 57);
    let secret: String = (0..len).map(|_| char::from(0x20 + c.byte() % 95)).collect();
    crate::redact::register(&secret);
    let planted = plant(&secret, &mut c);
    let split = usize::from(c.byte());
    let around = String::from_utf8_lossy(c.rest());
    let at = (0..=split.min(around.len()))
        .rev()
        .find(|&i| around.is_char_boundary(i))
        .unwrap_or(0);
    let before = &around[..at];
    // Glued to a preceding `%`, `%X` or an unfinished `\uXXX`, an escaped form is genuinely
    // ambiguous (`%2` + `Dxyz…` *is* `-xyz…` percent-encoded): no redaction can know which was
    // meant. A space keeps the fuzzer off that case (docs/security-tests.md).
    let tail = before.as_bytes();
    let near = |n: usize, b: u8| tail[tail.len().saturating_sub(n)..].contains(&b);
    let glued = near(2, b'%') || near(5, b'\\');
    let joint = if glued { " " } else { "" };
    let text = format!("{before}{joint}{planted}{}", &around[at..]);
    let shown = without_masks(&crate::redact::redact(&text));
    assert!(
        !shown.contains(&planted) && !shown.contains(&secret),
        "secret {secret:?} planted as {planted:?} survived: {shown:?}"
    );
}

/// `secret` in one of the encodings servers and libraries echo it in.
fn plant(secret: &str, c: &mut Choices) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    match c.byte() % 8 {
        0 => secret.to_string(),
        1 => url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        2 => percent_dialect(secret, c),
        3 => STANDARD.encode(secret),
        4 => STANDARD_NO_PAD.encode(secret),
        5 => URL_SAFE.encode(secret),
        6 => URL_SAFE_NO_PAD.encode(secret),
        _ => json_dialect(secret, c),
    }
}

/// Percent-encoding as some encoder does it (encoders disagree on which characters to leave
/// alone, on hex case and on `+` for space): characters that every encoder escapes are
/// escaped; the others are left alone or escaped as the fuzzer chooses.
fn percent_dialect(secret: &str, c: &mut Choices) -> String {
    let style = c.byte();
    let plus_for_space = style & 1 == 1;
    let mut out = String::new();
    for b in secret.bytes() {
        let must = b" %\"<>\\^`{|}#?".contains(&b) || (plus_for_space && b == b'+');
        let pick = c.byte();
        if b == b' ' && plus_for_space {
            out.push('+');
        } else if b.is_ascii_alphanumeric() || (!must && pick & 1 == 0) {
            out.push(char::from(b));
        } else if pick & 2 == 0 {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// A JSON string body as some encoder writes it: `"` and `\` always escaped, `/` and any
/// other character optionally as `\/` or `\u00XX` (Go escapes `<`, `>`, `&`; Python may
/// escape more).
fn json_dialect(secret: &str, c: &mut Choices) -> String {
    let mut out = String::new();
    for b in secret.bytes() {
        let pick = c.byte();
        match (b, pick % 4) {
            (b'"' | b'\\', 0 | 1) => {
                out.push('\\');
                out.push(char::from(b));
            }
            (b'/', 1) => out.push_str("\\/"),
            (_, 2) if !b.is_ascii_alphanumeric() => out.push_str(&format!("\\u{b:04x}")),
            (_, 3) if !b.is_ascii_alphanumeric() => out.push_str(&format!("\\u{b:04X}")),
            (b'"' | b'\\', _) => out.push_str(&format!("\\u{b:04x}")),
            _ => out.push(char::from(b)),
        }
    }
    out
}

/// The store files a legacy scan reads, as the fuzzer picks them.
const STORES: &[&str] = &[
    ".mcp-auth/mcp-remote-0.1.29/fcc436b0d1e0a1ed9a2b15bbd638eb13_tokens.json",
    ".mcp-auth/mcp-remote-0.1.29/fcc436b0d1e0a1ed9a2b15bbd638eb13_client_info.json",
    ".config/Claude/claude_desktop_config.json",
    ".claude/.credentials.json",
    ".codex/.credentials.json",
    ".gemini/mcp-oauth-tokens.json",
    ".config/goose/secrets.yaml",
    ".mcp-inspector/storage/oauth.json",
    ".config/Code/User/globalStorage/state.vscdb",
];

/// One home folder per process, reused: a scan writes into it, so scans take turns.
static HOME: LazyLock<Mutex<Option<tempfile::TempDir>>> = LazyLock::new(|| Mutex::new(None));

fn index() -> ConnectorIndex {
    let mut index = ConnectorIndex::default();
    index.add_connector(
        "linear",
        "https://mcp.linear.app/mcp",
        Some("https://linear.app"),
    );
    index.add_connector("asana", "https://mcp.asana.com/v2/mcp", None);
    index.add_connector("lab", "http://127.0.0.1:8711/mcp", None);
    index
}

/// Legacy scanning over a fuzzed store file: `legacy::scan_with` never fails or panics (a
/// panicking reader is isolated, so its tell-tale problem line counts as a crash here), and
/// every entry it lists is found again in the same bytes and can be cut out of them.
pub fn legacy_scan(data: &[u8]) {
    let mut c = Choices(data);
    let store = STORES[usize::from(c.byte()) % STORES.len()];
    let bytes = c.rest();
    let mut home = HOME.lock().unwrap_or_else(|e| e.into_inner());
    if home.is_none() {
        *home = tempfile::tempdir().ok();
    }
    let Some(dir) = home.as_ref() else {
        return;
    };
    let root = dir.path();
    for s in STORES {
        let _ = std::fs::remove_file(root.join(s));
    }
    let file = root.join(store);
    if let Some(parent) = file.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if std::fs::write(&file, bytes).is_err() {
        return;
    }
    if store.ends_with("_client_info.json") || store.ends_with("claude_desktop_config.json") {
        // These only matter beside a tokens file.
        let tokens = root.join(STORES[0]);
        let _ = std::fs::write(
            tokens,
            br#"{"access_token":"at-fuzz-1234","expires_in":3600}"#,
        );
    }
    let index = index();
    let report = crate::legacy::scan_with(root, &index, &HashSet::from(["linear".to_string()]));
    for p in &report.problems {
        assert!(!p.contains("Lanyard failed"), "a reader panicked: {p}");
    }
    for entry in &report.entries {
        cut_again(&entry.file, entry.client, &entry.id, &index);
    }
}

/// The entry `id`, found again in `file`'s bytes as disconnect does, cut out of them.
fn cut_again(file: &Path, app: ClientApp, id: &str, index: &ConnectorIndex) {
    let Some(Ok(snap)) = Snapshot::read(file) else {
        return;
    };
    let found = clients::find_in(&snap, app, index, id);
    let found = found.unwrap_or_else(|| panic!("{id} was listed but is not found again"));
    let text = String::from_utf8_lossy(&snap.bytes);
    match &found.target {
        Target::Json { path } => match edit::remove(&text, path) {
            Ok(_) | Err(EditError::Unsafe) => {}
            Err(e) => panic!("{id} was listed but cannot be cut: {e}"),
        },
        Target::YamlKey { key } => {
            if let Some(after) = goose_store::remove_key(&text, key) {
                let _ = goose_store::prove_removed(&text, &after, key);
            }
        }
        Target::WholeFile | Target::Nothing => {}
    }
}

/// Every path to a member or element of `v`, outermost first (at most `limit`).
fn paths(v: &Value, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>, limit: usize) {
    let children: Vec<(Seg, &Value)> = match v {
        Value::Object(m) => m.iter().map(|(k, v)| (Seg::Key(k.clone()), v)).collect(),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (Seg::Index(i), v))
            .collect(),
        _ => return,
    };
    for (seg, child) in children {
        if out.len() >= limit {
            return;
        }
        prefix.push(seg);
        out.push(prefix.clone());
        paths(child, prefix, out, limit);
        prefix.pop();
    }
}

fn value_at<'v>(v: &'v Value, path: &[Seg]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get(k),
        Seg::Index(i) => v.get(i),
    })
}

/// The byte-preserving JSON edit: for every member or element of a document, `extract` gives
/// text that means its value; `remove` changes exactly one contiguous span (every other byte
/// kept) and means the document without it; putting the extracted text back with `insert`
/// gives the original meaning again. Text that is not JSON is refused, never mis-cut.
pub fn json_edit(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        let refused = edit::remove(text, &[Seg::Key("a".into())]);
        assert!(refused.is_err(), "not JSON, yet cut: {refused:?}");
        return;
    };
    let mut all = Vec::new();
    paths(&doc, &mut Vec::new(), &mut all, 48);
    for path in all {
        let Ok(extracted) = edit::extract(text, &path) else {
            continue; // a duplicate key's earlier copy: serde_json keeps the last
        };
        let parsed: Value = serde_json::from_str(&extracted).expect("extract gives JSON");
        assert_eq!(Some(&parsed), value_at(&doc, &path), "extract at {path:?}");
        let Ok(cut) = edit::remove(text, &path) else {
            continue;
        };
        let kept = common_prefix(text, &cut) + common_suffix(text, &cut);
        assert!(
            kept >= cut.len(),
            "remove changed more than one span at {path:?}"
        );
        if let (Some(Seg::Key(_)), Ok(back)) = (path.last(), edit::insert(&cut, &path, &extracted))
        {
            let back: Value = serde_json::from_str(&back).expect("insert gives JSON");
            assert_eq!(back, doc, "remove then insert at {path:?}");
        }
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

fn common_suffix(a: &str, b: &str) -> usize {
    a.bytes()
        .rev()
        .zip(b.bytes().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// `WWW-Authenticate` parsing never panics or loops, whatever the server sends, and the
/// Bearer hint it yields is redacted.
pub fn www_authenticate(data: &[u8]) {
    let header = String::from_utf8_lossy(data);
    let challenges = crate::protocol::www_authenticate::parse(&header);
    for ch in &challenges {
        assert!(!ch.scheme.is_empty(), "an empty scheme from {header:?}");
    }
    let (first, second) = halves(data);
    let (a, b) = (
        String::from_utf8_lossy(first),
        String::from_utf8_lossy(second),
    );
    if let Some(bearer) = crate::protocol::www_authenticate::bearer([a.as_ref(), b.as_ref()]) {
        let _ = bearer.scopes();
        if let Some(d) = &bearer.error_description {
            assert!(crate::redact::leftover(d).is_none(), "unredacted: {d:?}");
        }
    }
}

/// Goose's `secrets.yaml`: the reader and the byte-surgical key cut never panic; key spans
/// are ordered and disjoint; a cut the YAML proof accepts removes exactly that key's lines.
pub fn goose(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let blocks = goose_store::blocks(text);
    let mut end = 0;
    for b in &blocks {
        assert!(
            b.start >= end && b.end >= b.start && b.end <= text.len(),
            "{b:?}"
        );
        end = b.end;
    }
    let snap = Snapshot {
        path: PathBuf::from("/home/fuzz/.config/goose/secrets.yaml"),
        bytes: data.to_vec(),
        modified: None,
    };
    let (mut found, mut problems) = (Vec::new(), Vec::new());
    (clients::reader(ClientApp::Goose).parse)(&snap, &index(), &mut found, &mut problems);
    for b in blocks.iter().take(16) {
        let Some(after) = goose_store::remove_key(text, &b.key) else {
            continue;
        };
        // A key written twice (invalid YAML, yet seen): the cut takes its first block.
        let first = blocks.iter().find(|x| x.key == b.key).unwrap_or(b);
        assert_eq!(after.len(), text.len() - (first.end - first.start));
        if goose_store::prove_removed(text, &after, &b.key).is_ok() {
            assert!(
                goose_store::key_span(&after, &b.key).is_none() || blocks_with(&blocks, &b.key) > 1
            );
        }
    }
}

fn blocks_with(blocks: &[goose_store::Block], key: &str) -> usize {
    blocks.iter().filter(|b| b.key == key).count()
}

/// JWT peeking and the token inspector on any token: a raw string (first byte 0) or a JWT
/// built from the fuzzer's header and claims JSON. Nothing panics (huge or negative times
/// included), and no view carries the token itself.
pub fn jwt_inspect(data: &[u8]) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut c = Choices(data);
    let mode = c.byte();
    let rest = c.rest();
    let token = if mode == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let (header, claims) = halves(rest);
        format!("{}.{}.c2ln", b64.encode(header), b64.encode(claims))
    };
    let secret = Secret::new(token.clone());
    let _ = crate::protocol::jwt_peek::dangerous_unverified_header(&secret);
    let _ = crate::protocol::jwt_peek::dangerous_unverified_claims(&secret);
    let _ = crate::protocol::jwt_peek::dangerous_unverified_exp(&secret);
    let id_jag = crate::protocol::jwt_peek::IdJagClaims::dangerous_unverified(&secret);
    let shown = serde_json::to_string(&id_jag).unwrap_or_default();
    assert!(
        token.len() < 8 || !shown.contains(&token),
        "the ID-JAG peek shows the token"
    );
    use crate::diagnose::inspect::{TokenKind, decode};
    for kind in [TokenKind::IdToken, TokenKind::AccessToken, TokenKind::IdJag] {
        let view = decode(&secret, kind, fixed_now());
        let shown = serde_json::to_string(&view).unwrap_or_default();
        assert!(
            token.len() < 8 || !shown.contains(&token),
            "the inspector shows the token"
        );
    }
}

/// A client secret the process holds, echoed by fuzzed OAuth error bodies (seeds carry it).
const ECHOED_SECRET: &str = "fuzz-client-secret-Xq7vR2mK";

/// `OAuthError::from_body` on any body: never panics, and what it keeps (it is shown to people
/// and written to the state file) holds no secret this process knows.
pub fn oauth_error(data: &[u8]) {
    crate::redact::register(ECHOED_SECRET);
    let Some(err) = crate::protocol::oauth_error::OAuthError::from_body(data) else {
        return;
    };
    let kept = serde_json::to_string(&err).unwrap_or_default();
    assert!(
        crate::redact::leftover(&kept).is_none()
            && crate::redact::leftover(&err.to_string()).is_none(),
        "an OAuth error keeps a secret: {kept}"
    );
}

/// The policy file: `policy::parse` never panics, and a refusal never quotes a client secret
/// written in the file.
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Err(e) = crate::policy::parse(text, Path::new("/etc/lanyard/policy.json")) else {
        return;
    };
    let shown = e.to_string();
    let mut secrets = Vec::new();
    if let Ok(doc) = serde_json::from_str::<Value>(text) {
        collect_secrets(&doc, &mut secrets);
    }
    for s in secrets.iter().filter(|s| s.len() >= 8) {
        assert!(
            !shown.contains(s.as_str()),
            "the error quotes a client secret: {shown}"
        );
    }
}

fn collect_secrets(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("client_secret", Value::String(s)) => out.push(s.clone()),
                    _ => collect_secrets(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_secrets(v, out)),
        _ => {}
    }
}

/// RFC 9728 protected-resource metadata, then RFC 8414 metadata of the AS it names (split at
/// the first NUL), through the checks discovery makes: never a panic, and an accepted result
/// points only at https or, when the MCP URL is loopback, at loopback.
pub fn discovery_metadata(data: &[u8]) {
    use crate::protocol::as_metadata::{AuthorizationServerMetadata, candidate_urls};
    use crate::protocol::discovery::{self as d, ProtectedResource};
    let mut c = Choices(data);
    let loopback = c.byte() & 1 == 1;
    let mcp = if loopback {
        "http://127.0.0.1:8711/mcp"
    } else {
        "https://mcp.linear.app/mcp"
    };
    let Ok(mcp_url) = url::Url::parse(mcp) else {
        return;
    };
    let (prm_body, as_body) = halves(c.rest());
    let Ok(prm) = serde_json::from_slice::<ProtectedResource>(prm_body) else {
        return;
    };
    let found_at = candidate_urls(&mcp_url);
    if d::check_protected_resource(&prm, &found_at[0], &mcp_url).is_err() {
        return;
    }
    let Some(issuer) = prm.authorization_servers.first().cloned() else {
        return;
    };
    let Ok(issuer_url) = url::Url::parse(&issuer) else {
        return;
    };
    let _ = candidate_urls(&issuer_url);
    if crate::http::check_derived(&issuer_url, &mcp_url).is_err() {
        return;
    }
    let Ok(asm) = serde_json::from_slice::<AuthorizationServerMetadata>(as_body) else {
        return;
    };
    if d::check_as_issuer(&asm, &issuer).is_err() {
        return;
    }
    if let Ok(meta) = d::build(prm, asm, issuer, None, fixed_now()) {
        for url in std::iter::once(&meta.token_endpoint).chain(meta.revocation_endpoint.as_ref()) {
            assert!(
                crate::http::check_derived(url, &mcp_url).is_ok(),
                "discovery accepted {url} for {mcp_url}"
            );
        }
    }
}

/// OIDC discovery documents for the policy's issuer: never a panic, and every endpoint an
/// accepted document names is https, or loopback only when the issuer itself is.
pub fn oidc_metadata(data: &[u8]) {
    let mut c = Choices(data);
    let issuer = if c.byte() & 1 == 1 {
        "http://127.0.0.1:8711/idp"
    } else {
        "https://acme.okta.com"
    };
    let Ok(issuer_url) = url::Url::parse(issuer) else {
        return;
    };
    let body = c.rest();
    let Ok(ep) = crate::protocol::oidc::metadata::parse(body, issuer) else {
        return;
    };
    let named = [Some(&ep.authorization), Some(&ep.token), Some(&ep.jwks)];
    let optional = [ep.revocation.as_ref(), ep.device_authorization.as_ref()];
    for url in named.into_iter().chain(optional).flatten() {
        assert!(
            crate::http::check_derived(url, &issuer_url).is_ok(),
            "the IdP metadata may name {url} for {issuer}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every checked-in input of every target, through its harness. Runs in `make test`.
    #[test]
    fn fuzz_corpora_and_crash_regressions_replay_clean() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let mut failing = Vec::new();
        for (name, harness) in TARGETS {
            let mut inputs = 0;
            for dir in [
                root.join("corpus").join(name),
                root.join("artifacts").join(name),
            ] {
                for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let path = entry.path();
                    let Ok(bytes) = std::fs::read(&path) else {
                        continue;
                    };
                    if std::panic::catch_unwind(|| harness(&bytes)).is_err() {
                        failing.push(path.display().to_string());
                    }
                    inputs += 1;
                }
            }
            assert!(
                inputs > 0,
                "no checked-in inputs for the {name} fuzz target"
            );
        }
        assert!(failing.is_empty(), "inputs that fail: {failing:#?}");
    }

    #[test]
    fn masks_are_blanked_and_nothing_else() {
        let fp = crate::redact::fingerprint("x");
        assert_eq!(without_masks(&format!("a[{fp}]b")), "a\0b");
        assert_eq!(without_masks("[sha256:zz]"), "[sha256:zz]");
    }
}
