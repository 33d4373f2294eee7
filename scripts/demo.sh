#!/usr/bin/env bash
# The fwtrust demo: a release engineer signs a firmware image, a device
# verifies it, and a tampered image and a rolled-back release are refused
# with their reasons. Usage: scripts/demo.sh path/to/fwtrust [--quiet]
# (--quiet: for the test suite; prints only the ok/FAIL lines.)
set -u
FW=$(realpath "${1:?usage: demo.sh FWTRUST [--quiet]}")
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

step "11. The signed release is verified and stored, envelope and image (recorded)"
show "$FW" release add controller-fw-2.4.1-security.suit --image controller-fw-2.4.1-security.bin \
  --product controller --family ctl-a --db fwtrust.db
expect 0 "release added"
show "$FW" release add mallory.suit --image controller-fw-2.4.1-security.bin \
  --product controller --family ctl-a --db fwtrust.db
expect 1 "release by an unregistered key refused"
show "$FW" release list --db fwtrust.db
expect 0 "releases listed"

step "12. The log signs a checkpoint (C2SP tlog-checkpoint in a signed note)"
show "$FW" audit checkpoint --db fwtrust.db --out checkpoint.txt
expect 0 "checkpoint signed"

step "13. An auditor gets a proof for the release record and checks it offline, with only the log's public key"
show "$FW" audit prove --index 2 --db fwtrust.db --out release-record
expect 0 "inclusion proof written"
show "$FW" audit verify-proof --checkpoint checkpoint.txt --proof release-record.proof \
  --record release-record.record --key fwtrust.db-log.pub
expect 0 "proof verified offline"

step "14. The whole log is rebuilt from its records and every checkpoint checked"
show "$FW" audit verify --db fwtrust.db --checkpoint checkpoint.txt
expect 0 "log verified"

say ""
say "demo: $pass steps as expected, $fail not"
say "the keys, images, envelopes and signing records are in $WORK"
[ -z "$QUIET" ] || echo "RESULT $pass $fail"
[ "$fail" -eq 0 ]
