#!/usr/bin/env python3
"""The real SWUpdate client (Debian's swupdate 2022.12, suricatta hawkBit
mode, dry run: no hardware, no bootloader touched) as devices of a
campaign served by the real `fwtrust serve`:
  1. a device polls, sends configData, downloads the .swu, verifies its CMS
     signature and image hash, installs (dry run) and, restarted with its
     confirmed state (-c 2, what the boot after an update does), closes the
     action: the campaign shows it installed;
  2. a device gets a .swu altered in storage after its release: SWUpdate
     refuses it and reports the failure, which the server records as an
     integrity failure (device quarantined, campaign paused);
  3. a device with its update under way when an operator pauses the
     campaign receives cancelAction and confirms it: the device waits,
     paused; after the resume it installs, and the campaign completes.
Usage: tests/e2e/test_swupdate.py BUILD_DIR"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddi_lib import Server, Store, Suite, ddi, die  # noqa: E402

if len(sys.argv) != 2:
    die("usage: test_swupdate.py BUILD_DIR")
if shutil.which("swupdate") is None:
    die("swupdate is not installed (scripts/install-deps.sh installs it)")
t = Suite()
A, X, Y = "ctl-a-00000", "ctl-a-00020", "ctl-a-00030"
st = Store(sys.argv[1], fleet_size=100)
st.fleet(only={A, X, Y})
REL = st.release(swu=True, size=300000)
st.operators()
CID = st.campaign({"name": "swupdate", "release": REL[:12],
                   "stages": [{"name": "all", "size": {"percent": 100}, "approvals": 1}],
                   "success_threshold": 30, "retry": {"max_attempts": 2, "backoff_s": 0}})
st.run("campaign", "start", CID, "--as", "op")
tok = st.tokens([A, X, Y], agent="swupdate")
srv = Server(st, "--poll-interval", "1", "--tick-every", "0")
procs = []


class SWUpdate:
    """One swupdate process in suricatta mode, with its own TMPDIR."""

    def __init__(self, dev, confirm=None):
        self.dev = dev
        self.tmp = tempfile.mkdtemp(prefix="swu-%s-" % dev, dir=st.dir)
        cfg = os.path.join(self.tmp, "swupdate.cfg")
        with open(cfg, "w") as f:
            f.write('globals : { verbose = true; loglevel = 5; };\n'
                    'identify : ( { name = "hwRevision"; value = "1.0"; },'
                    ' { name = "serialNo"; value = "SN-%s"; } );\n'
                    'suricatta : { tenant = "DEFAULT"; id = "%s"; url = "%s"; targettoken = "%s";'
                    ' retry = 2; retrywait = "1"; polldelay = 1; };\n'
                    % (dev, dev, srv.url, tok[dev]))
        self.logpath = os.path.join(self.tmp, "swupdate.log")
        inner = "-p 1" + (" -c %d" % confirm if confirm else "")
        cmd = ["swupdate", "-v", "-n", "-B", "none", "-H", "testboard:1.0", "-k",
               st.path("swu-cert.pem"), "-f", cfg, "-u", inner]
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen(cmd, env=dict(os.environ, TMPDIR=self.tmp),
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        procs.append(self)

    def text(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait_for(cond, secs, what):
    end = time.time() + secs
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.25)
    t.bad("timed out after %d s waiting for %s" % (secs, what))
    return None


try:
    t.begin("SWUpdate installs from fwtrust serve: configData, .swu verified, closed -> installed")
    sw = SWUpdate(A)
    ok = wait_for(lambda: "Update successful" in sw.text() or "SWUpdate was successful" in sw.text(), 90,
                  "SWUpdate to verify and install (dry run)")
    text = sw.text()
    t.check("Image invalid" not in text and "ERROR : Authentication" not in text,
            "swupdate refused the .swu:\n" + text[-3000:])
    t.check("Verified OK" in text or "Verified signature" in text or not ok,
            "no signature verification in the log:\n" + text[-2000:])
    t.eq(st.device_state(CID, A), "delivered", "A while installing")
    attrs = st.records("device.attributes")
    t.check(any(r.get("device") == A for r in attrs), "no configData from SWUpdate")
    sw.stop()
    # the boot after the update confirms it: swupdate -c 2 reports closed/success
    sw2 = SWUpdate(A, confirm=2)
    wait_for(lambda: st.device_state(CID, A) == "installed", 60, "A installed")
    sw2.stop()
    s = st.status(CID)
    t.eq(s["stages"][0]["counts"].get("installed"), 1, "installed count")
    t.check('"fw_version": "2.4.1"' in st.run("device", "show", A).stdout, "registry version")
    t.end()

    t.begin("a .swu altered in storage: SWUpdate refuses it; recorded as an integrity failure")
    doc = st.run("release", "show", REL).stdout
    import json  # noqa: E402
    swu_sha = json.loads(doc)["swu"]["sha256"]
    blob = st.path("s.db.objects", "sha256", swu_sha[:2], swu_sha[2:])
    if not os.path.exists(blob):
        found = subprocess.run(["find", st.dir, "-name", "*" + swu_sha[2:] + "*"],
                               capture_output=True, text=True).stdout.split()
        blob = found[0] if found else blob
    with open(blob, "rb") as f:
        good = f.read()
    bad = bytearray(good)
    bad[len(bad) - 2048] ^= 0x01  # inside the image, after the signed sw-description
    os.chmod(blob, 0o644)
    with open(blob, "wb") as f:
        f.write(bytes(bad))
    sw = SWUpdate(X)

    def x_records():
        return [r for r in st.records("rollout.device") if r.get("device") == X]

    end, refused, restarts = time.time() + 150, None, 0
    while time.time() < end and st.device_state(CID, X) != "failed":
        if refused is None and "Image invalid or corrupted" in sw.text():
            refused = time.time()
        if refused is not None and time.time() - refused > 20 and restarts < 2:
            # SWUpdate 2022.12 itself can hang after refusing an image (its
            # two threads race for the installer's last status message; the
            # loser waits for good and the action is never closed: seen under
            # load). A device's watchdog restarts it, and the restarted
            # client resumes the same action, as the server expects.
            print("  swupdate hung after its refusal, without closing the action: restarted")
            sw.stop()
            sw = SWUpdate(X)
            refused, restarts = None, restarts + 1
        time.sleep(0.25)
    t.eq(st.device_state(CID, X), "failed", "X after the refusal")
    # SWUpdate forwards its refusal line as progress from one thread and
    # closes the action with a generic failure from another: they arrive in
    # either order (docs/ddi.md), so wait for both before stopping it
    wait_for(lambda: any(r.get("integrity_failure") for r in x_records()), 30,
             "X's integrity failure (its refusal line)")
    sw.stop()
    text = sw.text()
    t.check("Update successful" not in text and "SWUpdate was successful" not in text,
            "swupdate accepted the altered .swu")
    rec = x_records()
    t.check(rec and rec[-1].get("integrity_failure") is True and rec[-1].get("to") == "failed",
            "integrity failure not recorded: %r" % (rec[-1:] or None))
    if rec:
        print("  order: %s" % ("closing failure first, escalated by the refusal line"
                               if rec[-1].get("from") == "failed" else
                               "refusal first (as progress, or in the closing failure's details)"))
    s = st.status(CID)
    t.eq(s["state"], "paused", "campaign paused by the integrity failure")
    t.check("quarantined" in st.run("device", "show", X).stdout, "X quarantined")
    with open(blob, "wb") as f:
        f.write(good)
    t.end()

    t.begin("cancel mid-campaign: the operator pauses while Y's update is under way; Y confirms the cancel")
    st.run("campaign", "resume", CID, "--as", "op", "--reason", "blob restored")
    sw = SWUpdate(Y)
    wait_for(lambda: st.device_state(CID, Y) == "delivered", 60, "Y delivered")
    st.run("campaign", "pause", CID, "--as", "op", "--reason", "cancel test")
    wait_for(lambda: st.device_state(CID, Y) == "paused", 60, "Y paused after the cancel")
    text = sw.text()
    t.check("cancel" in text.lower(), "no cancel in swupdate's log")
    sw.stop()
    st.run("campaign", "resume", CID, "--as", "op", "--reason", "go on")
    s, j, _, _ = srv.request("GET", ddi(Y), token=tok[Y])
    t.check("deploymentBase" in j.get("_links", {}), "Y offered again after the resume: %r" % j)
    t.end()

    t.begin("SWUpdate completes the campaign: Y installs after the resume, confirms, the campaign completes")
    sw = SWUpdate(Y)
    wait_for(lambda: "Update successful" in sw.text() or "SWUpdate was successful" in sw.text(), 90,
             "Y to install (dry run)")
    sw.stop()
    sw2 = SWUpdate(Y, confirm=2)
    wait_for(lambda: st.device_state(CID, Y) == "installed", 60, "Y installed")
    sw2.stop()
    st.run("campaign", "tick", CID)
    s = st.status(CID)
    t.eq(s["state"], "completed", "campaign state (next: %s)" % s.get("next"))
    t.eq(s["stages"][0]["counts"].get("installed"), 2, "installed by SWUpdate")
    t.eq(s["stages"][0]["counts"].get("failed"), 1, "the altered .swu's device, failed for good")
    t.end()

    t.begin("the evidence of the whole run verifies")
    rc = srv.stop()
    t.eq(rc, 0, "serve stopped")
    out = st.run("audit", "verify", check=False)
    t.check(out.returncode == 0 and out.stdout.startswith("OK"), "audit: %s %s" % (out.stdout, out.stderr))
    t.end()
finally:
    for p in procs:
        p.stop()
    srv.stop()
    if t.failed:
        for p in procs:
            print("  --- swupdate %s (last lines) ---" % p.dev)
            for line in p.text().splitlines()[-15:]:
                print("  " + line)
        print("  --- serve ---")
        for line in srv.stderr().splitlines()[-10:]:
            print("  " + line)
    st.cleanup()
t.finish()
