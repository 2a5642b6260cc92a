#!/usr/bin/env bash
# The .deb still installs and runs: bundle the debug build the end-to-end test just made
# (`package.sh --debug`, a few seconds), `dpkg -i` it, start the *installed* /usr/bin/lanyard-app
# against the lab with ada signed in, check its window is up and that it renews her session by
# itself, close its window (its web process ends, the app stays), open it again with a second
# launch, quit it with SIGTERM (exit 0), then `dpkg -r`. Needs root (CI runs as root); without
# root and without password-less sudo it says so and skips, because installing a package is
# the point of the check.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--inside" ]; then
  # Inside scripts/with-keyring.sh: a private D-Bus session with an unlocked keyring.
  RUN=$(mktemp -d -t lanyard-deb-XXXXXX)
  APP_PID="" XVFB_PID=""
  cleanup() {
    [ -n "$APP_PID" ] && kill -KILL "$APP_PID" 2>/dev/null || true
    [ -n "$XVFB_PID" ] && kill -TERM "$XVFB_PID" 2>/dev/null || true
    rm -rf "$RUN"
  }
  trap 'cleanup; kill $LAB_PID 2>/dev/null || true' EXIT
  source scripts/lab.sh
  # 20-second tokens: the renewal loop has to act within the test's few seconds.
  start_lab "$RUN" --auto-login ada@lab.example --token-lifetime-secs 20
  trap 'cleanup; kill $LAB_PID 2>/dev/null || true' EXIT
  export LANYARD_POLICY="$LAB_POLICY" LANYARD_STATE_DIR="$RUN/state" LANYARD_LOG_DIR="$RUN/logs"
  export LANYARD_LEGACY_HOME="$RUN/home" LANYARD_BROWSER_COMMAND="curl -fsSL -o /dev/null"
  export XDG_CONFIG_HOME="$RUN/config"
  mkdir -p "$LANYARD_LEGACY_HOME" "$XDG_CONFIG_HOME"
  target/debug/lanyard login > "$RUN/login.log" 2>&1 || { cat "$RUN/login.log"; exit 1; }
  session_expiry() {
    target/debug/lanyard status --json 2>/dev/null \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["session"].get("expires_at") or "")'
  }
  before=$(session_expiry)
  [ -n "$before" ] || { echo "deb smoke: the CLI sign-in left no session"; exit 1; }

  Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$RUN/display" 2>"$RUN/xvfb.log" &
  XVFB_PID=$!
  for _ in $(seq 1 100); do [ -s "$RUN/display" ] && break; sleep 0.1; done
  [ -s "$RUN/display" ] || { echo "deb smoke: Xvfb did not start"; cat "$RUN/xvfb.log"; exit 1; }
  export DISPLAY=":$(head -n1 "$RUN/display")"
  export WEBKIT_DISABLE_COMPOSITING_MODE=1 LIBGL_ALWAYS_SOFTWARE=1 NO_AT_BRIDGE=1

  /usr/bin/lanyard-app > "$RUN/app.log" 2>&1 &
  APP_PID=$!
  window="" renewed=""
  for _ in $(seq 1 60); do
    kill -0 "$APP_PID" 2>/dev/null || { echo "deb smoke: the installed app exited"; cat "$RUN/app.log"; exit 1; }
    [ -n "$window" ] || window=$(xdotool search --onlyvisible --name '^Lanyard$' 2>/dev/null | head -n1 || true)
    now=$(session_expiry)
    [ -n "$now" ] && [[ "$now" > "$before" ]] && renewed=$now
    [ -n "$window" ] && [ -n "$renewed" ] && break
    sleep 1
  done
  [ -n "$window" ] || { echo "deb smoke: no visible window titled Lanyard within 60 s"; tail -n 30 "$RUN/app.log"; exit 1; }
  [ -n "$renewed" ] || { echo "deb smoke: the installed app did not renew the session (expiry stayed $before)"; tail -n 30 "$RUN/app.log"; exit 1; }
  echo "  ok   window up; session renewed by the installed app ($before -> $renewed)"

  # The window's close button closes the window, webview and all; the app (and its renewals)
  # go on in the tray.
  web_processes() { pgrep -P "$APP_PID" -f WebKitWebProcess | wc -l; }
  [ "$(web_processes)" -gt 0 ] || { echo "deb smoke: no WebKit web process under the shown window"; exit 1; }
  python3 tests/e2e/wm-close.py "$window"
  hidden=""
  for _ in $(seq 1 50); do
    xdotool search --onlyvisible --name '^Lanyard$' >/dev/null 2>&1 || { hidden=1; break; }
    sleep 0.1
  done
  [ -n "$hidden" ] || { echo "deb smoke: the window is still shown after a close request"; exit 1; }
  sleep 1
  kill -0 "$APP_PID" 2>/dev/null || { echo "deb smoke: closing the window quit the app"; tail -n 30 "$RUN/app.log"; exit 1; }
  freed=""
  for _ in $(seq 1 50); do [ "$(web_processes)" -eq 0 ] && { freed=1; break; }; sleep 0.1; done
  [ -n "$freed" ] || { echo "deb smoke: the WebKit web process outlived the closed window"; exit 1; }
  echo "  ok   closing the window ends its web process; the app keeps running in the tray"

  # Opening Lanyard again (a second launch, as the desktop's launcher does) builds the window
  # anew in the running app; the second process hands over and exits.
  started=$(date +%s%N)
  /usr/bin/lanyard-app > "$RUN/second.log" 2>&1 || { echo "deb smoke: the second launch failed"; cat "$RUN/second.log"; exit 1; }
  window=""
  for _ in $(seq 1 100); do
    window=$(xdotool search --onlyvisible --name '^Lanyard$' 2>/dev/null | head -n1 || true)
    [ -n "$window" ] && break
    sleep 0.05
  done
  [ -n "$window" ] || { echo "deb smoke: a second launch did not open the window again"; tail -n 30 "$RUN/app.log"; exit 1; }
  echo "  ok   a second launch opens the window again ($(( ($(date +%s%N) - started) / 1000000 )) ms to a mapped window, debug build)"

  kill -TERM "$APP_PID"
  rc=0
  for _ in $(seq 1 100); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$APP_PID" 2>/dev/null; then echo "deb smoke: the app ignored SIGTERM for 10 s"; exit 1; fi
  wait "$APP_PID" || rc=$?
  APP_PID=""
  [ "$rc" -eq 0 ] || { echo "deb smoke: the app exited with $rc on SIGTERM"; tail -n 30 "$RUN/app.log"; exit 1; }
  echo "  ok   SIGTERM: the app quit with exit code 0"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
    echo "deb smoke: skipped (installing a .deb needs root or password-less sudo)"; exit 0
  fi
