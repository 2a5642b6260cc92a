//! Byte-surgical edits of another application's JSON file: remove one object member or array
//! element, or put one back, leaving every other byte exactly as it was.
//!
//! Re-serialising through `serde_json::Value` would reorder keys, reformat numbers and change
//! whitespace, so a file shared with the owning application (Claude Code keeps its account login
//! next to MCP grants) would come back different. Instead we locate the byte span of the entry
//! and cut it out; then, as a safety net, parse both versions and check that the only change in
//! meaning is the one entry.

use serde_json::Value;

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seg {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum EditError {
    #[error("the file is not valid JSON ({0})")]
    Invalid(String),
    #[error("the file is not YAML Lanyard can prove its edit on ({0})")]
    InvalidYaml(String),
    #[error("the entry is no longer in the file")]
    NotFound,
    #[error("the entry is already in the file")]
    AlreadyPresent,
    #[error("the edit would change more than the one entry; nothing was written")]
    Unsafe,
}

/// A value's byte range, and for containers, the ranges of its children.
#[derive(Debug, Clone)]
struct Node {
    start: usize,
    end: usize,
    /// Objects: `(key, key_start, value)`; arrays: `(None, value_start, value)`.
    children: Vec<(Option<String>, usize, Node)>,
    is_object: bool,
    is_array: bool,
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn bad(&self, why: &str) -> EditError {
        EditError::Invalid(format!("{why} at byte {}", self.i))
    }

    fn string(&mut self) -> Result<(), EditError> {
        // Caller checked the opening quote.
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => self.i += 1,
            }
        }
        Err(self.bad("unterminated string"))
    }

    fn value(&mut self) -> Result<Node, EditError> {
        self.ws();
        let start = self.i;
        let mut node = Node {
            start,
            end: start,
            children: vec![],
            is_object: false,
            is_array: false,
        };
        match self.b.get(self.i) {
            Some(b'{') => {
                node.is_object = true;
                self.members(&mut node)?;
            }
            Some(b'[') => {
                node.is_array = true;
                self.elements(&mut node)?;
            }
            Some(b'"') => self.string()?,
            Some(_) => {
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    self.i += 1;
                }
                if self.i == start {
                    return Err(self.bad("expected a value"));
                }
            }
            None => return Err(self.bad("unexpected end")),
        }
        node.end = self.i;
        Ok(node)
    }

    /// An object's members, from its `{` to its `}` inclusive.
    fn members(&mut self, node: &mut Node) -> Result<(), EditError> {
        self.i += 1;
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                let key_start = self.i;
                if self.b.get(self.i) != Some(&b'"') {
                    return Err(self.bad("expected a key"));
                }
                self.string()?;
                let key: String = serde_json::from_slice(&self.b[key_start..self.i])
                    .map_err(|e| EditError::Invalid(e.to_string()))?;
                self.ws();
                if self.b.get(self.i) != Some(&b':') {
                    return Err(self.bad("expected ':'"));
                }
                self.i += 1;
                let child = self.value()?;
                node.children.push((Some(key), key_start, child));
                if self.closed_after_comma(b'}')? {
                    break;
                }
            }
        }
        Ok(())
    }

    /// After a member or element: steps over `,` (false: more follow) or the `close` bracket
    /// (true: the container ended); anything else is malformed.
    fn closed_after_comma(&mut self, close: u8) -> Result<bool, EditError> {
        self.ws();
        match self.b.get(self.i) {
            Some(b',') => {
                self.i += 1;
                Ok(false)
            }
            Some(&c) if c == close => {
                self.i += 1;
                Ok(true)
            }
            _ => Err(self.bad(if close == b'}' {
                "expected ',' or '}'"
            } else {
                "expected ',' or ']'"
            })),
        }
    }

    /// An array's elements, from its `[` to its `]` inclusive.
    fn elements(&mut self, node: &mut Node) -> Result<(), EditError> {
        self.i += 1;
        self.ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
        } else {
            loop {
                let child = self.value()?;
                node.children.push((None, child.start, child));
                if self.closed_after_comma(b']')? {
                    break;
                }
            }
        }
        Ok(())
    }
}

fn parse(text: &str) -> Result<(Value, Node), EditError> {
    let value: Value = serde_json::from_str(text).map_err(|e| EditError::Invalid(e.to_string()))?;
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
    };
    let node = s.value()?;
    Ok((value, node))
}

