#!/usr/bin/env bash
# The fwtrust demo: a release engineer signs a firmware image, a device
# verifies it, and a tampered image and a rolled-back release are refused
# with their reasons; the OEM records the release, imports its fleet
# (device identities with real certificates, lifecycle, firmware versions),
# decides which devices may receive the release and why not; a CSAF
# advisory against the fleet is imported and its affected devices counted;
# a governed campaign that remediates it runs over HTTP (four-eyes
# approvals, a 1% canary, 10%, the rest; fwtrust serve speaks the hawkBit
# device API to a fleet of reference agents, failures pause it, an
# operator resumes, integrity failures quarantine devices); the devices
# that cannot be fixed are isolated and the remediation read back over
# time; an auditor proves a decision offline and verifies the whole log,
# and the campaign's and the advisory's evidence bundles (records, proofs,
# keys, the audit report as HTML and PDF, with the advisory's chart) are
# exported and checked offline with only the log's public key. Usage: scripts/demo.sh path/to/fwtrust
# [--quiet] (the sample fleet is made by tests/mkfleet beside fwtrust).
# (--quiet: for the test suite; prints only the ok/FAIL lines.)
set -u
FW=$(realpath "${1:?usage: demo.sh FWTRUST [--quiet]}")
MKFLEET=$(dirname "$FW")/tests/mkfleet
SRC=$(cd "$(dirname "$0")/.." && pwd) # the source tree (sample advisory)
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

step "18. A vulnerability: the PSIRT publishes a CSAF 2.0 advisory (ctl-a firmware 2.0.0 to 2.4.0: bootloader authentication bypass, fixed in 2.4.1); the security officer imports it, mapped to our products (recorded, the document kept)"
cp "$SRC/tests/data/csaf/valid.json" OEM-SA-2026-0007.json
show "$FW" vuln import OEM-SA-2026-0007.json --db fwtrust.db
expect 0 "CSAF advisory imported"

step "19. Which controllers does it affect right now, and what is done about each? (the cohort and the digest of its device list are recorded)"
show "$FW" vuln affected OEM-SA-2026-0007 --db fwtrust.db
expect 0 "affected cohort computed and recorded"

step "20. The advisory drafts its remediating campaign: release 2.4.1 to exactly the affected versions"
show "$FW" vuln remediate OEM-SA-2026-0007 --release "$REL" --out remediate-draft.json --db fwtrust.db
expect 0 "campaign policy drafted (nothing recorded: a release manager reviews it)"
say "  (Rita keeps the draft's targeting and 'remediates', and stages it for this fleet below)"

step "21. The people: a release manager, two approvers and a fleet operator, each with an Ed25519 key (recorded)"
for who in rita bob carol olga; do "$FW" key generate --alg ed25519 --out $who >/dev/null 2>&1; done
show "$FW" operator add rita --role release_manager --pub rita.pub --db fwtrust.db
expect 0 "release manager registered"
show "$FW" operator add bob --role approver --pub bob.pub --db fwtrust.db
expect 0 "approver registered"
show "$FW" operator add carol --role approver --pub carol.pub --db fwtrust.db
expect 0 "second approver registered"
show "$FW" operator add olga --role operator --pub olga.pub --db fwtrust.db
expect 0 "fleet operator registered"

step "22. Rita creates the campaign: a 1% canary needing two approvals, then 10%, then the rest"
cat > campaign.json <<POLICY
{
  "name": "controller 2.4.1 security update",
  "release": "${REL:0:16}",
  "targeting": {"product": "controller", "family": "ctl-a", "versions": ">=2.0.0 <2.4.1"},
  "remediates": ["OEM-SA-2026-0007"],
  "stages": [
    {"name": "canary", "size": {"percent": 1}, "approvals": 2, "soak_s": 2},
    {"name": "early", "size": {"percent": 10}, "approvals": 1},
    {"name": "rest", "size": {"percent": 100}}
  ],
  "success_threshold": 66,
  "pause": {"failure_rate": {"percent": 10, "min_reports": 5}, "max_failures": 10},
  "retry": {"max_attempts": 2, "backoff_s": 0},
  "report_timeout_s": 86400,
  "quarantine": {"after_failed_attempts": 2}
}
POLICY
say "  (a stage advances when two thirds of its devices run the release: the demo's fleet fails"
say "  on purpose, and a canary of 3 must not stall it on one unlucky device; in the field, 90-99%)"
show "$FW" campaign create --policy campaign.json --as rita --db fwtrust.db
expect 0 "campaign created, awaiting approval"

