#!/usr/bin/env bash
# Installs the Debian 12 packages fwtrust needs to build, test, demo and
# benchmark. Only what is missing is installed; a machine that has it all
# is left untouched (no network needed).
set -euo pipefail

packages=(
  gcc make meson ninja-build pkg-config   # build
  libssl-dev openssl                       # OpenSSL 3: host crypto; openssl CLI for bench/tests
  libjansson-dev                           # JSON (signing records, --json output)
  libsqlite3-dev sqlite3                   # the embedded store; sqlite3 CLI for tamper tests
  clang libclang-rt-14-dev                 # libFuzzer (make fuzz)
  gcc-arm-none-eabi                        # Cortex-M4 footprint check of libfwv
  xxd                                      # tests patch bytes of envelopes
  python3                                  # e2e tests read --json output and forge files
  libmicrohttpd-dev                        # fwtrust serve: the HTTP server
  libcurl4-openssl-dev                     # fwtrust-agent: the reference device agent
  swupdate                                 # the real SWUpdate client in the DDI end-to-end test
  wrk nginx-light                          # make bench: DDI polls/s against static nginx
  chromium                                 # report.pdf (audit export) and the report's browser test
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