/// The child of `node` named by `seg`, with its position among the children.
fn child<'n>(node: &'n Node, seg: &Seg) -> Option<(usize, &'n Node)> {
    match seg {
        Seg::Key(k) => node
            .children
            .iter()
            .enumerate()
            .rev() // serde_json keeps the last of duplicate keys; so do we
            .find(|(_, (key, _, _))| key.as_deref() == Some(k.as_str()))
            .map(|(i, (_, _, n))| (i, n)),
        Seg::Index(i) if node.is_array => node.children.get(*i).map(|(_, _, n)| (*i, n)),
        Seg::Index(_) => None,
    }
}

fn walk<'n>(root: &'n Node, path: &[Seg]) -> Option<&'n Node> {
    path.iter()
        .try_fold(root, |n, seg| child(n, seg).map(|(_, c)| c))
}

fn value_at_mut<'v>(root: &'v mut Value, path: &[Seg]) -> Option<&'v mut Value> {
    path.iter().try_fold(root, |v, seg| match seg {
        Seg::Key(k) => v.as_object_mut()?.get_mut(k),
        Seg::Index(i) => v.as_array_mut()?.get_mut(*i),
    })
}

/// The text of the value at `path` (exactly as written in the file).
pub fn extract(text: &str, path: &[Seg]) -> Result<String, EditError> {
    let (start, end) = span(text, path)?;
    Ok(text[start..end].to_string())
}

/// Where the value at `path` is in `text`: its byte range.
pub fn span(text: &str, path: &[Seg]) -> Result<(usize, usize), EditError> {
    let (_, root) = parse(text)?;
    let node = walk(&root, path).ok_or(EditError::NotFound)?;
    Ok((node.start, node.end))
}

/// `text` without the member or element at `path` (non-empty); every other byte is kept.
pub fn remove(text: &str, path: &[Seg]) -> Result<String, EditError> {
    let (last, parent_path) = path.split_last().ok_or(EditError::NotFound)?;
    let (mut expected, root) = parse(text)?;
    let parent = walk(&root, parent_path).ok_or(EditError::NotFound)?;
    let (pos, target) = child(parent, last).ok_or(EditError::NotFound)?;
    let n = parent.children.len();
    let (cut_from, cut_to) = if pos + 1 < n {
        // Up to the start of the next entry: takes the comma and keeps the next one's indent.
        (parent.children[pos].1, parent.children[pos + 1].1)
    } else if pos > 0 {
        // The last one: from the end of the previous value, so its comma goes too.
        (parent.children[pos - 1].2.end, target.end)
    } else {
        // The only one: leave `{}` / `[]`.
        (parent.start + 1, parent.end - 1)
    };
    let out = format!("{}{}", &text[..cut_from], &text[cut_to..]);

    // Safety net: the new file must mean exactly the old one minus this entry.
    let holder = value_at_mut(&mut expected, parent_path).ok_or(EditError::Unsafe)?;
    match (last, holder) {
        (Seg::Key(k), Value::Object(map)) => {
            map.remove(k);
        }
        (Seg::Index(i), Value::Array(items)) => {
            items.remove(*i);
        }
        _ => return Err(EditError::Unsafe),
    }
    let got: Value = serde_json::from_str(&out).map_err(|_| EditError::Unsafe)?;
    if got != expected {
        return Err(EditError::Unsafe);
    }
    Ok(out)
}

