#!/usr/bin/env bash
# DDI root polls per second against `fwtrust serve`, beside nginx serving a
# static poll reply of the same bytes, measured in the same run (make bench).
#
#   bench/bench_ddi.sh BUILD_DIR
#
# Builds a store in a temporary directory: a fleet from BUILD_DIR/tests/mkfleet
# just large enough to have BENCH_DDI_DEVICES active devices (default 10,000;
# mkfleet makes 2 in 50 inactive), a signed release, a campaign started with
# a first stage of BENCH_DDI_STAGE_PERCENT (default 10) percent of the
# eligible devices (their polls carry a deploymentBase link, the others'
# none), and a device token for every active device.
#
# Every device is polled once first (python3, one keep-alive connection): each
# must answer 200, and that pass counts the replies with an action and keeps
# the first device's reply (no action), the body nginx is given. Then wrk runs
# a Lua script that cycles through all (device, token) pairs, one request
# string per device made once in init(): the same paths and Authorization
# headers for both servers, with the same wrk settings.
#
#   fwtrust serve --threads default (one per CPU), request log to a file
#                (the headline: the log is part of the cost; a second
#                instance with --log none is measured too)
#   nginx         worker_processes auto, access_log to a file (one write per
#                request, like fwtrust), `return 200 '<the reply>'` with the
#                same Content-Type
#
# Rounds take turns (fwtrust, nginx, fwtrust --log none) so that load from
# elsewhere hits all of them alike; the figure is the ratio of the medians.
# Beside it, each server's CPU time (user + system, from /proc; nginx: master
# and workers) per request: on a shared machine requests/s swing with other
# load, CPU time per request much less. A run with a socket error or a
# non-2xx answer fails the bench (exit 1); the ratio is reported, not
# enforced (the issue's goal: >= 0.5).
#
# wrk -t2 -c64: of -t1/-t2 with 32, 64 and 128 connections, what gave nginx
# its best number on 2 cores (2026-11-26; -t2 -c64 ~37k/s, -t1 -c64 ~31k/s,
# medians of 5 under the same load).
#
# Environment: BENCH_DDI_DEVICES (default 10000, at most 96000),
# BENCH_DDI_SECONDS (each measured run, default 10), BENCH_DDI_WARMUP
# (seconds, default 3), BENCH_DDI_ROUNDS (1..9, default 3),
# BENCH_DDI_WRK_THREADS (default 2), BENCH_DDI_CONNECTIONS (default 64),
# BENCH_DDI_SERVE_THREADS (fwtrust serve --threads; default: its own default),
# BENCH_DDI_STAGE_PERCENT (default 10), BENCH_DDI_NOLOG (1: also measure
# --log none, the default; 0: skip), WRK, NGINX, KEEP_TMP=1 (leave the
# directory for a look).
set -euo pipefail

