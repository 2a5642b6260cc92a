#!/usr/bin/env bash
# `make demo`: build, start the local lab (a real IdP and connector servers on loopback), sign
# ada in through the real flow (authorization code + PKCE, loopback callback), print her
# connectors. Runs inside a private D-Bus session with a throw-away keyring.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> building lanyard and lanyard-lab"
cargo build --quiet -p lanyard-cli -p lanyard-lab
exec bash scripts/with-keyring.sh bash scripts/demo-inner.sh
