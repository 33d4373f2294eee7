#!/usr/bin/env bash
# End-to-end tests of the fleet commands of the fwtrust CLI: ca add/list,
# crl import, cert revoke, device import/list/show/lifecycle, release add
# --from/--hw-revision, eligibility (run, --explain, --decisions),
# operator add/list/show/disable and campaign create/approve/edit, on a
# real store with a sample fleet made by tests/tools/mkfleet (real X.509
# certificates). Each decision must be what mkfleet's expected.txt says;
# every refusal is checked for its exit code and its one stderr line.
# Usage: tests/e2e/test_fleet_cli.sh BUILD_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
B=$(realpath "${1:?usage: test_fleet_cli.sh BUILD_DIR}")
FW=$B/fwtrust
MKFLEET=$B/tests/mkfleet
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2
export FWTRUST_ACTOR=test:fleet-cli
export FWTRUST_DB=$T/s.db

devices() { sqlite3 "$FWTRUST_DB" 'SELECT count(*) FROM devices'; }

command -v sqlite3 >/dev/null || { echo "FAIL setup: the sqlite3 CLI is missing"; echo "RESULT 0 1"; exit 1; }
mkdir fleet && "$MKFLEET" fleet 300 || { echo "FAIL setup: mkfleet"; echo "RESULT 0 1"; exit 1; }
"$FW" init --origin test.example/fleet >/dev/null 2>&1 || { echo "FAIL setup: init"; echo "RESULT 0 1"; exit 1; }
V=fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
C=1492af14-2569-5e48-bf42-9b2d51f2ab45
head -c 100000 /dev/urandom > fw.bin
"$FW" key generate --alg ed25519 --out rel >/dev/null 2>&1
"$FW" sign --key rel.key --image fw.bin --vendor-id $V --class-id $C --sequence 9 --version 2.4.1 --out fw.suit >/dev/null 2>&1
"$FW" key trust rel.pub --name rel --role release-signing >/dev/null 2>&1

begin "ca add: a CA bundle is trusted and recorded; a leaf or a known CA is refused"
n=$(log_size)
run "$FW" ca add fleet/ca.pem; expect_rc 0; expect_out "trusted   1 CA certificate"
[ "$(log_size)" = $((n + 1)) ] || bad "expected one record"
run "$FW" ca add fleet/ca.pem; expect_rc 2; expect_err "trusted already"; one_line_err
run "$FW" ca add fleet/certs/ctl-a-00000.pem; expect_rc 1; expect_err "not a CA certificate"; one_line_err
echo "garbage" > junk.pem
run "$FW" ca add junk.pem; expect_rc 2; expect_err "junk.pem"; one_line_err
run "$FW" ca list; expect_rc 0; expect_out "Example Devices Identity CA"
run "$FW" ca list --json; expect_rc 0; expect_out '"sha256"'
end

begin "device import: a bad row imports nothing and names line and column"
# break the version of device ctl-a-00006 (after a multi-line inline PEM)
L=$(grep -n '^ctl-a-00006,' fleet/devices.csv | cut -d: -f1)
awk -F, -v l="$L" 'BEGIN{OFS=","} NR==l{$5="2.x"} {print}' fleet/devices.csv > fleet/bad.csv
n=$(log_size)
run "$FW" device import fleet/bad.csv; expect_rc 2; one_line_err
expect_err "bad.csv: line $L, column 5 (fw_version)"; expect_err "nothing was imported"
[ "$(devices)" = 0 ] || bad "devices were imported: $(devices)"
[ "$(log_size)" = "$n" ] || bad "the log grew"
printf 'device_id,product\nx,y\n' > short.csv
run "$FW" device import short.csv; expect_rc 2; expect_err "short.csv: line 1"; one_line_err
run "$FW" device import nothere.csv; expect_rc 2; expect_err "nothere.csv"; one_line_err
end

begin "device import: the sample fleet, with certificates inline and by path"
run "$FW" device import fleet/devices.csv; expect_rc 0
expect_out "imported  300 devices"; expect_out "300 new"
[ "$(devices)" = 300 ] || bad "devices: $(devices)"
run "$FW" device import fleet/devices.csv; expect_rc 0; expect_out "300 unchanged"
end

