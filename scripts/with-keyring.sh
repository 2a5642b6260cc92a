#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring Secret Service,
# in a throw-away keyring folder: tests use the real OS keyring without touching the user's.
set -euo pipefail
if [ -z "${LANYARD_IN_KEYRING_SESSION:-}" ]; then
  export LANYARD_IN_KEYRING_SESSION=1
  KEYRING_HOME=$(mktemp -d -t lanyard-keyring-XXXXXX)
  export XDG_DATA_HOME="$KEYRING_HOME/data" XDG_RUNTIME_DIR="$KEYRING_HOME/run"
  mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
  trap 'rm -rf "$KEYRING_HOME"' EXIT
  dbus-run-session -- "$0" "$@"
  exit $?
fi
printf 'lanyard-test' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
exec "$@"