me=bench_ddi
usage() {
	echo "usage: bench/bench_ddi.sh BUILD_DIR" >&2
	exit 2
}
[ $# -eq 1 ] || usage
build=$(cd "$1" && pwd)
fw=$build/fwtrust
mkfleet=$build/tests/mkfleet
wrk=${WRK:-wrk}
nginx=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
devices=${BENCH_DDI_DEVICES:-10000}
secs=${BENCH_DDI_SECONDS:-10}
warm=${BENCH_DDI_WARMUP:-3}
rounds=${BENCH_DDI_ROUNDS:-3}
wthreads=${BENCH_DDI_WRK_THREADS:-2}
conns=${BENCH_DDI_CONNECTIONS:-64}
sthreads=${BENCH_DDI_SERVE_THREADS:-}
stage_pct=${BENCH_DDI_STAGE_PERCENT:-10}
nolog=${BENCH_DDI_NOLOG:-1}

die() {
	echo "$me: $*" >&2
	exit 1
}
for exe in "$fw" "$mkfleet"; do
	[ -x "$exe" ] || { echo "$me: $exe not found: build first (ninja -C $build)" >&2; exit 2; }
done
for t in "$wrk" "$nginx" python3 curl; do
	command -v "$t" >/dev/null || { echo "$me: $t not found (scripts/install-deps.sh)" >&2; exit 2; }
done
num() {
	if ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		echo "$me: $1 must be $3..$4" >&2
		exit 2
	fi
}
num BENCH_DDI_DEVICES "$devices" 100 96000
num BENCH_DDI_SECONDS "$secs" 1 3600
num BENCH_DDI_WARMUP "$warm" 0 600
num BENCH_DDI_ROUNDS "$rounds" 1 9
num BENCH_DDI_WRK_THREADS "$wthreads" 1 64
num BENCH_DDI_CONNECTIONS "$conns" "$wthreads" 10000
num BENCH_DDI_STAGE_PERCENT "$stage_pct" 1 100
[ -z "$sthreads" ] || num BENCH_DDI_SERVE_THREADS "$sthreads" 1 256
[ -n "${EPOCHREALTIME:-}" ] || { echo "$me: needs bash >= 5 (EPOCHREALTIME)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fwtrust-bench-ddi.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "$me: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$tmp"
export FWTRUST_DB=$tmp/s.db FWTRUST_ACTOR=bench:ddi

# Run a command with its output kept aside; show it only when it fails.
quiet() {
	"$@" >"$tmp/quiet.log" 2>&1 || {
		echo "$me: failed: $*" >&2
		cat "$tmp/quiet.log" >&2
		exit 1
	}
}
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# ---- the store ----

t_setup=$EPOCHREALTIME
# mkfleet's device i is inactive when i % 50 is 10 (quarantined) or 12
# (provisioned): the smallest fleet with $devices active ones
fleet=$(awk -v want="$devices" 'BEGIN {
	for (n = 0; a < want; n++) if (n % 50 != 10 && n % 50 != 12) a++
	print n }')
mkdir fleet
quiet "$mkfleet" fleet "$fleet"
quiet "$fw" init --origin bench.example/ddi
head -c 65536 /dev/urandom >fw.bin
quiet "$fw" key generate --alg ed25519 --out rel
quiet "$fw" sign --key rel.key --image fw.bin --vendor-id fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe \
	--class-id 1492af14-2569-5e48-bf42-9b2d51f2ab45 --sequence 9 --version 2.4.1 --out fw.suit
quiet "$fw" key trust rel.pub --name rel --role release-signing
quiet "$fw" ca add fleet/ca.pem
quiet "$fw" crl import fleet/crl.pem
quiet "$fw" device import fleet/devices.csv
quiet "$fw" release add fw.suit --image fw.bin --product controller --family ctl-a \
	--from '>=2.0.0 <2.4.1' --hw-revision B --hw-revision C
rel=$(awk '/^release /{ print $2; exit }' quiet.log)
[ ${#rel} = 64 ] || die "release add: no release id in its output"
for k in rm ap op; do quiet "$fw" key generate --alg ed25519 --out $k; done
quiet "$fw" operator add rm --role release_manager --pub rm.pub
quiet "$fw" operator add ap --role approver --pub ap.pub
quiet "$fw" operator add op --role operator --pub op.pub
cat >policy.json <<EOF
{"name": "bench ddi", "release": "${rel:0:12}",
 "stages": [{"name": "first", "size": {"percent": $stage_pct}, "approvals": 1},
            {"name": "rest", "size": {"percent": 100}, "approvals": 1}],
 "success_threshold": 95}
EOF
quiet "$fw" campaign create --policy policy.json --as rm
campaign=$(grep -o 'c-[0-9]*' quiet.log | head -n 1)
[ -n "$campaign" ] || die "campaign create: no campaign id in its output"
quiet "$fw" campaign approve "$campaign" --key ap.key
quiet "$fw" campaign start "$campaign" --as op
quiet "$fw" device token --all --agent suit --out tokens.all
grep -v '^#' tokens.all | head -n "$devices" >tokens.txt
[ "$(wc -l <tokens.txt)" -eq "$devices" ] || die "only $(wc -l <tokens.txt) tokens for $devices devices"
echo "ddi setup: $(elapsed "$t_setup") s ($fleet devices imported, $devices active with tokens," \
	"campaign $campaign started with a first stage of $stage_pct% of the eligible)"

# ---- servers ----

# wait_ready FILE PID: the port fwtrust serve wrote into its ready file
wait_ready() {
	local i
	for ((i = 0; i < 200; i++)); do
		if [ -s "$1" ]; then
			cat "$1"
			return 0
		fi
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# start_serve NAME LOG: a fwtrust serve on a free port; sets serve_pid, serve_port
start_serve() {
	local args=(serve --listen 127.0.0.1:0 --db "$tmp/s.db" --ready-file "$tmp/$1.ready"
		--log "$2" --poll-interval 300)
	[ -z "$sthreads" ] || args+=(--threads "$sthreads")
	"$fw" "${args[@]}" >"$tmp/$1.out" 2>"$tmp/$1.err" &
	serve_pid=$!
	pids+=("$serve_pid")
	serve_port=$(wait_ready "$tmp/$1.ready" "$serve_pid") || {
		cat "$tmp/$1.err" >&2
		die "fwtrust serve ($1) did not start"
	}
}
start_serve serve "$tmp/serve.log"
fw_url=http://127.0.0.1:$serve_port
fw_pid=$serve_pid

# Poll every device once: all must answer 200; count those with an action,
# keep the first reply without one (nginx's body).
python3 - "$serve_port" tokens.txt body.json >poll-check.txt <<'EOF' || die "the poll check failed"
import http.client, sys
port, tokens, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
n = action = 0
body = ctype = None
sizes = {}
for line in open(tokens):
    dev, tok = line.split()
    c.request("GET", "/DEFAULT/controller/v1/" + dev, headers={"Authorization": "TargetToken " + tok})
    r = c.getresponse()
    b = r.read()
    if r.status != 200:
        sys.exit("%s: HTTP %d %s" % (dev, r.status, b[:200]))
    n += 1
    if b'"deploymentBase"' in b:
        action += 1
        sizes["action"] = len(b)
    else:
        sizes["none"] = len(b)
        if body is None:
            body = b
            ctype = r.getheader("Content-Type")
if body is None:  # every device has an action: the last reply
    body, ctype = b, r.getheader("Content-Type")
open(out, "wb").write(body)
print(n, action, len(body), sizes.get("action", 0), ctype)
EOF
read -r polled with_action body_len action_len ctype <poll-check.txt
[ "$polled" = "$devices" ] || die "poll check: $polled of $devices devices answered"

# nginx: a private prefix, its own port, access log on (like fwtrust's)
body=$(<body.json)
case $body in *'$'*) die "the reply contains '\$': nginx would read it as a variable" ;; esac
esc=${body//\\/\\\\}
esc=${esc//\'/\\\'}
mkdir -p nginx/logs nginx/tmp
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
nginx_port=$(free_port)
cat >nginx/nginx.conf <<EOF
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log;
worker_processes auto;
events {}
http {
	access_log $tmp/nginx/logs/access.log;
	client_body_temp_path $tmp/nginx/tmp/client_body;
	proxy_temp_path $tmp/nginx/tmp/proxy;
	fastcgi_temp_path $tmp/nginx/tmp/fastcgi;
	uwsgi_temp_path $tmp/nginx/tmp/uwsgi;
	scgi_temp_path $tmp/nginx/tmp/scgi;
	server {
		listen 127.0.0.1:$nginx_port;
		location / {
			default_type $ctype;
			return 200 '$esc';
		}
	}
}
EOF
"$nginx" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" \
	>"$tmp/nginx/out" 2>&1 &
pids+=($!)
nginx_pid=${pids[-1]}
nginx_url=http://127.0.0.1:$nginx_port
for ((i = 0; ; i++)); do
	got=$(curl -s "$nginx_url/DEFAULT/controller/v1/x" 2>/dev/null) && break
	if [ $i -ge 200 ] || ! kill -0 "$nginx_pid" 2>/dev/null; then
		cat "$tmp/nginx/out" "$tmp/nginx/logs/error.log" >&2 2>/dev/null || true
		die "nginx did not start"
	fi
	sleep 0.05
done
[ "$got" = "$body" ] || die "nginx does not answer the reply's bytes"
# the master and its workers: their CPU time is nginx's
nginx_pids=$nginx_pid
for f in /proc/[0-9]*/stat; do
	# ($(<file) of a process that just ended would stop the script, even here)
	{ read -r st <"$f"; } 2>/dev/null || continue
	st=${st##*) }
	read -r -a st <<<"$st"
	[ "${st[1]}" != "$nginx_pid" ] || nginx_pids+=" ${f//[!0-9]/}"
done
[ "$nginx_pids" != "$nginx_pid" ] || die "nginx has no worker processes"

if [ "$nolog" = 1 ]; then
	start_serve nolog none
	nolog_url=http://127.0.0.1:$serve_port
	nolog_pid=$serve_pid
fi

# ---- wrk ----

cat >poll.lua <<'EOF'
-- One request per device, in turn: path and Authorization made once, in init.
local reqs, n, i = {}, 0, 0
function init(args)
	for line in io.lines(args[1]) do
		local id, tok = line:match("^(%S+)%s+(%S+)$")
		if id then
			n = n + 1
			reqs[n] = wrk.format("GET", "/DEFAULT/controller/v1/" .. id,
			                     { ["Authorization"] = "TargetToken " .. tok })
		end
	end
	-- threads start at different devices (tno: set by setup)
	i = ((tno or 0) * 1009) % n
end
local threads = 0
function setup(thread)
	thread:set("tno", threads)
	threads = threads + 1
end
function request()
	i = i % n + 1
	return reqs[i]
end
function done(s, lat, req)
	local e = s.errors
	io.write(string.format("WRK requests=%d duration_us=%d connect=%d read=%d write=%d " ..
		"status=%d timeout=%d p50_us=%d p99_us=%d\n", s.requests, s.duration, e.connect,
		e.read, e.write, e.status, e.timeout, lat:percentile(50), lat:percentile(99)))
end
EOF

wrk_opts=(-t"$wthreads" -c"$conns")
wrk_desc="wrk -t$wthreads -c$conns -d${secs}s"
# CPU time (clock ticks, user + system) the processes PIDS... have used
ticks() {
	local p t=0 f
	for p in "$@"; do
		{ read -r f <"/proc/$p/stat"; } 2>/dev/null || die "process $p is gone"
		f=${f##*) }
		read -r -a f <<<"$f"
		t=$((t + f[11] + f[12]))
	done
	echo $t
}
hz=$(getconf CLK_TCK)
# run_wrk URL SECONDS OUT PIDS...: "requests/s p50_us p99_us cpu_us_per_request";
# fails on any error or non-2xx
run_wrk() {
	local t0 t1
	t0=$(ticks "${@:4}")
	"$wrk" "${wrk_opts[@]}" -d"$2"s --timeout 10s -s poll.lua "$1" -- "$tmp/tokens.txt" \
		>"$3" 2>&1 || { cat "$3" >&2; die "wrk failed against $1"; }
	t1=$(ticks "${@:4}")
	awk -v url="$1" -v cpu="$((t1 - t0))" -v hz="$hz" '/^WRK / {
		for (f = 2; f <= NF; f++) { split($f, kv, "="); v[kv[1]] = kv[2] }
		bad = v["connect"] + v["read"] + v["write"] + v["timeout"]
		if (v["status"] > 0 || bad > 0 || v["requests"] == 0) {
			printf "%s: %d non-2xx, %d socket errors of %d requests\n", url, v["status"], bad,
				v["requests"] > "/dev/stderr"
			exit 1
		}
		printf "%.0f %d %d %.1f\n", v["requests"] / (v["duration_us"] / 1e6), v["p50_us"],
			v["p99_us"], cpu / hz * 1e6 / v["requests"]
		found = 1
	} END { if (!found) exit 1 }' "$3" || { cat "$3" >&2; die "wrk against $1: errors (above)"; }
}

names=(fwtrust nginx)
declare -A url=([fwtrust]=$fw_url [nginx]=$nginx_url) spids=([fwtrust]=$fw_pid [nginx]=$nginx_pids)
if [ "$nolog" = 1 ]; then
	names+=(nolog)
	url[nolog]=$nolog_url
	spids[nolog]=$nolog_pid
fi
declare -A rates lat cpus
for n in "${names[@]}"; do
	# shellcheck disable=SC2086 # pids: a list
	[ "$warm" -eq 0 ] || run_wrk "${url[$n]}" "$warm" "$tmp/warm-$n.txt" ${spids[$n]} >/dev/null
	rates[$n]=""
done
for ((r = 0; r < rounds; r++)); do
	for n in "${names[@]}"; do
		# shellcheck disable=SC2086
		res=$(run_wrk "${url[$n]}" "$secs" "$tmp/wrk-$n-$r.txt" ${spids[$n]})
		read -r rps p50 p99 cpu <<<"$res"
		rates[$n]+="$rps "
		cpus[$n]+="$cpu "
		lat[$n]+="$((p50 / 1000)).$((p50 % 1000 / 100))/$((p99 / 1000)).$((p99 % 1000 / 100)) "
	done
done

median() {
	tr ' ' '\n' | grep . | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
declare -A med cmed
for n in "${names[@]}"; do
	med[$n]=$(median <<<"${rates[$n]}")
	cmed[$n]=$(median <<<"${cpus[$n]}")
done
commas() { printf '%.0f' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# lines the serve log and nginx's access log got: one per request
lines() { wc -l <"$1" | tr -d ' '; }

ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')
echo "ddi polls: fwtrust $(commas "${med[fwtrust]}")/s  nginx $(commas "${med[nginx]}")/s" \
	" ratio $(ratio "${med[fwtrust]}" "${med[nginx]}")x  ($(commas "$devices") devices," \
	"$(commas "$with_action") with an action, body $body_len B (with an action $action_len B)," \
	"$wrk_desc, $ncpu CPUs, median of $rounds)"
if [ "$nolog" = 1 ]; then
	echo "ddi polls, fwtrust --log none: $(commas "${med[nolog]}")/s " \
		" ratio $(ratio "${med[nolog]}" "${med[nginx]}")x"
fi
# CPU time per request: what the server spent, whatever else the machine ran
printf 'server CPU per request: fwtrust %s us, nginx %s us (nginx/fwtrust %sx)' \
	"${cmed[fwtrust]}" "${cmed[nginx]}" "$(ratio "${cmed[nginx]}" "${cmed[fwtrust]}")"
[ "$nolog" = 1 ] && printf ', fwtrust --log none %s us' "${cmed[nolog]}"
echo
echo "each run (req/s; server CPU us/request; latency p50/p99 ms):"
for n in "${names[@]}"; do
	printf '  %-8s %s (%s) (%s)\n' "$n" "${rates[$n]}" "${cpus[$n]}" "${lat[$n]}"
done
echo "  logs: fwtrust serve $(lines serve.log) lines, nginx $(lines nginx/logs/access.log) lines;" \
	"the goal (fwtrust >= 0.5x nginx) is reported, not enforced"
