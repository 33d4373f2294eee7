#!/usr/bin/env bash
# Crash test of the evidence log (shared/specs/evidence-log.md §6.7,
# robustness): tests/evidence/crash_writer appends in batches, one
# transaction each, and prints "acked N" only after a commit. It is killed
# with SIGKILL after a random 50-400 ms, several times on the same store.
# After every kill the store must verify, every acknowledged record must be
# there, and only whole batches may have been added.
# Usage: tests/e2e/test_crash.sh BUILD_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
B=$(realpath "${1:?usage: test_crash.sh BUILD_DIR}")
FW=$B/fwtrust
W=$B/tests/crash_writer
ROUNDS=${CRASH_ROUNDS:-8}
PER=20   # records per batch (one transaction)
T=$(mktemp -d)
writer=""
trap '[ -n "$writer" ] && kill -9 "$writer" 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 2

[ -x "$FW" ] && [ -x "$W" ] || { echo "FAIL setup: $FW or $W missing"; echo "RESULT 0 1"; exit 1; }

DB=$T/crash.db
size=0            # records in the log, per 'audit verify'
last_acked=-1     # highest index ever acknowledged
total_acked=0

# records in the store, from the OK line of 'audit verify'
verified_size() { printf '%s\n' "$out" | sed -n 's/^OK .*: \([0-9]*\) records,.*/\1/p'; }

for r in $(seq 1 "$ROUNDS"); do
  begin "round $r: kill -9 mid-append, nothing acknowledged is lost"
  ms=$((50 + RANDOM % 351))
  before=$size
  "$W" "$DB" 100000 "$PER" >"$T/acks.$r" 2>"$T/writer.$r" &
  writer=$!
  sleep "$(printf '0.%03d' "$ms")"
  kill -9 "$writer" 2>/dev/null
  wait "$writer" 2>/dev/null; wrc=$?
  writer=""
  [ "$wrc" -eq 137 ] || bad "writer exited $wrc before the kill: $(cat "$T/writer.$r")"
  acks=$(grep -c '^acked [0-9]*$' "$T/acks.$r")
  acked=$(grep '^acked [0-9]*$' "$T/acks.$r" | tail -n 1 | cut -d' ' -f2)
  if [ ! -e "$DB" ]; then
    # killed while creating the store: it must not exist half-made
    [ "$acks" -eq 0 ] || bad "acknowledged $acks batches but there is no store"
    end; continue
  fi
  run "$FW" audit verify --db "$DB"
  [ "$rc" -eq 0 ] || bad "audit verify exit $rc after the kill: $out $err"
  size=$(verified_size); size=${size:-0}
  if [ -n "$acked" ]; then
    last_acked=$acked
    total_acked=$((total_acked + acks))
    run "$FW" audit show --db "$DB" --index "$acked"
    [ "$rc" -eq 0 ] || bad "acknowledged record $acked is missing: $err"
    printf '%s' "$out" | grep -q '"type":"test.crash"' || bad "record $acked is not the writer's: $out"
    [ "$size" -ge $((acked + 1)) ] || bad "log has $size records, $acked was acknowledged"
    # the first acknowledged batch of this run starts where the log was
    first=$(grep '^acked [0-9]*$' "$T/acks.$r" | head -n 1 | cut -d' ' -f2)
    [ "$first" -eq $((before + PER - 1)) ] || bad "first ack $first, expected $((before + PER - 1)) (gap or overlap)"
  fi
  # transactions are all or nothing: only whole batches, at most one
  # committed but not yet acknowledged
  [ $(( (size - before) % PER )) -eq 0 ] || bad "log grew by $((size - before)): not whole batches of $PER"
  [ "$size" -le $(( before + (acks + 1) * PER )) ] || bad "log grew by $((size - before)) with $acks acknowledged batches"
  [ "$size" -ge $(( before + acks * PER )) ] || bad "log grew by $((size - before)) with $acks acknowledged batches"
  echo "  round $r: killed after ${ms} ms, $acks batches acknowledged, log has $size records"
  end
done

