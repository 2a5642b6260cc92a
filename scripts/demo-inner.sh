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
echo "==> lanyard status --json | connectors"
target/debug/lanyard status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
for c in s["connectors"]:
    err = c.get("error") or {}
    print(f"  {c[\"id\"]:<10} {c[\"state\"]:<12} {err.get(\"code\", \"\")}")'
echo
echo "Demo state is in $DEMO/ (policy, state file, traces). The lab stops now."
