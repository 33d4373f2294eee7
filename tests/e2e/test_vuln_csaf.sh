#!/usr/bin/env bash
# End-to-end tests of 'fwtrust vuln import': CSAF 2.0 advisories
# (tests/data/csaf) imported into a real store whose products are those of
# its devices and releases. Every malformed document is refused with exit
# 2 and one line naming its JSON path; an unmapped item refuses the whole
# import (exit 1) unless --partial; every refusal leaves the log and the
# advisories as they were; the document is kept byte for byte; the same
# document again writes nothing; the log verifies at the end.
# Usage: tests/e2e/test_vuln_csaf.sh BUILD_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
B=$(realpath "${1:?usage: test_vuln_csaf.sh BUILD_DIR}")
FW=$B/fwtrust
DATA=$(realpath "$(dirname "$0")/../data/csaf")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2
export FWTRUST_ACTOR=test:csaf
export FWTRUST_DB=$T/s.db

# fixed strings, not lib.sh's patterns: the messages quote JSON paths ([0], .)
expect_err() { printf '%s' "$err" | grep -qF -- "$1" || bad "stderr lacks '$1': $err"; }
expect_out() { printf '%s' "$out" | grep -qF -- "$1" || bad "stdout lacks '$1': $out"; }
advisories() { "$FW" vuln list --json 2>/dev/null | python3 -c "import json,sys; print(' '.join(a['advisory'] for a in json.load(sys.stdin)))"; }
blobs() { find "$T/s.db.objects" -type f 2>/dev/null | wc -l; }
unchanged() { # LOG_SIZE ADVISORIES BLOBS
  [ "$(log_size)" = "$1" ] || bad "the log changed: $(log_size) records, expected $1"
  [ "$(advisories)" = "$2" ] || bad "advisories changed: '$(advisories)', expected '$2'"
  [ "$(blobs)" = "$3" ] || bad "blobs changed: $(blobs), expected $3"
}

command -v sqlite3 >/dev/null || { echo "FAIL setup: the sqlite3 CLI is missing"; echo "RESULT 0 1"; exit 1; }
command -v python3 >/dev/null || { echo "FAIL setup: python3 is missing"; echo "RESULT 0 1"; exit 1; }
setup "$FW" init --origin test.example/csaf
cat > devices.csv <<EOF
device_id,product,family,hw_revision,fw_version,support_until,lifecycle
ctl-0001,controller,ctl-a,B,2.3.0,2031-12-31,active
ctl-0002,controller,ctl-a,B,2.4.1,2031-12-31,active
ctl-0003,controller,ctl-a,C,1.9.3,2031-12-31,active
EOF
setup "$FW" device import devices.csv

begin "malformed documents: exit 2, one line naming the JSON path, nothing written"
n=$(log_size); nb=$(blobs)
malformed() { # FILE WANT
  run "$FW" vuln import "$DATA/$1"; expect_rc 2; expect_err "$1: $2"; one_line_err
}
malformed bad-not-json.json "not JSON: line 62, column 14"
malformed bad-duplicate-key.json "not JSON: line 4, column 14: duplicate object key near '\"category\"'"
malformed bad-csaf-version.json "document.csaf_version: '2.1' is not \"2.0\""
malformed bad-no-tracking-id.json "document.tracking.id: missing"
malformed bad-unknown-product.json "vulnerabilities[0].product_status.known_affected[2]: 'CSAFPID-9' is not a product of product_tree"
malformed bad-category.json "document.category: 'security_advisory' is not a CSAF category"
malformed bad-cvss.json "vulnerabilities[0].scores[0].cvss_v3: vectorString: base metric A is missing"
malformed bad-tracking-version-type.json "document.tracking.version: not a string"
# over 4 MiB (made here, not committed)
{ cat "$DATA/valid.json"; head -c 4194304 /dev/zero | tr '\0' ' '; } > big.json
run "$FW" vuln import big.json; expect_rc 2; expect_err "big.json:"; expect_err "more than the limit of 4194304"; one_line_err
run "$FW" vuln import nothing.json; expect_rc 2; expect_err "nothing.json"; one_line_err
run "$FW" vuln import "$DATA/bad-unknown-product.json" --dry-run; expect_rc 2; one_line_err
unchanged "$n" "" "$nb"
end

