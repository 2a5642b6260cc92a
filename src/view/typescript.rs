//! The window's copy of the status types and the state words, generated from these Rust types
//! into `ui/src/lib/backend/status.generated.ts` (ts-rs, a dev-dependency: nothing of it ships).
//! The test fails when the checked-in file differs from what the Rust types say, so the
//! window can't drift from `status --json`; `LANYARD_WRITE_TS=1 cargo test -p lanyard --lib
//! typescript` rewrites it.

use ts_rs::TS;

use super::connector::{ConnectorError, ConnectorState, Stage};
use super::status::{ConnectorView, SessionState, SessionView, StatusView};

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/ui/src/lib/backend/status.generated.ts"
);

fn words(name: &str, doc: &str, word: fn(ConnectorState) -> &'static str) -> String {
    let mut out =
        format!("/** {doc} */\nexport const {name}: Record<ConnectorState, string> = {{\n");
    for state in ConnectorState::ALL {
        let text = serde_json::to_string(word(state)).expect("a string serialises");
        out.push_str(&format!("  {}: {text},\n", state.as_str()));
    }
    out.push_str("};\n");
    out
}

/// The type's doc comment (as JSDoc) and its declaration.
fn declare<T: TS>(cfg: &ts_rs::Config) -> String {
    format!(
        "{}export {}",
        T::docs().unwrap_or_default(),
        T::decl(cfg).trim()
    )
}

fn generated() -> String {
    let cfg = ts_rs::Config::default();
    let decls = [
        declare::<SessionState>(&cfg),
        declare::<ConnectorState>(&cfg),
        declare::<Stage>(&cfg),
        declare::<ConnectorError>(&cfg),
        declare::<ConnectorView>(&cfg),
        declare::<SessionView>(&cfg),
        declare::<StatusView>(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types in src/view/ by `LANYARD_WRITE_TS=1 cargo test -p lanyard\n\
         // --lib typescript`; `make test` fails when this file and the Rust types disagree.\n\
         // Do not edit by hand.\n\n",
    );
    for d in decls {
        out.push_str(&d);
        out.push_str("\n\n");
    }
    out.push_str(&words(
        "STATE_LABELS",
        "Each connector state in product.md's words (`ConnectorState::label`).",
        ConnectorState::label,
    ));
    out.push('\n');
    out.push_str(&words(
        "STATE_WORDS",
        "Each state in one or two words, for a compact row (`ConnectorState::word`).",
        ConnectorState::word,
    ));
    out
}

#[test]
fn typescript_status_types_match_the_rust_ones() {
    let want = generated();
    if std::env::var_os("LANYARD_WRITE_TS").is_some() {
        std::fs::write(FILE, &want).expect("write the generated TypeScript");
        return;
    }
    let have = std::fs::read_to_string(FILE).unwrap_or_default();
    assert!(
        have == want,
        "{FILE} is out of date with the Rust types; regenerate it with \
         `LANYARD_WRITE_TS=1 cargo test -p lanyard --lib typescript` and commit it"
    );
}
