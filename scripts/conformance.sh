#!/usr/bin/env bash
# Runs the MCP conformance suite against `lanyard-conformance` (Lanyard's core as an MCP client).
#
# 1. auth/enterprise-managed-authorization: REQUIRED. Exit 1 unless every check passes.
# 2. The other auth/* client scenarios: recorded in a table, never fail the run (Lanyard has
#    no per-user OAuth client; see docs/conformance.md for why each one passes or fails).
#
# Results go to target/conformance/ (the suite's checks.json, stdout.txt, stderr.txt per
# scenario). The last line is `conformance: N passed, M failed`, counting the EMA checks only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

SUITE_VERSION="0.2.0-alpha.12"
NODE_BIN="$ROOT/.tools/node22/node_modules/node/bin"
SUITE="$ROOT/.tools/conformance/node_modules/@modelcontextprotocol/conformance"
EMA_SCENARIO="auth/enterprise-managed-authorization"
TIMEOUT_MS=20000

if [ ! -x "$NODE_BIN/node" ] || [ ! -f "$SUITE/dist/index.js" ]; then
  echo "==> Node 22 or the conformance suite is missing: running scripts/install-deps.sh"
  scripts/install-deps.sh
fi
export PATH="$NODE_BIN:$PATH"
installed="$(node -p "require('$SUITE/package.json').version")"
if [ "$installed" != "$SUITE_VERSION" ]; then
  echo "conformance: expected @modelcontextprotocol/conformance@$SUITE_VERSION, found $installed" >&2
  exit 1
fi

echo "==> cargo build -p lanyard-conformance"
cargo build --quiet -p lanyard-conformance
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
BIN="$TARGET_DIR/debug/lanyard-conformance"
case "$BIN" in
  *" "*) echo "conformance: the suite splits --command on spaces; $BIN contains one" >&2; exit 1 ;;
esac

OUT="$TARGET_DIR/conformance"
rm -rf "$OUT"
mkdir -p "$OUT"

# Runs one scenario into $OUT/<slug>/ (the suite adds <scenario>-<timestamp>/checks.json) and
# sets SUITE_STATUS to the suite's exit status (non-zero when a check fails or the client
# exits with an error the scenario does not allow).
run_scenario() {
  local slug="${1//\//_}"
  SUITE_STATUS=0
  node "$SUITE/dist/index.js" client --command "$BIN" --scenario "$1" \
    --timeout "$TIMEOUT_MS" -o "$OUT/$slug" >"$OUT/$slug.log" 2>&1 || SUITE_STATUS=$?
}

# Prints "<passed> <total> <failed>" for a scenario's checks.json: SUCCESS passes; FAILURE
# and WARNING fail (the suite fails a run on either); INFO/SKIPPED are not counted. Each
# further argument is a check id that must be present (a FAILURE of it is already counted);
# a missing one counts as one more failure.
count_checks() {
  local checks
  checks="$(find "$OUT/${1//\//_}" -name checks.json 2>/dev/null | head -n 1)"
  if [ -z "$checks" ]; then
    echo "0 0 0"
    return
  fi
  node -e '
    const [file, ...required] = process.argv.slice(1);
    const checks = require(file);
    const pass = checks.filter(c => c.status === "SUCCESS").length;
    let fail = checks.filter(c => c.status === "FAILURE" || c.status === "WARNING").length;
    for (const id of required) {
      if (!checks.some(c => c.id === id)) {
        console.error(`conformance: required check ${id} was never emitted`);
        fail += 1;
      }
    }
    console.log(`${pass} ${pass + fail} ${fail}`);
  ' "$checks" "${@:2}"
}

echo "==> $EMA_SCENARIO (required)"
run_scenario "$EMA_SCENARIO"
ema_status=$SUITE_STATUS
read -r ema_pass ema_total ema_fail < <(count_checks "$EMA_SCENARIO" \
  complete-flow-token-exchange complete-flow-jwt-bearer valid-bearer-token)
sed -n '/^Checks:/,$p' "$OUT/${EMA_SCENARIO//\//_}.log"

echo
echo "==> other auth/* client scenarios (recorded, not required)"
mapfile -t scenarios < <(node "$SUITE/dist/index.js" list |
  sed -n '/^Client scenarios/,/^$/p' | sed -n 's/^  - \(auth\/[^ ]*\).*/\1/p' | grep -vx "$EMA_SCENARIO")
printf '%-46s %s\n' "scenario" "passed/total"
for scenario in "${scenarios[@]}"; do
  run_scenario "$scenario"
  read -r pass total fail < <(count_checks "$scenario")
  if [ "$SUITE_STATUS" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
  verdict="FAIL"
  if [ "$total" -gt 0 ] && [ "$fail" -eq 0 ]; then verdict="PASS"; fi
  printf '%-46s %s/%s %s\n' "$scenario" "$pass" "$total" "$verdict"
done
echo "results: $OUT"

# No checks at all (the suite or the client crashed) counts as one failure, so the summary
# line can never read "0 failed" for a run that did not happen.
if [ "$ema_total" -eq 0 ]; then ema_fail=1; fi
if [ "$ema_status" -ne 0 ] && [ "$ema_fail" -eq 0 ]; then
  echo "conformance: the suite reported a failure for $EMA_SCENARIO (see $OUT/${EMA_SCENARIO//\//_}.log)" >&2
  ema_fail=1
fi
echo "conformance: $ema_pass passed, $ema_fail failed"
[ "$ema_fail" -eq 0 ]