step "23. Four eyes: the creator cannot approve; Bob and Carol sign the canary stage"
show "$FW" campaign approve c-0001 --key rita.key --db fwtrust.db
expect 1 "the creator's approval refused"
show "$FW" campaign approve c-0001 --key bob.key --db fwtrust.db
expect 0 "first approval signed"
show "$FW" campaign approve c-0001 --key bob.key --db fwtrust.db
expect 1 "the same approver twice refused"
show "$FW" campaign approve c-0001 --key carol.key --db fwtrust.db
expect 0 "second approval: the campaign is ready"

# (soak times here are seconds so that the demo runs through; in the field,
# hours. Backoff 0: a failed device may be retried at once.)

# the devices of a stage in a state, one id per line
devices_in() { "$FW" campaign devices c-0001 --stage "$1" --state "$2" --db fwtrust.db 2>/dev/null | awk 'NR>1 {print $1}'; }
state_is() { # the campaign's state, checked from its status document
  "$FW" campaign status c-0001 --json --db fwtrust.db 2>/dev/null | grep -q "^  \"state\": \"$1\""; rc=$?
}

step "24. Before the start, Olga tries the approved policy on 20,000 simulated devices (3% failing, one corrupt image): same engine, scratch store"
show "$FW" simulate --campaign c-0001 --devices 20000 --fail-rate 3 --integrity-failures 1 --seed 42 --db fwtrust.db
expect 0 "simulated (its max_failures of 10 would stop a fleet this size again and again; the real one is 300)"

step "25. Olga starts it: the members are fixed, each gets its stage by a stable hash, the canary's devices are checked again"
show "$FW" campaign start c-0001 --as olga --db fwtrust.db
expect 0 "campaign started"
show "$FW" vuln affected OEM-SA-2026-0007 --db fwtrust.db
expect 0 "the affected controllers the campaign will reach are now being remediated"
FIRST=$(devices_in canary eligible | head -n 1)

step "26. The devices are enrolled for the device API: one token each (only its SHA-256 is kept; recorded)"
show "$FW" device token --all --agent suit --out tokens.txt --db fwtrust.db
expect 0 "tokens issued to every active device"
say "  $(grep -vc '^#' tokens.txt) tokens in tokens.txt (mode $(stat -c %a tokens.txt))"

step "27. fwtrust serve: the hawkBit device API (DDI) on a loopback port; it ticks the campaign and signs checkpoints as it runs"
say "\$ fwtrust serve --listen 127.0.0.1:0 --poll-interval 1 --tick-every 1 --log requests.log --db fwtrust.db &"
"$FW" serve --listen 127.0.0.1:0 --poll-interval 1 --tick-every 1 --checkpoint-every 5 \
  --log requests.log --ready-file serve.port --db fwtrust.db 2>serve.err &
