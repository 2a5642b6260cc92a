//! A Windows `.reg` file (REGEDIT5) that puts the policy under
//! `HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Lanyard`, and a parser for such files.
//!
//! Written as regedit itself writes: UTF-16LE with a byte-order mark and CRLF line ends. The
//! file first deletes the whole `Lanyard` key, so importing it replaces an older policy instead
//! of leaving a removed connector's key behind. The parser reads what the exporter writes (and
//! UTF-8 files): string and DWORD values, key creation and deletion; it is how the registry
//! layout is tested on every platform.

use crate::admin::registry::{POLICY_KEY, RegKey, RegValue};

const HEADER: &str = "Windows Registry Editor Version 5.00";
const HIVE: &str = "HKEY_LOCAL_MACHINE";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegError {
    #[error("{name}: a registry string cannot hold a line break in a .reg file")]
    LineBreak { name: String },
    #[error("not a .reg file (the first line must be \"{HEADER}\")")]
    NoHeader,
    #[error("line {line}: {why}")]
    Syntax { line: usize, why: LineError },
    #[error("line {line}: key {key} is outside HKEY_LOCAL_MACHINE\\{POLICY_KEY}")]
    OutsidePolicyKey { line: usize, key: String },
}

/// What is wrong with one line of a `.reg` file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("a value before any [key]")]
    ValueBeforeKey,
    #[error("expected \"name\"=value")]
    NoName,
    #[error("expected = after the value name")]
    NoEquals,
    #[error("bad dword {0}")]
    BadDword(String),
    #[error("only string and dword values are supported, not {0}")]
    Unsupported(String),
}

/// The `.reg` text for the `Lanyard` key's content, as UTF-16LE bytes with a BOM.
pub fn write(root: &RegKey) -> Result<Vec<u8>, RegError> {
    let text = write_text(root)?;
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    Ok(bytes)
}

/// The `.reg` text, before encoding.
pub fn write_text(root: &RegKey) -> Result<String, RegError> {
    let mut out = format!("{HEADER}\r\n\r\n[-{HIVE}\\{POLICY_KEY}]\r\n\r\n");
    section(&mut out, &format!("{HIVE}\\{POLICY_KEY}"), root)?;
    Ok(out)
}

fn section(out: &mut String, path: &str, key: &RegKey) -> Result<(), RegError> {
    out.push_str(&format!("[{path}]\r\n"));
    for (name, value) in &key.values {
        let value = match value {
            RegValue::Sz(s) if s.contains(['\r', '\n']) => {
                return Err(RegError::LineBreak { name: name.clone() });
            }
            RegValue::Sz(s) => format!("\"{}\"", escape(s)),
            RegValue::Dword(n) => format!("dword:{n:08x}"),
        };
        out.push_str(&format!("\"{}\"={value}\r\n", escape(name)));
    }
    out.push_str("\r\n");
    for (name, sub) in &key.subkeys {
        section(out, &format!("{path}\\{name}"), sub)?;
    }
    Ok(())
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The content a `.reg` file leaves under the `Lanyard` key when imported into an empty
/// registry (deletions of that key or its subkeys are applied in order).
pub fn parse(bytes: &[u8]) -> Result<RegKey, RegError> {
    let text = decode(bytes);
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, first)) if first.trim() == HEADER => {}
        _ => return Err(RegError::NoHeader),
    }
    let mut root = RegKey::default();
    let mut current: Option<Vec<String>> = None;
    for (i, raw) in lines {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        if let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let (delete, path) = match inner.strip_prefix('-') {
                Some(p) => (true, p),
                None => (false, inner),
            };
            let segments = relative(path).ok_or_else(|| RegError::OutsidePolicyKey {
                line: line_no,
                key: path.to_string(),
            })?;
            if delete {
                remove(&mut root, &segments);
                current = None;
            } else {
                walk(&mut root, &segments);
                current = Some(segments);
            }
            continue;
        }
        let Some(segments) = &current else {
            return Err(syntax(line_no, LineError::ValueBeforeKey));
        };
        let (name, value) = value_line(line).map_err(|why| syntax(line_no, why))?;
        let key = walk(&mut root, segments);
        match value {
            Some(v) => key.values.insert(name, v),
            None => key.values.remove(&name),
        };
    }
    Ok(root)
}

fn syntax(line: usize, why: LineError) -> RegError {
    RegError::Syntax { line, why }
}

/// UTF-16LE with BOM (as regedit writes), else UTF-8 (with or without BOM).
fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