begin "crl import: forged and foreign CRLs refused; the CA's revokes"
# flip one base64 character of the signature (the last line before the end marker)
python3 - fleet/crl.pem forged.pem <<'EOF'
import sys
lines = open(sys.argv[1]).read().split("\n")
i = [k for k, l in enumerate(lines) if l.startswith("-----END")][0] - 1
l = lines[i]
j = max(0, len(l.rstrip("=")) - 3)
lines[i] = l[:j] + ("A" if l[j] != "A" else "B") + l[j + 1:]
open(sys.argv[2], "w").write("\n".join(lines))
EOF
run "$FW" crl import forged.pem; expect_rc 1; expect_err "REFUSED"; one_line_err
run "$FW" crl import fleet/other-ca.pem; expect_rc 2; one_line_err
run "$FW" crl import fleet/crl.pem; expect_rc 0; expect_out "6 device certificates revoked now"
run "$FW" crl import fleet/crl.pem; expect_rc 2; expect_err "not newer"; one_line_err
run "$FW" device list --filter cert=revoked; expect_rc 0; expect_out "ctl-a-00006"
end

begin "release add --from --hw-revision: recorded, listed with its id"
run "$FW" release add fw.suit --image fw.bin --product controller --family ctl-a --from '>=2.0.0 <2.4.1' --hw-revision B --hw-revision C
expect_rc 0; expect_out "upgrades  >=2.0.0 <2.4.1"; expect_out "hardware  B C"
REL=$(printf '%s' "$out" | awk '/^release /{print $2}')
run "$FW" release list --json; expect_out "\"id\": \"$REL\""; expect_out '"upgrade_from": ">=2.0.0 <2.4.1"'
run "$FW" release add fw.suit --image fw.bin --product controller --family ctl-a --from '>=3.0.0 <2.0.0'
expect_rc 2; expect_err "from"; one_line_err
end

begin "eligibility: every device decided as mkfleet expects, recorded"
n=$(log_size)
run "$FW" eligibility --release "${REL:0:12}"; expect_rc 0
expect_out "300 devices"; expect_out "cert.expired"
[ "$(log_size)" = $((n + 301)) ] || bad "expected 301 records, got $(( $(log_size) - n ))"
run "$FW" eligibility --release "$REL" --decisions
printf '%s\n' "$out" | awk 'NR>1 {print $1, ($2=="eligible" ? "eligible" : $4)}' | sort > got.txt
sort fleet/expected.txt > want.txt
diff want.txt got.txt > diff.txt || bad "decisions differ from expected: $(head -5 diff.txt)"
run "$FW" eligibility --release "$REL" --decisions --json; expect_rc 0
expect_out '{"device":"ctl-a-00002","eligible":false,"reasons":\["version.out_of_range","version.already_installed"\],"record":'

want_eligible=$(grep -c ' eligible$' fleet/expected.txt)
run "$FW" eligibility --release "$REL" --json; expect_out "\"eligible\": $want_eligible"
end

begin "eligibility --explain shows inputs, reasons and the record; --cohort targets"
run "$FW" eligibility --release "$REL" --explain ctl-a-00004; expect_rc 0
expect_out "NOT ELIGIBLE"; expect_out "cert.expired"; expect_out "recorded  run 2"
IDX=$(printf '%s' "$out" | awk '/^recorded/{print $NF}')
run "$FW" audit show --index "$IDX"; expect_rc 0
expect_out '"device":"ctl-a-00004"'; expect_out '"reasons":\["cert.expired"\]'
"$FW" audit checkpoint >/dev/null 2>&1
run "$FW" audit prove --index "$IDX" --out dec; expect_rc 0
run "$FW" audit verify-proof --checkpoint dec.checkpoint --proof dec.proof --record dec.record --key s.db-log.pub
expect_rc 0
run "$FW" eligibility --release "$REL" --cohort beta --json; expect_rc 0
expect_out '"code": "target.cohort"'
run "$FW" eligibility --release "$REL" --explain ctl-a-00001; expect_out "recorded  run 3"; expect_out "target.cohort"
run "$FW" eligibility --release "$REL" --explain nobody; expect_rc 0; expect_out "identity.unknown"
run "$FW" eligibility --release "$REL" --explain ctl-a-00000 --json; expect_rc 0; expect_out '"eligible": true'
run "$FW" eligibility --release "$REL" --cohort 'no spaces'; expect_rc 2; one_line_err
run "$FW" eligibility --release ffffffffffff; expect_rc 2; one_line_err
run "$FW" eligibility; expect_rc 2; expect_err "--release"; one_line_err
end