SERVE=$!
for _ in $(seq 1 100); do [ -s serve.port ] && break; sleep 0.1; done
PORT=$(cat serve.port 2>/dev/null); rc=$([ -n "$PORT" ] && echo 0 || echo 1)
expect 0 "server listening"
URL=http://127.0.0.1:$PORT
say "  $(head -n 1 serve.err)"
stop_serve() { [ -n "${SERVE:-}" ] && kill "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null; SERVE=; }
trap 'stop_serve; [ -n "$QUIET" ] && rm -rf "$WORK"' EXIT

step "28. One canary controller runs the reference agent: it polls, checks the envelope with libfwv before the image, streams the image through the verifier, installs, reports"
TOKEN=$(awk -v d="$FIRST" '$1 == d {print $2}' tokens.txt)
AGENT=$(dirname "$FW")/fwtrust-agent
say "\$ fwtrust-agent --server $URL --tenant DEFAULT --id $FIRST --token <its token> --state-dir dev-$FIRST --trust-key release.pub ... --once -v"
if [ -n "$QUIET" ]; then
  "$AGENT" --server "$URL" --tenant DEFAULT --id "$FIRST" --token "$TOKEN" --state-dir "dev-$FIRST" \
    --trust-key release.pub --vendor-id $VENDOR --class-id $CLASS --sequence 41 --version 2.3.0 --once -v >/dev/null 2>&1
else
  "$AGENT" --server "$URL" --tenant DEFAULT --id "$FIRST" --token "$TOKEN" --state-dir "dev-$FIRST" \
    --trust-key release.pub --vendor-id $VENDOR --class-id $CLASS --sequence 41 --version 2.3.0 --once -v 2>&1 | sed 's/^/  /'
fi
rc=${PIPESTATUS[0]}
expect 0 "the canary device installed 2.4.1 over HTTP"
"$FW" campaign devices c-0001 --stage canary --db fwtrust.db 2>/dev/null | grep -q "^$FIRST .*installed"; rc=$?
expect 0 "the server recorded it installed"
say "  its request log:"
[ -n "$QUIET" ] || grep "\"who\":\"$FIRST\"" requests.log | head -n 8 | sed 's/^/    /'

step "29. The rest of the fleet runs fwtrust-agent too (one process, one agent per device; 6% of installs fail, a few images arrive corrupted)"
say "\$ fwtrust-agent --server $URL --tenant DEFAULT --fleet $(grep -vc '^#' tokens.txt) --tokens tokens.txt --fail-rate 6 --integrity-rate 0.5 ... &"
"$AGENT" --server "$URL" --tenant DEFAULT --fleet "$(grep -vc '^#' tokens.txt)" --tokens tokens.txt \
  --state-dir fleet-agents --trust-key release.pub --vendor-id $VENDOR --class-id $CLASS \
  --sequence 41 --version 2.3.0 --fail-rate 6 --integrity-rate 0.5 --seed 42 --max-time 300 \
  >agents.out 2>agents.err &
AGENTS=$!

step "30. Olga and Bob watch the campaign: Bob approves the early stage when it waits; Olga looks at each pause and resumes"
campaign_json() { "$FW" campaign status c-0001 --json --db fwtrust.db 2>/dev/null; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" 2>/dev/null; }
resumes=0 refused=0 approved=0 last="" deadline=$((SECONDS + 300))
while [ $SECONDS -lt $deadline ]; do
  doc=$(campaign_json)
  st=$(printf '%s' "$doc" | field 'd["state"]')
  next=$(printf '%s' "$doc" | field 'd["next"]')
  now="$st | $(printf '%s' "$doc" | field '" ".join("%s:%d/%d" % (s["name"], s["counts"]["installed"], s["devices"]) for s in d["stages"])')"
  [ "$now" != "$last" ] && say "  $(date +%T) $now"
  last=$now
  case "$st" in
  completed|aborted|rolled_back) break ;;
  paused)
    say "  paused: $(printf '%s' "$doc" | field 'd["paused"]')"
    if [ $resumes -lt 30 ]; then
      show "$FW" campaign resume c-0001 --as olga --reason "looked at the failures; resuming" --db fwtrust.db
      [ "$rc" -eq 0 ] || refused=$((refused+1))
      resumes=$((resumes+1))
    fi ;;
  esac
  if [ $approved -eq 0 ] && printf '%s' "$next" | grep -q "waits for 1 more approval"; then
    show "$FW" campaign approve c-0001 --key bob.key --stage 1 --db fwtrust.db
    expect 0 "Bob approves the early stage"
    approved=1
  fi
  sleep 0.5
done
rc=$refused; expect 0 "Olga's $resumes resumes were accepted (how many depends on which devices fail first)"
state_is completed; expect 0 "the campaign completed over HTTP"
[ "$rc" -eq 0 ] || echo "  (campaign: $(campaign_json | field 'd["state"] + ": " + d["next"]'))"
kill "$AGENTS" 2>/dev/null; wait "$AGENTS" 2>/dev/null
say "  $(tail -n 1 agents.out)"
show "$FW" campaign status c-0001 --db fwtrust.db
expect 0 "final status"
Q=$("$FW" device list --filter lifecycle=quarantined --db fwtrust.db 2>/dev/null | grep -c ctl-a)
say "  quarantined devices now: $Q (integrity failures are quarantined at once)"

step "31. The server stops on SIGTERM: requests in flight finish, a last checkpoint is signed"
kill -TERM "$SERVE"; wait "$SERVE"; rc=$?; SERVE=
expect 0 "server stopped cleanly"
say "  $(tail -n 1 serve.err)"
say "  $(wc -l < requests.log) requests logged, e.g.:"
[ -n "$QUIET" ] || tail -n 2 requests.log | sed 's/^/    /'

