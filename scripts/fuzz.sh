#!/usr/bin/env bash
# Build the libFuzzer targets with ASan+UBSan and run each for FUZZ_SECONDS
# (default 60) on a copy of its committed corpus:
#   envelope  libfwv envelope parser and verifier (fuzz/fuzz_envelope.c)
#   note      C2SP signed notes, checkpoints, vkeys (fuzz/fuzz_note.c)
#   proof     tlog-proof and consistency proof files and the Merkle
#             verifiers behind them (fuzz/fuzz_proof.c)
#   devfile   device registry import files, CSV and JSON lines
#             (fuzz/fuzz_devfile.c)
#   x509      X.509 certificates (PEM, DER, bundles) and CRLs, their
#             getters, chain and CRL verification (fuzz/fuzz_x509.c)
#   policy    campaign policy files and their normalized JSON
#             (fuzz/fuzz_policy.c)
#   swu       SWUpdate .swu archives (cpio, CMS signature, sw-description)
#             (fuzz/fuzz_swu.c)
#   http_range  the HTTP server's Range header parser (fuzz/fuzz_http_range.c)
#   ddi_feedback  hawkBit DDI feedback bodies, strict and SWUpdate's lenient
#             ones (fuzz/fuzz_ddi_feedback.c)
#   bundle    evidence-bundle files (manifest, batch proof, records,
#             checkpoints, consistency proofs) through fw_bundle_verify
#             (fuzz/fuzz_bundle.c; max_len 65536 unless FUZZ_MAX_LEN)
#   record    the fast reader of evidence records against jansson
#             (fuzz/fuzz_record.c)
#   advisory  advisories: CVSS v3.x vectors and every field of vuln add
#             (fuzz/fuzz_advisory.c)
#   csaf      CSAF 2.0 advisories mapped to our products, and vers ranges
#             (fuzz/fuzz_csaf.c; max_len 65536 unless FUZZ_MAX_LEN)
#   sbom      release SBOMs: CycloneDX and SPDX JSON (fuzz/fuzz_sbom.c;
#             max_len 65536 unless FUZZ_MAX_LEN)
# The committed corpus is never written: new inputs land in the copy, and
# crashes in build-fuzz/findings/<target>/ (see fuzz/README.md to turn one
# into a permanent test).
#
# Usage: scripts/fuzz.sh            (what `make fuzz` runs: every target)
#   FUZZ_TARGETS="note proof" FUZZ_SECONDS=300 FUZZ_JOBS=4 \
#   FUZZ_ARGS=-use_value_profile=1 scripts/fuzz.sh
# Needs (Debian 12): clang libclang-rt-14-dev libssl-dev libjansson-dev
# libsqlite3-dev libmicrohttpd-dev
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

OUT=${FUZZ_OUT:-build-fuzz}
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-1}
TARGETS=${FUZZ_TARGETS:-envelope note proof devfile x509 policy swu http_range ddi_feedback bundle record advisory csaf sbom}
CC=${FUZZ_CC:-}

# Every source of libfwtrust (with libfwv, which it links whole), as
# meson.build lists them: for a parser in a module that reaches most of the
# library (src/ddi/ddi.c: the store, registry, engine and HTTP server).
library_sources() {
	sed -n '/^libfwv = static_library(/,/^fwtrust_dep = /p' meson.build |
		grep -o "'src/[^']*\.c'" | tr -d "'" | tr '\n' ' '
}

# Sources of each target besides fuzz/fuzz_<target>.c
sources() { # target
	case "$1" in
	envelope) echo "src/fwv/cbor.c src/fwv/fwv.c src/fwv/port_openssl.c" ;;
	note | proof)
		echo "src/evidence/merkle.c src/evidence/note.c src/evidence/proof.c" \
			"src/core/core.c src/crypto/crypto.c src/fwv/port_openssl.c"
		;;
	devfile) echo "src/registry/devfile.c src/core/core.c" ;;
	x509) echo "src/crypto/x509.c src/crypto/crypto.c src/core/core.c" ;;
	policy) echo "src/rollout/policy.c src/core/core.c src/core/json.c" ;;
	record) echo "src/core/core.c src/core/json.c" ;;
	swu) echo "src/swu/swu.c src/crypto/crypto.c src/core/core.c" ;;
	http_range) echo "src/http/http.c src/core/core.c" ;;
	ddi_feedback | bundle) library_sources ;;
	# src/vuln/advisory.c also holds vuln add (the store and the log)
	advisory | csaf | sbom) library_sources ;;
	*) return 1 ;;
	esac
}

# Longest input of each target: a bundle file (records, summary) is larger
max_len() { # target
	case "$1" in
	bundle | csaf | sbom) echo "${FUZZ_MAX_LEN:-65536}" ;;
	*) echo "${FUZZ_MAX_LEN:-4096}" ;;
	esac
}

