#!/usr/bin/env bash
# End-to-end tests of the vulnerability commands of the fwtrust CLI: vuln
# add/list/show and vuln affected, on a real store with a sample fleet made
# by tests/tools/mkfleet (real certificates, a CRL) and a real running
# campaign. The affected cohort is checked against an independent
# computation in Python from 'device list --json' and 'campaign devices
# --json' (an exposed device's why as 'eligibility --explain' gives it for
# the fixing release): every count, every bucket's devices, and the SHA-256
# of the kept list. Every refusal is checked for its exit code, its one stderr line and
# an unchanged log.
# Usage: tests/e2e/test_vuln.sh BUILD_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
B=$(realpath "${1:?usage: test_vuln.sh BUILD_DIR}")
FW=$B/fwtrust
MKFLEET=$B/tests/mkfleet
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2
export FWTRUST_ACTOR=test:vuln
export FWTRUST_DB=$T/s.db

command -v sqlite3 >/dev/null || { echo "FAIL setup: the sqlite3 CLI is missing"; echo "RESULT 0 1"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL setup: python3 is missing"; echo "RESULT 0 1"; exit 1; }
mkdir fleet && setup "$MKFLEET" fleet 150
setup "$FW" init --origin test.example/vuln
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
for k in rm ap op; do setup "$FW" key generate --alg ed25519 --out $k; done
setup "$FW" operator add rm --role release_manager --pub rm.pub
setup "$FW" operator add ap --role approver --pub ap.pub
setup "$FW" operator add op --role operator --pub op.pub
policy() { # FILE RELEASE
  cat > "$1" <<EOF
{"name": "ctl-a $2", "release": "${2:0:12}",
 "stages": [{"name": "all", "size": {"percent": 100}, "approvals": 1}],
 "retry": {"max_attempts": 1, "backoff_s": 0}}
EOF
}
# c-0001 rolls out 2.4.1 (fixes the advisory); c-0002 a 2.4.1-rc.1 (affected itself)
policy fix.json "$REL"; policy rc.json "$RC"
setup "$FW" campaign create --policy fix.json --as rm
setup "$FW" campaign approve c-0001 --key ap.key
setup "$FW" campaign start c-0001 --as op
setup "$FW" campaign create --policy rc.json --as rm
setup "$FW" campaign approve c-0002 --key ap.key
setup "$FW" campaign start c-0002 --as op
# three members of c-0001: one installs the fix, one fails for good, one is under way
"$FW" campaign devices c-0001 --state eligible --json > members.json 2>/dev/null
read -r D1 D2 D3 <<<"$(python3 -c "import json; d=json.load(open('members.json')); print(' '.join(r['device'] for r in d[:3]))")"
[ -n "$D3" ] || { echo "FAIL setup: campaign members"; echo "RESULT 0 1"; exit 1; }
setup "$FW" device report "$D1" --campaign c-0001 --status delivered
setup "$FW" device report "$D1" --campaign c-0001 --status installed --version 2.4.1
setup "$FW" device report "$D2" --campaign c-0001 --status delivered
setup "$FW" device report "$D2" --campaign c-0001 --status failed
setup "$FW" device report "$D3" --campaign c-0001 --status delivered

ADD=(vuln add FWT-2026-0001 --title "Bootloader authentication bypass" --severity critical
     --cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H --product controller --family ctl-a
     --affected '>=2.0.0 <2.4.1' --fixed-in 2.4.1 --cve CVE-2026-12345 --cve CVE-2026-0042)

begin "vuln add: refusals name the flag, exit 2, and write nothing"
n=$(log_size)
bad_add() { # WANT FLAGS... (replacing the defaults)
  local want=$1; shift
  run "$FW" vuln add FWT-X --title t --severity high --product controller --affected '>=2.0.0 <2.4.1' "$@"
  expect_rc 2; expect_err "$want"; one_line_err
}
bad_add "--cvss: base metric A is missing" --cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H
bad_add "'Q' is not a value of AV" --cvss CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
bad_add "--fixed-in 2.4.0 is inside the affected range" --fixed-in 2.4.0
bad_add "--fixed-in 2.4.1-rc.1 is inside the affected range" --fixed-in 2.4.1-rc.1
bad_add "--affected" --affected '>=3.0.0 <2.0.0'
bad_add "--severity: 'severe' is not a severity" --severity severe
bad_add "--cve 'CVE-1-2': not a CVE id" --cve CVE-1-2
run "$FW" vuln add 'bad/id' --title t --severity high --product p --affected 1.0.0
expect_rc 2; expect_err "advisory id 'bad/id'"; one_line_err
run "$FW" vuln add FWT-X --title t --severity high --product p; expect_rc 2; expect_err "missing --affected"; one_line_err
run "$FW" vuln add FWT-X --title t --sev high --product p --affected 1.0.0; expect_rc 2; expect_err "unknown option '--sev'"; one_line_err
[ "$(log_size)" = "$n" ] || bad "a refused add wrote records"
run "$FW" vuln list --json; expect_js 'len(d)' 0
end

begin "vuln add: recorded once; a second add of the id is refused"
n=$(log_size)
run "$FW" "${ADD[@]}"; expect_rc 0
expect_out "advisory  FWT-2026-0001 (critical) Bootloader authentication bypass"
expect_out "affects   controller / ctl-a >=2.0.0 <2.4.1"; expect_out "fixed in  2.4.1"
[ "$(log_size)" = $((n + 1)) ] || bad "expected one record"
R=$(printf '%s' "$out" | awk '/^evidence/{print $3}')
run "$FW" audit show --index "$R"; expect_out '"type":"vuln.add"'; expect_out '"source":"cli"'
expect_out '"cves":\["CVE-2026-0042","CVE-2026-12345"\]'; expect_out '"affected":">=2.0.0 <2.4.1"'
n=$(log_size)
run "$FW" "${ADD[@]}"; expect_rc 1; expect_err "REFUSED advisory FWT-2026-0001 exists already"; one_line_err
[ "$(log_size)" = "$n" ] || bad "a refused add wrote a record"
end

begin "vuln list and show"
run "$FW" vuln list; expect_rc 0; expect_out "^FWT-2026-0001  *critical  *controller  *ctl-a  *>=2.0.0 <2.4.1  *2.4.1"
run "$FW" vuln show FWT-2026-0001 --json; expect_rc 0
expect_js 'd["advisory"], d["severity"], d["fixed_in"], d["family"]' "FWT-2026-0001 critical 2.4.1 ctl-a"
expect_js 'd["added"]["idx"]' "$R"
run "$FW" vuln show FWT-2026-0001; expect_out "^cvss      CVSS:3.1/AV:N"
run "$FW" vuln show FWT-9; expect_rc 2; expect_err "no advisory 'FWT-9'"; one_line_err
end

# the expected cohort, computed independently from the registry and the campaigns
"$FW" device list --json > devices.json 2>/dev/null
"$FW" campaign devices c-0001 --json > c1.json 2>/dev/null
cat > oracle.py <<'EOF'
import json, os, subprocess, sys, hashlib, datetime
devs = json.load(open("devices.json"))
rows = json.load(open("c1.json"))
def ver(v):  # SemVer 2.0.0 precedence (section 11) as a sort key
    core, _, pre = v.split("+")[0].partition("-")
    nums = tuple(int(x) for x in core.split("."))
    if not pre:
        return (nums, 1, ())
    return (nums, 0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
lo, hi, fixed = ver("2.0.0"), ver("2.4.1"), ver("2.4.1")
today = datetime.datetime.now(datetime.timezone.utc).date()
# unfinished members of the campaign that fixes it (c-0002's release is affected)
fixing = {r["device"] for r in rows
          if r["state"] not in ("installed", "ineligible", "rolled_back")
          and not (r["state"] == "failed" and r["retry_not_before_ms"] is None)}
lines = []
for d in devs:
    if d["product"] != "controller" or d["family"] != "ctl-a":
        continue
    v = ver(d["fw_version"])
    if not (lo <= v < hi):
        if v >= fixed:
            lines.append((d["device_id"], "remediated", d["fw_version"]))
        continue
    cert = d["certificate"]
    if d["lifecycle"] == "quarantined" or (cert and cert["state"] == "revoked"):
        b = "isolated"
    elif d["lifecycle"] in ("end_of_support", "decommissioned") or \
            datetime.date.fromisoformat(d["support_until"]) < today:
        b = "cannot_be_remediated"
    elif d["device_id"] in fixing:
        b = "being_remediated"
    else:
        b = "exposed"
    lines.append((d["device_id"], b, d["fw_version"]))
lines.sort()
# why an exposed device is: what eligibility says of it against the one
# release that fixes it (2.4.1; the 2.4.1-rc.1 is affected itself)
def why(dev):
    out = subprocess.run([os.environ["FW"], "eligibility", "--release", os.environ["REL"],
                          "--explain", dev, "--json"], capture_output=True, text=True).stdout
    e = json.loads(out)
    return "eligible" if e["eligible"] else ",".join(r["code"] for r in e["reasons"])
lines = [l + ((why(l[0]),) if l[1] == "exposed" else ()) for l in lines]
text = "".join(" ".join(l) + "\n" for l in lines).encode()
counts = {}
for l in lines:
    counts[l[1]] = counts.get(l[1], 0) + 1
if sys.argv[1] == "counts":
    print(" ".join("%s=%d" % (k, counts.get(k, 0)) for k in
          ("isolated", "cannot_be_remediated", "being_remediated", "exposed", "remediated")))
elif sys.argv[1] == "sha":
    print(hashlib.sha256(text).hexdigest(), len(lines))
else:
    print("\n".join(" ".join((l[0],) + l[2:]) for l in lines if l[1] == sys.argv[1]))
EOF
export FW REL

begin "vuln affected: every bucket as computed independently, the list kept and recorded"
want=$(python3 oracle.py counts)
read -r want_sha want_n <<<"$(python3 oracle.py sha)"
for b in isolated cannot_be_remediated being_remediated exposed remediated; do
  [ "$(python3 oracle.py $b | grep -c .)" -gt 0 ] || bad "the fleet does not hit bucket $b"
done
# exposed devices with eligibility's reasons for the fix (the unit test
# covers the other whys)
python3 oracle.py exposed | grep " cert\." >/dev/null || bad "no exposed device ineligible for the fix"
n=$(log_size)
run "$FW" vuln affected FWT-2026-0001 --json; expect_rc 0
got=$(js '" ".join("%s=%d" % (k, d["counts"][k]) for k in ("isolated", "cannot_be_remediated", "being_remediated", "exposed", "remediated"))')
[ "$got" = "$want" ] || bad "counts $got, expected $want"
expect_js 'd["cohort"], d["devices"]' "$want_n 150"
expect_js 'd["list_sha256"]' "$want_sha"
[ "$(log_size)" = $((n + 1)) ] || bad "expected one record"
R=$(js 'd["record"]')
run "$FW" audit show --index "$R"; expect_out '"type":"vuln.affected"'
expect_out "\"list_sha256\":\"$want_sha\""; expect_out '"campaigns":\["c-0001"\]'
[ -f "$T/s.db.objects/sha256/${want_sha:0:2}/${want_sha:2}" ] || \
  ls -R "$T/s.db.objects" | grep -q "$want_sha" || bad "the list is not kept in the store"
run "$FW" vuln affected FWT-2026-0001; expect_rc 0
expect_out "advisory  FWT-2026-0001: $want_n of 150 devices in the cohort"
expect_out "^  being_remediated  *$(python3 oracle.py being_remediated | grep -c .)$"
expect_out "^campaigns 1 remediating"
[ "$(log_size)" = $((n + 2)) ] || bad "every computation is recorded"
end

begin "vuln affected --list: each bucket's devices"
for b in isolated cannot_be_remediated being_remediated exposed remediated; do
  run "$FW" vuln affected FWT-2026-0001 --list $b; expect_rc 0
  [ "$out" = "$(python3 oracle.py $b)" ] || bad "--list $b differs from the expected devices"
  expect_err "device(s) $b"
done
run "$FW" vuln affected FWT-2026-0001 --list being_remediated
printf '%s\n' "$out" | grep -q "^$D3 " || bad "$D3 (delivered) is not being remediated"
run "$FW" vuln affected FWT-2026-0001 --list remediated
printf '%s\n' "$out" | grep -q "^$D1 2.4.1$" || bad "$D1 (installed 2.4.1) is not remediated"
# its one attempt failed: failed for good and quarantined by the campaign
run "$FW" vuln affected FWT-2026-0001 --list isolated
printf '%s\n' "$out" | grep -q "^$D2 " || bad "$D2 (failed, quarantined) is not isolated"
run "$FW" vuln affected FWT-2026-0001 --list isolated --json; expect_rc 0
expect_js 'sorted(r["device"] for r in d) == sorted(l.split()[0] for l in open("/dev/stdin"))' True <<<"$(python3 oracle.py isolated)"
end

begin "vuln affected: a paused remediating campaign still counts; refusals write nothing"
setup "$FW" campaign pause c-0001 --as op --reason look
run "$FW" vuln affected FWT-2026-0001 --json; expect_rc 0
expect_js 'd["counts"]["being_remediated"]' "$(python3 oracle.py being_remediated | grep -c .)"
setup "$FW" campaign abort c-0001 --as op --reason stop
run "$FW" vuln affected FWT-2026-0001 --json; expect_rc 0
expect_js 'd["counts"]["being_remediated"]' 0
n=$(log_size)
run "$FW" vuln affected FWT-9; expect_rc 2; expect_err "no advisory 'FWT-9'"; one_line_err
run "$FW" vuln affected FWT-2026-0001 --list gone; expect_rc 2; expect_err "'gone' is not a bucket"; one_line_err
run "$FW" vuln affected; expect_rc 2; one_line_err
run "$FW" vuln frobnicate; expect_rc 2; one_line_err
[ "$(log_size)" = "$n" ] || bad "a refusal wrote records"
end

begin "audit verify: the log with the new records verifies"
run "$FW" audit verify; expect_rc 0
end

echo "RESULT $pass $fail"
[ "$fail" -eq 0 ]