/// `HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Lanyard\A\B` → `["A", "B"]` (case-insensitive).
fn relative(path: &str) -> Option<Vec<String>> {
    let full = format!("{HIVE}\\{POLICY_KEY}");
    let short = format!("HKLM\\{POLICY_KEY}");
    let rest = [full, short].into_iter().find_map(|prefix| {
        let head = path.get(..prefix.len())?;
        head.eq_ignore_ascii_case(&prefix)
            .then(|| path[prefix.len()..].to_string())
    })?;
    if !(rest.is_empty() || rest.starts_with('\\')) {
        return None;
    }
    Some(
        rest.split('\\')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    )
}

fn walk<'a>(root: &'a mut RegKey, segments: &[String]) -> &'a mut RegKey {
    segments.iter().fold(root, |key, s| key.subkey_mut(s))
}

fn remove(root: &mut RegKey, segments: &[String]) {
    let Some((last, parents)) = segments.split_last() else {
        *root = RegKey::default();
        return;
    };
    let parent = walk(root, parents);
    parent.subkeys.retain(|k, _| !k.eq_ignore_ascii_case(last));
}

/// `"name"="value"`, `"name"=dword:0000002a`, or `"name"=-` (delete).
fn value_line(line: &str) -> Result<(String, Option<RegValue>), LineError> {
    let (name, rest) = quoted(line).ok_or(LineError::NoName)?;
    let rest = rest.strip_prefix('=').ok_or(LineError::NoEquals)?;
    if rest == "-" {
        return Ok((name, None));
    }
    if let Some(hex) = rest.strip_prefix("dword:") {
        let n = u32::from_str_radix(hex, 16).map_err(|_| LineError::BadDword(hex.to_string()))?;
        return Ok((name, Some(RegValue::Dword(n))));
    }
    match quoted(rest) {
        Some((value, "")) => Ok((name, Some(RegValue::Sz(value)))),
        _ => Err(LineError::Unsupported(rest.to_string())),
    }
}

/// A `"…"` string with `\\` and `\"` escapes, and what follows it.
fn quoted(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '"' => return Some((out, &body[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::export::document::PolicyDocument;
    use crate::admin::export::document::tests::{FULL, full};
    use crate::admin::registry::{from_registry, to_registry};

    #[test]
    fn the_reg_file_parses_back_into_the_same_policy() {
        let doc = PolicyDocument::from_policy(&full());
        let bytes = write(&to_registry(&doc)).unwrap();
        assert_eq!(
            &bytes[..2],
            &[0xFF, 0xFE],
            "UTF-16LE with BOM, as regedit writes"
        );
        let text = decode(&bytes);
        assert!(text.starts_with("Windows Registry Editor Version 5.00\r\n"));
        assert!(text.contains("[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Lanyard]"));
        assert!(
            text.contains("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Lanyard\\Connectors\\linear]")
        );
        assert!(text.contains("\"Order\"=dword:00000001"), "{text}");
        // Quotes and backslashes in a value are escaped, and come back intact.
        assert!(text.contains(r#""Name"="Linear \"HQ\" \\ <&>""#), "{text}");

        let key = parse(&bytes).unwrap();
        let json = from_registry(&key, POLICY_KEY).unwrap();
        let back = crate::policy::parse(&json.to_string(), std::path::Path::new("x.reg")).unwrap();
        assert_eq!(PolicyDocument::from_policy(&back), doc);
        assert!(FULL.contains("HQ"));
    }

    #[test]
    fn deletions_and_utf8_files_and_errors() {
        let text = "Windows Registry Editor Version 5.00\n\n\
            [HKLM\\SOFTWARE\\Policies\\Lanyard\\Connectors\\old]\n\"Name\"=\"Old\"\n\
            [-HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Lanyard\\Connectors\\OLD]\n\
            [HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Lanyard]\n\"IdpIssuer\"=\"https://i\"\n\"IdpIssuer\"=-\n";
        let key = parse(text.as_bytes()).unwrap();
        assert!(key.subkey("Connectors").unwrap().subkeys.is_empty());
        assert!(key.values.is_empty());

        assert_eq!(parse(b"REGEDIT4\n"), Err(RegError::NoHeader));
        let outside =
            "Windows Registry Editor Version 5.00\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Other]\n";
        assert!(matches!(
            parse(outside.as_bytes()),
            Err(RegError::OutsidePolicyKey { line: 2, .. })
        ));
        let hex = "Windows Registry Editor Version 5.00\n[HKLM\\SOFTWARE\\Policies\\Lanyard]\n\"X\"=hex:00\n";
        assert!(matches!(
            parse(hex.as_bytes()),
            Err(RegError::Syntax { line: 3, .. })
        ));

        let mut key = RegKey::default();
        key.values
            .insert("Name".into(), RegValue::Sz("a\nb".into()));
        assert!(matches!(write(&key), Err(RegError::LineBreak { .. })));
    }
}
