#!/usr/bin/env bash
# Benchmark (make bench; not part of make check).
#
#   scripts/bench.sh BUILD_DIR
#
# Signs and verifies a 256 MiB random image with BUILD_DIR/fwtrust and prints
# the times as ratios to `openssl dgst -sha256` of the same file, measured in
# the same run; then runs BUILD_DIR/bench/bench_sigs (signature verifications
# per second for each algorithm) and BUILD_DIR/bench/bench_log (evidence-log
# appends against plain batched SQLite inserts of the same records, and
# `audit verify` of a 1,000,000-record store, library and CLI),
# BUILD_DIR/bench/bench_fleet (import of 1,000,000 devices and a full
# eligibility run beside plain SQLite with the same rows; 100,000 device
# certificates imported with chain verification beside plain OpenSSL) and
# BUILD_DIR/bench/bench_rollout (a simulated campaign of 1,000,000 devices
# through the rollout engine beside the evidence floor of the same
# transitions: bare evidence appends with a row write each),
# BUILD_DIR/bench/bench_bundle (the evidence bundle of a simulated campaign of
# 1,000,000 devices exported and verified, beside floors of the same data:
# the log's records written to one file and hashed; the bundle's records
# hashed and parsed),
# BUILD_DIR/bench/bench_vuln (`vuln affected` of an advisory over 1,000,000
# devices, a running campaign's members among them, library and CLI, beside
# the floor on the same store: the same device SELECT with plain sqlite3 and
# the same list bytes written, fsynced and hashed) and
# bench/bench_ddi.sh (DDI root polls/s from 10,000 devices against
# `fwtrust serve`, with wrk, beside nginx serving the same reply). The issues'
# targets (verify <= 1.15x openssl dgst; appends >= 0.70x SQLite; audit of
# 1,000,000 records < 5 s; device import >= 0.5x SQLite; eligibility of
# 1,000,000 devices < 10 s; a simulated campaign of 1,000,000 devices
# < 60 s; DDI polls >= 0.5x nginx; a 1,000,000-device bundle exported and
# verified in < 60 s each; vuln affected of 1,000,000 devices in seconds,
# < 10 s) are reported, not enforced: the exit
# status is 0 unless a command fails.
#
# Each command runs ROUNDS times (default 5), the three taking turns so that
# load from elsewhere hits all of them alike; the ratio uses the medians, the
# best times are shown beside them. The page cache is warmed first, so this
# measures hashing and the read path, not the disk.
#
# bench_log writes its databases (~0.4 GB, on disk: commits are fsynced) in
# a directory of its own under $TMPDIR (default /tmp) and removes it.
#
# Environment: ROUNDS (3..15), BENCH_SIGS_SECONDS (default 1), OPENSSL,
# BENCH_LOG_RECORDS (per append run, default 200000), BENCH_LOG_AUDIT_RECORDS
# (default 1000000; 0 skips the audit), BENCH_LOG_ROUNDS (append rounds, 1..15,
# default 5), BENCH_FLEET_DEVICES (default 1000000; 0 skips), BENCH_FLEET_CERTS
# (default 100000; 0 skips), BENCH_ROLLOUT_DEVICES (default 1000000; 0 skips),
# BENCH_BUNDLE_DEVICES (default 1000000; 0 skips),
# BENCH_VULN_DEVICES (default 1000000; 0 skips),
# BENCH_DDI_DEVICES (default 10000; 0 skips; the other BENCH_DDI_* are in
# bench/bench_ddi.sh).
set -euo pipefail

usage() {
	echo "usage: scripts/bench.sh BUILD_DIR" >&2
	exit 2
}
[ $# -eq 1 ] || usage
build=$1
fwtrust=$build/fwtrust
bench_sigs=$build/bench/bench_sigs
bench_log=$build/bench/bench_log
bench_fleet=$build/bench/bench_fleet
bench_rollout=$build/bench/bench_rollout
bench_bundle=$build/bench/bench_bundle
bench_vuln=$build/bench/bench_vuln
openssl=${OPENSSL:-openssl}
rounds=${ROUNDS:-5}
sig_secs=${BENCH_SIGS_SECONDS:-1}
log_records=${BENCH_LOG_RECORDS:-200000}
log_audit_records=${BENCH_LOG_AUDIT_RECORDS:-1000000}
log_rounds=${BENCH_LOG_ROUNDS:-5}
size_mib=256
target=1.15

for exe in "$fwtrust" "$bench_sigs" "$bench_log" "$bench_fleet" "$bench_rollout" "$bench_bundle" \
	"$bench_vuln"; do
	if [ ! -x "$exe" ]; then
		echo "bench.sh: $exe not found: build first (ninja -C $build)" >&2
		exit 2
	fi
done
command -v "$openssl" >/dev/null || { echo "bench.sh: $openssl not found" >&2; exit 2; }
case $rounds in
	[3-9] | 1[0-5]) ;;
	*) echo "bench.sh: ROUNDS must be 3..15" >&2; exit 2 ;;
