#!/usr/bin/env bash
# The fwtrust demo: a release engineer signs a firmware image, a device
# verifies it, and a tampered image and a rolled-back release are refused
# with their reasons; the OEM records the release, imports its fleet
# (device identities with real certificates, lifecycle, firmware versions),
# decides which devices may receive the release and why not, and an
# auditor proves a decision offline. Usage: scripts/demo.sh path/to/fwtrust
# [--quiet] (the sample fleet is made by tests/mkfleet beside fwtrust).
# (--quiet: for the test suite; prints only the ok/FAIL lines.)
set -u
FW=$(realpath "${1:?usage: demo.sh FWTRUST [--quiet]}")
MKFLEET=$(dirname "$FW")/tests/mkfleet
QUIET=${2:-}
if [ -n "$QUIET" ]; then
  WORK=$(mktemp -d /tmp/fwtrust-demo.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
else
  # kept for a look afterwards; replaced on every run
  WORK="$(cd "$(dirname "$0")/.." && pwd)/out/demo"
  rm -rf "$WORK" && mkdir -p "$WORK"
fi
cd "$WORK" || exit 2

pass=0 fail=0
say() { [ -n "$QUIET" ] || printf '%s\n' "$*"; }
step() { say ""; say "== $*"; }
show() { # show and run a command; keep its exit code in $rc
  say "\$ fwtrust ${*:2}"
  if [ -n "$QUIET" ]; then "$@" >/dev/null 2>&1; else "$@" 2>&1 | sed 's/^/  /'; fi
  rc=${PIPESTATUS[0]}
}
expect() { # expected exit code, what
  if [ "$rc" -eq "$1" ]; then pass=$((pass+1)); [ -z "$QUIET" ] || echo "ok   demo: $2"
  else fail=$((fail+1)); echo "FAIL demo: $2 (exit $rc, expected $1)"; fi
}

VENDOR=fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe   # the OEM
CLASS=1492af14-2569-5e48-bf42-9b2d51f2ab45    # the controller board

step "1. The release engineer creates a signing key (Ed25519)"
show "$FW" key generate --alg ed25519 --out release
expect 0 "key generated"

step "2. Firmware 2.4.1 is built (here: about 4 MiB of sample bytes)"
for i in $(seq 1 4096); do printf 'controller firmware 2.4.1 block %05d %0990d\n' "$i" 0; done > controller-fw-2.4.1-security.bin
say "  controller-fw-2.4.1-security.bin, $(stat -c %s controller-fw-2.4.1-security.bin) bytes"

step "3. It is signed into a SUIT envelope for this vendor and device class"
show "$FW" sign --key release.key --image controller-fw-2.4.1-security.bin \
  --vendor-id $VENDOR --class-id $CLASS --sequence 42 --version 2.4.1 \
  --out controller-fw-2.4.1-security.suit
expect 0 "image signed"
say "  signing record:"
[ -n "$QUIET" ] || sed 's/^/    /' controller-fw-2.4.1-security.suit.record.json

step "4. Anyone can read what the envelope says (nothing is trusted yet)"
show "$FW" inspect controller-fw-2.4.1-security.suit
expect 0 "envelope inspected"

step "5. A device running sequence 41 verifies envelope and image, as libfwv does on the device"
show "$FW" verify --pub release.pub --envelope controller-fw-2.4.1-security.suit \
  --image controller-fw-2.4.1-security.bin --min-sequence 41 --vendor-id $VENDOR --class-id $CLASS
expect 0 "genuine image accepted"

step "6. An attacker changes one byte of the image on its way to the device"
cp controller-fw-2.4.1-security.bin tampered.bin
printf 'X' | dd of=tampered.bin bs=1 seek=2000000 conv=notrunc status=none
show "$FW" verify --pub release.pub --envelope controller-fw-2.4.1-security.suit \
  --image tampered.bin --min-sequence 41 --vendor-id $VENDOR --class-id $CLASS
expect 1 "tampered image refused"

step "7. Old, vulnerable firmware 2.3.0 (sequence 40), validly signed, is replayed to the device"
for i in $(seq 1 4096); do printf 'controller firmware 2.3.0 block %05d %0990d\n' "$i" 0; done > controller-fw-2.3.0.bin
show "$FW" sign --key release.key --image controller-fw-2.3.0.bin \
  --vendor-id $VENDOR --class-id $CLASS --sequence 40 --version 2.3.0 --out controller-fw-2.3.0.suit
expect 0 "old release signed"
show "$FW" verify --pub release.pub --envelope controller-fw-2.3.0.suit \
  --image controller-fw-2.3.0.bin --min-sequence 42 --vendor-id $VENDOR --class-id $CLASS
expect 1 "rolled-back sequence refused"

step "8. An envelope signed with a key the device does not trust"
show "$FW" key generate --alg p256 --out mallory
show "$FW" sign --key mallory.key --image controller-fw-2.4.1-security.bin \
  --vendor-id $VENDOR --class-id $CLASS --sequence 43 --version 2.4.1 --out mallory.suit
show "$FW" verify --pub release.pub --envelope mallory.suit \
  --image controller-fw-2.4.1-security.bin --min-sequence 42
expect 1 "untrusted signer refused"

step "9. The OEM creates its store: SQLite, and an evidence log with its own signing key"
show "$FW" init --db fwtrust.db --origin demo.example/evidence
expect 0 "store initialised"

step "10. The release key is registered as trusted for signing releases (recorded)"
show "$FW" key trust release.pub --name release-2026 --role release-signing --db fwtrust.db
expect 0 "release key registered"

step "11. The signed release is verified and stored, envelope and image, with the firmware it upgrades (recorded)"
show "$FW" release add controller-fw-2.4.1-security.suit --image controller-fw-2.4.1-security.bin \
  --product controller --family ctl-a --from '>=2.0.0 <2.4.1' --hw-revision B --hw-revision C \
  --db fwtrust.db
expect 0 "release added"
show "$FW" release add mallory.suit --image controller-fw-2.4.1-security.bin \
  --product controller --family ctl-a --db fwtrust.db
expect 1 "release by an unregistered key refused"
show "$FW" release list --db fwtrust.db
expect 0 "releases listed"
REL=$("$FW" release list --json --db fwtrust.db | sed -n 's/^ *"id": "\([0-9a-f]*\)".*/\1/p' | head -n 1)

step "12. The fleet: 300 controllers with X.509 identities (sample data: some expired, revoked, quarantined, on old firmware, out of support)"
mkdir -p fleet && "$MKFLEET" fleet 300
rc=$?; expect 0 "sample fleet written"
say "  fleet/devices.csv: $(($(grep -c '^ctl-a-' fleet/devices.csv))) devices; fleet/ca.pem, fleet/crl.pem"

step "13. The security officer trusts the device-identity CA and loads its CRL (signature checked; recorded)"
show "$FW" ca add fleet/ca.pem --db fwtrust.db
expect 0 "device CA trusted"
show "$FW" crl import fleet/crl.pem --db fwtrust.db
expect 0 "CRL imported"
show "$FW" crl import fleet/other-ca.pem --db fwtrust.db
expect 2 "a certificate is not a CRL"

step "14. The fleet registry is imported in one transaction (certificates checked against the CA once each)"
show "$FW" device import fleet/devices.csv --db fwtrust.db
expect 0 "fleet imported"
show "$FW" device list --filter lifecycle=quarantined --db fwtrust.db
expect 0 "quarantined devices listed"

step "15. Operations: a device is quarantined, another's identity revoked (each recorded with its reason)"
show "$FW" device lifecycle ctl-a-00020 quarantined --reason "unexpected outbound traffic" --db fwtrust.db
expect 0 "device quarantined"
show "$FW" device lifecycle ctl-a-00021 manufactured --reason "try to reset it" --db fwtrust.db
expect 2 "illegal lifecycle transition refused"
show "$FW" cert revoke ctl-a-00022 --reason "key extracted from a returned unit" --db fwtrust.db
expect 0 "device identity revoked"

step "16. Eligibility for release 2.4.1: every device decided, every reason kept (one record per device)"
show "$FW" eligibility --release "$REL" --db fwtrust.db
expect 0 "eligibility decided"

step "17. Why may ctl-a-00004 not have it? Its inputs, its reasons, and where the decision is recorded"
show "$FW" eligibility --release "$REL" --explain ctl-a-00004 --db fwtrust.db
expect 0 "decision explained"
DEC=$("$FW" eligibility --release "$REL" --explain ctl-a-00004 --json --db fwtrust.db | \
  sed -n '/"recorded"/,/}/s/^ *"idx": \([0-9]*\).*/\1/p' | head -n 1)

step "18. The people: a release manager and two approvers, each with an Ed25519 key (recorded)"
for who in rita bob carol; do "$FW" key generate --alg ed25519 --out $who >/dev/null 2>&1; done
show "$FW" operator add rita --role release_manager --pub rita.pub --db fwtrust.db
expect 0 "release manager registered"
show "$FW" operator add bob --role approver --pub bob.pub --db fwtrust.db
expect 0 "approver registered"
show "$FW" operator add carol --role approver --pub carol.pub --db fwtrust.db
expect 0 "second approver registered"

step "19. Rita creates the campaign: a 1% canary needing two approvals, then 10%, then the rest"
cat > campaign.json <<POLICY
{
  "name": "controller 2.4.1 security update",
  "release": "${REL:0:16}",
  "targeting": {"product": "controller", "family": "ctl-a"},
  "stages": [
    {"name": "canary", "size": {"percent": 1}, "approvals": 2, "soak_s": 3600},
    {"name": "early", "size": {"percent": 10}, "approvals": 1, "soak_s": 7200},
    {"name": "rest", "size": {"percent": 100}}
  ],
  "success_threshold": 95,
  "pause": {"failure_rate": {"percent": 5, "min_reports": 3}, "max_failures": 10},
  "retry": {"max_attempts": 3, "backoff_s": 600},
  "report_timeout_s": 86400,
  "quarantine": {"after_failed_attempts": 3}
}
POLICY
show "$FW" campaign create --policy campaign.json --as rita --db fwtrust.db
expect 0 "campaign created, awaiting approval"

step "20. Four eyes: the creator cannot approve; Bob and Carol sign the canary stage"
show "$FW" campaign approve c-0001 --key rita.key --db fwtrust.db
expect 1 "the creator's approval refused"
show "$FW" campaign approve c-0001 --key bob.key --db fwtrust.db
expect 0 "first approval signed"
show "$FW" campaign approve c-0001 --key bob.key --db fwtrust.db
expect 2 "the same approver twice refused"
show "$FW" campaign approve c-0001 --key carol.key --db fwtrust.db
expect 0 "second approval: the campaign is ready"

step "21. The log signs a checkpoint (C2SP tlog-checkpoint in a signed note)"
show "$FW" audit checkpoint --db fwtrust.db --out checkpoint.txt
expect 0 "checkpoint signed"

step "22. An auditor proves the release record and the decision on ctl-a-00004 offline, with only the log's public key"
show "$FW" audit prove --index 2 --db fwtrust.db --out release-record
expect 0 "inclusion proof written"
show "$FW" audit verify-proof --checkpoint checkpoint.txt --proof release-record.proof \
  --record release-record.record --key fwtrust.db-log.pub
expect 0 "proof verified offline"
show "$FW" audit prove --index "${DEC:-0}" --db fwtrust.db --out decision
expect 0 "decision proof written"
say "  decision record:"
[ -n "$QUIET" ] || sed 's/^/    /' decision.record; say ""
show "$FW" audit verify-proof --checkpoint checkpoint.txt --proof decision.proof \
  --record decision.record --key fwtrust.db-log.pub
expect 0 "decision proven offline"

step "23. The whole log is rebuilt from its records, approvals re-verified, every checkpoint checked"
show "$FW" audit verify --db fwtrust.db --checkpoint checkpoint.txt
expect 0 "log verified"

say ""
say "demo: $pass steps as expected, $fail not"
say "the keys, images, envelopes, the fleet and the store are in $WORK"
[ -z "$QUIET" ] || echo "RESULT $pass $fail"
[ "$fail" -eq 0 ]
