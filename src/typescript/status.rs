//! `status.generated.ts`: the status types of `status --json` (src/view/) and the state
//! words, so the window says what the CLI and the tray say.

use super::{File, declare};
use crate::view::connector::{ConnectorError, ConnectorState, Stage};
use crate::view::status::{ConnectorView, SessionState, SessionView, StatusView};

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

pub(super) fn file() -> File {
    let mut tail = words(
        "STATE_LABELS",
        "Each connector state in product.md's words (`ConnectorState::label`).",
        ConnectorState::label,
    );
    tail.push('\n');
    tail.push_str(&words(
        "STATE_WORDS",
        "Each state in one or two words, for a compact row (`ConnectorState::word`).",
        ConnectorState::word,
    ));
    File {
        name: "status.generated.ts",
        from: "src/view/",
        decls: vec![
            declare::<SessionState>(),
            declare::<ConnectorState>(),
            declare::<Stage>(),
            declare::<ConnectorError>(),
            declare::<ConnectorView>(),
            declare::<SessionView>(),
            declare::<StatusView>(),
        ],
        tail,
    }
}
