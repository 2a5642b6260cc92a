#!/usr/bin/env bash
# `make demo`: build, start the local lab (a real IdP and connector servers on loopback), sign
# ada in through the real flow (authorization code + PKCE, loopback callback), print her
# connectors, then open the tray app signed in to the lab (under Xvfb when there is no
# display, saving a screenshot). Runs inside a private D-Bus session with a throw-away keyring.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f ui/dist/index.html ]; then
  echo "==> building the window's front end"
  (cd ui && npm run build --silent)
fi
echo "==> building lanyard, lanyard-lab and the app"
cargo build --quiet -p lanyard-cli -p lanyard-lab -p lanyard-app
exec bash scripts/with-keyring.sh bash scripts/demo-inner.sh
