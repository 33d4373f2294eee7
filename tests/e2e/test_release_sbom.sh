#!/usr/bin/env bash
# End-to-end tests of a release's SBOM and the advisories it fixes: release
# add --sbom (CycloneDX, SPDX) and --fixes on a real store, every refusal
# checked for its exit code, its one stderr line and an unchanged log and
# blob directory; release show/list carry them; a device that installs a
# backported fix (a version inside the affected range) through a real
# campaign is counted remediated by vuln affected, and the campaign as
# remediating; audit verify passes over it all.
# Usage: tests/e2e/test_release_sbom.sh BUILD_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
B=$(realpath "${1:?usage: test_release_sbom.sh BUILD_DIR}")
FW=$B/fwtrust
MKFLEET=$B/tests/mkfleet
DATA=$(cd "$(dirname "$0")/../data/sbom" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2
export FWTRUST_ACTOR=test:sbom
export FWTRUST_DB=$T/s.db

# a fixed string, not lib.sh's pattern: the messages quote JSON paths
expect_err() { printf '%s' "$err" | grep -qF -- "$1" || bad "stderr lacks '$1': $err"; }
blobs() { find "$T/s.db.objects/sha256" -type f 2>/dev/null | wc -l; }

command -v sqlite3 >/dev/null || { echo "FAIL setup: the sqlite3 CLI is missing"; echo "RESULT 0 1"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL setup: python3 is missing"; echo "RESULT 0 1"; exit 1; }
mkdir fleet && setup "$MKFLEET" fleet 150
setup "$FW" init --origin test.example/sbom
V=fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
C=1492af14-2569-5e48-bf42-9b2d51f2ab45
head -c 5000 /dev/urandom > fw.bin
setup "$FW" key generate --alg ed25519 --out rel
# 2.3.5: a backport of the fix onto the 2.3 line, inside the affected range
setup "$FW" sign --key rel.key --image fw.bin --vendor-id $V --class-id $C --sequence 9 --version 2.3.5 --out fw.suit
setup "$FW" key trust rel.pub --name rel --role release-signing
setup "$FW" ca add fleet/ca.pem
setup "$FW" crl import fleet/crl.pem
setup "$FW" device import fleet/devices.csv
setup "$FW" vuln add FWT-2026-0001 --title "Bootloader authentication bypass" --severity critical \
  --product controller --family ctl-a --affected '>=2.0.0 <2.4.1' --fixed-in 2.4.1
setup "$FW" vuln add FWT-GW-1 --title "Gateway issue" --severity low --product gateway --affected '>=1.0.0 <2.0.0'
setup "$FW" vuln add FWT-B-1 --title "ctl-b issue" --severity low --product controller --family ctl-b --affected '>=1.0.0 <9.0.0'
# the SBOMs of the 2.3.5 backport: the SPDX test file with its version changed
python3 - "$DATA/controller-2.4.1.spdx.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["packages"][0]["versionInfo"] = "2.3.5"
d["name"] = "controller-fw-2.3.5"
json.dump(d, open("sbom-2.3.5.spdx.json", "w"), indent=2)
EOF
REL=(release add fw.suit --image fw.bin --product controller --family ctl-a)

begin "release add --sbom/--fixes: refusals name the flag and write nothing"
n=$(log_size); nb=$(blobs)
refuse() { # RC WANT ARGS...
  local want_rc=$1 want=$2; shift 2
  run "$FW" "${REL[@]}" "$@"; expect_rc "$want_rc"; expect_err "$want"; one_line_err
}
printf '{"bomFormat": "CycloneDX",\n "specVersion": }' > broken.json
refuse 2 "--sbom broken.json: not JSON: line 2, column" --sbom broken.json
printf '{"name": "controller-fw", "version": "2.3.5"}' > pkg.json
refuse 2 "--sbom pkg.json: neither a CycloneDX (bomFormat) nor an SPDX (spdxVersion) JSON document" --sbom pkg.json
printf '{"bomFormat":"CycloneDX","specVersion":"1.5","specVersion":"1.4"}' > dup.json
refuse 2 "--sbom dup.json: not JSON" --sbom dup.json
printf '{"spdxVersion":"SPDX-3.0","SPDXID":"SPDXRef-DOCUMENT"}' > spdx3.json
refuse 2 "spdxVersion: 'SPDX-3.0' is not SPDX-2.2 or SPDX-2.3" --sbom spdx3.json
truncate -s 33554433 big.json
refuse 2 "--sbom big.json: 33554433 bytes, more than the limit of 33554432" --sbom big.json
refuse 1 "REFUSED --sbom $DATA/controller-2.4.1.cdx.json: metadata.component.version 2.4.1 is not the release's version 2.3.5" \
  --sbom "$DATA/controller-2.4.1.cdx.json"
refuse 2 "--fixes FWT-9: no such advisory (vuln add or vuln import it first)" --sbom sbom-2.3.5.spdx.json --fixes FWT-2026-0001 --fixes FWT-9
refuse 1 "--fixes FWT-GW-1: the advisory is for product 'gateway', not the release's 'controller'" --fixes FWT-GW-1
refuse 1 "--fixes FWT-B-1: the advisory is for family 'ctl-b', not the release's 'ctl-a'" --fixes FWT-B-1
refuse 2 "--fixes FWT-2026-0001 given twice" --fixes FWT-2026-0001 --fixes FWT-2026-0001
many=(); for i in $(seq 33); do many+=(--fixes "FWT-$i"); done
refuse 2 "--fixes: at most 32 advisories" "${many[@]}"
refuse 2 "--sbom" --sbom missing.json
[ "$(log_size)" = "$n" ] || bad "a refusal wrote records"
[ "$(blobs)" = "$nb" ] || bad "a refusal left blobs ($(blobs), expected $nb)"
run "$FW" release list --json; expect_js 'len(d)' 0
end

begin "release add --sbom --fixes: kept, recorded, shown"
n=$(log_size)
run "$FW" "${REL[@]}" --sbom sbom-2.3.5.spdx.json --fixes FWT-2026-0001; expect_rc 0
sha=$(sha256sum sbom-2.3.5.spdx.json | cut -d' ' -f1); size=$(stat -c %s sbom-2.3.5.spdx.json)
expect_out "^sbom      SPDX 2.3, 4 components ($size bytes, sha256 $sha)"
expect_out "^fixes     FWT-2026-0001$"
ID=$(printf '%s' "$out" | awk '/^release /{print $2}')
R=$(printf '%s' "$out" | awk '/^evidence/{print $3}')
[ "$(log_size)" = $((n + 1)) ] || bad "expected one record"
[ -f "$T/s.db.objects/sha256/${sha:0:2}/${sha:2}" ] || bad "the SBOM is not kept content-addressed"
cmp -s sbom-2.3.5.spdx.json "$T/s.db.objects/sha256/${sha:0:2}/${sha:2}" || bad "the kept SBOM differs"
run "$FW" release show "${ID:0:12}"; expect_rc 0
expect_js 'd["sbom"]["format"], d["sbom"]["spec_version"], d["sbom"]["components"], d["sbom"]["size"]' "SPDX 2.3 4 $size"
expect_js 'd["sbom"]["sha256"]' "$sha"
expect_js 'd["fixes"]' "['FWT-2026-0001']"
run "$FW" release list --json; expect_js 'd[0]["sbom"]["sha256"], d[0]["fixes"]' "$sha ['FWT-2026-0001']"
run "$FW" audit show --index "$R"; expect_out '"type":"release.add"'
expect_out "\"sbom\":{\"components\":4,\"format\":\"SPDX\",\"sha256\":\"$sha\",\"size\":$size,\"spec_version\":\"2.3\"}"
expect_out '"fixes":\["FWT-2026-0001"\]'
end

for k in rm ap op; do setup "$FW" key generate --alg ed25519 --out $k; done
setup "$FW" operator add rm --role release_manager --pub rm.pub
setup "$FW" operator add ap --role approver --pub ap.pub
setup "$FW" operator add op --role operator --pub op.pub
cat > bp.json <<EOF
{"name": "ctl-a backport", "release": "${ID:0:12}",
 "stages": [{"name": "all", "size": {"percent": 100}, "approvals": 1}],
 "retry": {"max_attempts": 1, "backoff_s": 0}}
EOF
setup "$FW" campaign create --policy bp.json --as rm
setup "$FW" campaign approve c-0001 --key ap.key
setup "$FW" campaign start c-0001 --as op
"$FW" campaign devices c-0001 --state eligible --json > members.json 2>/dev/null

begin "vuln affected: the backport's campaign remediates through the release's fixes"
run "$FW" vuln affected FWT-2026-0001 --json; expect_rc 0
before=$(js 'd["counts"]["remediated"]')
R=$(js 'd["record"]')
run "$FW" audit show --index "$R"; expect_out '"campaigns":\["c-0001"\]'
# its affected members (2.0.0 <= version < 2.4.1, not isolated, in support)
run "$FW" vuln affected FWT-2026-0001 --list being_remediated
printf '%s\n' "$out" | awk '{print $1}' | sort > br.txt
python3 -c "import json; print('\n'.join(sorted(r['device'] for r in json.load(open('members.json')))))" > m.txt
[ "$(comm -23 br.txt m.txt | grep -c .)" = 0 ] || bad "being_remediated devices that are no members"
[ "$(grep -c . br.txt)" -ge 2 ] || bad "fewer than two members are being remediated"
read -r D1 D2 <<<"$(head -2 br.txt | tr '\n' ' ')"
end
[ -n "${D2:-}" ] || { echo "FAIL setup: campaign members"; echo "RESULT $pass $((fail+1))"; exit 1; }

begin "vuln affected: a device that installed the backport (inside the range) is remediated"
setup "$FW" device report "$D1" --campaign c-0001 --status delivered
setup "$FW" device report "$D1" --campaign c-0001 --status installed --version 2.3.5
setup "$FW" device report "$D2" --campaign c-0001 --status delivered
run "$FW" vuln affected FWT-2026-0001 --json; expect_rc 0
expect_js 'd["counts"]["remediated"]' $((before + 1))
run "$FW" vuln affected FWT-2026-0001 --list remediated
printf '%s\n' "$out" | grep -q "^$D1 2.3.5$" || bad "$D1 (installed 2.3.5) is not remediated"
run "$FW" vuln affected FWT-2026-0001 --list being_remediated
printf '%s\n' "$out" | grep -q "^$D2 " || bad "$D2 (delivered) is not being remediated"
run "$FW" vuln affected FWT-2026-0001 --list exposed
printf '%s\n' "$out" | grep -q "^$D1 " && bad "$D1 is still exposed"
# a device on 2.3.5 of another product or family is not remediated by it
run "$FW" vuln affected FWT-B-1 --list remediated; expect_rc 0
[ -z "$out" ] || bad "FWT-B-1 (not fixed by the release) has remediated devices: $out"
end

begin "audit verify: the releases, SBOM and fixes records verify; an edited fixes list does not"
run "$FW" audit verify; expect_rc 0
cp s.db clean.db
# a release made to claim it fixes another advisory, outside fwtrust
sqlite3 "$FWTRUST_DB" "UPDATE objects SET doc = json_set(doc, '\$.fixes', json_array('FWT-2026-0001', 'FWT-B-1')) WHERE kind = 'release'"
run "$FW" audit verify; expect_rc 1
printf '%s' "$out$err" | grep -q "release ${ID:0:16}: 'fixes' differs from its release.add record" || bad "no finding for the edited fixes: $out $err"
cp clean.db s.db
sqlite3 "$FWTRUST_DB" "UPDATE objects SET doc = json_remove(doc, '\$.sbom') WHERE kind = 'release'"
run "$FW" audit verify; expect_rc 1
printf '%s' "$out$err" | grep -q "'sbom' differs" || bad "no finding for the removed sbom: $out $err"
cp clean.db s.db
end

echo "RESULT $pass $fail"
[ "$fail" -eq 0 ]