step "32. The advisory after the campaign: the controllers that installed 2.4.1 are remediated"
show "$FW" vuln affected OEM-SA-2026-0007 --db fwtrust.db
expect 0 "cohort computed again"
latest() { # a bucket of the latest recorded computation of the cohort
  "$FW" vuln progress OEM-SA-2026-0007 --json --db fwtrust.db 2>/dev/null |
    python3 -c "import json,sys; print(json.load(sys.stdin)['series'][-1]['counts']['$1'])" 2>/dev/null
}
say "  ($(latest exposed) stay exposed, for the reasons above: certificates and lifecycles to mend, and"
say "  hardware revision A, which 2.4.1 is not built for; 'vuln affected --list exposed' names each"
say "  device with its reasons)"

step "33. Controllers whose security support has ended cannot be fixed: they are isolated (quarantined, never delivered to again), one record each"
show "$FW" vuln isolate OEM-SA-2026-0007 --reason "security support ended: no fixed firmware will be built for it" --db fwtrust.db
expect 0 "devices that cannot be remediated quarantined"
show "$FW" vuln affected OEM-SA-2026-0007 --db fwtrust.db
expect 0 "none left that cannot be remediated"
rc=$([ "$(latest cannot_be_remediated)" = 0 ] && echo 0 || echo 1)
expect 0 "cannot_be_remediated is 0 after isolation"

step "34. The remediation over time, read back from the log"
show "$FW" vuln progress OEM-SA-2026-0007 --db fwtrust.db
expect 0 "exposed -> being remediated -> remediated, each computation a record"

step "35. The log signs a checkpoint (C2SP tlog-checkpoint in a signed note)"
show "$FW" audit checkpoint --db fwtrust.db --out checkpoint.txt
expect 0 "checkpoint signed"

step "36. An auditor proves the release record and the decision on ctl-a-00004 offline, with only the log's public key"
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

step "37. The whole log is rebuilt from its records, approvals re-verified, every checkpoint checked"
show "$FW" audit verify --db fwtrust.db --checkpoint checkpoint.txt
expect 0 "log verified"

step "38. The security officer exports the campaign's evidence bundle: records, proofs, keys, envelope, report (HTML and PDF)"
show "$FW" audit export --campaign c-0001 --out c-0001.bundle --db fwtrust.db
expect 0 "bundle exported"

step "39. The notified body checks it offline, with only the bundle and the log's public key"
show "$FW" audit verify-bundle c-0001.bundle --key fwtrust.db-log.pub
expect 0 "bundle verified offline"
show "$FW" audit verify-bundle c-0001.bundle --key fwtrust.db-log.pub --device "$FIRST" --proofs proofs
expect 0 "for $FIRST: eligible and why, what it received, what happened, each record proven"
P=$(ls proofs/*.proof 2>/dev/null | tail -n 1)
show "$FW" audit verify-proof --checkpoint c-0001.bundle/checkpoint.note --proof "$P" \
  --record "${P%.proof}.record" --key fwtrust.db-log.pub
expect 0 "one of its records proven alone (c2sp.org/tlog-proof)"
cp -r c-0001.bundle forged.bundle
sed -i '0,/"to":"failed"/s//"to":"installed"/' forged.bundle/records.jsonl
show "$FW" audit verify-bundle forged.bundle --key fwtrust.db-log.pub
expect 1 "a failure rewritten as an install in a copy: refused, the file named"
show "$FW" audit summary c-0001.bundle --key fwtrust.db-log.pub
expect 0 "the report's numbers on the terminal"
grep -q 'aria-label="affected devices per remediation state over time"' c-0001.bundle/report.html && \
  grep -q 'Advisory OEM-SA-2026-0007' c-0001.bundle/summary.json; rc=$?
expect 0 "the report shows the advisory it remediates: affected devices per state over time"

step "40. The advisory's own evidence bundle for the technical documentation: its records, cohorts, isolations, the campaign that fixed it"
show "$FW" vuln report OEM-SA-2026-0007 --out OEM-SA-2026-0007.bundle --db fwtrust.db
expect 0 "advisory bundle exported"
show "$FW" audit verify-bundle OEM-SA-2026-0007.bundle --key fwtrust.db-log.pub
expect 0 "advisory bundle verified offline"
say "  the audit report: $WORK/c-0001.bundle/report.html and report.pdf"

say ""
say "demo: $pass steps as expected, $fail not"
say "the keys, images, envelopes, the fleet and the store are in $WORK"
[ -z "$QUIET" ] || echo "RESULT $pass $fail"
[ "$fail" -eq 0 ]