begin "usage errors: exit 2, one line"
n=$(log_size); nb=$(blobs)
run "$FW" vuln import; expect_rc 2; expect_err "expected exactly one CSAF 2.0 document"; one_line_err
run "$FW" vuln import a.json b.json; expect_rc 2; one_line_err
run "$FW" vuln import "$DATA/valid.json" --partail; expect_rc 2; expect_err "unknown option '--partail'"; one_line_err
run "$FW" vuln import --help; expect_rc 0; expect_out "usage: fwtrust vuln import FILE"
run "$FW" vuln --help; expect_rc 0; expect_out "fwtrust vuln import FILE"
run "$FW" --help; expect_out "vuln import"
unchanged "$n" "" "$nb"
end

begin "valid advisory: --dry-run writes nothing, then imported as one record"
n=$(log_size); nb=$(blobs)
run "$FW" vuln import "$DATA/valid.json" --dry-run; expect_rc 0
expect_out "advisory  OEM-SA-2026-0007 (critical) Bootloader authentication bypass"
expect_out "evidence  none: a dry run writes nothing"
unchanged "$n" "" "$nb"
run "$FW" vuln import "$DATA/valid.json"; expect_rc 0
expect_out "advisory  OEM-SA-2026-0007 (critical) Bootloader authentication bypass"
expect_out "affects   controller / ctl-a >=2.0.0 <2.4.1"
expect_out "fixed in  2.4.1"
expect_out "from      vulnerabilities[0] of OEM-SA-2026-0007 version 2"
[ "$(log_size)" = $((n + 1)) ] || bad "expected one record"
R=$(printf '%s' "$out" | awk '/^evidence/{print $3}')
run "$FW" vuln show OEM-SA-2026-0007; expect_rc 0
expect_out "source    csaf"; expect_out "affected  >=2.0.0 <2.4.1"; expect_out "cves      CVE-2026-12345"
SHA=$(sha256sum "$DATA/valid.json" | cut -d' ' -f1)
run "$FW" audit show --index "$R"; expect_rc 0
expect_out '"type":"vuln.add"'; expect_out '"source":"csaf"'
expect_out "\"sha256\":\"$SHA\""; expect_out '"tracking_id":"OEM-SA-2026-0007"'
expect_out '"tracking_version":"2"'; expect_out '"publisher":"OEM Example PSIRT"'
expect_out '"path":"vulnerabilities[0]"'; expect_out "\"size\":$(stat -c %s "$DATA/valid.json")"
KEPT=$T/s.db.objects/sha256/${SHA:0:2}/${SHA:2}
[ -f "$KEPT" ] && cmp -s "$KEPT" "$DATA/valid.json" || bad "the document is not kept byte for byte at $KEPT"
run "$FW" vuln affected OEM-SA-2026-0007 --json; expect_rc 0
expect_js 'd["counts"]["exposed"], d["counts"]["remediated"], d["cohort"]' "1 1 2"
end

begin "the same document again: already imported, nothing written"
n=$(log_size); nb=$(blobs); have=$(advisories)
run "$FW" vuln import "$DATA/valid.json"; expect_rc 0
expect_err "already imported (OEM-SA-2026-0007 version 2): nothing written"
expect_out "evidence  already imported (nothing written)"
run "$FW" vuln import "$DATA/valid.json" --dry-run; expect_rc 0
expect_out "evidence  already imported (nothing written)"
unchanged "$n" "$have" "$nb"
end

begin "another document with the same ids: REFUSED naming the id, nothing written"
n=$(log_size); nb=$(blobs); have=$(advisories)
python3 -c "import json; d=json.load(open('$DATA/valid.json')); d['document']['tracking']['version']='3'; json.dump(d, open('v3.json','w'))"
run "$FW" vuln import v3.json; expect_rc 1
expect_err "REFUSED advisory OEM-SA-2026-0007 exists already, not from this document"; one_line_err
run "$FW" vuln import v3.json --dry-run; expect_rc 1
expect_err "REFUSED advisory OEM-SA-2026-0007 exists already, not from this document"; one_line_err
unchanged "$n" "$have" "$nb"
end