# the same, deterministic: killed inside a transaction, and between a
# commit and its acknowledgement
for point in mid commit; do
  begin "killed at batch 3 ($point): the log holds exactly the committed batches"
  before=$size
  # (in a subshell: its "Killed" notice goes to /dev/null, not the report)
  wrc=$( (CRASH_AT=3:$point "$W" "$DB" 10 "$PER" >"$T/acks.$point" 2>"$T/writer.$point"; echo $?) 2>/dev/null)
  [ "$wrc" -eq 137 ] || bad "writer exit $wrc, expected 137 (SIGKILL): $(cat "$T/writer.$point")"
  acks=$(grep -c '^acked [0-9]*$' "$T/acks.$point")
  [ "$acks" -eq 3 ] || bad "$acks batches acknowledged, expected 3"
  run "$FW" audit verify --db "$DB"
  [ "$rc" -eq 0 ] || bad "audit verify exit $rc: $out $err"
  size=$(verified_size); size=${size:-0}
  if [ "$point" = mid ]; then want=$((before + 3 * PER)); else want=$((before + 4 * PER)); fi
  [ "$size" -eq "$want" ] || bad "log has $size records, expected $want"
  run "$FW" audit show --db "$DB" --index "$size"
  expect_absent=$rc
  [ "$expect_absent" -eq 2 ] || bad "record $size exists past the log"
  last_acked=$((before + 3 * PER - 1)); total_acked=$((total_acked + 3))
  [ "$point" = commit ] && total_acked=$((total_acked + 1))
  end
done

begin "every acknowledged record survived all kills"
[ "$last_acked" -ge 0 ] || bad "no batch was ever acknowledged (writer too slow to start?)"
if [ "$last_acked" -ge 0 ]; then
  run "$FW" audit show --db "$DB" --index "$last_acked"; [ "$rc" -eq 0 ] || bad "record $last_acked: $err"
  run "$FW" audit log --db "$DB"
  n=$(printf '%s\n' "$out" | grep -c '"type":"test.crash"')
  [ "$n" -eq "$size" ] || bad "audit log lists $n writer records, verify counted $size"
  [ "$n" -ge $((total_acked * PER)) ] || bad "$n records, $total_acked batches were acknowledged"
fi
end

begin "after the crashes: checkpoint, then verify"
run "$FW" audit checkpoint --db "$DB" --out held.checkpoint
[ "$rc" -eq 0 ] || bad "audit checkpoint exit $rc: $err"
printf '%s\n' "$out" | sed -n 2p | grep -qx "$size" || bad "checkpoint is not of size $size: $out"
run "$FW" audit verify --db "$DB"
[ "$rc" -eq 0 ] || bad "audit verify exit $rc: $out $err"
expect_ok=$(printf '%s' "$out" | grep -c "^OK .*: $size records, 1 checkpoints")
[ "$expect_ok" -eq 1 ] || bad "verify: $out"
if [ "$size" -gt 0 ]; then
  run "$FW" audit prove --db "$DB" --index $((size - 1)) --out last
  [ "$rc" -eq 0 ] || bad "prove exit $rc: $err"
  run "$FW" audit verify-proof --checkpoint last.checkpoint --proof last.proof --record last.record --key "$DB-log.pub"
  [ "$rc" -eq 0 ] || bad "verify-proof exit $rc: $err"
fi
end

begin "the writer resumes after the checkpoint and the log stays consistent"
"$W" "$DB" 3 "$PER" >"$T/acks.final" 2>"$T/writer.final"; wrc=$?
[ "$wrc" -eq 0 ] || bad "writer exit $wrc: $(cat "$T/writer.final")"
grep -qx "acked $((size + 3 * PER - 1))" "$T/acks.final" || bad "last ack: $(tail -n 1 "$T/acks.final")"
run "$FW" audit checkpoint --db "$DB"; [ "$rc" -eq 0 ] || bad "second checkpoint: $err"
run "$FW" audit verify --db "$DB" --checkpoint held.checkpoint
[ "$rc" -eq 0 ] || bad "verify with the held checkpoint exit $rc: $out $err"
end

echo "RESULT $pass $fail"
[ "$fail" -eq 0 ]
