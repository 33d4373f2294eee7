#!/usr/bin/env python3
"""End-to-end tests of evidence bundles with the real CLI on a real store:
a campaign with approvals, eligibility, installs, failures, an integrity
failure and a quarantine is exported, then verified offline from the
directory alone; every tamper of the bundle (a record byte, a removed
record, a swapped proof, an older checkpoint, a replaced public key, an
approval by the creator injected) is refused with the file named; one
device's questions are answered with proofs that verify alone.
Usage: tests/e2e/test_bundle.py BUILD_DIR"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddi_lib import Store, Suite, die  # noqa: E402

if len(sys.argv) != 2:
    die("usage: test_bundle.py BUILD_DIR")
t = Suite()
st = Store(sys.argv[1], fleet_size=100)
st.fleet()
REL = st.release()
st.operators()
st.run("eligibility", "--release", REL[:12])
CID = st.campaign({"name": "bundle", "release": REL[:12],
                   "stages": [{"name": "canary", "size": {"count": 5}, "approvals": 2},
                              {"name": "rest", "size": {"percent": 100}, "approvals": 0}],
                   "success_threshold": 50,
                   "pause": {"failure_rate": {"percent": 90, "min_reports": 50}},
                   "retry": {"max_attempts": 2, "backoff_s": 0}})
st.run("campaign", "approve", CID, "--key", "ap2.key", "--stage", 0)
st.run("campaign", "start", CID, "--as", "op")
st.run("audit", "checkpoint")  # an earlier checkpoint for the bundle to prove consistent


def members(state):
    rows = json.loads(st.run("campaign", "devices", CID, "--json").stdout)
    return [r["device"] for r in rows if r["state"] == state]


def report(dev, status, *extra):
    st.run("device", "report", dev, "--campaign", CID, "--status", status, *extra)


# the canary: 3 install, one fails, one refuses the image (integrity)
canary = members("eligible")
if len(canary) != 5:
    die("expected 5 eligible canary devices, got %d" % len(canary))
for d in canary:
    report(d, "delivered")
for d in canary[:3]:
    report(d, "installed", "--version", "2.4.1")
report(canary[3], "failed", "--detail", "flash write error")
report(canary[4], "failed", "--integrity-failure", "--detail", "integrity: digest")
st.run("campaign", "resume", CID, "--as", "op", "--reason", "checked", check=False)
st.run("campaign", "tick", CID)
INELIGIBLE = members("ineligible")
INSTALLED = canary[0]
QUARANTINED = canary[4]
BUNDLE = st.path("c.bundle")
KEY = st.path("s.db-log.pub")
fw = st.fw


def run(*args):
    return subprocess.run([fw] + [str(a) for a in args], cwd=st.dir, env=st.env,
                          capture_output=True, text=True)


def verify(path, *extra):
    return run("audit", "verify-bundle", path, "--key", KEY, *extra)


def copy(name):
    dst = st.path(name)
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(BUNDLE, dst)
    return dst


def reseal(path):
    """The manifest made again, as a forger would: the content is checked."""
    lines = []
    for root, _, files in os.walk(path):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), path)
            if rel == "manifest.txt":
                continue
            with open(os.path.join(root, f), "rb") as h:
                lines.append((rel, hashlib.sha256(h.read()).hexdigest()))
    with open(os.path.join(path, "manifest.txt"), "w") as h:
        for rel, hx in sorted(lines):
            h.write("%s  %s\n" % (hx, rel))


def lines_of(path):
    with open(path) as f:
        return f.read().split("\n")[:-1]


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def refused_naming(r, *files):
    """exit 1 and a FAIL line naming each file"""
    t.eq(r.returncode, 1, "exit status")
    fails = [l for l in r.stdout.splitlines() if l.startswith("FAIL ")]
    t.check(len(fails) > 0, "no FAIL line: " + r.stdout[-300:])
    for f in files:
        t.check(any((": %s" % f) in l for l in fails), "no finding names %s: %s" % (f, fails))
    t.check(r.stdout.splitlines()[-1].startswith("REFUSED "), "no REFUSED verdict")


t.begin("export writes a whole bundle; the directory appears at the end")
r = run("audit", "export", "--campaign", CID, "--out", BUNDLE, "--no-pdf")
if r.returncode != 0:
    die("audit export: exit %d: %s" % (r.returncode, r.stderr.strip()))
for f in ("manifest.txt", "bundle.json", "checkpoint.note", "records.jsonl", "proof.txt",
          "log.pub", "log.vkey", "summary.json", "report.html", "README.txt",
          "campaign/%s.members" % CID, "release/%s.suit" % REL):
    t.check(os.path.isfile(os.path.join(BUNDLE, f)), "missing " + f)
t.check(not os.path.exists(BUNDLE + ".partial"), "a .partial directory is left")
with open(os.path.join(BUNDLE, "bundle.json")) as f:
    B = json.load(f)
t.eq(B["kind"], "campaign", "kind")
t.eq(B["id"], CID, "id")
recs = [json.loads(l) for l in lines_of(os.path.join(BUNDLE, "records.jsonl"))]
types = {r["record"]["type"] for r in recs}
for want in ("log.init", "key.trust", "release.add", "operator.add", "campaign.create",
             "campaign.approve", "campaign.start", "campaign.stage", "rollout.device",
             "eligibility.decision", "eligibility.summary", "device.lifecycle"):
    t.check(want in types, "no %s record in the bundle" % want)
idxs = [r["idx"] for r in recs]
t.check(idxs == sorted(set(idxs)), "records not in index order")
t.eq(B["records"], len(recs), "bundle.json records")
# the exact bytes: each line's record hashes as the store's leaf
import sqlite3  # noqa: E402
con = sqlite3.connect(st.db)
stored = dict(con.execute("SELECT idx, record FROM evidence_leaves").fetchall())
con.close()
for line, r in zip(lines_of(os.path.join(BUNDLE, "records.jsonl")), recs):
    raw = line[line.index(',"record":') + 10:-1].encode()
    if raw != bytes(stored[r["idx"]]):
        t.bad("record %d: not the stored bytes" % r["idx"])
        break
t.end()

t.begin("verify-bundle: offline, the log key pinned, every part checked")
r = verify(BUNDLE)
t.eq(r.returncode, 0, "exit status: " + r.stdout + r.stderr)
t.check(r.stdout.startswith("VERIFIED "), "verdict: " + r.stdout)
t.check("log key as given" in r.stdout, "pinned key not said")
j = json.loads(verify(BUNDLE, "--json").stdout)
t.eq(j["verified"], True, "json verified")
t.eq(j["records"], len(recs), "json records")
t.eq(j["approvals"], 2, "approvals checked")
t.eq(j["findings"], [], "findings")
# without --key the verdict says the key was the bundle's own
r = run("audit", "verify-bundle", BUNDLE)
t.check(r.returncode == 0 and "from the bundle itself" in r.stdout, "unpinned: " + r.stdout)
t.end()

t.begin("a record byte changed: refused, records.jsonl named (and with the manifest redone)")
b = copy("t-byte")
L = lines_of(os.path.join(b, "records.jsonl"))
i = next(k for k, l in enumerate(L) if '"to":"installed"' in l)
L[i] = L[i].replace('"to":"installed"', '"to":"installel"')
write_lines(os.path.join(b, "records.jsonl"), L)
refused_naming(verify(b), "records.jsonl")
reseal(b)
refused_naming(verify(b), "proof.txt")
t.end()

t.begin("a removed record: refused, the records that refer to it named")
b = copy("t-removed")
L = lines_of(os.path.join(b, "records.jsonl"))
i = next(k for k, l in enumerate(L) if '"type":"campaign.start"' in l)
del L[i]
write_lines(os.path.join(b, "records.jsonl"), L)
reseal(b)
r = verify(b)
refused_naming(r, "records.jsonl", "proof.txt")
t.check("record.missing_ref" in r.stdout, "no missing_ref: " + r.stdout[-400:])
t.end()

t.begin("a swapped proof: refused, proof.txt named")
b = copy("t-proof")
L = lines_of(os.path.join(b, "proof.txt"))
if len(L) > 5:
    a, c = L[3].split(" "), L[4].split(" ")
    L[3] = " ".join(a[:2] + c[2:])
    L[4] = " ".join(c[:2] + a[2:])
write_lines(os.path.join(b, "proof.txt"), L)
reseal(b)
refused_naming(verify(b), "proof.txt")
t.end()

t.begin("an older checkpoint as the anchor: refused, checkpoint.note / proof.txt named")
b = copy("t-older")
older = sorted(os.listdir(os.path.join(b, "checkpoints")), key=lambda n: int(n.split(".")[0]))
if not t.check(len(older) > 0, "the bundle holds no earlier checkpoint"):
    t.end()
else:
    shutil.copy(os.path.join(b, "checkpoints", older[-1]), os.path.join(b, "checkpoint.note"))
    refused_naming(verify(b), "checkpoint.note")
    reseal(b)
    refused_naming(verify(b), "proof.txt", "bundle.json")
    t.end()

t.begin("a replaced public key: refused, log.pub named (or the checkpoint when unpinned)")
b = copy("t-key")
st.run("key", "generate", "--alg", "ed25519", "--out", "other")
shutil.copy(st.path("other.pub"), os.path.join(b, "log.pub"))
reseal(b)
refused_naming(verify(b), "log.pub")
r = run("audit", "verify-bundle", b)
refused_naming(r, "checkpoint.note")
t.end()

t.begin("an approval by the creator injected: refused, approval.by_creator in records.jsonl")
b = copy("t-creator")
L = lines_of(os.path.join(b, "records.jsonl"))
appr = next(json.loads(l) for l in L if '"type":"campaign.approve"' in l)
forged = dict(appr["record"])
forged["operator"] = "rm"
have = [json.loads(l)["idx"] for l in L]
gaps = [k for k in range(appr["idx"] + 1, have[-1]) if k not in set(have)]
new_idx = gaps[0] if gaps else have[-1] + 1
line = '{"idx":%d,"record":%s}' % (new_idx, json.dumps(forged, sort_keys=True,
                                                        separators=(",", ":")))
pos = next((k for k, i in enumerate(have) if i > new_idx), len(L))
L.insert(pos, line)
write_lines(os.path.join(b, "records.jsonl"), L)
reseal(b)
r = verify(b)
refused_naming(r, "records.jsonl")
t.check("approval.by_creator" in r.stdout, "no approval.by_creator: " + r.stdout[-400:])
t.end()

t.begin("one device: eligible and why, what it received, what happened, each proven alone")
P = st.path("proofs")
r = verify(BUNDLE, "--device", INSTALLED, "--proofs", P)
t.eq(r.returncode, 0, "exit status: " + r.stderr)
out = r.stdout
t.check("eligible    yes" in out, "eligibility not answered: " + out)
t.check("-> delivered" in out and "-> installed" in out and "runs 2.4.1" in out,
        "delivery not answered: " + out)
proofs = sorted(f for f in os.listdir(P) if f.endswith(".proof"))
t.check(len(proofs) >= 3, "proof files: %r" % proofs)
for p in proofs:
    n = p[:-6]
    r = run("audit", "verify-proof", "--checkpoint", os.path.join(BUNDLE, "checkpoint.note"),
            "--proof", os.path.join(P, p), "--record", os.path.join(P, n + ".record"),
            "--key", KEY)
    t.eq(r.returncode, 0, "verify-proof %s: %s" % (p, r.stderr))
# a changed record under its proof: refused
with open(os.path.join(P, proofs[0][:-6] + ".record"), "r+b") as f:
    data = f.read()
    f.seek(0)
    f.write(data.replace(b'"v":1', b'"v":2'))
r = run("audit", "verify-proof", "--checkpoint", os.path.join(BUNDLE, "checkpoint.note"),
        "--proof", os.path.join(P, proofs[0]), "--record",
        os.path.join(P, proofs[0][:-6] + ".record"), "--key", KEY)
t.eq(r.returncode, 1, "altered record under its proof")
if INELIGIBLE:
    r = verify(BUNDLE, "--device", INELIGIBLE[0])
    t.check("ineligible" in r.stdout and "reasons:" in r.stdout,
            "ineligible device's reasons: " + r.stdout[-500:])
r = verify(BUNDLE, "--device", QUARANTINED)
t.check("integrity failure" in r.stdout and "quarantined" in r.stdout,
        "quarantine not answered: " + r.stdout[-600:])
j = json.loads(verify(BUNDLE, "--device", INSTALLED, "--json").stdout)
t.check(len(j["device"]["records"]) >= 3, "json device records")
t.end()

t.begin("audit summary: the same numbers from the bundle and from the store")
r = run("audit", "summary", BUNDLE, "--key", KEY, "--json")
t.eq(r.returncode, 0, "summary of the bundle: " + r.stderr)
from_bundle = json.loads(r.stdout)
with open(os.path.join(BUNDLE, "summary.json")) as f:
    t.eq(from_bundle, json.load(f), "summary --json vs summary.json")
r = run("audit", "summary", "--campaign", CID, "--json")
t.eq(r.returncode, 0, "summary from the store: " + r.stderr)
t.eq(json.loads(r.stdout), from_bundle, "summary from the store")
r = run("audit", "summary", BUNDLE)
t.check(r.returncode == 0 and len(r.stdout.splitlines()) > 5, "text summary: " + r.stderr)
t.end()

t.begin("refusals: an existing directory, an unknown campaign, a left .partial; nothing written")
r = run("audit", "export", "--campaign", CID, "--out", BUNDLE, "--no-pdf")
t.eq(r.returncode, 2, "existing --out")
t.check("exists already" in r.stderr, "message: " + r.stderr)
n0 = st.log_size()
r = run("audit", "export", "--campaign", "c-9999", "--out", st.path("none"), "--no-pdf")
t.eq(r.returncode, 2, "unknown campaign")
t.check("c-9999" in r.stderr, "message names it: " + r.stderr)
t.check(not os.path.exists(st.path("none")) and not os.path.exists(st.path("none.partial")),
        "something was written")
os.mkdir(st.path("half.partial"))
r = run("audit", "export", "--campaign", CID, "--out", st.path("half"), "--no-pdf")
t.eq(r.returncode, 2, "a .partial left")
t.check("interrupted" in r.stderr, "message: " + r.stderr)
t.eq(st.log_size(), n0, "the log grew on a refused export")
r = run("audit", "verify-bundle", st.path("nothing-here"))
t.eq(r.returncode, 2, "verify of no directory")
r = run("audit", "export", "--campaign", CID)
t.eq(r.returncode, 2, "no --out")
t.end()

t.begin("a release's bundle holds its campaigns")
RB = st.path("r.bundle")
r = run("audit", "export", "--release", REL[:12], "--out", RB, "--no-pdf")
t.eq(r.returncode, 0, "export --release: " + r.stderr)
r = verify(RB)
t.eq(r.returncode, 0, "verify: " + r.stdout[-300:])
with open(os.path.join(RB, "bundle.json")) as f:
    rb = json.load(f)
t.eq(rb["campaigns"], [CID], "campaigns of the release")
t.end()

st.cleanup()
t.finish()