/// `text` with `value_text` added at `path` (a key of an object, or appended to an array when
/// the last segment is an index), copying the surrounding indentation.
pub fn insert(text: &str, path: &[Seg], value_text: &str) -> Result<String, EditError> {
    let (last, parent_path) = path.split_last().ok_or(EditError::NotFound)?;
    let (mut expected, root) = parse(text)?;
    let parent = walk(&root, parent_path).ok_or(EditError::NotFound)?;
    let entry = match last {
        Seg::Key(k) if parent.is_object => {
            if child(parent, last).is_some() {
                return Err(EditError::AlreadyPresent);
            }
            let key = serde_json::to_string(k).map_err(|e| EditError::Invalid(e.to_string()))?;
            format!("{key}: {value_text}")
        }
        Seg::Index(_) if parent.is_array => value_text.to_string(),
        _ => return Err(EditError::NotFound),
    };
    let out = match parent.children.as_slice() {
        [] => format!(
            "{}{entry}{}",
            &text[..parent.start + 1],
            &text[parent.end - 1..]
        ),
        children => {
            // The separator between the last two entries (or after the opening bracket).
            let last_child = &children[children.len() - 1];
            let indent = if children.len() >= 2 {
                let prev = &children[children.len() - 2].2;
                text[prev.end..last_child.1]
                    .trim_start_matches([' ', '\t'])
                    .to_string()
            } else {
                format!(",{}", &text[parent.start + 1..last_child.1])
            };
            let indent = if indent.starts_with(',') {
                indent
            } else {
                format!(",{indent}")
            };
            let at = last_child.2.end;
            format!("{}{indent}{entry}{}", &text[..at], &text[at..])
        }
    };
    let new_value: Value =
        serde_json::from_str(value_text).map_err(|e| EditError::Invalid(e.to_string()))?;
    match (last, value_at_mut(&mut expected, parent_path)) {
        (Seg::Key(k), Some(Value::Object(map))) => {
            map.insert(k.clone(), new_value);
        }
        (Seg::Index(_), Some(Value::Array(items))) => items.push(new_value),
        _ => return Err(EditError::Unsafe),
    }
    let got: Value = serde_json::from_str(&out).map_err(|_| EditError::Unsafe)?;
    if got != expected {
        return Err(EditError::Unsafe);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Seg {
        Seg::Key(s.to_string())
    }

    const DOC: &str = "{\n  \"a\": 1.50,\n  \"m\": {\n    \"x|1\": {\"t\": \"s\\\"q\"},\n    \"y|2\": [1, 2],\n    \"z\": null\n  },\n  \"b\": \"keep\"\n}\n";

    #[test]
    fn removing_a_middle_member_keeps_every_other_byte() {
        let out = remove(DOC, &[k("m"), k("y|2")]).unwrap();
        assert_eq!(
            out,
            "{\n  \"a\": 1.50,\n  \"m\": {\n    \"x|1\": {\"t\": \"s\\\"q\"},\n    \"z\": null\n  },\n  \"b\": \"keep\"\n}\n"
        );
    }

    #[test]
    fn removing_first_last_and_only_members() {
        let first = remove(DOC, &[k("m"), k("x|1")]).unwrap();
        assert!(first.contains("\"m\": {\n    \"y|2\": [1, 2],\n    \"z\": null\n  }"));
        let last = remove(DOC, &[k("m"), k("z")]).unwrap();
        assert!(last.contains("\"y|2\": [1, 2]\n  },"));
        let only = remove("{\"m\": {\"x\": 1}}", &[k("m"), k("x")]).unwrap();
        assert_eq!(only, "{\"m\": {}}");
        let top = remove(DOC, &[k("b")]).unwrap();
        assert!(top.ends_with("  }\n}\n") && top.contains("\"a\": 1.50"));
    }

    #[test]
    fn array_elements_and_round_trip() {
        let doc = "[\n  {\"n\": 1},\n  {\"n\": 2},\n  {\"n\": 3}\n]";
        let out = remove(doc, &[Seg::Index(1)]).unwrap();
        assert_eq!(out, "[\n  {\"n\": 1},\n  {\"n\": 3}\n]");
        let back = insert(&out, &[Seg::Index(2)], "{\"n\": 2}").unwrap();
        assert_eq!(back, "[\n  {\"n\": 1},\n  {\"n\": 3},\n  {\"n\": 2}\n]");
        let removed = extract(DOC, &[k("m"), k("y|2")]).unwrap();
        let without = remove(DOC, &[k("m"), k("y|2")]).unwrap();
        let restored = insert(&without, &[k("m"), k("y|2")], &removed).unwrap();
        let a: Value = serde_json::from_str(DOC).unwrap();
        let b: Value = serde_json::from_str(&restored).unwrap();
        assert_eq!(a, b);
        assert!(restored.contains("\"z\": null,\n    \"y|2\": [1, 2]\n  }"));
    }

    #[test]
    fn insert_into_empty_and_single() {
        assert_eq!(
            insert("{\"m\": {}}", &[k("m"), k("a")], "1").unwrap(),
            "{\"m\": {\"a\": 1}}"
        );
        assert_eq!(
            insert("{\n  \"a\": 1\n}", &[k("b")], "2").unwrap(),
            "{\n  \"a\": 1,\n  \"b\": 2\n}"
        );
        assert_eq!(
            insert("{\"a\": 1}", &[k("a")], "2"),
            Err(EditError::AlreadyPresent)
        );
    }

    #[test]
    fn missing_and_invalid() {
        assert_eq!(remove(DOC, &[k("m"), k("nope")]), Err(EditError::NotFound));
        assert!(matches!(
            remove("{\"a\": ", &[k("a")]),
            Err(EditError::Invalid(_))
        ));
        assert_eq!(remove(DOC, &[]), Err(EditError::NotFound));
    }

    #[test]
    fn escaped_keys_are_matched_by_meaning() {
        let doc = r#"{"a\u0041": 1, "b": 2}"#;
        assert_eq!(remove(doc, &[k("aA")]).unwrap(), r#"{"b": 2}"#);
    }
}
