# Shared helpers of the shell end-to-end tests (tests/e2e/test_*.sh), sourced
# by each before it changes directory. A test sets T (its scratch
# directory), FW (the binary) and, for log_size, FWTRUST_DB; helpers a test
# needs otherwise (a fixed-string expect_err, another log_size) it defines
# after sourcing this, which replaces these.
#
# begin NAME; ...checks...; end     one test case: "ok   NAME" or "FAIL NAME"
# bad WHY                           fail the current case, saying why
# run CMD...                        stdout in $out, stderr in $err, exit code in $rc
# expect_rc N, expect_out RE, expect_err RE, one_line_err
# js EXPR, expect_js EXPR WANT      Python over the JSON of the last stdout (as d)
# log_size                          records in the store's evidence log
# setup CMD...                      a step the tests need: on failure, stop (RESULT 0 1)
# flip_byte FILE OFFSET             xor one byte of FILE with 0x01, in place
# The test prints "RESULT $pass $fail" last (scripts/check.sh reads it).

pass=0 fail=0 name=""
begin() { name=$1; failed=0; }
bad() { echo "  $name: $*"; failed=1; }
end() { if [ "$failed" -eq 0 ]; then pass=$((pass+1)); echo "ok   $name"; else fail=$((fail+1)); echo "FAIL $name"; fi; }
run() { "$@" >"$T/.out" 2>"$T/.err"; rc=$?; out=$(<"$T/.out"); err=$(<"$T/.err"); }
expect_rc() { [ "$rc" -eq "$1" ] || bad "exit $rc, expected $1 (stderr: $err)"; }
expect_err() { printf '%s' "$err" | grep -q -- "$1" || bad "stderr lacks '$1': $err"; }
expect_out() { printf '%s' "$out" | grep -q -- "$1" || bad "stdout lacks '$1': $out"; }
one_line_err() { [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] || bad "expected one error line, got: $err"; }
log_size() { sqlite3 "$FWTRUST_DB" 'SELECT count(*) FROM evidence_leaves'; }
js() { python3 -c "import json,sys; d=json.load(open('$T/.out')); print($1)" 2>&1; }
expect_js() { # EXPR WANT
  local got; got=$(js "$1")
  [ "$got" = "$2" ] || bad "$1 is '$got', expected '$2'"
}
setup() { "$@" >/dev/null 2>&1 || { echo "FAIL setup: $*"; echo "RESULT 0 1"; exit 1; }; }
flip_byte() { # file offset: xor one byte with 0x01 in place
  local b; b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $(( b ^ 1 )))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
