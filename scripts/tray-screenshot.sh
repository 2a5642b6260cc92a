#!/usr/bin/env bash
# Screenshot of the real tray menu, signed in to the lab as ada: docs/screenshots/tray-menu.png.
#
# Bare Xvfb has no system tray, so `trayer` (a small XEmbed tray host) runs on the display. With
# no StatusNotifierWatcher on the private session bus, libayatana-appindicator falls back to a
# GtkStatusIcon, which docks into trayer; a left click on it pops up the app's real menu, and the
# crop is the area that changed on screen (the menu) plus the tray.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${TRAY_SCREENSHOT_OUT:-docs/screenshots/tray-menu.png}

inside() {
  RUN_DIR=$(mktemp -d -t lanyard-tray-shot-XXXXXX)
  XVFB_PID="" TRAYER_PID="" APP_PID=""
  cleanup() {
    for pid in $APP_PID $TRAYER_PID ${LAB_PID:-} $XVFB_PID; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$RUN_DIR"
  }
  trap cleanup EXIT

  Xvfb -displayfd 3 -screen 0 1024x768x24 -wr -nolisten tcp 3>"$RUN_DIR/display" 2>"$RUN_DIR/xvfb.log" &
  XVFB_PID=$!
  for _ in $(seq 1 100); do [ -s "$RUN_DIR/display" ] && break; sleep 0.1; done
  [ -s "$RUN_DIR/display" ] || { echo "Xvfb did not start"; cat "$RUN_DIR/xvfb.log"; exit 1; }
  export DISPLAY=":$(head -n1 "$RUN_DIR/display")"
  export WEBKIT_DISABLE_COMPOSITING_MODE=1 LIBGL_ALWAYS_SOFTWARE=1 NO_AT_BRIDGE=1

  source scripts/lab.sh
  start_lab "$RUN_DIR" --auto-login ada@lab.example
  trap cleanup EXIT # start_lab set its own EXIT trap; cleanup also stops the lab.
  export LANYARD_POLICY="$LAB_POLICY" LANYARD_STATE_DIR="$RUN_DIR/state"
  export LANYARD_BROWSER_COMMAND="curl -fsSL -o /dev/null"
  mkdir -p "$LANYARD_STATE_DIR"
  target/debug/lanyard login >"$RUN_DIR/login.log" 2>&1 || true

  # A light panel on a white desktop (-wr), so the crop reads like a tray on a screen.
  trayer --edge top --align right --widthtype request --height 28 --SetDockType true \
    --SetPartialStrut true --transparent true --alpha 0 --tint 0xdcdcdc --expand false >"$RUN_DIR/trayer.log" 2>&1 &
  TRAYER_PID=$!
  # trayer's visible window is the one named "panel"; the icons dock inside it.
  tray_win=$(xdotool search --sync --onlyvisible --name '^panel$' | head -n1)

  target/debug/lanyard-app >"$RUN_DIR/app.log" 2>&1 &
  APP_PID=$!
  # The icon has docked when trayer's window has grown to hold it.
  docked=""
  for _ in $(seq 1 150); do
    kill -0 "$APP_PID" 2>/dev/null || { echo "lanyard-app exited:"; cat "$RUN_DIR/app.log"; exit 1; }
    eval "$(xdotool getwindowgeometry --shell "$tray_win")"
    [ "$WIDTH" -gt 8 ] && { docked=1; break; }
    sleep 0.2
  done
  [ -n "$docked" ] || { echo "no tray icon docked in trayer"; cat "$RUN_DIR/app.log"; exit 1; }
  # Let the first status (signed in, connectors resolved) reach the menu, then take the main
  # window off screen: the shot is of the tray.
  sleep 6
  for w in $(xdotool search --onlyvisible --name '^Lanyard$' 2>/dev/null || true); do
    [ "$w" = "$tray_win" ] || xdotool windowunmap "$w" || true
  done
  sleep 0.5

  eval "$(xdotool getwindowgeometry --shell "$tray_win")"
  local tx=$X ty=$Y tw=$WIDTH th=$HEIGHT
  import -window root "$RUN_DIR/before.png"
  xdotool mousemove $((tx + tw / 2)) $((ty + th / 2)) click 1
  sleep 0.5
  import -window root "$RUN_DIR/after.png"

  # What the click put on screen: the bounding box of the changed pixels.
  changed=$(convert "$RUN_DIR/before.png" "$RUN_DIR/after.png" -compose difference -composite \
    -threshold 0 -trim -format '%w %h %X %Y' info: 2>/dev/null | tr -d '+')
  read -r mw mh mx my <<<"$changed"
  if [ -z "${mw:-}" ] || [ "$mw" -le 1 ] || [ "$mh" -le 20 ]; then
    echo "clicking the tray icon showed no menu"; cat "$RUN_DIR/app.log"; exit 1
  fi
  # Crop: the menu and the tray icon together, with a margin, kept inside the screen.
  local pad=12 x0 y0 x1 y1
  x0=$(( (mx < tx ? mx : tx) - pad )); y0=$(( (my < ty ? my : ty) - pad ))
  x1=$(( (mx + mw > tx + tw ? mx + mw : tx + tw) + pad )); y1=$(( (my + mh > ty + th ? my + mh : ty + th) + pad ))
  (( x0 < 0 )) && x0=0; (( y0 < 0 )) && y0=0
  (( x1 > 1024 )) && x1=1024; (( y1 > 768 )) && y1=768
  mkdir -p "$(dirname "$OUT")"
  convert "$RUN_DIR/after.png" -crop "$((x1 - x0))x$((y1 - y0))+$x0+$y0" +repage "$OUT"
  echo "==> $OUT ($((x1 - x0))x$((y1 - y0)); menu ${mw}x${mh} at +$mx+$my, tray icon at +$tx+$ty)"
}

if [ "${1:-}" = "--inside" ]; then
  inside
  exit $?
fi

for tool in Xvfb trayer xdotool import convert dbus-run-session gnome-keyring-daemon; do
  command -v "$tool" >/dev/null || { echo "tray-screenshot: $tool is missing (apt: xvfb trayer xdotool imagemagick)"; exit 1; }
done
# The app embeds ui/dist when it is compiled, so the front end is built first.
if [ ! -f ui/dist/index.html ]; then
  [ -d ui/node_modules ] || (cd ui && npm ci --silent --no-audit --no-fund)
  npm --prefix ui run build --silent
fi
cargo build --quiet -p lanyard-app -p lanyard-lab -p lanyard-cli
bash scripts/with-keyring.sh bash scripts/tray-screenshot.sh --inside
