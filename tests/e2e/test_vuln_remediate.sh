#!/usr/bin/env bash
# End-to-end tests of remediation: 'vuln remediate' drafts the campaign
# policy for an advisory, 'campaign create' accepts it (with --remediates
# checked against the registry's advisories), the campaign's members are
# exactly the affected cohort it targets and 'vuln affected' shows them
# being remediated; 'vuln isolate' revokes the certificates of the devices
# that cannot be remediated (end_of_support ones cannot be quarantined) and
# quarantines a filtered set, and an isolated device is never delivered to
# ('device report ... delivered' is stopped). Everything is checked against
# an independent computation in Python from 'device list --json'; every
# refusal for its exit code, its one stderr line and an unchanged log; the
# log verifies at the end.
# Usage: tests/e2e/test_vuln_remediate.sh BUILD_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
B=$(realpath "${1:?usage: test_vuln_remediate.sh BUILD_DIR}")
FW=$B/fwtrust
MKFLEET=$B/tests/mkfleet
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2
export FWTRUST_ACTOR=test:vuln-remediate
export FWTRUST_DB=$T/s.db

command -v sqlite3 >/dev/null || { echo "FAIL setup: the sqlite3 CLI is missing"; echo "RESULT 0 1"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL setup: python3 is missing"; echo "RESULT 0 1"; exit 1; }
mkdir fleet && setup "$MKFLEET" fleet 150
setup "$FW" init --origin test.example/remediate
V=fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
C=1492af14-2569-5e48-bf42-9b2d51f2ab45
head -c 5000 /dev/urandom > fw.bin
head -c 5000 /dev/urandom > rc.bin
setup "$FW" key generate --alg ed25519 --out rel
setup "$FW" sign --key rel.key --image fw.bin --vendor-id $V --class-id $C --sequence 9 --version 2.4.1 --out fw.suit
setup "$FW" sign --key rel.key --image rc.bin --vendor-id $V --class-id $C --sequence 8 --version 2.4.1-rc.1 --out rc.suit
setup "$FW" key trust rel.pub --name rel --role release-signing
setup "$FW" ca add fleet/ca.pem
setup "$FW" crl import fleet/crl.pem
setup "$FW" device import fleet/devices.csv
REL=$("$FW" release add fw.suit --image fw.bin --product controller --family ctl-a --from '>=2.0.0 <2.4.1' --hw-revision B --hw-revision C | awk '/^release /{print $2}')
RC=$("$FW" release add rc.suit --image rc.bin --product controller --family ctl-a --from '>=2.0.0 <2.4.1' | awk '/^release /{print $2}')
[ ${#REL} = 64 ] && [ ${#RC} = 64 ] || { echo "FAIL setup: release add"; echo "RESULT 0 1"; exit 1; }
for k in rm ap1 ap2 op; do setup "$FW" key generate --alg ed25519 --out $k; done
setup "$FW" operator add rm --role release_manager --pub rm.pub
setup "$FW" operator add ap1 --role approver --pub ap1.pub
setup "$FW" operator add ap2 --role approver --pub ap2.pub
setup "$FW" operator add op --role operator --pub op.pub
setup "$FW" vuln add FWT-2026-0001 --title "Bootloader authentication bypass" --severity critical \
  --product controller --family ctl-a --affected '>=2.0.0 <2.4.1' --fixed-in 2.4.1
setup "$FW" vuln add FWT-GW-1 --title "Gateway bug" --severity low --product gateway --affected '>=1.0.0'
# two affected, active devices go out of support (lifecycle end_of_support):
# they can never be quarantined
"$FW" device list --json > devices0.json 2>/dev/null
read -r E1 E2 <<<"$(python3 -c "
import json
d = [x for x in json.load(open('devices0.json')) if x['product'] == 'controller' and x['family'] == 'ctl-a'
     and x['lifecycle'] == 'active' and x['fw_version'].startswith('2.1') and x['hw_revision'] in ('B', 'C') and x['certificate']
     and x['certificate']['state'] == 'valid' and x['support_until'] > '2030']
print(d[0]['device_id'], d[1]['device_id'])")"
[ -n "$E2" ] || { echo "FAIL setup: no active devices"; echo "RESULT 0 1"; exit 1; }
setup "$FW" device lifecycle "$E1" end_of_support --reason "sold off"
setup "$FW" device lifecycle "$E2" end_of_support --reason "sold off"

# the buckets of the advisory, computed independently (no campaign yet:
# being_remediated and exposed are one set, "open")
cat > oracle.py <<'EOF'
import json, sys, datetime
devs = json.load(open(sys.argv[1]))
def ver(v):  # SemVer 2.0.0 precedence as a sort key
    core, _, pre = v.split("+")[0].partition("-")
    nums = tuple(int(x) for x in core.split("."))
    if not pre:
        return (nums, 1, ())
    return (nums, 0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
lo, hi = ver("2.0.0"), ver("2.4.1")
today = datetime.datetime.now(datetime.timezone.utc).date()
out = {"isolated": [], "cannot": [], "open": [], "targeted": []}
for d in devs:
    if d["product"] != "controller" or d["family"] != "ctl-a":
        continue
    if not (lo <= ver(d["fw_version"]) < hi):
        continue
    if d["hw_revision"] in ("B", "C"):  # the release's hardware revisions
        out["targeted"].append(d["device_id"])
    cert = d["certificate"]
    if d["lifecycle"] == "quarantined" or (cert and cert["state"] == "revoked"):
        out["isolated"].append(d["device_id"])
    elif d["lifecycle"] in ("end_of_support", "decommissioned") or \
            datetime.date.fromisoformat(d["support_until"]) < today:
        out["cannot"].append(d["device_id"])
    else:
        out["open"].append(d["device_id"])
print(" ".join(sorted(out[sys.argv[2]])))
EOF
oracle() { python3 oracle.py "$1" "$2"; }
count() { wc -w <<<"$1" | tr -d ' '; }

begin "vuln remediate: refusals (a release that does not fix it, unknown ids) write nothing"
n=$(log_size)
run "$FW" vuln remediate FWT-2026-0001 --release "${RC:0:12}"; expect_rc 1
expect_err "REFUSED release ${RC:0:16} (version 2.4.1-rc.1) does not fix advisory FWT-2026-0001"; one_line_err
run "$FW" vuln remediate FWT-GW-1 --release "${REL:0:12}"; expect_rc 1
expect_err "REFUSED release ${REL:0:16} is for controller / ctl-a; advisory FWT-GW-1 is about gateway"; one_line_err
run "$FW" vuln remediate FWT-9 --release "${REL:0:12}"; expect_rc 2; expect_err "no advisory 'FWT-9'"; one_line_err
run "$FW" vuln remediate FWT-2026-0001 --release 00000000; expect_rc 2; one_line_err
run "$FW" vuln remediate FWT-2026-0001; expect_rc 2; expect_err "missing --release"; one_line_err
run "$FW" vuln remediate FWT-2026-0001 --release "${REL:0:12}" --name ""; expect_rc 2; expect_err "\-\-name"; one_line_err
[ "$(log_size)" = "$n" ] || bad "a refused remediate wrote records"
[ ! -e pol.json ] || bad "a refused remediate wrote a file"
end

begin "vuln remediate: drafts a policy for exactly the affected cohort; nothing recorded"
"$FW" device list --json > devices1.json 2>/dev/null
open1=$(oracle devices1.json open)
n=$(log_size)
run "$FW" vuln remediate FWT-2026-0001 --release "${REL:0:12}" --out pol.json; expect_rc 0
expect_err "drafted   campaign policy \"remediate-FWT-2026-0001\" for advisory FWT-2026-0001: release ${REL:0:16} (2.4.1) in pol.json"
expect_err "targets   controller / ctl-a, versions '>=2.0.0 <2.4.1': $(count "$open1") device(s) now (not counted: $(count "$(oracle devices1.json isolated)") isolated, $(count "$(oracle devices1.json cannot)") cannot_be_remediated)"
[ "$(log_size)" = "$n" ] || bad "remediate wrote records"
python3 - pol.json "$REL" <<'EOF' || bad "the drafted policy is not the expected one"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["name"] == "remediate-FWT-2026-0001", p["name"]
assert p["release"] == sys.argv[2]
assert p["remediates"] == ["FWT-2026-0001"]
t = p["targeting"]
assert (t["product"], t["family"], t["versions"], t["cohorts"], t["hw_revisions"]) == \
    ("controller", "ctl-a", ">=2.0.0 <2.4.1", [], []), t
assert [(s["name"], s["size"], s["approvals"]) for s in p["stages"]] == \
    [("canary", {"percent": 5}, 2), ("all", {"percent": 100}, 1)], p["stages"]
assert p["success_threshold"] == 95 and p["retry"] == {"max_attempts": 3, "backoff_s": 600}
EOF
# stdout without --out, the same policy; a narrower upgrade range is warned about
run "$FW" vuln remediate FWT-2026-0001 --release "${REL:0:12}" --name "fix it"; expect_rc 0
expect_js 'd["name"], d["remediates"]' "fix it ['FWT-2026-0001']"
printf '%s' "$err" | grep -q "^warning" && bad "a warning for a release that upgrades every affected version: $err"
head -c 5000 /dev/urandom > nar.bin
setup "$FW" sign --key rel.key --image nar.bin --vendor-id $V --class-id $C --sequence 10 --version 2.4.2 --out nar.suit
NAR=$("$FW" release add nar.suit --image nar.bin --product controller --family ctl-a --from '>=2.2.0 <2.4.2' | awk '/^release /{print $2}')
below=$(python3 -c "
import json
n = 0
for x in json.load(open('devices1.json')):
    if x['device_id'] in '''$open1'''.split() and x['fw_version'].split('.')[:2] in (['2', '0'], ['2', '1']):
        n += 1
print(n)")
run "$FW" vuln remediate FWT-2026-0001 --release "${NAR:0:12}" --out nar.json; expect_rc 0
[ "$below" -gt 0 ] || bad "the fleet has no open device below 2.2.0"
expect_err "warning   $below of them run a version outside the release's upgrade range '>=2.2.0 <2.4.2': they will be ineligible (version.out_of_range)"
end

begin "campaign create --remediates: unknown advisories and other products refused, ids merged"
n=$(log_size)
run "$FW" campaign create --policy pol.json --as rm --remediates FWT-GW-1; expect_rc 1
expect_err "REFUSED remediates: advisory FWT-GW-1 is about product 'gateway', the release is for 'controller'"; one_line_err
run "$FW" campaign create --policy pol.json --as rm --remediates FWT-404; expect_rc 2
expect_err "remediates: no advisory 'FWT-404'"; one_line_err
run "$FW" campaign create --policy pol.json --as rm --remediates 'bad/id'; expect_rc 2
expect_err "\-\-remediates 'bad/id': not an advisory id"; one_line_err
sed 's/"FWT-2026-0001"/"FWT-2026-0002"/' pol.json > pol-bad.json
run "$FW" campaign create --policy pol-bad.json --as rm; expect_rc 2; expect_err "no advisory 'FWT-2026-0002'"; one_line_err
[ "$(log_size)" = "$n" ] || bad "a refused create wrote records"
run "$FW" campaign create --policy pol.json --as rm --remediates FWT-2026-0001; expect_rc 0
expect_out "campaign  c-0001"; expect_out "^remediates FWT-2026-0001$"; expect_out "awaiting_approval"
R=$(printf '%s' "$out" | awk '/^evidence/{print $3}')
run "$FW" audit show --index "$R"; expect_out '"type":"campaign.create"'
expect_out '"remediates":\["FWT-2026-0001"\]'; expect_out '"versions":">=2.0.0 <2.4.1"'
run "$FW" campaign show c-0001; expect_out '"remediates"'
end

begin "campaign start: the members are the targeted affected devices; the open ones being_remediated"
setup "$FW" campaign approve c-0001 --key ap1.key
setup "$FW" campaign approve c-0001 --key ap2.key
run "$FW" campaign start c-0001 --as op; expect_rc 0
"$FW" campaign devices c-0001 --json > members.json 2>/dev/null
members=$(python3 -c "import json; print(' '.join(sorted(r['device'] for r in json.load(open('members.json')))))")
[ "$members" = "$(oracle devices1.json targeted)" ] || bad "members are not the targeted affected devices"
# the ones not ineligible are open (neither isolated nor cannot_be_remediated)
live=$(python3 -c "import json; print(' '.join(sorted(r['device'] for r in json.load(open('members.json')) if r['state'] != 'ineligible')))")
[ -n "$live" ] || bad "no member is eligible"
for x in $live; do grep -qw -- "$x" <<<"$open1" || bad "$x is a live member but not open"; done
for x in $(oracle devices1.json isolated) $(oracle devices1.json cannot); do
  grep -qw -- "$x" <<<"$live" && bad "$x (isolated or cannot) is a live member"
done
# outside the range: not members (target.version), whatever else they are
python3 -c "
import json
m = {r['device'] for r in json.load(open('members.json'))}
out = [d['device_id'] for d in json.load(open('devices1.json')) if d['fw_version'] in ('1.9.3', '2.4.1', '2.5.0')]
assert out and not (m & set(out)), 'devices outside the range are members'" || bad "target.version"
run "$FW" vuln affected FWT-2026-0001 --list being_remediated; expect_rc 0
[ "$(printf '%s\n' "$out" | awk '{print $1}' | sort | tr '\n' ' ' | sed 's/ $//')" = "$live" ] || \
  bad "being_remediated is not the live members"
run "$FW" vuln affected FWT-2026-0001; expect_out "^campaigns 1 remediating"
end

begin "vuln isolate: end_of_support devices cannot be quarantined; --dry-run writes nothing"
cannot=$(oracle devices1.json cannot)
[ "$(count "$cannot")" -ge 3 ] && grep -qw -- "$E1" <<<"$cannot" || bad "the fleet has too few cannot_be_remediated devices: $cannot"
n=$(log_size)
run "$FW" vuln isolate FWT-2026-0001 --reason "no update path"; expect_rc 1
expect_err "REFUSED device $E1 is end_of_support and cannot be quarantined"; expect_err "\-\-revoke"; one_line_err
run "$FW" vuln isolate FWT-2026-0001 --reason "no update path" --revoke --dry-run; expect_rc 0
[ "$(printf '%s\n' "$out" | awk 'NR>1{print $1}' | sort | tr '\n' ' ' | sed 's/ $//')" = "$cannot" ] || \
  bad "the dry run lists $(printf '%s\n' "$out" | awk 'NR>1{print $1}' | tr '\n' ' '), expected $cannot"
expect_err "dry run: $(count "$cannot") device(s) of advisory FWT-2026-0001 would be isolated (revoke); nothing written"
run "$FW" vuln isolate FWT-2026-0001; expect_rc 2; expect_err "missing --reason"; one_line_err
run "$FW" vuln isolate FWT-2026-0001 --reason x --devices color=red; expect_rc 2; expect_err "\-\-devices"; one_line_err
run "$FW" vuln isolate FWT-9 --reason x; expect_rc 2; expect_err "no advisory 'FWT-9'"; one_line_err
run "$FW" vuln isolate FWT-2026-0001 --reason x --devices fw_version=9.9.9; expect_rc 1
expect_err "REFUSED no device to isolate"; one_line_err
[ "$(log_size)" = "$n" ] || bad "a refused or dry isolate wrote records"
end

begin "vuln isolate --revoke: the cannot_be_remediated devices, one vuln.isolate record each"
n=$(log_size)
run "$FW" vuln isolate FWT-2026-0001 --reason "no update path" --revoke; expect_rc 0
expect_out "isolated  $(count "$cannot") device(s) of advisory FWT-2026-0001 (revoke)"
[ "$(log_size)" = $((n + $(count "$cannot"))) ] || bad "expected one record per device"
R=$(printf '%s\n' "$out" | awk -v d="$E1" '$1 == d {print $NF}')
run "$FW" audit show --index "$R"; expect_out '"type":"vuln.isolate"'; expect_out "\"device\":\"$E1\""
expect_out '"action":"revoke"'; expect_out '"lifecycle_before":"end_of_support"'; expect_out '"advisory":"FWT-2026-0001"'
expect_out '"cert_sha256"'; expect_out '"reason":"no update path"'
run "$FW" device show "$E1"; expect_out '"revoked": "local"'
run "$FW" vuln affected FWT-2026-0001 --json; expect_rc 0
expect_js 'd["counts"]["cannot_be_remediated"]' 0
expect_js 'd["counts"]["isolated"]' $(( $(count "$(oracle devices1.json isolated)") + $(count "$cannot") ))
n=$(log_size)
run "$FW" vuln isolate FWT-2026-0001 --reason again --revoke; expect_rc 1; expect_err "no device to isolate"; one_line_err
[ "$(log_size)" = "$n" ] || bad "a refused isolate wrote records"
end

begin "vuln isolate --devices: the matching affected devices quarantined; never delivered to"
# a live member of the canary stage, and every affected device that shares its version and cohort
X=$(python3 -c "import json; print([r['device'] for r in json.load(open('members.json')) if r['state'] == 'eligible'][0])")
read -r XV XC <<<"$(python3 -c "import json; d=[x for x in json.load(open('devices1.json')) if x['device_id'] == '$X'][0]; print(d['fw_version'], d['cohorts'][0])")"
want=$(python3 -c "
import json
open1 = set('$open1'.split())
print(' '.join(sorted(d['device_id'] for d in json.load(open('devices1.json'))
      if d['device_id'] in open1 and d['fw_version'] == '$XV' and '$XC' in d['cohorts'])))")
grep -qw -- "$X" <<<"$want" || bad "$X is not among the devices to isolate: $want"
n=$(log_size)
run "$FW" vuln isolate FWT-2026-0001 --reason "exposed on the internet" --devices "fw_version=$XV" --devices "cohort=$XC"
expect_rc 0; expect_out "isolated  $(count "$want") device(s) of advisory FWT-2026-0001 (quarantine)"
[ "$(log_size)" = $((n + $(count "$want"))) ] || bad "expected one record per device"
got=$(printf '%s\n' "$out" | awk '/^  [^.]/{print $1}' | sort | tr '\n' ' ' | sed 's/ $//')
[ "$(count "$want")" -gt 10 ] || [ "$got" = "$want" ] || bad "isolated $got, expected $want"
run "$FW" device show "$X"; expect_out '"lifecycle": "quarantined"'
run "$FW" vuln affected FWT-2026-0001 --list isolated; printf '%s\n' "$out" | grep -q "^$X " || bad "$X is not isolated"
# the delivery path refuses it: no longer eligible (lifecycle.quarantined)
n=$(log_size)
run "$FW" device report "$X" --campaign c-0001 --status delivered; expect_rc 1
expect_err "STOPPED $X is no longer eligible (lifecycle.quarantined)"
run "$FW" campaign devices c-0001 --state delivered --json; expect_js "'$X' in [r['device'] for r in d]" False
# a revoked, end_of_support device was never delivered to either
run "$FW" device report "$E1" --campaign c-0001 --status delivered; expect_rc 1; expect_err "ineligible"
run "$FW" campaign devices c-0001 --state delivered --json; expect_js "'$E1' in [r['device'] for r in d]" False
end

begin "audit verify: the rows and certificates are what the vuln.isolate records say"
run "$FW" audit verify; expect_rc 0; expect_out "^OK"
end

echo "RESULT $pass $fail"
[ "$fail" -eq 0 ]
