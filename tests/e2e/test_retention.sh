#!/usr/bin/env bash
# End-to-end tests of `fwtrust audit retention`: the default (the latest
# device support period plus ten years; today plus ten years without
# devices), the view and its --json, --set by an admin (recorded as
# retention.set in the same transaction as the setting), refusals (a date
# below the floor, a person who is not an active admin, malformed dates:
# exit code, one stderr line, nothing recorded), a setting edited outside
# fwtrust, and the store's refusal to delete or rewrite evidence.
# Usage: tests/e2e/test_retention.sh BUILD_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
B=$(realpath "${1:?usage: test_retention.sh BUILD_DIR}")
FW=$B/fwtrust
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2
export FWTRUST_ACTOR=test:retention
export FWTRUST_DB=$T/s.db

meta() { sqlite3 "$FWTRUST_DB" "SELECT value FROM meta WHERE key = '$1'"; }
# js EXPR: a Python expression over d, the JSON document printed last
# the last record of the log, as a Python dict in r
last_record() { "$FW" audit show --index $(($(log_size) - 1)) > "$T/.rec"; }
rs() { python3 -c "import json; r=json.load(open('$T/.rec')); print($1)" 2>&1; }
expect_rs() {
  local got; got=$(rs "$1")
  [ "$got" = "$2" ] || bad "record: $1 is '$got', expected '$2'"
}
# a refusal writes nothing: same log size, same setting
unchanged() { # LOGSIZE SETTING
  [ "$(log_size)" = "$1" ] || bad "the log grew: $(log_size), was $1"
  [ "$(meta retention)" = "$2" ] || bad "the setting is '$(meta retention)', was '$2'"
}

