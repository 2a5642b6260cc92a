#!/usr/bin/env bash
# End-to-end test of the desktop app: the real lanyard-app under Xvfb, driven over WebDriver
# (tauri-driver + WebKitWebDriver) against the real lab, in a private D-Bus session with a
# throw-away keyring. Builds and installs what it needs first; writes docs/screenshots/*.png.
# The test itself (tests/e2e/app.test.js) starts and stops the lab and tauri-driver; this
# script owns the display, and a time limit that ends the whole process group on a hang.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS_CARGO="$PWD/.tools/cargo"
TAURI_DRIVER_VERSION=2.1.0
# Whole run after the build: app start, sign-in, refreshes, sign-out, then the session-warning
# run (its own app against 20-second tokens, about a minute), with room to spare.
TEST_TIMEOUT_SECS=240

inside() {
  # Globals, not locals: the EXIT trap reads them after the function is gone.
  RUN_DIR=$(mktemp -d -t lanyard-e2e-run-XXXXXX)
  XVFB_PID="" RUN_PID=""
  local display_file="$RUN_DIR/display" rc=0
  cleanup() {
    if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
      kill -TERM "$RUN_PID" 2>/dev/null || true
      wait "$RUN_PID" 2>/dev/null || true
    fi
    if [ -n "$XVFB_PID" ]; then
      kill -TERM "$XVFB_PID" 2>/dev/null || true
      wait "$XVFB_PID" 2>/dev/null || true
    fi
    rm -rf "$RUN_DIR"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM HUP

  # -displayfd: Xvfb picks a free display and writes its number once it accepts clients.
  Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$display_file" 2>"$RUN_DIR/xvfb.log" &
  XVFB_PID=$!
  for _ in $(seq 1 100); do
    [ -s "$display_file" ] && break
    kill -0 "$XVFB_PID" 2>/dev/null || { echo "Xvfb failed to start:"; cat "$RUN_DIR/xvfb.log"; exit 1; }
    sleep 0.1
  done
  [ -s "$display_file" ] || { echo "Xvfb did not report a display"; exit 1; }
  export DISPLAY=":$(head -n1 "$display_file")"
  # No GPU here: software GL, and no compositing (else WebKit can paint an empty window).
  export WEBKIT_DISABLE_COMPOSITING_MODE=1 LIBGL_ALWAYS_SOFTWARE=1 NO_AT_BRIDGE=1

  # `timeout` leads its own process group and signals all of it on expiry, so a hung app,
  # driver or lab cannot outlive the run.
  # One file at a time: the app is single-instance. session-warning.test.js runs its own app
  # against a lab with short-lived tokens.
  (cd tests/e2e && exec timeout --kill-after=10s "${TEST_TIMEOUT_SECS}s" node --test --test-concurrency=1 app.test.js session-warning.test.js) &
  RUN_PID=$!
  wait "$RUN_PID" || rc=$?
  RUN_PID=""
  if [ "$rc" -ne 0 ]; then
    [ "$rc" -eq 124 ] && echo "e2e: timed out after ${TEST_TIMEOUT_SECS}s"
    for log in target/e2e-logs/{,session-warning/}{driver,lab,notification-server}.log; do
      [ -s "$log" ] && { echo "--- last lines of $log"; tail -n 40 "$log"; }
    done
  fi
  return "$rc"
}

if [ "${1:-}" = "--inside" ]; then
  inside
  exit $?
fi

for tool in Xvfb WebKitWebDriver dbus-run-session gnome-keyring-daemon node npm curl; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is missing; run scripts/install-deps.sh"; exit 1; }
done

# The app embeds ui/dist when it is compiled, so the front end is built first.
if [ ! -f ui/dist/index.html ]; then
  echo "==> building the window's front end (ui/dist)"
  [ -d ui/node_modules ] || (cd ui && npm ci --silent --no-audit --no-fund)
  npm --prefix ui run build --silent
fi

echo "==> building lanyard-app and lanyard-lab"
cargo build --quiet -p lanyard-app -p lanyard-lab

if [ -x "$TOOLS_CARGO/bin/tauri-driver" ]; then
  export TAURI_DRIVER="$TOOLS_CARGO/bin/tauri-driver"
elif command -v tauri-driver >/dev/null; then
  TAURI_DRIVER=$(command -v tauri-driver)
  export TAURI_DRIVER
else
  echo "==> installing tauri-driver $TAURI_DRIVER_VERSION into .tools/cargo"
  cargo install --quiet tauri-driver --version "$TAURI_DRIVER_VERSION" --locked --root "$TOOLS_CARGO"
  export TAURI_DRIVER="$TOOLS_CARGO/bin/tauri-driver"
fi

if [ ! -d tests/e2e/node_modules ]; then
  echo "==> installing the e2e test's npm packages"
  # --ignore-scripts: webdriverio's optional browser-driver packages would try to download
  # drivers we do not use (tauri-driver and WebKitWebDriver are the drivers here).
  (cd tests/e2e && npm ci --silent --no-audit --no-fund --ignore-scripts)
fi

echo "==> end-to-end: lanyard-app under Xvfb, WebDriver, real lab, real keyring"
exec bash scripts/with-keyring.sh bash scripts/e2e.sh --inside
