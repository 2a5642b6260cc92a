#!/usr/bin/env bash
# The demo proper (see demo.sh); expects to run inside scripts/with-keyring.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO=.lanyard-demo
rm -rf "$DEMO"; mkdir -p "$DEMO/state"
source scripts/lab.sh
start_lab "$DEMO" --auto-login ada@lab.example

export LANYARD_POLICY="$LAB_POLICY" LANYARD_STATE_DIR="$PWD/$DEMO/state"
# The "browser" follows the IdP's redirect to Lanyard's loopback callback, as a real one would.
export LANYARD_BROWSER_COMMAND="curl -fsSL -o /dev/null"

echo "==> lanyard login   (IdP: $LAB_ISSUER)"
target/debug/lanyard login || true
echo
echo "==> lanyard status   (local state only: no network, no keyring)"
set +e
target/debug/lanyard status > /dev/null
code=$?
set -e
echo "exit code $code (0: signed in, nothing needs attention; 3: sign in; 4: attention)"

echo
echo "==> legacy per-user OAuth tokens other MCP clients left behind (seeded by the lab)"
mkdir -p "$DEMO/home"
target/debug/lanyard-lab seed-legacy --lab "$LAB_BASE" --home "$PWD/$DEMO/home" --user ada@lab.example >/dev/null
export LANYARD_LEGACY_HOME="$PWD/$DEMO/home"
target/debug/lanyard legacy list
if [ -n "${LANYARD_DEMO_CLEAR_LEGACY:-}" ]; then
  echo
  # --force: these files live in the demo home, so a running Claude Code or VS Code elsewhere
  # on this machine does not own them.
  echo "==> lanyard legacy disconnect --covered --force"
  target/debug/lanyard legacy disconnect --covered --force || true
else
  echo "(the app's Legacy connections section can clear the covered ones in one click;"
  echo " or run the demo with LANYARD_DEMO_CLEAR_LEGACY=1 to do it here with the CLI)"
fi

echo
echo "==> the tray app, signed in to the lab"
if [ -n "${DISPLAY:-}" ] && [ -z "${LANYARD_DEMO_HEADLESS:-}" ]; then
  echo "Lanyard is running in your tray; quit it from the tray menu to end the demo."
  target/debug/lanyard-app
else
  Xvfb :97 -screen 0 1024x768x24 -nolisten tcp >/dev/null 2>&1 &
  XVFB=$!
  export DISPLAY=:97
  trap 'kill $APP $XVFB $LAB_PID 2>/dev/null || true' EXIT
  target/debug/lanyard-app > "$DEMO/app.log" 2>&1 &
  APP=$!
  sleep 8
  if command -v import >/dev/null; then
    import -window root -crop 440x680+0+0 "$DEMO/window.png" 2>/dev/null || import -window root "$DEMO/window.png"
    echo "No display here: the app ran under Xvfb; its window is in $DEMO/window.png"
  fi
fi
echo
echo "Demo state is in $DEMO/ (policy, state file, traces, window.png). The lab stops now."
