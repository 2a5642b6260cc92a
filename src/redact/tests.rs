use super::*;
use base64::Engine as _;
use rand::Rng as _;

/// A value no test shares: the registry is process-wide.
fn unique(prefix: &str) -> String {
    let n: u64 = rand::thread_rng().r#gen();
    format!("{prefix}-{n:016x}")
}

fn masked(text: &str, secret: &str) -> String {
    let out = redact(text);
    assert!(!out.contains(secret), "{secret} survived in {out}");
    out
}

#[test]
fn a_registered_secret_is_masked_in_every_encoding() {
    // Lower-case words and digits with a slash and a space: no shape rule would catch it.
    let secret = format!("{} and/more", unique("hunter"));
    register(&secret);
    let fp = fingerprint(&secret);
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let forms = [
        secret.clone(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        secret.replace(' ', "%20").replace('/', "%2F"),
        b64.encode(&secret),
        b64url.encode(&secret),
        serde_json::to_string(&secret).unwrap(),
    ];
    for form in forms {
        let out = redact(&format!("the server said: bad client {form}."));
        assert!(!out.contains(&form), "{form} survived in {out}");
        assert!(out.contains(&fp), "{out}");
        assert!(leftover(&out).is_none(), "{out}");
        assert!(leftover(&form).is_some(), "{form}");
    }
}

#[test]
fn short_values_are_not_registered() {
    register("abc");
    assert!(!registry::registered("abc"));
    assert_eq!(redact("abc def"), "abc def");
}

#[test]
fn form_and_query_fields_lose_their_values() {
    let out = masked(
        "received body \"grant_type=client_credentials&client_secret=s3&code=abc&refresh_token=rt\"",
        "s3&",
    );
    assert!(out.contains("grant_type=client_credentials"), "{out}");
    assert!(!out.contains("code=abc"), "{out}");
    assert!(!out.contains("refresh_token=rt"), "{out}");
    let out = redact("GET /cb?state=x&code=0aQ&iss=https%3A%2F%2Fidp");
    assert!(!out.contains("0aQ"), "{out}");
    // A log field named `code` is an error code, not an authorization code.
    assert_eq!(
        redact("not granted code=invalid_target"),
        "not granted code=invalid_target"
    );
}

#[test]
fn json_members_and_token_ish_keys_lose_credentials() {
    let out = redact(r#"{"access_token": "x1", "token_type": "Bearer", "expires_in": 3600}"#);
    assert!(!out.contains("\"x1\""), "{out}");
    assert!(out.contains("\"token_type\": \"Bearer\""), "{out}");
    let out = masked(
        "my_session_token: correcthorsebatterystapleforever",
        "correcthorse",
    );
    assert!(out.starts_with("my_session_token: [sha256:"), "{out}");
    // Ordinary words after a secret-ish key stay.
    assert_eq!(
        redact("idp.client_secret: not set"),
        "idp.client_secret: not set"
    );
}

#[test]
fn authorization_credentials_are_masked() {
    for (text, secret) in [
        ("Authorization: Basic Yzpz", "Yzpz"),
        ("authorization: Bearer ab", " ab"),
        ("header was Bearer 9f8e7d6c5b4a", "9f8e7d6c5b4a"),
        ("Basic bXk6Y2xpZW50OnMzY3I=", "bXk6Y2xpZW50OnMzY3I="),
    ] {
        masked(text, secret);
    }
    let challenge = r#"Bearer error="invalid_token", resource_metadata="https://x/y""#;
    assert_eq!(redact(challenge), challenge);
    assert_eq!(
        redact("uses Basic authentication"),
        "uses Basic authentication"
    );
}

#[test]
fn jwts_opaque_tokens_newlines_and_url_paths() {
    masked("bad eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln here", "eyJ");
    masked("just a header eyJhbGciOiJIUzI1NiJ9", "eyJ");
    // RFC 6749 §4.1.4's example access token: 22 characters.
    masked("token 2YotnFZFEjr1zCsicMWpAA was refused", "2YotnFZ");
    masked(
        "line one\nZm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg\nline three",
        "Zm9v",
    );
    let out = masked(
        "see https://mcp.example/t/tGzv3JOkF0XG5Qx2TlKWIA/mcp?x=1",
        "tGzv3",
    );
    assert!(
        out.starts_with("see https://mcp.example/t/[sha256:"),
        "{out}"
    );
    assert!(out.contains("/mcp?x=1"), "{out}");
}

#[test]
fn ordinary_text_is_left_alone_and_redaction_is_idempotent() {
    for text in [
        "Audience validation failed for https://mcp.linear.example/mcp/v1/abc123def",
        "invalid_grant: the ID-JAG expired at 2026-01-01T10:00:00Z",
        "incident LY-0D07-4FB1-E7B7 · sha256:0123456789abcdef",
        "urn:ietf:params:oauth:token-type:id-jag",
        "keyJ is a word",
        "client_secret_basic, private_key_jwt",
    ] {
        assert_eq!(redact(text), text);
    }
    let once = redact("Bearer 2YotnFZFEjr1zCsicMWpAA and eyJhbGciOiJFUzI1NiJ9.e30.c2ln");
    assert_eq!(redact(&once), once);
}

#[test]
fn controls_are_stripped_for_display() {
    let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[2Jok\r\nfake line\u{9b}31m\u{202e}txt";
    let shown = display_safe(hostile);
    assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
    assert!(!shown.contains('\u{202e}'));
    assert_eq!(shown, "]0;pwned[2Jok  fake line31mtxt");
}

#[test]
fn urls_are_shown_without_secrets() {
    let url = url::Url::parse(
        "http://user:pw@127.0.0.1:5/callback?code=c0de&state=xyz&scope=openid+email#frag",
    )
    .unwrap();
    let shown = redact_url(&url);
    assert!(!shown.contains("c0de") && !shown.contains("xyz"), "{shown}");
    assert!(!shown.contains("pw@") && !shown.contains("frag"), "{shown}");
    assert!(shown.contains("scope=openid+email"), "{shown}");
    let bare = url_without_query_values(&url);
    assert!(bare.ends_with("/callback?code&state&scope"), "{bare}");
}

#[test]
fn the_registry_forgets_the_oldest_quarter_past_its_cap() {
    let mut values: std::collections::HashMap<String, u64> =
        (1..=8).map(|i| (format!("value-number-{i}"), i)).collect();
    registry::forget_oldest(&mut values);
    assert_eq!(values.len(), 6, "{values:?}");
    assert!(!values.contains_key("value-number-1") && !values.contains_key("value-number-2"));
}

/// The property the fuzzer also checks: a random registered secret between random delimiters
/// never survives redaction, in any of its encodings.
#[test]
fn a_random_secret_between_random_delimiters_never_survives() {
    const ALPHABET: &[u8] =
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/=:@!$%&'()*,; ";
    const DELIMITERS: &[&str] = &[
        " ", "\n", "\"", "'", "=", "&", ":", ",", ";", "(", ")", "<", ">", "[", "]", "{", "}",
        "\t", "/", "?", "#", "\\", "%", "é", "",
    ];
    let mut rng = rand::thread_rng();
    for _ in 0..2000 {
        let len = rng.gen_range(MIN_REGISTERED_LEN..48);
        let secret: String = (0..len)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        register(&secret);
        let forms = registry::encodings(&secret);
        let form = &forms[rng.gen_range(0..forms.len())];
        let pick = |rng: &mut rand::rngs::ThreadRng| DELIMITERS[rng.gen_range(0..DELIMITERS.len())];
        let text = format!(
            "{}{}{}{}{}",
            unique("x"),
            pick(&mut rng),
            form,
            pick(&mut rng),
            "tail"
        );
        let out = redact(&text);
        assert!(
            !out.contains(&secret) && !out.contains(form.as_str()),
            "secret {secret:?} as {form:?} survived: {out:?}"
        );
        assert!(leftover(&out).is_none(), "{out:?}");
    }
}
