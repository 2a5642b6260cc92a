//! The window's TypeScript copies of the core types that cross IPC, generated from the Rust
//! types with ts-rs (a dev-dependency: nothing of it ships) into
//! `ui/src/lib/backend/*.generated.ts`, one file per area of the core. The test fails when a
//! checked-in file differs from what the Rust types say, so the window can't drift from what
//! serde sends; `LANYARD_WRITE_TS=1 cargo test -p lanyard --lib typescript` rewrites them.
//!
//! A file imports what it uses from the file that declares it, and a type used but declared in
//! none of them fails the test: every type the window gets from the core is generated.

mod diagnose;
mod legacy;
mod pilot;
mod status;

use ts_rs::TS;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/lib/backend");

/// One TypeScript declaration, with the names it refers to.
struct Declaration {
    name: String,
    text: String,
    uses: Vec<String>,
}

/// One generated file.
struct File {
    /// Under `ui/src/lib/backend/`, e.g. `status.generated.ts`.
    name: &'static str,
    /// Where its Rust types live, for the header ("src/view/").
    from: &'static str,
    decls: Vec<Declaration>,
    /// Anything after the declarations (the status file's state words).
    tail: String,
}

/// `u64` and `i64` become `number`: serde_json writes them as plain numbers, which
/// `JSON.parse` reads as `number` (ts-rs's default, `bigint`, is never what arrives).
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

fn files() -> Vec<File> {
    vec![
        status::file(),
        diagnose::file(),
        legacy::file(),
        pilot::file(),
    ]
}

/// `import type` lines for what `file` uses and another file declares.
fn imports(file: &File, all: &[File]) -> String {
    let own: Vec<&str> = file.decls.iter().map(|d| d.name.as_str()).collect();
    let mut out = String::new();
    for other in all.iter().filter(|f| f.name != file.name) {
        let mut names: Vec<&str> = file
            .decls
            .iter()
            .flat_map(|d| &d.uses)
            .map(String::as_str)
            .filter(|u| !own.contains(u) && other.decls.iter().any(|d| d.name == *u))
            .collect();
        names.sort_unstable();
        names.dedup();
        if !names.is_empty() {
            let module = other.name.trim_end_matches(".ts");
            out.push_str(&format!(
                "import type {{ {} }} from './{module}';\n",
                names.join(", ")
            ));
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn render(file: &File, all: &[File]) -> String {
    let mut out = format!(
        "// Generated from the Rust types in {} by `LANYARD_WRITE_TS=1 cargo test -p lanyard\n\
         // --lib typescript`; `make test` fails when this file and the Rust types disagree.\n\
         // Do not edit by hand.\n\n",
        file.from
    );
    out.push_str(&imports(file, all));
    for d in &file.decls {
        out.push_str(&d.text);
        out.push_str("\n\n");
    }
    out.push_str(&file.tail);
    if out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[test]
fn every_type_used_is_declared_once() {
    let all = files();
    let declared: Vec<&str> = all
        .iter()
        .flat_map(|f| f.decls.iter().map(|d| d.name.as_str()))
        .collect();
    for (i, name) in declared.iter().enumerate() {
        assert!(
            !declared[i + 1..].contains(name),
            "{name} is declared twice"
        );
    }
    for f in &all {
        for d in &f.decls {
            for used in &d.uses {
                assert!(
                    declared.contains(&used.as_str()),
                    "{} (in {}) uses {used}, which no generated file declares",
                    d.name,
                    f.name
                );
            }
        }
    }
}

#[test]
fn typescript_types_match_the_rust_ones() {
    let all = files();
    let write = std::env::var_os("LANYARD_WRITE_TS").is_some();
    let mut stale = Vec::new();
    for f in &all {
        let path = format!("{DIR}/{}", f.name);
        let want = render(f, &all);
        if write {
            std::fs::write(&path, &want).expect("write the generated TypeScript");
        } else if std::fs::read_to_string(&path).unwrap_or_default() != want {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "out of date with the Rust types: {stale:?}; regenerate with \
         `LANYARD_WRITE_TS=1 cargo test -p lanyard --lib typescript` and commit"
    );
}