# Libraries of each target
libs() { # target
	case "$1" in
	devfile | policy | record) echo "-ljansson -lcrypto" ;;
	http_range) echo "-lmicrohttpd -lcrypto" ;;
	ddi_feedback | bundle | advisory | csaf | sbom) echo "-ljansson -lsqlite3 -lmicrohttpd -lcrypto" ;;
	*) echo "-lcrypto" ;;
	esac
}

for t in $TARGETS; do
	if ! sources "$t" >/dev/null || [ ! -d "fuzz/corpus/$t" ]; then
		echo "fuzz: unknown target '$t' (known: envelope note proof devfile x509 policy swu http_range ddi_feedback bundle record advisory csaf sbom)" >&2
		exit 2
	fi
done

if [ -z "$CC" ]; then
	for c in clang clang-14; do
		if command -v "$c" >/dev/null; then
			CC=$c
			break
		fi
	done
fi
if [ -z "$CC" ]; then
	echo "fuzz: clang not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
	exit 2
fi

status=0
for t in $TARGETS; do
	BIN=$OUT/fuzz_$t
	CORPUS_SRC=fuzz/corpus/$t
	CORPUS=$OUT/corpus/$t
	FINDINGS=$OUT/findings/$t
	mkdir -p "$FINDINGS"
	echo "fuzz: building $BIN with $CC ($("$CC" -dumpversion))"
	# -fsanitize=fuzzer supplies main(); the same target file is replayed
	# by `meson test` (fuzz/replay.c) without it.
	# shellcheck disable=SC2046 # the source list is split on purpose
	if ! "$CC" -g -O1 -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-std=c11 -Wall -Wextra -Iinclude -Isrc \
		"fuzz/fuzz_$t.c" $(sources "$t") $(libs "$t") -o "$BIN"; then
		echo "fuzz: build failed; needs clang, libclang-rt-14-dev (libFuzzer, sanitizers), libssl-dev, libjansson-dev, libsqlite3-dev and libmicrohttpd-dev" >&2
		exit 2
	fi

	# A fresh copy every run: what the fuzzer adds stays out of the source
	# tree until someone chooses to commit it.
	rm -rf "$CORPUS"
	mkdir -p "$CORPUS"
	cp "$CORPUS_SRC"/* "$CORPUS/"
	before=$(find "$CORPUS" -type f | wc -l)
	MAX_LEN=$(max_len "$t")

	echo "fuzz: $t: $before seed inputs, ${SECONDS_TO_RUN}s, $JOBS job(s), max_len $MAX_LEN"
	log=$OUT/fuzz_$t.log
	rc=0
	args=(-max_len="$MAX_LEN" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048
	      -print_final_stats=1 -artifact_prefix="$FINDINGS/")
	if [ "$JOBS" -gt 1 ]; then
		args+=(-fork="$JOBS" -ignore_crashes=1)
	fi
	# shellcheck disable=SC2206 # extra libFuzzer flags, split on spaces
	args+=(${FUZZ_ARGS:-})
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$BIN" "${args[@]}" "$CORPUS" >"$log" 2>&1 || rc=$?

	after=$(find "$CORPUS" -type f | wc -l)
	echo
	grep -E '^stat::|^Done|#[0-9]+ +DONE' "$log" | tail -n 12 || true
	echo
	echo "fuzz: $t: corpus $before -> $after inputs ($((after - before)) new, in $CORPUS)"
	mapfile -t finds < <(find "$FINDINGS" -type f \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' \) | sort)
	if [ "${#finds[@]}" -gt 0 ]; then
		echo "fuzz: $t: ${#finds[@]} finding(s); the first report:"
		grep -m1 -A 40 -E '^==[0-9]+==ERROR|runtime error|contract broken|deadly signal' "$log" || true
		for f in "${finds[@]}"; do
			echo "  $f ($(stat -c %s "$f") bytes): $(xxd -p "$f" | tr -d '\n' | cut -c1-160)"
		done
		echo "fuzz: reproduce: $BIN FILE; keep it: see fuzz/README.md"
		echo "fuzz: full log: $log"
		status=1
		continue
	fi
	if [ "$rc" -ne 0 ]; then
		echo "fuzz: $t: the fuzzer exited $rc without a finding; log: $log" >&2
		status=$rc
		continue
	fi
	echo "fuzz: $t: no crashes (log: $log)"
	echo "fuzz: to keep new coverage (edges only, keeps the corpus small):"
	echo "  $BIN -merge=1 -use_counters=0 $CORPUS_SRC $CORPUS"
	echo
done
exit "$status"
