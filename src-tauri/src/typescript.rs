//! Tests only: the window's TypeScript copies of the app crate's own IPC types (errors, the
//! sign-in progress event, settings, what the save commands answer), generated with ts-rs (a
//! dev-dependency: nothing of it ships) into `ui/src/lib/backend/app.generated.ts`, as the core
//! does for its types in `src/typescript/`. The test fails when the checked-in file differs from
//! what the Rust types say; `LANYARD_WRITE_TS=1 cargo test -p lanyard-app --lib typescript`
//! rewrites it.

use ts_rs::TS;

use crate::dto::{AppError, ErrorCode, Settings};
use crate::events::{SignInPhase, SignInProgress};
use crate::pilot::SavedReport;
use crate::support::SavedBundle;

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../ui/src/lib/backend/app.generated.ts"
);

/// One TypeScript declaration, with the names it refers to.
struct Declaration {
    name: String,
    text: String,
    uses: Vec<String>,
}

/// As the core's: `u64` and `i64` become `number`, which is what `JSON.parse` gives.
fn config() -> ts_rs::Config {
    ts_rs::Config::default().with_large_int("number")
}

/// The type's declaration, its doc comment first (as JSDoc), and the names it uses.
fn declare<T: TS + 'static>() -> Declaration {
    let cfg = config();
    Declaration {
        name: T::ident(&cfg),
        text: format!(
            "{}export {}",
            T::docs().unwrap_or_default(),
            T::decl(&cfg).trim()
        ),
        uses: T::dependencies(&cfg)
            .into_iter()
            .map(|d| d.ts_name)
            .collect(),
    }
}

/// Every type the app crate itself sends the window; the rest comes from the core.
fn declarations() -> Vec<Declaration> {
    vec![
        declare::<ErrorCode>(),
        declare::<AppError>(),
        declare::<SignInPhase>(),
        declare::<SignInProgress>(),
        declare::<Settings>(),
        declare::<SavedBundle>(),
        declare::<SavedReport>(),
    ]
}

fn render(decls: &[Declaration]) -> String {
    let mut out = String::from(
        "// Generated from the Rust types in src-tauri/src/ by `LANYARD_WRITE_TS=1 cargo test -p\n\
         // lanyard-app --lib typescript`; `make test` fails when this file and the Rust types\n\
         // disagree. Do not edit by hand.\n\n",
    );
    for d in decls {
        out.push_str(&d.text);
        out.push_str("\n\n");
    }
    out.pop();
    out
}

/// None of these types uses a core type; if one comes to, it has to be imported, which this
/// file does not do yet.
#[test]
fn every_type_used_is_declared_here() {
    let decls = declarations();
    for d in &decls {
        for used in &d.uses {
            assert!(
                decls.iter().any(|o| &o.name == used),
                "{} uses {used}, which app.generated.ts does not declare",
                d.name
            );
        }
    }
}

#[test]
fn typescript_types_match_the_rust_ones() {
    let want = render(&declarations());
    if std::env::var_os("LANYARD_WRITE_TS").is_some() {
        std::fs::write(PATH, &want).expect("write the generated TypeScript");
        return;
    }
    assert!(
        std::fs::read_to_string(PATH).unwrap_or_default() == want,
        "{PATH} is out of date with the Rust types; regenerate with \
         `LANYARD_WRITE_TS=1 cargo test -p lanyard-app --lib typescript` and commit"
    );
}
