#!/usr/bin/env bash
# Formatting, clippy (all lints denied in the workspace), and the architecture boundary:
# the core library must not depend on any UI or CLI crate.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> core boundary: lanyard (core) depends on no tauri, clap or UI crate"
bad=$(cargo tree -p lanyard -e normal --prefix none 2>/dev/null | grep -E '^(tauri|clap|wry|tao|gtk|webkit2gtk)[ -]' | sort -u || true)
if [ -n "$bad" ]; then
  echo "the core library must not depend on UI/CLI crates, but it pulls in:"; echo "$bad"; exit 1
fi
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
