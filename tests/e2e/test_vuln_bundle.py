#!/usr/bin/env python3
"""End-to-end tests of vulnerability evidence with the real CLI on a real
store: an advisory against a fleet, its cohort computed before, during and
after a campaign that remediates it; the series read back (vuln progress);
the campaign's, the release's and the advisory's own bundle (vuln report)
hold the advisory's records and cohort lists and verify offline, a release
with an SBOM that fixes it holds both; a changed advisory record, cohort
list or SBOM and an unrecorded file are refused with the file named; the
report shows the advisory and its chart; audit verify finds an advisory
document edited in the store.
Usage: tests/e2e/test_vuln_bundle.py BUILD_DIR"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddi_lib import Store, Suite, die  # noqa: E402

if len(sys.argv) != 2:
    die("usage: test_vuln_bundle.py BUILD_DIR")
t = Suite()
st = Store(sys.argv[1], fleet_size=100)
st.fleet()
REL = st.release()
st.operators()
st.run("vuln", "add", "FWT-1", "--title", "Boot <bypass>", "--severity", "critical",
       "--product", "controller", "--family", "ctl-a", "--affected", ">=2.0.0 <2.4.1",
       "--fixed-in", "2.4.1", "--cve", "CVE-2026-12345")
st.run("vuln", "add", "FWT-2", "--title", "another product", "--severity", "low",
       "--product", "gateway", "--affected", "<9.0.0")
st.run("vuln", "affected", "FWT-1")
st.run("vuln", "affected", "FWT-2")
CID = st.campaign({"name": "remediate FWT-1", "release": REL[:12], "remediates": ["FWT-1"],
                   "stages": [{"name": "all", "size": {"percent": 100}, "approvals": 2}],
                   "success_threshold": 50,
                   "pause": {"failure_rate": {"percent": 90, "min_reports": 50}}})
st.run("campaign", "approve", CID, "--key", "ap2.key", "--stage", 0)
st.run("campaign", "start", CID, "--as", "op")
st.run("vuln", "affected", "FWT-1")
rows = json.loads(st.run("campaign", "devices", CID, "--json").stdout)
ELIGIBLE = [r["device"] for r in rows if r["state"] == "eligible"]
if len(ELIGIBLE) < 4:
    die("expected eligible members, got %d" % len(ELIGIBLE))
for d in ELIGIBLE[:4]:
    st.run("device", "report", d, "--campaign", CID, "--status", "delivered")
    st.run("device", "report", d, "--campaign", CID, "--status", "installed", "--version", "2.4.1")
st.run("vuln", "affected", "FWT-1")
KEY = st.path("s.db-log.pub")
fw = st.fw


def run(*args):
    return subprocess.run([fw] + [str(a) for a in args], cwd=st.dir, env=st.env,
                          capture_output=True, text=True)


def records_of(bundle):
    out = []
    with open(os.path.join(bundle, "records.jsonl")) as f:
        for line in f:
            out.append(json.loads(line)["record"])
    return out


def reseal(path):
    lines = []
    for root, _, files in os.walk(path):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), path)
            if rel != "manifest.txt":
                with open(os.path.join(root, f), "rb") as h:
                    lines.append((rel, hashlib.sha256(h.read()).hexdigest()))
    with open(os.path.join(path, "manifest.txt"), "w") as h:
        for rel, hx in sorted(lines):
            h.write("%s  %s\n" % (hx, rel))


def copy(src, name):
    dst = st.path(name)
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    return dst


def refused_naming(r, f):
    t.eq(r.returncode, 1, "exit status")
    fails = [l for l in r.stdout.splitlines() if l.startswith("FAIL ")]
    t.check(any((": %s" % f) in l for l in fails), "no finding names %s: %s" % (f, fails))


t.begin("vuln progress: every computation of the cohort, oldest first")
r = run("vuln", "progress", "FWT-1", "--json")
t.eq(r.returncode, 0, "exit status")
P = json.loads(r.stdout)["series"] if r.returncode == 0 else []
recs = st.records("vuln.affected")
recs = [x for x in recs if x["advisory"] == "FWT-1"]
t.eq(len(P), 3, "computations")
t.eq([p["counts"] for p in P], [x["counts"] for x in recs], "counts as recorded")
if len(P) == 3:
    t.eq(P[0]["counts"]["being_remediated"], 0, "before the campaign: none being remediated")
    t.check(P[1]["counts"]["being_remediated"] >= len(ELIGIBLE),
            "members being remediated: %r" % P[1]["counts"])
    t.eq(P[2]["counts"]["remediated"] - P[1]["counts"]["remediated"], 4, "4 installed: remediated")
    t.check(P[0]["at"] <= P[1]["at"] <= P[2]["at"], "oldest first")
r = run("vuln", "progress", "FWT-1")
t.check(r.returncode == 0 and "3 computation(s)" in r.stdout, "text: " + r.stdout + r.stderr)
r = run("vuln", "progress", "FWT-404")
t.check(r.returncode == 2 and "FWT-404" in r.stderr, "unknown advisory: %d %s" %
        (r.returncode, r.stderr))
t.end()

BUNDLE = st.path("c.bundle")
t.begin("the campaign's bundle holds the advisory it remediates and verifies offline")
r = run("audit", "export", "--campaign", CID, "--out", BUNDLE, "--no-pdf")
if r.returncode != 0:
    die("audit export: %s" % r.stderr)
R = records_of(BUNDLE)
adds = [x for x in R if x.get("type") == "vuln.add"]
aff = [x for x in R if x.get("type") == "vuln.affected"]
t.eq([x["advisory"] for x in adds], ["FWT-1"], "vuln.add records (not another product's)")
t.eq(len(aff), 3, "vuln.affected records")
t.check(all(x["advisory"] == "FWT-1" for x in aff), "only FWT-1's cohorts")
cohorts = sorted(os.listdir(os.path.join(BUNDLE, "vuln")),
                 key=lambda n: int(n.rsplit("-", 1)[1].split(".")[0]))
t.eq(len(cohorts), 3, "cohort lists: %r" % cohorts)
for x, name in zip(aff, cohorts):
    with open(os.path.join(BUNDLE, "vuln", name), "rb") as f:
        data = f.read()
    t.eq(hashlib.sha256(data).hexdigest(), x["list_sha256"], name + " digest")
    t.eq(data.count(b"\n"), x["cohort"], name + " lines")
r = run("audit", "verify-bundle", BUNDLE, "--key", KEY)
t.check(r.returncode == 0 and r.stdout.startswith("VERIFIED"), "verify: " + r.stdout[-400:])
with open(os.path.join(BUNDLE, "summary.json")) as f:
    S = json.load(f)
V = S["vulnerabilities"]
t.eq(len(V), 1, "advisories in the summary")
if V:
    t.eq(V[0]["advisory"], "FWT-1", "advisory")
    t.eq(V[0]["cohorts"], 3, "computations")
    t.eq(V[0]["campaigns"], [CID], "remediating campaigns")
    t.eq(V[0]["latest"]["counts"], aff[-1]["counts"], "latest counts")
row = [c for c in S["cra"] if c["id"] == "vulnerability_handling"][0]
t.eq(row["status"], "recorded", "CRA row status")
t.check("Advisory FWT-1 (critical" in row["control"], "row: " + row["control"])
with open(os.path.join(BUNDLE, "report.html")) as f:
    html = f.read()
t.check('aria-label="affected devices per remediation state over time"' in html, "no chart")
t.check("Boot &lt;bypass&gt;" in html and "<bypass>" not in html, "title escaped")
t.end()

t.begin("the release's bundle follows the advisories its campaigns remediate")
RB = st.path("r.bundle")
r = run("audit", "export", "--release", REL[:12], "--out", RB, "--no-pdf")
t.eq(r.returncode, 0, "export: " + r.stderr)
if r.returncode == 0:
    R3 = records_of(RB)
    t.eq(sorted(set(x["advisory"] for x in R3 if x.get("type", "").startswith("vuln."))),
         ["FWT-1"], "advisories followed")
    t.eq(len([x for x in R3 if x.get("type") == "vuln.affected"]), 3, "cohorts")
    r = run("audit", "verify-bundle", RB, "--key", KEY)
    t.check(r.returncode == 0 and r.stdout.startswith("VERIFIED"), "verify: " + r.stdout[-400:])
t.end()

t.begin("a release with an SBOM that fixes the advisory: its bundle holds both")
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SBOM = os.path.join(SRC, "tests", "data", "sbom", "controller-2.4.1.cdx.json")
with open(st.path("fw2.bin"), "wb") as f:
    f.write(os.urandom(3000))
st.run("sign", "--key", "rel.key", "--image", "fw2.bin", "--vendor-id",
       "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", "--class-id",
       "1492af14-2569-5e48-bf42-9b2d51f2ab45", "--sequence", 10, "--version", "2.4.1",
       "--out", "fw2.suit")
out = st.run("release", "add", "fw2.suit", "--image", "fw2.bin", "--product", "controller",
             "--family", "ctl-a", "--sbom", SBOM, "--fixes", "FWT-1").stdout
REL2 = [l.split()[1] for l in out.splitlines() if l.startswith("release ")][0]
SB = st.path("r2.bundle")
r = run("audit", "export", "--release", REL2[:12], "--out", SB, "--no-pdf")
t.eq(r.returncode, 0, "export: " + r.stderr)
if r.returncode == 0:
    kept = os.path.join(SB, "release", REL2 + ".sbom.json")
    with open(SBOM, "rb") as a, open(kept, "rb") as b:
        t.check(a.read() == b.read(), "the SBOM kept byte for byte")
    R4 = records_of(SB)
    t.check(any(x.get("type") == "vuln.add" and x["advisory"] == "FWT-1" for x in R4),
            "the advisory it fixes")
    r = run("audit", "verify-bundle", SB, "--key", KEY)
    t.check(r.returncode == 0 and r.stdout.startswith("VERIFIED"), "verify: " + r.stdout[-400:])
    with open(os.path.join(SB, "summary.json")) as f:
        row = [c for c in json.load(f)["cra"] if c["id"] == "vulnerability_handling"][0]
    t.check("fixes FWT-1" in row["control"] and "CycloneDX" in row["control"],
            "row: " + row["control"])
    with open(kept, "a") as f:
        f.write(" ")
    reseal(SB)
    refused_naming(run("audit", "verify-bundle", SB, "--key", KEY),
                   "release/%s.sbom.json" % REL2)
t.end()

ABUNDLE = st.path("fwt1.bundle")
t.begin("vuln report: the advisory's own bundle, with the campaign that remediates it")
r = run("vuln", "report", "FWT-1", "--out", ABUNDLE, "--no-pdf")
t.eq(r.returncode, 0, "exit status: " + r.stderr)
if r.returncode == 0:
    with open(os.path.join(ABUNDLE, "bundle.json")) as f:
        B = json.load(f)
    t.eq((B["kind"], B["id"]), ("advisory", "FWT-1"), "kind and id")
    t.eq(B["campaigns"], [CID], "campaigns")
    R2 = records_of(ABUNDLE)
    t.check(any(x.get("type") == "campaign.start" for x in R2), "the campaign's records")
    t.check(any(x.get("type") == "release.add" for x in R2), "the release")
    r = run("audit", "verify-bundle", ABUNDLE, "--key", KEY)
    t.check(r.returncode == 0 and r.stdout.startswith("VERIFIED"), "verify: " + r.stdout[-400:])
    r = run("audit", "summary", ABUNDLE, "--key", KEY, "--json")
    t.check(r.returncode == 0 and json.loads(r.stdout)["vulnerabilities"][0]["cohorts"] == 3,
            "summary of the bundle")
r = run("vuln", "report", "FWT-404", "--out", st.path("none"), "--no-pdf")
t.check(r.returncode == 2 and "FWT-404" in r.stderr, "unknown: %d %s" % (r.returncode, r.stderr))
t.check(not os.path.exists(st.path("none")) and not os.path.exists(st.path("none.partial")),
        "nothing left behind")
r = run("vuln", "report", "FWT-1")
t.check(r.returncode == 2 and "--out" in r.stderr, "missing --out: " + r.stderr)
t.end()

t.begin("a tampered advisory record is refused (the batch proof)")
d = copy(BUNDLE, "t1.bundle")
p = os.path.join(d, "records.jsonl")
with open(p) as f:
    text = f.read()
t.check('"severity":"critical"' in text, "severity in the records")
with open(p, "w") as f:
    f.write(text.replace('"severity":"critical"', '"severity":"low"', 1))
reseal(d)
refused_naming(run("audit", "verify-bundle", d, "--key", KEY), "proof.txt")
t.end()

t.begin("a changed cohort list is refused, the file named")
d = copy(BUNDLE, "t2.bundle")
name = cohorts[-1]
p = os.path.join(d, "vuln", name)
with open(p) as f:
    lines = f.read().split("\n")
k = [i for i, l in enumerate(lines) if " exposed " in l][0]
lines[k] = lines[k].replace(" exposed ", " remediated ")  # an exposed device hidden
with open(p, "w") as f:
    f.write("\n".join(lines))
reseal(d)
refused_naming(run("audit", "verify-bundle", d, "--key", KEY), "vuln/" + name)
t.end()

t.begin("a file put into vuln/ is refused as unrecorded")
d = copy(BUNDLE, "t3.bundle")
with open(os.path.join(d, "vuln", "FWT-1.cohort-1.txt"), "w") as f:
    f.write("ctl-a-00001 remediated 2.4.1\n")
reseal(d)
r = run("audit", "verify-bundle", d, "--key", KEY)
refused_naming(r, "vuln/FWT-1.cohort-1.txt")
t.check("file.unrecorded" in r.stdout, "code: " + r.stdout[-300:])
t.end()

t.begin("vuln report: three remediating campaigns on three releases, every one in it")
# CID names FWT-1 in its policy; C2's release (REL2) names it in its fixes;
# C3 names it in its policy, on a third release
REL3 = st.release(version="2.4.2", sequence=11, size=3000, name="fw3")
STAGES = [{"name": "all", "size": {"percent": 100}, "approvals": 1}]
C2 = st.campaign({"name": "backport", "release": REL2[:12], "stages": STAGES})
C3 = st.campaign({"name": "remediate FWT-1 again", "release": REL3[:12],
                  "remediates": ["FWT-1"], "stages": STAGES})
AB3 = st.path("fwt1-3.bundle")
r = run("vuln", "report", "FWT-1", "--out", AB3, "--no-pdf")
t.eq(r.returncode, 0, "exit status: " + r.stderr)
if r.returncode == 0:
    with open(os.path.join(AB3, "bundle.json")) as f:
        B = json.load(f)
    t.eq(sorted(B["campaigns"]), sorted([CID, C2, C3]), "campaigns")
    rels = set(x.get("release_id") for x in records_of(AB3) if x.get("type") == "release.add")
    t.check({REL, REL2, REL3} <= rels, "the release.add record of each: %r" % sorted(rels))
    r = run("audit", "verify-bundle", AB3, "--key", KEY)
    t.check(r.returncode == 0 and r.stdout.startswith("VERIFIED"), "verify: " + r.stdout[-400:])
    r = run("audit", "summary", AB3, "--key", KEY, "--json")
    v = json.loads(r.stdout)["vulnerabilities"][0] if r.returncode == 0 else {}
    t.eq(sorted(v.get("campaigns", [])), sorted([CID, C2, C3]),
         "the report's remediating campaigns (by policy or by the release's fixes)")
t.end()

t.begin("audit verify: an advisory document edited outside fwtrust is found")
r = run("audit", "verify")
t.eq(r.returncode, 0, "audit verify before: " + r.stdout[-300:])
import sqlite3  # noqa: E402
con = sqlite3.connect(st.db)
doc = json.loads(con.execute("SELECT doc FROM objects WHERE kind = 'advisory' AND id = 'FWT-1'")
                 .fetchone()[0])
doc["severity"] = "low"  # played down in the registry, not in the log
con.execute("UPDATE objects SET doc = ? WHERE kind = 'advisory' AND id = 'FWT-1'",
            (json.dumps(doc),))
con.commit()
con.close()
r = run("audit", "verify")
t.eq(r.returncode, 1, "exit status")
t.check("advisory FWT-1: 'severity' differs from its vuln.add record" in r.stdout + r.stderr,
        "finding: " + (r.stdout + r.stderr)[-400:])
t.end()

st.cleanup()
t.finish()
