#!/usr/bin/env bash
# `make test`: every test, in the order that fails fastest. Integration tests run inside a
# private D-Bus session with an unlocked gnome-keyring (scripts/with-keyring.sh), so they use
# the real OS keyring without touching the user's.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

echo "==> UI: unit tests (vitest, fake backend), type check (svelte-check) and build (the app embeds ui/dist)"
(cd ui && npm test --silent && npm run check --silent && npm run build --silent)

bash scripts/lint.sh

echo "==> cargo test: unit, integration against the real lab, real keyring, app commands"
bash scripts/with-keyring.sh cargo test --workspace --no-fail-fast

echo "==> MCP conformance suite"
bash scripts/conformance.sh

if [ -f scripts/e2e.sh ]; then
  echo "==> end to end: the real app under Xvfb, driven by WebDriver, against the lab"
  bash scripts/e2e.sh
fi

echo "==> the .deb installs and runs: dpkg -i, the installed app against the lab, SIGTERM, dpkg -r"
bash scripts/deb-smoke.sh
