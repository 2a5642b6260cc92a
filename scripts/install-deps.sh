#!/usr/bin/env bash
# Installs what building, testing and the demo need, only when it is missing, so `make test`
# and `make demo` work on a fresh machine. Idempotent; fast when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # Tauri 2 on Linux
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev libxdo-dev
  build-essential pkg-config curl file
  # tests and the headless demo: display, WebDriver, keyring, D-Bus
  xvfb xauth webkit2gtk-driver gnome-keyring dbus-x11 libsecret-tools imagemagick
  # gdbus: scripts/with-keyring.sh starts the keyring by D-Bus activation, the keyring tests
  # find and kill its daemon (gnome-keyring does not pull it in without recommends)
  libglib2.0-bin
  # the pilot report's render check (headless Chromium screenshot)
  chromium
  # the tray-menu screenshot: an XEmbed tray host and a clicker
  trayer xdotool
  # the end-to-end test's notification server on the session bus (tests/e2e/notification-server.py)
  python3-dbus python3-gi
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node 22 for the MCP conformance suite (it crashes on Node 20), private to this checkout.
if [ ! -x .tools/node22/node_modules/node/bin/node ]; then
  echo "==> installing node@22 into .tools/node22"
  mkdir -p .tools/node22
  npm install --silent --no-audit --no-fund --prefix .tools/node22 node@22 >/dev/null
fi
if [ ! -d .tools/conformance/node_modules/@modelcontextprotocol/conformance ]; then
  echo "==> installing @modelcontextprotocol/conformance@0.2.0-alpha.12 into .tools/conformance"
  mkdir -p .tools/conformance
  npm install --silent --no-audit --no-fund --prefix .tools/conformance @modelcontextprotocol/conformance@0.2.0-alpha.12 >/dev/null
fi

# The window's front end.
if [ -f ui/package.json ] && [ ! -d ui/node_modules ]; then
  echo "==> installing the UI's npm packages"
  (cd ui && npm ci --silent --no-audit --no-fund >/dev/null)
fi
