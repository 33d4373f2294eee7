#!/usr/bin/env bash
# End-to-end tests of a campaign run from the fwtrust CLI: campaign
# start/pause/resume/abort/tick/status/devices and device report, on a real
# store with a sample fleet made by tests/tools/mkfleet. Outputs are checked
# against the fleet mkfleet describes (expected.txt), the status document
# (--json) and the evidence records the commands name; every refusal is
# checked for its exit code, its one stderr line and an unchanged log.
# Usage: tests/e2e/test_campaign_cli.sh BUILD_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
B=$(realpath "${1:?usage: test_campaign_cli.sh BUILD_DIR}")
FW=$B/fwtrust
MKFLEET=$B/tests/mkfleet
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2
export FWTRUST_ACTOR=test:campaign-cli
export FWTRUST_DB=$T/s.db

# js EXPR: a Python expression over d, the JSON document printed last
status() { run "$FW" campaign status "$1" --json; expect_rc 0; }
# the record an "X: a -> b (record N)" line names
record_of() { printf '%s' "$out" | sed -n 's/.*(record \([0-9]*\)).*/\1/p' | head -1; }

command -v sqlite3 >/dev/null || { echo "FAIL setup: the sqlite3 CLI is missing"; echo "RESULT 0 1"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL setup: python3 is missing"; echo "RESULT 0 1"; exit 1; }
mkdir fleet && setup "$MKFLEET" fleet 150
setup "$FW" init --origin test.example/campaign
V=fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
C=1492af14-2569-5e48-bf42-9b2d51f2ab45
head -c 5000 /dev/urandom > fw.bin
head -c 5000 /dev/urandom > rb.bin
setup "$FW" key generate --alg ed25519 --out rel
setup "$FW" sign --key rel.key --image fw.bin --vendor-id $V --class-id $C --sequence 9 --version 2.4.1 --out fw.suit
setup "$FW" sign --key rel.key --image rb.bin --vendor-id $V --class-id $C --sequence 10 --version 2.4.2 --out rb.suit
setup "$FW" key trust rel.pub --name rel --role release-signing
setup "$FW" ca add fleet/ca.pem
setup "$FW" crl import fleet/crl.pem
setup "$FW" device import fleet/devices.csv
REL=$("$FW" release add fw.suit --image fw.bin --product controller --family ctl-a --from '>=2.0.0 <2.4.1' --hw-revision B --hw-revision C | awk '/^release /{print $2}')
RB=$("$FW" release add rb.suit --image rb.bin --product controller --family ctl-a | awk '/^release /{print $2}')
[ ${#REL} = 64 ] && [ ${#RB} = 64 ] || { echo "FAIL setup: release add"; echo "RESULT 0 1"; exit 1; }
for k in rm ap1 ap2 op; do setup "$FW" key generate --alg ed25519 --out $k; done
setup "$FW" operator add rm --role release_manager --pub rm.pub
setup "$FW" operator add ap1 --role approver --pub ap1.pub
setup "$FW" operator add ap2 --role approver --pub ap2.pub
setup "$FW" operator add op --role operator --pub op.pub
cat > pol.json <<EOF
{"name": "ctl-a 2.4.1", "release": "${REL:0:12}",
 "stages": [{"name": "canary", "size": {"count": 3}, "approvals": 1},
            {"name": "rest", "size": {"percent": 100}, "approvals": 1}],
 "success_threshold": 100,
 "pause": {"failure_rate": {"percent": 50, "min_reports": 10}, "max_failures": 5},
 "retry": {"max_attempts": 2, "backoff_s": 0},
 "rollback": {"release": "${RB:0:12}"}}
EOF
# members: the devices of product controller, family ctl-a, revision B or C
members=$(grep -vc 'target\.' fleet/expected.txt)
eligible=$(grep -c ' eligible$' fleet/expected.txt)

begin "campaign start: refused before its approval and by a non-operator; then members fixed by stage"
setup "$FW" campaign create --policy pol.json --as rm
run "$FW" campaign start c-0001 --as op; expect_rc 1; expect_err "waits for approvals"; one_line_err
setup "$FW" campaign approve c-0001 --key ap1.key
n=$(log_size)
run "$FW" campaign start c-0001 --as rm; expect_rc 1; expect_err "REFUSED"; expect_err "not an operator"; one_line_err
run "$FW" campaign start c-0001; expect_rc 2; expect_err "missing --as"; one_line_err
run "$FW" campaign start c-0001 --as op --reason x; expect_rc 2; one_line_err
run "$FW" campaign start c-0099 --as op; expect_rc 2; expect_err "no campaign 'c-0099'"; one_line_err
[ "$(log_size)" = "$n" ] || bad "a refused start wrote records"
run "$FW" campaign start c-0001 --as op; expect_rc 0
expect_out 'campaign  c-0001 "ctl-a 2.4.1": ready -> running'
expect_out "members   $members devices ($((members - eligible)) ineligible at the start)"
expect_out "stage     0 canary: 3 devices, 3 eligible"
# one campaign.start, one record per member, one campaign.stage, 3 stage entries
[ "$(log_size)" = $((n + 1 + (members - eligible) + 1 + 3)) ] || bad "records: $(( $(log_size) - n ))"
run "$FW" campaign start c-0001 --as op; expect_rc 1; expect_err "is running: it cannot start"; one_line_err
end

begin "campaign status: the document and the table"
status c-0001
expect_js 'd["state"]' running
expect_js 'd["stage"]["index"], d["stage"]["name"]' "0 canary"
expect_js 'sum(s["devices"] for s in d["stages"])' "$eligible"
expect_js 'd["ineligible_at_start"]["ineligible"]' $((members - eligible))
expect_js 'd["stages"][0]["counts"]["eligible"], d["stages"][0]["status"]' "3 current"
expect_js 'd["stages"][1]["counts"]["pending"] == d["stages"][1]["devices"], d["stages"][1]["status"]' "True not_started"
expect_js '[c["name"] for c in d["pause_conditions"]]' "['integrity_failure', 'failure_rate', 'max_failures']"
expect_js 'd["pause_conditions"][2]["failures_to_pause"]' 5
expect_js 'd["next"]' "stage canary has 0 of 3 devices installed; 100% (3) are needed"
run "$FW" campaign status c-0001; expect_rc 0
expect_out "^0 canary  *+3  *current  *3 "; expect_out "^1 rest  *100%  *not_started"
expect_out "max_failures  *0 failure(s); pauses at 5: 5 more failure(s) to pause"
expect_out "^next      stage canary has 0 of 3"
run "$FW" campaign list; expect_out "c-0001  *running  *0 canary  *0/$members "
end

begin "campaign devices: rows by stage and state"
run "$FW" campaign devices c-0001 --stage canary --json; expect_rc 0
expect_js 'len(d), sorted(set(r["state"] for r in d))' "3 ['eligible']"
read -r D1 D2 D3 <<<"$(js '" ".join(r["device"] for r in d)')"
run "$FW" campaign devices c-0001 --state ineligible; expect_rc 0
expect_err "$((members - eligible)) devices"; expect_out "ctl-a-00001  *-  *ineligible .*version.out_of_range"
run "$FW" campaign devices c-0001 --stage none --json; expect_js 'len(d)' $((members - eligible))
run "$FW" campaign devices c-0001 --state waiting; expect_rc 2; one_line_err
run "$FW" campaign devices c-0001 --stage 2; expect_rc 2; expect_err "no stage '2'"; one_line_err
end

begin "device report: delivered, duplicate, installed with the release's version"
run "$FW" device report "$D1" --campaign c-0001 --status delivered; expect_rc 0
expect_out "^$D1: eligible -> delivered (record [0-9]*)"; expect_out "attempt   1; it reports by"
R=$(record_of)
run "$FW" audit show --index "$R"; expect_out '"type":"rollout.device"'
expect_out "\"device\":\"$D1\""; expect_out '"from":"eligible"'; expect_out '"to":"delivered"'
n=$(log_size)
run "$FW" device report "$D1" --campaign c-0001 --status delivered; expect_rc 0
expect_out "duplicate: $D1 is delivered already"
run "$FW" device report "$D1" --campaign c-0001 --status installed; expect_rc 2
expect_err "needs --version"; one_line_err
run "$FW" device report "$D1" --campaign c-0001 --status installed --version 2.4.0; expect_rc 1
expect_err "REFUSED device $D1: it runs 2.4.0, not 2.4.1"; one_line_err
[ "$(log_size)" = "$n" ] || bad "a duplicate or refused report wrote records"
run "$FW" device report "$D1" --campaign c-0001 --status installed --version 2.4.1 --release "${REL:0:16}"
expect_rc 0; expect_out "^$D1: delivered -> installed (record"
run "$FW" device show "$D1"; expect_out '"fw_version": "2.4.1"'
run "$FW" device report "$D1" --campaign c-0001 --status delivered; expect_rc 0; expect_out "late: "
end

begin "device report: bad reports refused (exit 1), nothing written"
n=$(log_size)
PENDING=$("$FW" campaign devices c-0001 --stage rest --state pending 2>/dev/null | awk 'NR==2{print $1}')
run "$FW" device report "$PENDING" --campaign c-0001 --status delivered; expect_rc 1
expect_err "has not started"; one_line_err
run "$FW" device report ctl-a-00001 --campaign c-0001 --status delivered; expect_rc 1
expect_err "ineligible"; one_line_err
run "$FW" device report nobody --campaign c-0001 --status delivered; expect_rc 1
expect_err "is not in the registry, nor in campaign c-0001"; one_line_err
run "$FW" device report "$D2" --campaign c-0001 --status delivered --release "${RB:0:12}"; expect_rc 1
expect_err "is about release ${RB:0:12}"; one_line_err
run "$FW" device report "$D2" --campaign c-0001 --status installed --version 2.4.1; expect_rc 1
expect_err "not delivered"; one_line_err
run "$FW" device report "$D2" --campaign c-0001 --status done; expect_rc 2; one_line_err
run "$FW" device report "$D2" --campaign c-0001 --status delivered --integrity-failure; expect_rc 2; one_line_err
run "$FW" device report "$D2" --status delivered; expect_rc 2; expect_err "--campaign"; one_line_err
run "$FW" device report "$D2" --campaign c-0099 --status delivered; expect_rc 2; one_line_err
[ "$(log_size)" = "$n" ] || bad "a refused report wrote records"
end

begin "device report: a device no longer eligible is STOPPED at delivery"
setup "$FW" cert revoke "$D2" --reason "key extracted"
run "$FW" device report "$D2" --campaign c-0001 --status delivered; expect_rc 1
expect_err "STOPPED $D2 is no longer eligible (cert.revoked): not delivered"; one_line_err
expect_out "^$D2: eligible -> ineligible (record"
run "$FW" campaign devices c-0001 --stage 0 --state ineligible; expect_out "$D2 .*cert.revoked"
end

begin "failed, retried, installed; tick waits for the next stage's approval, then advances"
run "$FW" device report "$D3" --campaign c-0001 --status delivered; expect_rc 0
run "$FW" device report "$D3" --campaign c-0001 --status failed --detail "flash write error"; expect_rc 0
expect_out "^$D3: delivered -> failed (record"; expect_out "retry     attempt 2 from"
R=$(record_of)
run "$FW" audit show --index "$R"; expect_out '"detail":"flash write error"'; expect_out '"retry":{"attempt":2'
run "$FW" campaign tick c-0001; expect_rc 0
expect_out "tick      c-0001: nothing changed (running, stage 0 canary)"
expect_out "next      stage canary has 1 of 2 devices installed"
run "$FW" device report "$D3" --campaign c-0001 --status delivered; expect_rc 0
expect_out "^$D3: failed -> delivered"; expect_out "attempt   2"
run "$FW" device report "$D3" --campaign c-0001 --status installed --version 2.4.1; expect_rc 0
status c-0001
expect_js 'd["totals"]["reports"], d["totals"]["failures"], d["totals"]["retries"]' "3 1 1"
expect_js 'd["stages"][0]["installed_permille"]' 1000
expect_js 'd["next"]' "stage 1 (rest) waits for 1 more approval(s)"
run "$FW" campaign tick c-0001; expect_rc 0; expect_out "nothing changed"
setup "$FW" campaign approve c-0001 --key ap2.key --stage 1
run "$FW" campaign tick c-0001; expect_rc 0
expect_out "tick      c-0001: running, stage 0 canary -> running, stage 1 rest"
expect_out "stage     1 rest started: "
status c-0001
expect_js 'd["stage"]["index"], d["stages"][0]["status"], d["stages"][1]["status"]' "1 done current"
expect_js 'd["stages"][1]["counts"]["pending"]' 0
end

begin "pause and resume by an operator: devices held and released"
E1=$("$FW" campaign devices c-0001 --stage rest --state eligible 2>/dev/null | awk 'NR==2{print $1}')
run "$FW" campaign pause c-0001 --as op --reason "weekend"; expect_rc 0
expect_out 'campaign  c-0001 "ctl-a 2.4.1": running -> paused'
expect_out "paused    operator op: weekend"
status c-0001
expect_js 'd["state"], d["paused"]["cause"], d["paused"]["by"]' "paused operator op"
expect_js 'd["stages"][1]["counts"]["eligible"], d["stages"][1]["counts"]["paused"] > 0' "0 True"
n=$(log_size)
run "$FW" campaign pause c-0001 --as op; expect_rc 1; expect_err "REFUSED campaign c-0001 is paused"; one_line_err
run "$FW" device report "$E1" --campaign c-0001 --status delivered; expect_rc 1; expect_err "is paused"; one_line_err
run "$FW" campaign resume c-0001 --as ap1; expect_rc 1; expect_err "REFUSED"; one_line_err
[ "$(log_size)" = "$n" ] || bad "a refused command wrote records"
run "$FW" campaign resume c-0001 --as op --reason "checked"; expect_rc 0; expect_out "paused -> running"
status c-0001
expect_js 'd["state"], d["paused"], d["stages"][1]["counts"]["paused"]' "running None 0"
expect_js 'd["window"]["reports"], d["window"]["failures"]' "0 0"
run "$FW" campaign resume c-0001 --as op; expect_rc 1; one_line_err
end

begin "an integrity failure quarantines the device and pauses the campaign"
run "$FW" device report "$E1" --campaign c-0001 --status delivered; expect_rc 0
run "$FW" device report "$E1" --campaign c-0001 --status failed --integrity-failure; expect_rc 0
expect_out "^$E1: delivered -> failed"; expect_out "QUARANTINED $E1"; expect_out "PAUSED    campaign c-0001: integrity_failure"
expect_out "retry     none"
run "$FW" device show "$E1"; expect_out '"lifecycle": "quarantined"'
status c-0001
expect_js 'd["state"], d["paused"]["cause"], d["paused"]["device"]' "paused integrity_failure $E1"
expect_js 'd["totals"]["quarantined"], d["totals"]["integrity_failures"], d["failed_final"]' "1 1 1"
run "$FW" campaign status c-0001; expect_out "integrity_failure  *1 integrity failure(s).*REACHED"
expect_out "^paused    integrity_failure: device $E1 refused the image"
end

begin "abort --rollback: rolled_back, the rollback release reported; ended campaigns refuse"
run "$FW" campaign abort c-0001 --as op --rollback --reason "bad image"; expect_rc 0
expect_out "paused -> rolled_back"; expect_out "rollback  release $RB is offered"
status c-0001
expect_js 'd["state"], d["ended_ms"] > 0' "rolled_back True"
run "$FW" device report "$D1" --campaign c-0001 --status rolled_back --version 2.4.2 --release "${RB:0:12}"
expect_rc 0; expect_out "^$D1: installed -> rolled_back (record"
run "$FW" device show "$D1"; expect_out '"fw_version": "2.4.2"'
run "$FW" campaign abort c-0001 --as op; expect_rc 1; expect_err "it has ended"; one_line_err
run "$FW" campaign resume c-0001 --as op; expect_rc 1; one_line_err
run "$FW" campaign tick c-0001; expect_rc 0; expect_out "nothing changed (rolled_back"
end

begin "abort without a rollback release; list shows every state"
printf '{"name": "n", "release": "%s", "stages": [{"name": "all", "size": {"percent": 100}}]}' "${REL:0:12}" > pol2.json
run "$FW" campaign create --policy pol2.json --as rm; expect_rc 0; expect_out "c-0002"
run "$FW" campaign abort c-0002 --as op --rollback; expect_rc 1; expect_err "no rollback release"; one_line_err
run "$FW" campaign abort c-0002 --as op; expect_rc 0; expect_out "ready -> aborted"
run "$FW" campaign list; expect_out "c-0001  *rolled_back"; expect_out "c-0002  *aborted  *-"
run "$FW" campaign status c-0002 --json; expect_js 'd["state"], d["next"]' "aborted aborted: nothing more happens"
end

begin "audit verify: every record of the campaign checks out"
run "$FW" audit verify; expect_rc 0; expect_out "^OK"
end

echo "RESULT $pass $fail"
[ "$fail" -eq 0 ]
