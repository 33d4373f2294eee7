#!/usr/bin/env python3
"""End-to-end test of the audit report: a store, a fleet, a release and its
rollback release, operators, an eligibility run and a campaign, all made
with the real fwtrust CLI, driven by device reports (installations, an
integrity failure that pauses the campaign and quarantines the device,
failures, fall-backs) to its completion; then `fwtrust audit export`, and
the report checked against numbers taken independently from the CLI
(`campaign status --json`, the version signed, the checkpoint file):
summary.json, `audit summary` (text and --json), report.html as the real
headless Chromium renders it (a screenshot, the DOM's text), report.pdf,
and an export without Chromium. Chromium missing is a failure, not a skip.
Usage: tests/e2e/test_report.py BUILD_DIR"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddi_lib import Store, Suite, die  # noqa: E402

if len(sys.argv) != 2:
    die("usage: test_report.py BUILD_DIR")
t = Suite()
CHROMIUM = shutil.which("chromium")
VERSION = "2.4.1"
EVIL = "<script>alert(1)</script>"

st = Store(sys.argv[1], fleet_size=100)
st.fleet()
REL = st.release(version=VERSION, sequence=9)
RB = st.release(version="2.4.0", sequence=8, name="fw-old")
st.operators()
st.run("eligibility", "--release", REL[:12])
CID = st.campaign({"name": "ctl-a %s <b>security</b> update" % VERSION, "release": REL[:12],
                   "stages": [{"name": "canary", "size": {"count": 5}, "approvals": 2},
                              {"name": "rest", "size": {"percent": 100}}],
                   "success_threshold": 50,
                   "pause": {"failure_rate": {"percent": 90, "min_reports": 50}},
                   "retry": {"max_attempts": 1, "backoff_s": 0},
                   "rollback": {"release": RB[:12], "automatic": False}})
st.run("campaign", "approve", CID, "--key", "ap2.key", "--stage", 0)
st.run("campaign", "start", CID, "--as", "op")


def devices(state):
    rows = json.loads(st.run("campaign", "devices", CID, "--json").stdout)
    return sorted(r["device"] for r in rows if r["state"] == state)


def report(dev, status, *extra):
    return st.run("device", "report", dev, "--campaign", CID, "--status", status, *extra)


canary = devices("eligible")
if len(canary) != 5:
    die("stage 0 should have 5 eligible devices: %r" % canary)
for d in canary[:4]:
    report(d, "delivered")
    report(d, "installed", "--version", VERSION)
report(canary[4], "delivered")
out = report(canary[4], "failed", "--integrity-failure", "--detail", EVIL).stdout
if "PAUSED" not in out:
    die("an integrity failure should pause the campaign: " + out)
st.run("campaign", "resume", CID, "--as", "op", "--reason", "image checked")
st.run("campaign", "tick", CID)
for i, d in enumerate(devices("eligible")):
    report(d, "delivered")
    if i % 9 == 4:
        report(d, "failed", "--detail", "flash write error")
    elif i % 9 == 7:
        report(d, "rolled_back", "--version", "2.4.0")
    else:
        report(d, "installed", "--version", VERSION)
st.run("campaign", "tick", CID)
STATUS = st.status(CID)

# the numbers as the CLI knows them, independently of the report
COUNTS = {s: sum(stg["counts"][s] for stg in STATUS["stages"]) + STATUS["ineligible_at_start"][s]
          for s in STATUS["stages"][0]["counts"]}
MEMBERS = sum(stg["devices"] for stg in STATUS["stages"]) + \
    sum(STATUS["ineligible_at_start"].values())
STATE = STATUS["state"]

BUNDLE = st.path("bundle")
r = st.run("audit", "export", "--campaign", CID, "--out", "bundle", check=False)
if r.returncode != 0 and CHROMIUM is not None:
    die("audit export: exit %d: %s" % (r.returncode, r.stderr.strip()))
if r.returncode != 0:  # no Chromium: the rest of the checks still run
    st.run("audit", "export", "--campaign", CID, "--out", "bundle", "--no-pdf")
with open(os.path.join(BUNDLE, "checkpoint.note")) as f:
    CP_SIZE = int(f.read().split("\n")[1])
with open(os.path.join(BUNDLE, "summary.json")) as f:
    SUMMARY = json.load(f)
HTML_PATH = os.path.join(BUNDLE, "report.html")
with open(HTML_PATH, encoding="utf-8") as f:
    HTML = f.read()


def chromium(*args):
    """Headless Chromium with a private profile; (exit status, stdout)."""
    if CHROMIUM is None:
        return None, ""
    prof = tempfile.mkdtemp(prefix="fwtrust-test-chromium-")
    try:
        p = subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                            "--no-first-run", "--user-data-dir=" + prof] + list(args),
                           capture_output=True, timeout=120)
        return p.returncode, p.stdout.decode("utf-8", "replace")
    finally:
        shutil.rmtree(prof, ignore_errors=True)


def text_of(dom):
    """The page's text: tags dropped (style and svg with their content),
    entities decoded, white space collapsed."""
    import html
    dom = re.sub(r"(?s)<style.*?</style>", " ", dom)
    dom = re.sub(r"(?s)<svg.*?</svg>", " ", dom)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom))).strip()


t.begin("the campaign ran as planned (the CLI's own numbers)")
t.eq(STATE, "completed", "campaign state")
t.check(COUNTS["installed"] >= 30, "installed: %r" % COUNTS)
t.check(COUNTS["failed"] >= 3 and COUNTS["rolled_back"] >= 3 and COUNTS["ineligible"] >= 10,
        "failed, rolled back, ineligible: %r" % COUNTS)
t.end()

t.begin("export writes report.html, report.pdf and summary.json")
for name in ("report.html", "report.pdf", "summary.json"):
    t.check(os.path.exists(os.path.join(BUNDLE, name)), name + " missing")
t.check(CHROMIUM is not None, "chromium is not installed (bash scripts/install-deps.sh)")
t.end()

t.begin("summary.json: the numbers of campaign status, the release, the checkpoint")
for s, n in COUNTS.items():
    t.eq(SUMMARY["states"][s], n, "states." + s)
t.eq(SUMMARY["campaign"]["members"], MEMBERS, "members")
t.eq(SUMMARY["campaign"]["state"], STATE, "campaign state")
t.eq(SUMMARY["campaign"]["complete"]["counts_agree"], True, "counts agree with campaign.complete")
t.eq(SUMMARY["release"]["version"], VERSION, "release version")
t.eq(SUMMARY["release"]["release_id"], REL, "release id")
t.eq(SUMMARY["rollback_release"]["version"], "2.4.0", "rollback release")
t.eq(SUMMARY["bundle"]["anchor"]["size"], CP_SIZE, "checkpoint size")
t.eq(SUMMARY["eligibility"]["ineligible_at_start"],
     sum(STATUS["ineligible_at_start"].values()), "ineligible at the start")
t.eq(SUMMARY["failed"]["integrity_failures"], STATUS["totals"]["integrity_failures"],
     "integrity failures")
t.eq(SUMMARY["quarantined"]["total"], STATUS["totals"]["quarantined"], "quarantined")
t.eq(sorted(a["operator"] for a in SUMMARY["approvals"]), ["ap1", "ap2"], "approvers")
t.eq(SUMMARY["campaign"]["four_eyes"], True, "four eyes")
t.eq([p["cause"] for p in SUMMARY["campaign"]["pauses"]], ["integrity_failure"], "pauses")
t.eq([e["kind"] for e in SUMMARY["timeline"]["events"]],
     ["stage", "pause", "resume", "stage", "complete"], "timeline events")
t.check(len(SUMMARY["timeline"]["points"]) > 10, "timeline points: %d"
        % len(SUMMARY["timeline"]["points"]))
rows = {c["id"]: c for c in SUMMARY["cra"]}
t.eq(sorted(rows), sorted(["authenticity", "eligibility", "automatic_updates",
                           "vulnerability_handling", "integrity", "support_period",
                           "technical_documentation"]), "CRA rows")
t.eq(rows["support_period"]["status"], "recorded", "support period (an eligibility run)")
t.check("2.4.0 (sequence 8)" in rows["vulnerability_handling"]["control"],
        "supersedes the rollback release: %r" % rows["vulnerability_handling"]["control"])
cited = {r["idx"] for r in SUMMARY["records"]}
with open(os.path.join(BUNDLE, "records.jsonl")) as f:
    in_bundle = {json.loads(line)["idx"]: json.loads(line)["record"] for line in f}
for c in SUMMARY["cra"]:
    for i in c["records"]:
        t.check(i in cited and i in in_bundle, "CRA %s cites record %d: not in the appendix or "
                "the bundle" % (c["id"], i))
for e in SUMMARY["records"]:
    if e["idx"] in in_bundle:
        t.eq(e["type"], in_bundle[e["idx"]]["type"], "type of record %d" % e["idx"])
    else:
        t.bad("record %d cited but not in the bundle" % e["idx"])
t.end()

t.begin("audit summary DIR prints the same numbers (text and --json)")
r = st.run("audit", "summary", "bundle", "--key", "s.db-log.pub", check=False)
t.eq(r.returncode, 0, "exit status (%s)" % r.stderr.strip())
lines = r.stdout.splitlines()
head = next((l.split()[1:] for l in lines if l.startswith("state ")), [])
vals = next((l.split()[1:] for l in lines if l.startswith("devices ")), [])
t.eq(dict(zip(head, map(int, vals))), COUNTS, "devices per state")
t.check(any(l.startswith("members") and l.split()[1] == str(MEMBERS) for l in lines),
        "members line")
t.check(any(l.startswith("checkpoint") and ("size %d," % CP_SIZE) in l for l in lines),
        "checkpoint line")
t.check(any(l.startswith("release") and l.split()[1] == VERSION for l in lines), "release line")
r = st.run("audit", "summary", "bundle", "--json", check=False)
t.eq(r.returncode, 0, "--json exit status")
t.check(r.returncode == 0 and json.loads(r.stdout) == SUMMARY,
        "audit summary --json differs from summary.json")
t.end()

t.begin("report.html is self-contained, escaped, and every record link resolves")
t.check(HTML.startswith("<!DOCTYPE html>"), "doctype")
t.check(re.search(r"https?://", HTML) is None, "an external URL")
for tag in ("<script", "<link", "<img", "<iframe", "@import", "url("):
    t.check(tag not in HTML, "found " + tag)
t.check("&lt;script&gt;alert(1)&lt;/script&gt;" in HTML, "the device's detail is not escaped")
t.check("&lt;b&gt;security&lt;/b&gt;" in HTML, "the campaign's name is not escaped")
links = set(re.findall(r'href="#r-(\d+)"', HTML))
anchors = set(re.findall(r'id="r-(\d+)"', HTML))
t.check(len(links) > 10, "record links: %d" % len(links))
t.check(links <= anchors, "links without an appendix entry: %r" % sorted(links - anchors)[:5])
t.end()

t.begin("report.html in headless Chromium: a screenshot")
png = st.path("report.png")
rc, _ = chromium("--screenshot=" + png, "--window-size=1280,2000", "file://" + HTML_PATH)
if t.check(CHROMIUM is not None, "chromium is not installed (bash scripts/install-deps.sh)"):
    t.eq(rc, 0, "chromium exit status")
    data = open(png, "rb").read() if os.path.exists(png) else b""
    t.check(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    t.check(len(data) > 50000, "a near-empty screenshot: %d bytes" % len(data))
    if len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        t.eq((w, h), (1280, 2000), "screenshot size")
t.end()

t.begin("report.html in headless Chromium: the page's text has the key figures")
rc, dom = chromium("--dump-dom", "file://" + HTML_PATH)
if t.check(CHROMIUM is not None, "chromium is not installed (bash scripts/install-deps.sh)"):
    t.eq(rc, 0, "chromium exit status")
    text = text_of(dom)
    for label, n in (("release version", VERSION), ("members", MEMBERS),
                     ("installed", COUNTS["installed"]), ("failed", COUNTS["failed"]),
                     ("rolled back", COUNTS["rolled_back"]),
                     ("ineligible", COUNTS["ineligible"]), ("checkpoint size", CP_SIZE)):
        t.check(re.search(r"(^| )%s %s( |$)" % (re.escape(str(n)), label), text),
                "\"%s %s\" is not in the page" % (n, label))
    t.check("checkpoint size %d" % CP_SIZE in text, "the anchor table")
    t.check("fwtrust audit verify-bundle DIR --key log.pub" in text, "how to verify")
    t.check(EVIL in text, "the device's detail is not shown as text")
    t.check("<script" not in dom, "a script element in the DOM")
    t.check("<svg" in dom and "<path" in dom, "no chart")
    t.check("Cyber Resilience Act" in text and "Annex I Part I (2)(c)" in text, "CRA table")
    for c in SUMMARY["cra"]:
        t.check(c["title"] in text, "CRA row %s missing" % c["id"])
t.end()

t.begin("report.pdf: a PDF of A4 pages")
pdf = open(os.path.join(BUNDLE, "report.pdf"), "rb").read() \
    if os.path.exists(os.path.join(BUNDLE, "report.pdf")) else b""
t.check(pdf.startswith(b"%PDF-"), "does not start with %PDF")
t.check(pdf.rstrip().endswith(b"%%EOF"), "truncated (no %%EOF)")
pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
t.check(pages >= 1, "no page")
boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
t.check(boxes and all(abs(float(w) - 595) < 2 and abs(float(h) - 842) < 2 for w, h in boxes),
        "not A4: %r" % boxes[:2])
t.end()

t.begin("verify-bundle accepts the bundle, and refuses a report.html changed by one figure")
r = st.run("audit", "verify-bundle", "bundle", "--key", "s.db-log.pub", check=False)
t.eq(r.returncode, 0, "exit status (%s %s)" % (r.stdout.strip(), r.stderr.strip()))
forged = st.path("forged")
shutil.copytree(BUNDLE, forged)
fig = '<div class="n">%d</div><div class="l">failed' % COUNTS["failed"]
with open(os.path.join(forged, "report.html"), "w", encoding="utf-8") as f:
    t.check(fig in HTML, "the failed figure box")
    f.write(HTML.replace(fig, '<div class="n">0</div><div class="l">failed'))
r = st.run("audit", "verify-bundle", "forged", "--key", "s.db-log.pub", check=False)
t.eq(r.returncode, 1, "exit status of a forged report")
t.check("report.html" in r.stdout, "the finding names report.html: %r" % r.stdout)
t.end()

t.begin("without Chromium: export says which package is missing, exit 2, nothing left")
env = dict(st.env, FWTRUST_CHROMIUM="/nonexistent/chromium")
r = subprocess.run([st.fw, "audit", "export", "--campaign", CID, "--out", "nopdf"], cwd=st.dir,
                   env=env, capture_output=True, text=True)
t.eq(r.returncode, 2, "exit status")
t.check("chromium" in r.stderr and "apt-get install chromium" in r.stderr,
        "the error names the package: %r" % r.stderr)
t.eq(len(r.stderr.strip().splitlines()), 1, "one line of error")
t.check(not os.path.exists(st.path("nopdf")), "a bundle without its PDF was left")
t.end()

t.begin("a release's report counts its campaign")
r = st.run("audit", "export", "--release", REL[:12], "--out", "rel", "--no-pdf", check=False)
t.eq(r.returncode, 0, "exit status (%s)" % r.stderr.strip())
if r.returncode == 0:
    with open(st.path("rel", "summary.json")) as f:
        rs = json.load(f)
    t.eq(rs["bundle"]["kind"], "release", "kind")
    t.eq(rs["campaign"], None, "no single campaign")
    t.eq([c["id"] for c in rs["campaigns"]], [CID], "campaigns")
    t.eq(rs["states"], SUMMARY["states"], "states")
    t.eq(rs["release"]["version"], VERSION, "release")
t.end()

st.cleanup()
t.finish()
