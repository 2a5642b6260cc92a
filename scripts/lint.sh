#!/usr/bin/env bash
# Formatting, clippy (all lints denied in the workspace), and the architecture's invariants
# (ARCHITECTURE.md): the core library depends on no UI or CLI crate; no import cycle between
# the files of the core, the lab, the CLI or the app; no blocking call in the engine's async fns;
# no function in the core over 60 lines without a reason written beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> core boundary: lanyard (core) depends on no tauri, clap or UI crate"
bad=$(cargo tree -p lanyard -e normal --prefix none 2>/dev/null | grep -E '^(tauri|clap|wry|tao|gtk|webkit2gtk)[ -]' | sort -u || true)
if [ -n "$bad" ]; then
  echo "the core library must not depend on UI/CLI crates, but it pulls in:"; echo "$bad"; exit 1
fi
echo "==> layers: no import cycle, no blocking call in the engine's async fns, no string errors in the core (scripts/check-layers.py)"
python3 scripts/check-layers.py src crates/lab/src crates/cli/src crates/conformance/src src-tauri/src
echo "==> function length: no fn over 60 lines without a \`// long:\` reason, in any crate (scripts/check-fn-length.py)"
python3 scripts/check-fn-length.py src crates/lab/src crates/cli/src crates/conformance/src src-tauri/src
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
