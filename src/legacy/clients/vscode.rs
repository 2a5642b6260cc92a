//! VS Code: dynamic authentication providers in `User/globalStorage/state.vscdb` (SQLite,
//! `ItemTable` key `dynamicAuthProviders`, plain JSON `[{providerId, label,
//! authorizationServer, clientId}]`). Its tokens are encrypted by Electron safeStorage, so
//! Lanyard only lists providers and points at VS Code's own command.
//!
//! No SQLite dependency: a small row is stored with its key and value side by side in one
//! cell, so the JSON follows the key's bytes directly. When that read fails (a large value
//! spills onto overflow pages) the database is listed once, honestly, as "providers unknown".

use serde_json::Value;
use std::path::{Path, PathBuf};

use super::{Credentials, Found, Reader, Snapshot, Target, entry, finish, str_field};
use crate::legacy::ClientApp;
use crate::legacy::mapping::ConnectorIndex;

const KEY: &[u8] = b"dynamicAuthProviders";
pub(crate) const REMOVE_HINT: &str =
    "open VS Code → Command Palette → 'Authentication: Remove Dynamic Authentication Providers'";

fn databases(home: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for app in ["Code", "Code - Insiders"] {
        for base in [
            home.join(".config"),
            home.join("Library/Application Support"),
        ] {
            let db = base.join(app).join("User/globalStorage/state.vscdb");
            if db.is_file() {
                out.push(db);
            }
        }
    }
    out
}

/// The providers array, if it can be read straight out of the database bytes.
pub(crate) fn providers(bytes: &[u8]) -> Option<Vec<Value>> {
    let mut from = 0;
    while let Some(at) = find(&bytes[from..], KEY) {
        let value_at = from + at + KEY.len();
        if bytes.get(value_at) == Some(&b'[') {
            let mut stream =
                serde_json::Deserializer::from_slice(&bytes[value_at..]).into_iter::<Value>();
            if let Some(Ok(Value::Array(items))) = stream.next() {
                return Some(items);
            }
        }
        from = value_at;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(crate) const READER: Reader = Reader {
    app: ClientApp::VsCode,
    files: databases,
    parse,
};

fn parse(snap: &Snapshot, index: &ConnectorIndex, out: &mut Vec<Found>, _: &mut Vec<String>) {
    let (db, bytes) = (&snap.path, &snap.bytes);
    let Some(list) = providers(bytes) else {
        if find(bytes, KEY).is_some() {
            let mut e = entry(
                ClientApp::VsCode,
                db,
                "dynamicAuthProviders",
                None,
                None,
                None,
                index,
            );
            e.can_disconnect = false;
            e.note = Some(format!(
                "VS Code has dynamic authentication providers; {REMOVE_HINT}"
            ));
            out.push(finish(e, Target::Nothing, Credentials::default(), None));
        }
        return;
    };
    for p in list {
        let key = str_field(&p, "providerId").unwrap_or_default();
        let issuer = str_field(&p, "authorizationServer");
        let mut e = entry(
            ClientApp::VsCode,
            db,
            &key,
            None,
            issuer,
            str_field(&p, "clientId"),
            index,
        );
        e.can_disconnect = false;
        e.account = str_field(&p, "label");
        e.note = Some(format!("tokens are encrypted by VS Code; {REMOVE_HINT}"));
        out.push(finish(e, Target::Nothing, Credentials::default(), None));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_json_that_follows_the_key() {
        let mut db = b"SQLite format 3\0\x00\x01garbage\x17\x1fdynamicAuthProviders".to_vec();
        db.extend_from_slice(br#"[{"providerId":"https://as.example/","label":"as.example","authorizationServer":"https://as.example/","clientId":"vsc"}]"#);
        db.extend_from_slice(b"\x00\x05moreiterms");
        let p = providers(&db).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0]["clientId"], "vsc");
        assert!(providers(b"dynamicAuthProviders\x00\x01[broken").is_none());
    }
}