command -v sqlite3 >/dev/null || { echo "FAIL setup: the sqlite3 CLI is missing"; echo "RESULT 0 1"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL setup: python3 is missing"; echo "RESULT 0 1"; exit 1; }
setup "$FW" init --origin test.example/retention
for k in alice bob carol; do setup "$FW" key generate --alg ed25519 --out $k; done
setup "$FW" operator add alice --role admin --pub alice.pub
setup "$FW" operator add bob --role operator --pub bob.pub
setup "$FW" operator add carol --role admin --pub carol.pub
setup "$FW" operator disable carol --reason "left the company"
cat > devices.csv <<'EOF'
device_id,product,family,hw_revision,fw_version,support_until,lifecycle
ctl-a-00001,controller,ctl-a,B,2.3.1,2034-12-31,active
ctl-a-00002,controller,ctl-a,C,2.4.0,2031-06-30,provisioned
ctl-a-00003,controller,ctl-a,B,2.2.3,2034-12-31,active
EOF
cat > more.csv <<'EOF'
device_id,product,family,hw_revision,fw_version,support_until,lifecycle
ctl-b-00001,controller,ctl-b,A,1.0.0,2044-02-29,active
EOF

begin "no devices: the default is ten years from today, and says so"
want=$(date -u -d "$(date -u +%F) +10 years" +%F)
run "$FW" audit retention; expect_rc 0
expect_out "retention   default: no devices in the registry yet"
expect_out "keep until  $want"
expect_out "deletion    none: fwtrust has no command that deletes evidence"
expect_out "personal    "
run "$FW" audit retention --json; expect_rc 0
expect_js 'd["retention"], d["until"], d["floor_basis"], d["support"]["latest"]' "default $want today None"
end

begin "default: the latest support_until of any device + 10 years"
setup "$FW" device import devices.csv
run "$FW" audit retention; expect_rc 0
expect_out "retention   default: the latest device support period (2034-12-31, 2 of 3 devices) + 10 years"
expect_out "keep until  2044-12-31"
expect_out "log         $(log_size) records, "
expect_out "checkpoints\? (the latest covers "
expect_out "blobs       [1-9][0-9]* files\?, "
end

begin "--json: the setting, its basis, the log and the blobs as the store has them"
run "$FW" audit retention --json; expect_rc 0
expect_js 'd["retention"], d["until"], d["floor"], d["overtaken"], d["record"]' "default 2044-12-31 2044-12-31 False None"
expect_js 'd["support"]["latest"], d["support"]["devices"], d["support"]["of"], d["floor_basis"]' "2034-12-31 2 3 support_until"
expect_js 'd["log"]["records"]' "$(log_size)"
expect_js 'd["log"]["checkpoints"]' "$(sqlite3 "$FWTRUST_DB" 'SELECT count(*) FROM evidence_checkpoints')"
expect_js 'd["log"]["checkpoint_size"]' "$(sqlite3 "$FWTRUST_DB" 'SELECT max(size) FROM evidence_checkpoints')"
first=$("$FW" audit show --index 0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["ts"])')
lastts=$("$FW" audit show --index $(($(log_size) - 1)) | python3 -c 'import json,sys; print(json.load(sys.stdin)["ts"])')
expect_js 'd["log"]["first_ts"], d["log"]["last_ts"]' "$first $lastts"
files=$(find "$FWTRUST_DB.objects/sha256" -type f | wc -l)
bytes=$(find "$FWTRUST_DB.objects/sha256" -type f -printf '%s\n' | awk '{s+=$1} END{print s+0}')
[ "$files" -ge 2 ] || bad "expected the import's blobs, found $files"
expect_js 'd["blobs"]["files"], d["blobs"]["bytes"], d["deletes"]' "$files $bytes False"
end

begin "--set DATE by an admin: recorded as retention.set with the setting"
n=$(log_size)
run "$FW" audit retention --set 2050-06-30 --as alice; expect_rc 0
expect_out "retention   2050-06-30 (was default), set by alice"
expect_out "keep until  2050-06-30"
expect_out "evidence    record $n"
[ "$(log_size)" = $((n + 1)) ] || bad "expected one record, log is $(log_size) (was $n)"
[ "$(meta retention)" = 2050-06-30 ] || bad "meta retention is '$(meta retention)'"
last_record
expect_rs 'r["type"], r["retention"], r["until"], r["by"], r["previous"], r["actor"]' "retention.set 2050-06-30 2050-06-30 alice default test:retention"
# refs: alice's operator.add record
alice_idx=$(sqlite3 "$FWTRUST_DB" "SELECT idx FROM evidence_leaves WHERE CAST(record AS TEXT) LIKE '%\"type\":\"operator.add\"%' AND CAST(record AS TEXT) LIKE '%\"name\":\"alice\"%'")
expect_rs '[x["idx"] for x in r["refs"]]' "[$alice_idx]"
run "$FW" audit log --from $n; expect_rc 0
expect_out '"type":"retention.set"'
run "$FW" audit retention; expect_rc 0
expect_out "retention   2050-06-30, set by alice (record $n, "
expect_out "keep until  2050-06-30"
expect_out "at least    2044-12-31: the latest device support period (2034-12-31, 2 of 3 devices) + 10 years"
run "$FW" audit retention --json; expect_rc 0
expect_js 'd["retention"], d["until"], d["record"]["idx"], d["record"]["by"]' "2050-06-30 2050-06-30 $n alice"
end

begin "--set the same setting again records nothing"
n=$(log_size)
run "$FW" audit retention --set 2050-06-30 --as alice; expect_rc 0
expect_out "already: nothing recorded"
unchanged "$n" 2050-06-30
end

begin "--set a date below the floor is refused (exit 1), nothing recorded"
n=$(log_size)
run "$FW" audit retention --set 2044-12-30 --as alice; expect_rc 1; one_line_err
expect_err "^fwtrust audit retention: REFUSED 2044-12-30 is earlier than 2044-12-31"
expect_err "never shorter"
unchanged "$n" 2050-06-30
run "$FW" audit retention --set 2026-01-01 --as alice; expect_rc 1; one_line_err
unchanged "$n" 2050-06-30
# the floor itself is allowed
run "$FW" audit retention --set 2044-12-31 --as alice; expect_rc 0
[ "$(log_size)" = $((n + 1)) ] || bad "expected one record"
last_record; expect_rs 'r["retention"], r["previous"]' "2044-12-31 2050-06-30"
run "$FW" audit retention --set 2050-06-30 --as alice; expect_rc 0
end

begin "--set by anyone but an active admin is refused, nothing recorded"
n=$(log_size)
run "$FW" audit retention --set 2060-01-01 --as bob; expect_rc 1; one_line_err
expect_err "REFUSED operator bob is an operator, not an admin"
unchanged "$n" 2050-06-30
run "$FW" audit retention --set 2060-01-01 --as carol; expect_rc 1; one_line_err
expect_err "REFUSED operator carol is disabled"
unchanged "$n" 2050-06-30
run "$FW" audit retention --set 2060-01-01 --as nobody; expect_rc 2; one_line_err
expect_err "no operator 'nobody'"
unchanged "$n" 2050-06-30
end

begin "malformed dates and flags: exit 2, one line, nothing recorded"
n=$(log_size)
for v in 2050-13-01 2050-02-30 2051-02-29 50-01-01 2050/01/01 2050-1-1 " 2050-01-01" tomorrow "" DEFAULT 1969-12-31; do
  run "$FW" audit retention --set "$v" --as alice; expect_rc 2; one_line_err
  expect_err "^fwtrust audit retention: --set: '$v' is not a date (YYYY-MM-DD, a real day) or 'default'"
done
unchanged "$n" 2050-06-30
run "$FW" audit retention --set 2060-01-01; expect_rc 2; one_line_err; expect_err "--as"
run "$FW" audit retention --as alice; expect_rc 2; one_line_err; expect_err "--as: only with --set"
run "$FW" audit retention extra; expect_rc 2; one_line_err
run "$FW" audit retention --bogus; expect_rc 2; one_line_err
unchanged "$n" 2050-06-30
run "$FW" audit retention --help; expect_rc 0; expect_out "usage: fwtrust audit retention"
end

begin "devices with longer support overtake a date set; 29 February + 10 years is 1 March"
setup "$FW" device import more.csv
run "$FW" audit retention; expect_rc 0
expect_out "keep until  2054-03-01"
expect_out "at least    2054-03-01: the latest device support period (2044-02-29, 1 of 4 devices) + 10 years (later than the date set: it applies)"
run "$FW" audit retention --json; expect_rc 0
expect_js 'd["retention"], d["until"], d["overtaken"]' "2050-06-30 2054-03-01 True"
end

begin "--set default goes back; previous and until recorded"
n=$(log_size)
run "$FW" audit retention --set default --as alice; expect_rc 0
expect_out "retention   default (was 2050-06-30), set by alice"
expect_out "keep until  2054-03-01"
last_record
expect_rs 'r["retention"], r["until"], r["previous"], len(r["refs"])' "default 2054-03-01 2050-06-30 2"
run "$FW" audit retention; expect_rc 0
expect_out "retention   default: the latest device support period (2044-02-29, 1 of 4 devices)"
end

begin "a setting edited outside fwtrust is seen (exit 1) and an admin puts it right"
sqlite3 "$FWTRUST_DB" "UPDATE meta SET value = '2030-01-01' WHERE key = 'retention'"
run "$FW" audit retention; expect_rc 1; one_line_err
expect_err "REFUSED the retention setting '2030-01-01' is not what its record"
expect_err "changed outside fwtrust"
expect_out "keep until  2054-03-01"
n=$(log_size)
run "$FW" audit retention --set default --as alice; expect_rc 0
[ "$(log_size)" = $((n + 1)) ] || bad "setting it again must be recorded"
run "$FW" audit retention; expect_rc 0
[ "$(meta retention)" = default ] || bad "meta retention is '$(meta retention)'"
# the reference must name a retention.set record, by index and leaf hash
ref=$(meta retention_rec)
lh0=$("$FW" audit log --limit 1 | awk '{print $2}')
sqlite3 "$FWTRUST_DB" "UPDATE meta SET value = '{\"idx\":0,\"lh\":\"$lh0\"}' WHERE key = 'retention_rec'"
run "$FW" audit retention; expect_rc 1; one_line_err
expect_err "points at record 0, which is not its retention.set"
sqlite3 "$FWTRUST_DB" "UPDATE meta SET value = '$ref' WHERE key = 'retention_rec'"
run "$FW" audit retention; expect_rc 0
end

begin "audit verify passes after the retention records"
run "$FW" audit checkpoint; expect_rc 0
run "$FW" audit verify; expect_rc 0
end

begin "the store refuses DELETE and UPDATE on the log tables"
n=$(log_size)
run sqlite3 "$FWTRUST_DB" "DELETE FROM evidence_leaves WHERE idx = $((n - 1))"
[ "$rc" -ne 0 ] || bad "DELETE FROM evidence_leaves succeeded"
run sqlite3 "$FWTRUST_DB" "DELETE FROM evidence_leaves"
[ "$rc" -ne 0 ] || bad "DELETE FROM evidence_leaves succeeded"
run sqlite3 "$FWTRUST_DB" "UPDATE evidence_leaves SET record = 'x' WHERE idx = 0"
[ "$rc" -ne 0 ] || bad "UPDATE evidence_leaves succeeded"
c=$(sqlite3 "$FWTRUST_DB" 'SELECT count(*) FROM evidence_checkpoints')
run sqlite3 "$FWTRUST_DB" "DELETE FROM evidence_checkpoints"
[ "$rc" -ne 0 ] || bad "DELETE FROM evidence_checkpoints succeeded"
[ "$(log_size)" = "$n" ] || bad "records were deleted: $(log_size), was $n"
[ "$(sqlite3 "$FWTRUST_DB" 'SELECT count(*) FROM evidence_checkpoints')" = "$c" ] || bad "checkpoints were deleted"
run "$FW" audit verify; expect_rc 0
end

begin "no fwtrust command deletes evidence"
# every verb of the usage texts; none of them removes records (the source
# has no DELETE on the log tables either)
run "$FW" --help
printf '%s' "$out" | grep -Eiq '^\s*(\S+ )?(delete|purge|prune|expire|truncate|gc)\b' && bad "a deleting verb: $out"
src=$(dirname "$B")/src
if [ -d "$src" ]; then
  grep -rniE 'DELETE FROM (evidence_leaves|evidence_checkpoints)' "$src" && bad "the source deletes from the log tables"
fi
end

echo "RESULT $pass $fail"
[ "$fail" -eq 0 ]
