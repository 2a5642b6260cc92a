//! Registered values behind an escape syntax whose dialects are too many to list as
//! encodings: percent-encoding (encoders disagree on which characters to escape — JavaScript's
//! `encodeURIComponent` leaves `!'()*` alone, Python's `quote_plus` leaves `~`, a URL path
//! leaves `&=+` — on hex case, and on `+` for space) and JSON string escapes (Go writes `<`,
//! `>` and `&` as `\u003c`…; any encoder may write any character as `\uXXXX` or `/` as `\/`).
//!
//! Text holding such an escape is decoded, each decoded byte remembering the source bytes it
//! came from; the registry searches the decoded text, and a match masks its source span.
//! Found by the redaction fuzzer (docs/security-tests.md).

/// Text decoded one way, with where each decoded byte came from in the source.
pub(super) struct Decoded {
    pub bytes: Vec<u8>,
    /// Source byte range of each decoded byte.
    pub from: Vec<(usize, usize)>,
}

impl Decoded {
    fn push(&mut self, bytes: &[u8], start: usize, end: usize) {
        for &b in bytes {
            self.bytes.push(b);
            self.from.push((start, end));
        }
    }

    /// The source range of decoded bytes `start..end` (non-empty).
    pub fn source(&self, start: usize, end: usize) -> (usize, usize) {
        (self.from[start].0, self.from[end - 1].1)
    }
}

/// The decodings worth searching: none for text without an escape.
pub(super) fn decodings(text: &str) -> Vec<Decoded> {
    let mut out = Vec::new();
    if text.contains('%') || text.contains('+') {
        out.push(percent(text, false));
        out.push(percent(text, true));
    }
    if text.contains('\\') {
        out.push(json(text));
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// `%XX` (either case) as the byte; with `plus_is_space`, `+` as a space.
fn percent(text: &str, plus_is_space: bool) -> Decoded {
    let b = text.as_bytes();
    let mut d = Decoded {
        bytes: Vec::with_capacity(b.len()),
        from: Vec::with_capacity(b.len()),
    };
    let mut i = 0;
    while i < b.len() {
        let escaped = (b[i] == b'%')
            .then(|| Some(hex(*b.get(i + 1)?)? * 16 + hex(*b.get(i + 2)?)?))
            .flatten();
        match escaped {
            Some(byte) => {
                d.push(&[byte], i, i + 3);
                i += 3;
            }
            None if plus_is_space && b[i] == b'+' => {
                d.push(b" ", i, i + 1);
                i += 1;
            }
            None => {
                d.push(&b[i..=i], i, i + 1);
                i += 1;
            }
        }
    }
    d
}

/// JSON string escapes: `\uXXXX` (surrogate pairs joined), `\/`, `\"`, `\\` and the
/// control-character shorthands.
fn json(text: &str) -> Decoded {
    let b = text.as_bytes();
    let mut d = Decoded {
        bytes: Vec::with_capacity(b.len()),
        from: Vec::with_capacity(b.len()),
    };
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            d.push(&b[i..=i], i, i + 1);
            i += 1;
            continue;
        }
        let (decoded, len) = match b.get(i + 1) {
            Some(b'u') => unicode(b, i),
            Some(b'/') => (Some('/'), 2),
            Some(b'"') => (Some('"'), 2),
            Some(b'\\') => (Some('\\'), 2),
            Some(b'n') => (Some('\n'), 2),
            Some(b't') => (Some('\t'), 2),
            Some(b'r') => (Some('\r'), 2),
            Some(b'b') => (Some('\u{8}'), 2),
            Some(b'f') => (Some('\u{c}'), 2),
            _ => (None, 1),
        };
        match decoded {
            Some(c) => d.push(c.encode_utf8(&mut [0; 4]).as_bytes(), i, i + len),
            None => d.push(&b[i..i + len], i, i + len),
        }
        i += len;
    }
    d
}

/// `\uXXXX` at `i` (and a low surrogate after a high one): the character and bytes used.
fn unicode(b: &[u8], i: usize) -> (Option<char>, usize) {
    let unit = |at: usize| -> Option<u32> {
        let digits = b.get(at..at + 4)?;
        digits
            .iter()
            .try_fold(0u32, |acc, &c| Some(acc * 16 + u32::from(hex(c)?)))
    };
    let Some(first) = unit(i + 2) else {
        return (None, 1);
    };
    if (0xD800..0xDC00).contains(&first)
        && b.get(i + 6..i + 8) == Some(b"\\u")
        && let Some(low) = unit(i + 8).filter(|l| (0xDC00..0xE000).contains(l))
    {
        let c = 0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00);
        return (char::from_u32(c), 12);
    }
    match char::from_u32(first) {
        Some(c) => (Some(c), 6),
        None => (None, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(d: &Decoded) -> String {
        String::from_utf8_lossy(&d.bytes).into_owned()
    }

    #[test]
    fn percent_dialects_decode_and_map_back() {
        let d = percent("a%2Bb+c%7e!", true);
        assert_eq!(text_of(&d), "a+b c~!");
        assert_eq!(d.source(1, 2), (1, 4));
        assert_eq!(text_of(&percent("100%+%zz", false)), "100%+%zz");
    }

    #[test]
    fn json_escapes_decode_and_map_back() {
        let d = json(r#"a\u0026b\/c\"\\\ud83d\ude00\x"#);
        assert_eq!(text_of(&d), "a&b/c\"\\\u{1f600}\\x");
        assert_eq!(d.source(1, 2), (1, 7));
        assert_eq!(text_of(&json(r"\u12")), r"\u12");
    }

    #[test]
    fn plain_text_needs_no_decoding() {
        assert!(decodings("nothing escaped here").is_empty());
    }
}