begin "lifecycle and local revocation change the next decision, each recorded"
run "$FW" device lifecycle ctl-a-00000 quarantined --reason "tamper alarm"; expect_rc 0
run "$FW" device lifecycle ctl-a-00000 manufactured --reason "x"; expect_rc 2
expect_err "active, end_of_support"; one_line_err
run "$FW" device lifecycle ctl-a-00000 active; expect_rc 2; expect_err "--reason"; one_line_err
run "$FW" cert revoke ctl-a-00015 --reason "key extracted"; expect_rc 0
run "$FW" cert revoke ctl-a-00008 --reason "none"; expect_rc 2; expect_err "no certificate"; one_line_err
run "$FW" eligibility --release "$REL" --explain ctl-a-00000; expect_out "lifecycle.quarantined"
run "$FW" eligibility --release "$REL" --explain ctl-a-00015; expect_out "cert.revoked"; expect_out "locally"
run "$FW" device show ctl-a-00015; expect_rc 0; expect_out '"revoked": "local"'
run "$FW" device show nobody; expect_rc 2; one_line_err
run "$FW" device list --filter lifecycle=quarantined --json; expect_rc 0; expect_out '"device_id":"ctl-a-00000"'
run "$FW" device list --filter 'fw_version=>=2.5.0'; expect_rc 0; expect_out "ctl-a-00003"
run "$FW" device list --filter colour=red; expect_rc 2; expect_err "unknown key"; one_line_err
end

begin "operator add/list/show/disable: roles, Ed25519 keys, unique names and keys, recorded"
"$FW" key generate --alg ed25519 --out alice >/dev/null 2>&1
"$FW" key generate --alg p256 --out pete >/dev/null 2>&1
n=$(log_size)
run "$FW" operator add alice --role approver --pub alice.pub; expect_rc 0; expect_out "operator  alice (approver), active"
[ "$(log_size)" = $((n + 1)) ] || bad "expected one record"
run "$FW" operator add alice2 --role approver --pub alice.pub; expect_rc 2; expect_err "belongs to operator 'alice'"; one_line_err
run "$FW" operator add pete --role approver --pub pete.pub; expect_rc 2; expect_err "Ed25519"; one_line_err
run "$FW" operator add bob --role boss --pub alice.pub; expect_rc 2; expect_err "not a role"; one_line_err
run "$FW" operator add bob --pub alice.pub; expect_rc 2; expect_err "--role"; one_line_err
run "$FW" operator list; expect_rc 0; expect_out "alice"
run "$FW" operator list --json; expect_rc 0; expect_out '"role": "approver"'
run "$FW" operator show alice; expect_rc 0; expect_out '"state": "active"'
run "$FW" operator disable alice --reason "left"; expect_rc 0; expect_out "disabled"
run "$FW" operator disable alice --reason "again"; expect_rc 2; expect_err "disabled already"; one_line_err
run "$FW" operator show nobody; expect_rc 2; one_line_err
end

begin "campaign create/approve/edit/show/list: four eyes, signatures, edits void approvals"
for k in rm ap1 ap2 eve; do "$FW" key generate --alg ed25519 --out $k >/dev/null 2>&1; done
"$FW" operator add rm --role release_manager --pub rm.pub >/dev/null 2>&1
"$FW" operator add ap1 --role approver --pub ap1.pub >/dev/null 2>&1
"$FW" operator add ap2 --role approver --pub ap2.pub >/dev/null 2>&1
printf '{"name": "t", "release": "%s",\n "stages": [{"name": "canary", "size": {"percent": 5}, "approvals": 2},\n            {"name": "rest", "size": {"percent": 100}}]}\n' "${REL:0:12}" > pol.json
sed 's/"percent": 5/"percent": 150/' pol.json > bad.json
run "$FW" campaign create --policy bad.json --as rm; expect_rc 2; one_line_err
expect_err "bad.json: stages\[0\].size.percent"
run "$FW" campaign create --policy pol.json --as ap1; expect_rc 1; expect_err "not a release_manager"; one_line_err
run "$FW" campaign create --policy pol.json --as rm; expect_rc 0; expect_out "c-0001"; expect_out "awaiting_approval"
run "$FW" campaign approve c-0001 --key rm.key; expect_rc 1; expect_err "REFUSED"; one_line_err
run "$FW" campaign approve c-0001 --key eve.key; expect_rc 1; expect_err "belongs to no operator"; one_line_err
run "$FW" campaign approve c-0001 --key ap1.key; expect_rc 0; expect_out "approvals 1/2"
run "$FW" campaign approve c-0001 --key ap1.key; expect_rc 1; expect_err "already"; one_line_err
run "$FW" campaign edit c-0001 --policy pol.json --as rm; expect_rc 0; expect_out "approvals 0/2"; expect_out "version 2"
run "$FW" campaign approve c-0001 --key ap1.key; expect_rc 0
run "$FW" campaign approve c-0001 --key ap2.key; expect_rc 0; expect_out "(ready)"
run "$FW" campaign show c-0001; expect_rc 0; expect_out '"state": "ready"'
run "$FW" campaign list; expect_rc 0; expect_out "c-0001"
run "$FW" campaign show c-0099; expect_rc 2; one_line_err
end

begin "audit verify: every record of the session checks out"
run "$FW" audit verify; expect_rc 0; expect_out "^OK"
end

echo "RESULT $pass $fail"
[ "$fail" -eq 0 ]
