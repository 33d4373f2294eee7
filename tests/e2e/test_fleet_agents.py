#!/usr/bin/env python3
"""1,000 reference agents (fwtrust-agent --fleet, one process, real HTTP)
against the real `fwtrust serve` through a whole staged campaign: canary,
early and rest stages with approvals and soak, a pause by an operator in
the middle (nothing new is delivered while paused) and the resume, retries
of simulated install failures, to completion; then the agents' own count of
installs must match the campaign's, and the evidence verifies.
Usage: tests/e2e/test_fleet_agents.py BUILD_DIR"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddi_lib import C, V, Server, Store, Suite, die  # noqa: E402

if len(sys.argv) != 2:
    die("usage: test_fleet_agents.py BUILD_DIR")
t = Suite()
# mkfleet: 1042 devices of which exactly 1000 are active (i % 50 == 10
# quarantined, == 12 provisioned): one agent for every active device
st = Store(sys.argv[1], fleet_size=1042)
st.fleet()
REL = st.release(size=30000)
st.operators()
CID = st.campaign({"name": "fleet", "release": REL[:12],
                   "stages": [{"name": "canary", "size": {"count": 40}, "approvals": 1, "soak_s": 1},
                              {"name": "early", "size": {"percent": 30}, "approvals": 1, "soak_s": 1},
                              {"name": "rest", "size": {"percent": 100}, "approvals": 1, "soak_s": 1}],
                   "success_threshold": 95,
                   "pause": {"failure_rate": {"percent": 50, "min_reports": 100}},
                   "retry": {"max_attempts": 4, "backoff_s": 0}},
                  approve_stages=(0, 1, 2))
st.run("campaign", "start", CID, "--as", "op")
st.run("device", "token", "--all", "--agent", "suit", "--out", "tokens.txt")
ntok = sum(1 for l in open(st.path("tokens.txt")) if l.strip() and not l.startswith("#"))
if ntok != 1000:
    die("expected 1000 active devices with tokens, got %d" % ntok)
members = st.status(CID)
eligible = sum(s["devices"] for s in members["stages"])

srv = Server(st, "--poll-interval", "1", "--tick-every", "1", "--log", "none")
agents_out = open(st.path("agents.out"), "w")
agents_err = open(st.path("agents.err"), "w")
agent = subprocess.Popen(
    [os.path.join(st.build, "fwtrust-agent"), "--server", srv.url, "--tenant", "DEFAULT",
     "--fleet", "1000", "--tokens", st.path("tokens.txt"), "--state-dir", st.path("agents"),
     "--trust-key", st.path("rel.pub"), "--vendor-id", V, "--class-id", C,
     "--sequence", "1", "--version", "2.0.0", "--fail-rate", "3", "--seed", "7",
     "--threads", "8", "--max-time", "400"],
    cwd=st.dir, stdout=agents_out, stderr=agents_err)


def wait_for(cond, secs, what):
    end = time.time() + secs
    while time.time() < end:
        v = cond()
        if v:
            return v
        if agent.poll() is not None:
            t.bad("the agents exited early (%d): %s" % (agent.returncode,
                                                       open(st.path("agents.err")).read()[-800:]))
            return None
        time.sleep(0.5)
    t.bad("timed out after %d s waiting for %s" % (secs, what))
    return None


def installed(s):
    return sum(x["counts"].get("installed", 0) for x in s["stages"])


try:
    t.begin("1,000 agents: the canary stage installs, then the campaign moves on")
    s = wait_for(lambda: (lambda s: s if s["stage"]["index"] >= 1 else None)(st.status(CID)),
                 180, "stage 1")
    if s:
        t.eq(s["stages"][0]["counts"].get("installed", 0) >= 38, True,
             "canary installed: %r" % s["stages"][0]["counts"])
    t.end()

    t.begin("an operator pauses mid-campaign: nothing new is delivered; resume goes on")
    st.run("campaign", "pause", CID, "--as", "op", "--reason", "look at the canary")
    time.sleep(1.5)  # attempts under way finish or are cancelled
    a = st.status(CID)
    t.eq(a["state"], "paused", "state")
    time.sleep(3)
    b = st.status(CID)
    delivered_a = sum(x["counts"].get("delivered", 0) + x["counts"].get("installed", 0) +
                      x["counts"].get("failed", 0) for x in a["stages"])
    delivered_b = sum(x["counts"].get("delivered", 0) + x["counts"].get("installed", 0) +
                      x["counts"].get("failed", 0) for x in b["stages"])
    t.check(delivered_b <= delivered_a, "deliveries while paused: %d -> %d" % (delivered_a, delivered_b))
    t.check(sum(x["counts"].get("paused", 0) for x in b["stages"]) > 0, "no paused devices")
    st.run("campaign", "resume", CID, "--as", "op", "--reason", "canary fine")
    t.end()

    t.begin("the campaign completes: every eligible member installed")
    s = wait_for(lambda: (lambda s: s if s["state"] == "completed" else None)(st.status(CID)),
                 300, "completion")
    if s:
        t.eq(installed(s), eligible, "installed")
    t.end()

    t.begin("the agents agree: their installs, failures and the server's records")
    agent.send_signal(signal.SIGTERM)
    try:
        agent.wait(timeout=30)
    except subprocess.TimeoutExpired:
        agent.kill()
        agent.wait()
    agents_out.close()
    agents_err.close()
    out = open(st.path("agents.out")).read()
    t.eq(agent.returncode, 0, "agent exit")
    line = [l for l in out.splitlines() if l.startswith("fleet:")]
    t.check(line, "no summary line: %r" % out)
    if line:
        kv = dict(x.split("=") for x in line[-1].split()[1:])
        t.eq(int(kv["agents"]), 1000, "agents")
        # an agent counts an install again when it reports a version it
        # already runs (e.g. after a cancel); what it runs is in its state
        t.check(int(kv["installed"]) >= eligible, "installs by the agents: %s" % kv["installed"])
        running = 0
        for dev in os.listdir(st.path("agents")):
            p = st.path("agents", dev, "state.json")
            if os.path.exists(p) and json.load(open(p)).get("version") == "2.4.1":
                running += 1
        t.eq(running, eligible, "agents whose state says they run 2.4.1")
        fails = len([r for r in st.records("rollout.device")
                     if r.get("to") == "failed" and r.get("cause") == "report"])
        t.eq(int(kv["failed"]), fails, "failures reported = failures recorded")
        t.eq(int(kv.get("errors", 0)), 0, "agent errors")
    rc = srv.stop()
    t.eq(rc, 0, "serve stop")
    v = st.run("audit", "verify", check=False)
    t.check(v.returncode == 0, "audit verify: %s %s" % (v.stdout, v.stderr))
    t.end()
finally:
    if agent.poll() is None:
        agent.kill()
        agent.wait()
    srv.stop()
    if t.failed:
        print("  --- agents (stderr tail) ---")
        for l in open(st.path("agents.err")).read().splitlines()[-10:]:
            print("  " + l)
        print("  --- serve ---")
        for l in srv.stderr().splitlines()[-10:]:
            print("  " + l)
        print("  status: " + json.dumps(st.status(CID))[:1500])
    st.cleanup()
t.finish()
