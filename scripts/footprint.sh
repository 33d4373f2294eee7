#!/usr/bin/env bash
# Cortex-M4 footprint of libfwv (the device verifier): cross-compiles
# src/fwv/cbor.c and src/fwv/fwv.c as a device build would (no port, no
# libc beyond what the compiler itself emits) and checks four limits:
#
#   text        code + read-only data of both objects <= FWV_TEXT_MAX (8192)
#   static-ram  .data + .bss == 0 (the caller owns every byte of RAM)
#   symbols     undefined symbols are only compiler support (memcpy, memset,
#               memmove, memcmp, __aeabi_*): no heap, no stdio, no OS
#   ctx         sizeof(struct fwv_ctx) on Cortex-M4 <= FWV_CTX_MAX (512)
#
# Usage: scripts/footprint.sh [OUTDIR]     (default build/footprint)
# Prints "ok   footprint <check> (...)" / "FAIL footprint <check> (...)"
# and "RESULT <passed> <failed>"; exits 1 if any check failed.
# EXTRA_CFLAGS is appended to the compiler flags (e.g. to try -O2).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build/footprint}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$ROOT"

TEXT_MAX=${FWV_TEXT_MAX:-8192}
CTX_MAX=${FWV_CTX_MAX:-512}
CC=arm-none-eabi-gcc
NM=arm-none-eabi-nm
SIZE=arm-none-eabi-size
# shellcheck disable=SC2206 # word splitting of EXTRA_CFLAGS is intended
CFLAGS=(-Os -mcpu=cortex-m4 -mthumb -ffreestanding -ffunction-sections -fdata-sections
        -std=c11 -Wall -Wextra -Werror -Iinclude -Isrc ${EXTRA_CFLAGS:-})
SOURCES=(src/fwv/cbor.c src/fwv/fwv.c)
CHECKS=(text static-ram symbols ctx)

passed=0
failed=0
ok() { printf 'ok   footprint %s (%s)\n' "$1" "$2"; passed=$((passed + 1)); }
fail() { printf 'FAIL footprint %s (%s)\n' "$1" "$2"; failed=$((failed + 1)); }
finish() {
	echo "RESULT $passed $failed"
	[ "$failed" -eq 0 ]
	exit $?
}
# Nothing could be measured: every check fails, with the reason.
fail_all() {
	local c
	for c in "${CHECKS[@]}"; do
		fail "$c" "not measured: $1"
	done
	finish
}

for tool in "$CC" "$NM" "$SIZE"; do
	if ! command -v "$tool" >/dev/null; then
		echo "footprint: $tool not found (Debian: apt-get install gcc-arm-none-eabi)" >&2
		fail_all "$tool not installed"
	fi
done

echo "footprint: $CC $("$CC" -dumpversion) ${CFLAGS[*]}"
objs=()
for src in "${SOURCES[@]}"; do
	obj=$OUT/$(basename "${src%.c}").o
	if ! "$CC" "${CFLAGS[@]}" -fstack-usage -c "$src" -o "$obj"; then
		echo "footprint: cross-compiling $src failed (errors above)" >&2
		fail_all "cross-compile of $src failed"
	fi
	objs+=("$obj")
done

# sizeof(struct fwv_ctx) for the target, without running target code: the
# size of an array whose length is that sizeof, read back from the symbol.
probe=$OUT/ctx_probe.c
cat >"$probe" <<'EOF'
#include "fwv.h"
const char fwv_ctx_size_probe[sizeof(struct fwv_ctx)] = {0};
EOF
if ! "$CC" "${CFLAGS[@]}" -c "$probe" -o "$OUT/ctx_probe.o"; then
	echo "footprint: compiling the sizeof(struct fwv_ctx) probe failed" >&2
	fail_all "probe compile failed"
fi

# ---- table ----
echo
printf '%-12s %8s %8s %8s\n' object text data bss
total_text=0
total_data=0
total_bss=0
while read -r text data bss _ _ file; do
	printf '%-12s %8d %8d %8d\n' "$(basename "$file")" "$text" "$data" "$bss"
	total_text=$((total_text + text))
	total_data=$((total_data + data))
	total_bss=$((total_bss + bss))
done < <("$SIZE" -B "${objs[@]}" | tail -n +2)
printf '%-12s %8d %8d %8d\n' total "$total_text" "$total_data" "$total_bss"
echo "(text = code + read-only data, what the verifier costs in flash)"

ctx_hex=$("$NM" -S "$OUT/ctx_probe.o" | awk '$4 == "fwv_ctx_size_probe" { print $2 }')
if [ -z "$ctx_hex" ]; then
	fail_all "fwv_ctx_size_probe not found in probe object"
fi
ctx_size=$((16#$ctx_hex))
echo "sizeof(struct fwv_ctx) on Cortex-M4: $ctx_size bytes"

echo
echo "largest stack frames (-fstack-usage, bytes; informational):"
cat "$OUT"/*.su | sort -t$'\t' -k2 -n -r | head -n 5 | sed 's/^/  /'

echo
if [ "$total_text" -gt "$TEXT_MAX" ]; then
	fail text "$total_text > $TEXT_MAX bytes"
	echo "largest functions:"
	"$NM" --size-sort -S "${objs[@]}" | tail -n 10 | sed 's/^/  /'
else
	ok text "$total_text <= $TEXT_MAX bytes"
fi

ram=$((total_data + total_bss))
if [ "$ram" -ne 0 ]; then
	fail static-ram ".data $total_data + .bss $total_bss = $ram bytes, want 0"
	"$NM" -S "${objs[@]}" | awk '$3 ~ /^[dDbBcC]$/' | sed 's/^/  /'
else
	ok static-ram ".data+.bss = 0 bytes"
fi

# Undefined symbols that no object here defines: all must be compiler
# support. Anything else (heap, stdio, OS) is a device-build defect.
defined=$("$NM" --defined-only "${objs[@]}" | awk 'NF == 3 { print $3 }' | sort -u)
undefined=$("$NM" -u "${objs[@]}" | awk 'NF == 2 && $1 == "U" { print $2 }' | sort -u |
	comm -23 - <(printf '%s\n' "$defined"))
allowed_re='^(memcpy|memmove|memset|memcmp|__aeabi_[A-Za-z0-9_]+|__gnu_[A-Za-z0-9_]+)$'
forbidden=$(printf '%s\n' "$undefined" | grep -Ev "$allowed_re" | grep -v '^$' || true)
und_list=$(printf '%s\n' "$undefined" | grep -v '^$' | paste -sd' ' - || true)
if [ -n "$forbidden" ]; then
	fail symbols "not allowed: $(printf '%s\n' "$forbidden" | paste -sd' ' -)"
	heap_stdio=$(printf '%s\n' "$forbidden" |
		grep -E '^(malloc|calloc|realloc|free|.*printf|puts|putchar|fopen|fclose|fwrite|fread|fputs|fputc|fflush|stdin|stdout|stderr|_impure_ptr|abort|exit)$' || true)
	[ -n "$heap_stdio" ] && echo "  heap/stdio/OS: $(printf '%s\n' "$heap_stdio" | paste -sd' ' -)"
else
	ok symbols "undefined: ${und_list:-none}"
fi

if [ "$ctx_size" -gt "$CTX_MAX" ]; then
	fail ctx "sizeof(struct fwv_ctx) = $ctx_size > $CTX_MAX bytes"
else
	ok ctx "sizeof(struct fwv_ctx) = $ctx_size <= $CTX_MAX bytes"
fi

finish