esac
[ -n "${EPOCHREALTIME:-}" ] || { echo "bench.sh: needs bash >= 5 (EPOCHREALTIME)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fwtrust-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

img=$tmp/image.bin
env=$tmp/image.suit
vendor=fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
class=1492af14-2569-5e48-bf42-9b2d51f2ab45

# Run a command with its output kept aside; show it only when it fails.
quiet() {
	"$@" >"$tmp/log" 2>&1 || {
		echo "bench.sh: failed: $*" >&2
		cat "$tmp/log" >&2
		return 1
	}
}

# 256 MiB of random bytes: nothing compresses or dedups behind our back.
head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$img"
quiet "$fwtrust" key generate --alg ed25519 --out "$tmp/k"
quiet "$fwtrust" sign --key "$tmp/k.key" --image "$img" --vendor-id $vendor --class-id $class \
	--sequence 1 --version 1.0.0 --out "$env"
cat "$img" >/dev/null

# Each command is checked: a failing command would time as very fast.
run_dgst() { quiet "$openssl" dgst -sha256 "$img"; }
run_sign() {
	quiet "$fwtrust" sign --key "$tmp/k.key" --image "$img" --vendor-id $vendor \
		--class-id $class --sequence 1 --version 1.0.0 --out "$tmp/again.suit" --force
}
run_verify() { quiet "$fwtrust" verify --pub "$tmp/k.pub" --envelope "$env" --image "$img"; }

# seconds (wall clock, microsecond resolution) of one run of $1
timed() {
	local t0 t1
	t0=$EPOCHREALTIME
	"$1" || { echo "bench.sh: $1 failed" >&2; exit 1; }
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}

names=(dgst sign verify)
declare -A times
for n in "${names[@]}"; do times[$n]=""; done
run_dgst # one untimed pass each: binaries and libraries into the cache
run_sign
run_verify
for ((r = 0; r < rounds; r++)); do
	for n in "${names[@]}"; do
		times[$n]+="$(timed run_$n) "
	done
done

median() {
	tr ' ' '\n' | grep . | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
best() { tr ' ' '\n' | grep . | sort -g | head -n 1; }

declare -A med min
for n in "${names[@]}"; do
	med[$n]=$(median <<<"${times[$n]}")
	min[$n]=$(best <<<"${times[$n]}")
done

cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')
echo "fwtrust bench: ${size_mib} MiB random image, page cache warm, $rounds rounds, $cpus CPUs"
echo "baseline: $("$openssl" version)"
printf '%-44s %10s %10s %12s %10s\n' command "median s" "best s" "ratio(med)" "ratio(best)"
row() {
	awk -v label="$2" -v m="${med[$1]}" -v b="${min[$1]}" -v bm="${med[dgst]}" -v bb="${min[dgst]}" \
		'BEGIN { printf "%-44s %10.3f %10.3f %11.2fx %9.2fx\n", label, m, b, m / bm, b / bb }'
}
row dgst "openssl dgst -sha256 (baseline)"
row sign "fwtrust sign"
row verify "fwtrust verify --pub --envelope --image"
awk -v m="${med[verify]}" -v bm="${med[dgst]}" -v b="${min[verify]}" -v bb="${min[dgst]}" \
	-v t=$target 'BEGIN {
		r = m / bm
		printf "verify / openssl dgst: %.2fx median (%.2fx best); target <= %.2f: %s\n",
			r, b / bb, t, (r <= t) ? "met" : "not met"
	}'
echo "each run (s):"
for n in "${names[@]}"; do echo "  $n: ${times[$n]}"; done
echo

# The image goes before the signature benchmark: its dirty pages would
# otherwise be written back while bench_sigs runs.
rm -rf "$tmp"
"$bench_sigs" "$sig_secs"
echo
"$bench_log" --records "$log_records" --audit-records "$log_audit_records" \
	--rounds "$log_rounds" --fwtrust "$fwtrust"
echo
"$bench_fleet" --devices "${BENCH_FLEET_DEVICES:-1000000}" --certs "${BENCH_FLEET_CERTS:-100000}"
if [ "${BENCH_ROLLOUT_DEVICES:-1000000}" != 0 ]; then
	echo
	"$bench_rollout" --devices "${BENCH_ROLLOUT_DEVICES:-1000000}"
fi
if [ "${BENCH_BUNDLE_DEVICES:-1000000}" != 0 ]; then
	echo
	"$bench_bundle" --devices "${BENCH_BUNDLE_DEVICES:-1000000}" --fwtrust "$fwtrust"
fi
if [ "${BENCH_VULN_DEVICES:-1000000}" != 0 ]; then
	echo
	"$bench_vuln" --devices "${BENCH_VULN_DEVICES:-1000000}" --fwtrust "$fwtrust"
fi
if [ "${BENCH_DDI_DEVICES:-10000}" != 0 ]; then
	echo
	bash "$(dirname "$0")/../bench/bench_ddi.sh" "$build"
fi
