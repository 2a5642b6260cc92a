#!/usr/bin/env bash
# Sourced helper: start_lab DIR [lab flags…] starts target/${LAB_PROFILE:-debug}/lanyard-lab, waits for its
# one-line JSON ready message, exports LAB_BASE, LAB_ISSUER, LAB_POLICY, and stops the lab
# when the calling shell exits.
start_lab() {
  local dir=$1; shift
  local out="$dir/lab.ready" err="$dir/lab.log"
  : > "$out"
  "target/${LAB_PROFILE:-debug}/lanyard-lab" serve --port 0 --policy-out "$dir/policy.json" "$@" > "$out" 2> "$err" &
  LAB_PID=$!
  trap 'kill $LAB_PID 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    [ -s "$out" ] && break
    kill -0 $LAB_PID 2>/dev/null || { echo "lanyard-lab failed to start:"; cat "$err"; exit 1; }
    sleep 0.1
  done
  [ -s "$out" ] || { echo "lanyard-lab did not report ready"; cat "$err"; exit 1; }
  eval "$(python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
print("export LAB_BASE=%s LAB_ISSUER=%s LAB_POLICY=%s" % (r["base"], r["idp_issuer"], r["policy"]))' "$out")"
}
