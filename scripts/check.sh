#!/usr/bin/env bash
# The whole test suite, as `make check` runs it: build plain and under
# ASan+UBSan (warnings are errors in both), run every suite in both builds,
# check libfwv's Cortex-M4 footprint, and end with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
total_pass=0
total_fail=0
failures=$(mktemp)
trap 'rm -f "$failures"' EXIT

setup() { # dir, extra meson args...
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
  fi
  ninja -C "$dir" -j "$jobs" >"$dir.build.log" 2>&1 || { cat "$dir.build.log"; return 1; }
}

# Run one suite; it prints "ok|FAIL <name>" lines and "RESULT <pass> <fail>".
suite() { # label, command...
  local label=$1; shift
  local out rc pass fail
  out=$("$@" 2>&1); rc=$?
  read -r pass fail < <(printf '%s\n' "$out" | awk '/^RESULT /{p+=$2; f+=$3} END{print p+0, f+0}')
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
    fail=1 # crashed or sanitizer abort before printing a failure
  fi
  if [ "$fail" -ne 0 ]; then
    printf '%s\n' "$out" | grep -v '^ok ' | sed "s/^/  [$label] /" | tee -a "$failures"
  elif [ -n "${SUITE_VERBOSE:-}" ]; then
    printf '%s\n' "$out" | grep -v '^RESULT ' | sed 's/^/  /'
  fi
  printf '%-34s %4d passed, %d failed\n' "$label" "$pass" "$fail"
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
}

run_build() { # label, build dir
  local label=$1 dir=$2 t name
  for t in "$dir"/tests/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    suite "$label $(basename "$t")" "$t"
  done
  # every fuzz target replays its corpus: fuzz/fuzz_<name>_replay <- fuzz/corpus/<name>
  for t in "$dir"/fuzz/fuzz_*_replay; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    name=$(basename "$t")
    name=${name#fuzz_}
    name=${name%_replay}
    suite "$label fuzz $name replay" "$t" "fuzz/corpus/$name"
  done
  suite "$label e2e cli" bash tests/e2e/test_cli.sh "$dir/fwtrust"
  suite "$label e2e store cli" bash tests/e2e/test_store_cli.sh "$dir/fwtrust"
  suite "$label e2e fleet cli" bash tests/e2e/test_fleet_cli.sh "$dir"
  suite "$label e2e campaign cli" bash tests/e2e/test_campaign_cli.sh "$dir"
  suite "$label e2e crash" bash tests/e2e/test_crash.sh "$dir"
  suite "$label e2e swu" bash tests/e2e/test_swu.sh "$dir"
  suite "$label e2e ddi" python3 tests/e2e/test_ddi.py "$dir"
  suite "$label e2e swupdate" python3 tests/e2e/test_swupdate.py "$dir"
  suite "$label e2e 1000 agents" python3 tests/e2e/test_fleet_agents.py "$dir"
  suite "$label e2e bundle" python3 tests/e2e/test_bundle.py "$dir"
  suite "$label e2e report" python3 tests/e2e/test_report.py "$dir"
  suite "$label e2e retention" bash tests/e2e/test_retention.sh "$dir"
  suite "$label e2e vuln" bash tests/e2e/test_vuln.sh "$dir"
  suite "$label e2e vuln csaf" bash tests/e2e/test_vuln_csaf.sh "$dir"
  suite "$label e2e vuln remediate" bash tests/e2e/test_vuln_remediate.sh "$dir"
  suite "$label e2e vuln bundle" python3 tests/e2e/test_vuln_bundle.py "$dir"
  suite "$label e2e release sbom" bash tests/e2e/test_release_sbom.sh "$dir"
  suite "$label e2e demo" bash scripts/demo.sh "$dir/fwtrust" --quiet
}

start=$(date +%s)
setup build || exit 1
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug \
  -Dc_args=-fno-sanitize-recover=all || exit 1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run_build plain build
run_build asan+ubsan build-asan
# the Cortex-M4 numbers are part of the report, not only pass/fail
SUITE_VERBOSE=1 suite "footprint cortex-m4" bash scripts/footprint.sh build/footprint

echo "check took $(( $(date +%s) - start ))s"
# the failures again at the end, where a log's tail shows them
if [ -s "$failures" ]; then
  echo "failures (as printed above, the last 60 lines):"
  tail -n 60 "$failures"
fi
echo "${total_pass} passed, ${total_fail} failed"
[ "$total_fail" -eq 0 ]
