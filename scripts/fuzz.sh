#!/usr/bin/env bash
# `make fuzz`: builds every fuzz target in fuzz/ with libFuzzer and AddressSanitizer, then runs
# each for a bounded time. No nightly toolchain needed: RUSTC_BOOTSTRAP lets the pinned stable
# compiler take the sanitizer flags (what cargo-fuzz passes, without installing it).
#
#   FUZZ_SECONDS=60      seconds per target
#   FUZZ_TARGETS="a b"   only these targets (default: every [[bin]] in fuzz/Cargo.toml)
#   FUZZ_MERGE=1         afterwards, add the new inputs that reach new coverage to the
#                        checked-in fuzz/corpus/<target> (libFuzzer -merge=1)
#
# New inputs go to fuzz/target/corpus/<target> (not checked in); crashes to
# fuzz/artifacts/<target>/, which `cargo test` replays. Numbers per target go to
# fuzz/target/logs/<target>.log and a summary is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^lanyard-fuzz$')}
host=$(rustc -vV | sed -n 's/^host: //p')

export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 -Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
 -Zsanitizer=address -Cforce-frame-pointers --cfg fuzzing"
# --target keeps the sanitizer flags off build scripts and proc macros.
echo "==> building the fuzz targets (release, ASan, coverage) for $host"
cargo build --release --manifest-path fuzz/Cargo.toml --target "$host" --bins

bin_dir=fuzz/target/$host/release
mkdir -p fuzz/target/logs
summary=()
status=0
for t in $targets; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" "fuzz/target/corpus/$t"
  log=fuzz/target/logs/$t.log
  echo "==> fuzzing $t for ${seconds}s"
  if ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 "$bin_dir/$t" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
      -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" \
      "fuzz/target/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    verdict=ok
  else
    verdict="CRASH (see $log and fuzz/artifacts/$t/)"
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
  summary+=("$(printf '%-20s %10s execs  cov %6s  ft %6s  corpus %-12s %s' \
    "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$verdict")")
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    ASAN_OPTIONS=detect_leaks=0 "$bin_dir/$t" -merge=1 -timeout=10 -max_len=16384 \
      "fuzz/corpus/$t" "fuzz/target/corpus/$t" >>"$log" 2>&1 || true
  fi
done
echo
printf '%s\n' "${summary[@]}"
exit $status
