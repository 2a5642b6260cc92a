#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring Secret Service,
# in a throw-away keyring folder: tests use the real OS keyring without touching the user's.
#
# The keyring daemon is started by D-Bus activation, from a service file in this session's own
# XDG_DATA_HOME that unlocks it with the test password. Two reasons: the start is synchronous
# (`--unlock` on its own forks and returns before the daemon owns its bus name, so a first
# client could activate a second, locked daemon), and a daemon that dies mid-run (a CI run once
# saw it replaced by a locked one, failing every later keyring test with "prompt dismissed")
# comes back unlocked with its items, which are on disk.
set -euo pipefail
if [ -z "${LANYARD_IN_KEYRING_SESSION:-}" ]; then
  export LANYARD_IN_KEYRING_SESSION=1
  KEYRING_HOME=$(mktemp -d -t lanyard-keyring-XXXXXX)
  export XDG_DATA_HOME="$KEYRING_HOME/data" XDG_RUNTIME_DIR="$KEYRING_HOME/run"
  mkdir -p "$XDG_DATA_HOME/dbus-1/services" "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
  trap 'rm -rf "$KEYRING_HOME"' EXIT
  printf '#!/bin/sh\nprintf lanyard-test | exec gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1\n' \
    >"$KEYRING_HOME/secrets-daemon"
  # Its output would otherwise be the wrapped command's (it inherits dbus-daemon's).
  chmod +x "$KEYRING_HOME/secrets-daemon"
  # XDG_DATA_HOME's services come before the system's, so this one replaces gnome-keyring's own.
  printf '[D-BUS Service]\nName=org.freedesktop.secrets\nExec=%s\n' "$KEYRING_HOME/secrets-daemon" \
    >"$XDG_DATA_HOME/dbus-1/services/org.freedesktop.secrets.service"
  dbus-run-session -- "$0" "$@"
  exit $?
fi
# Returns once the daemon owns org.freedesktop.secrets (the login keyring created and unlocked).
gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
  --method org.freedesktop.DBus.StartServiceByName org.freedesktop.secrets 0 >/dev/null
exec "$@"