begin "two vulnerabilities: two advisories, numbered, in one go"
n=$(log_size)
run "$FW" vuln import "$DATA/two-vulns.json" --json; expect_rc 0
expect_js '" ".join(a["advisory"] for a in d["advisories"])' "OEM-SA-2026-0008:1 OEM-SA-2026-0008:2"
expect_js 'd["advisories"][0]["affected"]' ">=1.0.0 <1.2.0 || >=2.0.0 <=2.3.9 || =2.4.1-rc.1"
expect_js 'd["advisories"][1]["severity"], d["advisories"][1]["affected"], d["advisories"][1]["fixed_in"]' "medium =2.4.0 2.4.1"
expect_js 'd["advisories"][1]["record"] - d["advisories"][0]["record"], d["unmapped"]' "1 []"
[ "$(log_size)" = $((n + 2)) ] || bad "expected two records"
end

begin "a vers that cannot be mapped: refused whole without --partial, listed"
n=$(log_size); nb=$(blobs); have=$(advisories)
run "$FW" vuln import "$DATA/unmapped-vers.json"; expect_rc 1
expect_err "unmapped-vers.json: product_tree.branches[0].branches[0].branches[0].branches[3].product: not mapped: 'CSAFPID-0007' (affected in vulnerabilities[1]): 'vers:npm/>=3.0.0|<3.2.0': vers scheme 'npm' is not mapped"
expect_err "REFUSED"; expect_err "1 item(s) cannot be mapped, nothing imported"
[ -z "$out" ] || bad "a refused import printed advisories: $out"
unchanged "$n" "$have" "$nb"
end

begin "--partial: the rest stored, what was left out listed and recorded"
n=$(log_size)
run "$FW" vuln import "$DATA/unmapped-vers.json" --partial; expect_rc 0
expect_out "advisory  OEM-SA-2026-0010:1 (critical)"
expect_err "not mapped: 'CSAFPID-0007'"
[ "$(log_size)" = $((n + 1)) ] || bad "expected one record"
R=$(printf '%s' "$out" | awk '/^evidence/{print $3}')
run "$FW" audit show --index "$R"; expect_out '"unmapped":[{"path":"product_tree.branches[0].branches[0].branches[0].branches[3].product"'
run "$FW" vuln show OEM-SA-2026-0010:2; expect_rc 2; expect_err "no advisory 'OEM-SA-2026-0010:2'"
end

begin "products of this registry: devices and releases; another product is not mapped"
n=$(log_size); nb=$(blobs); have=$(advisories)
run "$FW" vuln import "$DATA/unmapped-product.json"; expect_rc 1
expect_err "product_tree.branches[0].branches[1].branches[0]: not mapped: product 'gateway' family 'gw-1' (in vulnerabilities[0]) is not a product of this registry"
unchanged "$n" "$have" "$nb"
run "$FW" vuln import "$DATA/unmapped-product.json" --partial; expect_rc 0
expect_out "advisory  OEM-SA-2026-0009:1"
[ "$(log_size)" = $((n + 1)) ] || bad "expected one record"
# a release of product gateway makes it ours: the rest of the document now maps
V=fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
C=1492af14-2569-5e48-bf42-9b2d51f2ab45
head -c 3000 /dev/urandom > gw.bin
setup "$FW" key generate --alg ed25519 --out rel
setup "$FW" sign --key rel.key --image gw.bin --vendor-id $V --class-id $C --sequence 4 --version 3.1.0 --out gw.suit
setup "$FW" key trust rel.pub --name rel --role release-signing
setup "$FW" release add gw.suit --image gw.bin --product gateway --family gw-1
n=$(log_size)
run "$FW" vuln import "$DATA/unmapped-product.json"; expect_rc 0
expect_out "advisory  OEM-SA-2026-0009:2 (critical)"; expect_out "affects   gateway / gw-1 <3.1.0"
expect_out "evidence  already imported (nothing written)"
[ "$(log_size)" = $((n + 1)) ] || bad "expected one record (the :1 advisory was there)"
end

begin "audit verify: the log with the imported advisories verifies"
run "$FW" audit verify; expect_rc 0
end

echo "RESULT $pass $fail"
[ "$fail" -eq 0 ]