fi
[ -x target/debug/lanyard-app ] && [ -x target/debug/lanyard ] && [ -x target/debug/lanyard-lab ] \
  || cargo build --quiet -p lanyard-app -p lanyard-cli -p lanyard-lab

echo "==> bundling the debug build as a .deb"
bash scripts/package.sh --debug | sed 's/^/  /'
version=$(python3 -c 'import json; print(json.load(open("src-tauri/tauri.conf.json"))["version"])')
deb=$(ls -t "${CARGO_TARGET_DIR:-target}"/debug/bundle/deb/*_"$version"_*.deb | head -n1)
pkg=$(dpkg-deb -f "$deb" Package)
# A run killed half-way may have left the package installed: dpkg -i replaces it, and it is
# removed at the end either way.

echo "==> dpkg -i $(basename "$deb")"
"${SUDO[@]}" dpkg -i "$deb" > /dev/null
trap '"${SUDO[@]}" dpkg -r "$pkg" > /dev/null 2>&1 || true' EXIT
dpkg -s "$pkg" | grep -q '^Status: install ok installed' || { echo "deb smoke: $pkg is not installed after dpkg -i"; exit 1; }
[ -x /usr/bin/lanyard-app ] || { echo "deb smoke: /usr/bin/lanyard-app is missing after dpkg -i"; exit 1; }
echo "  ok   installed: $(dpkg-query -W -f '${Package} ${Version}' "$pkg")"

bash scripts/with-keyring.sh bash scripts/deb-smoke.sh --inside

echo "==> dpkg -r $pkg"
"${SUDO[@]}" dpkg -r "$pkg" > /dev/null
trap - EXIT
[ ! -e /usr/bin/lanyard-app ] || { echo "deb smoke: /usr/bin/lanyard-app is still there after dpkg -r"; exit 1; }
echo "  ok   removed"
