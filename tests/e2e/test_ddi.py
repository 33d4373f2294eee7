#!/usr/bin/env python3
"""End-to-end tests of the device API: the real `fwtrust serve` on a
loopback port, a real store built with the fwtrust CLI, requests over real
sockets. Every endpoint, its refusals (malformed JSON, wrong tokens,
oversized bodies, unknown actions: a clear 4xx and nothing stored), the
feedback that drives the engine, cancel through cancelAction, artifact
downloads with HEAD and ranges, rate-limited authentication, and a graceful
stop that signs a checkpoint.
Usage: tests/e2e/test_ddi.py BUILD_DIR"""
import hashlib
import hmac
import json
import os
import signal
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddi_lib import Server, Store, Suite, ddi, die, feedback  # noqa: E402

if len(sys.argv) != 2:
    die("usage: test_ddi.py BUILD_DIR")
t = Suite()
st = Store(sys.argv[1], fleet_size=100)
st.fleet()
REL = st.release()
st.operators()
CID = st.campaign({"name": "ddi", "release": REL[:12],
                   "stages": [{"name": "all", "size": {"percent": 100}, "approvals": 1}],
                   "success_threshold": 50,
                   "pause": {"failure_rate": {"percent": 90, "min_reports": 50}},
                   "retry": {"max_attempts": 3, "backoff_s": 0}})
st.run("campaign", "start", CID, "--as", "op")
# eligible (mkfleet: i % 50 not in 1..14), quarantined (10), provisioned (12)
A, B, E, Q = "ctl-a-00000", "ctl-a-00015", "ctl-a-00016", "ctl-a-00010"
OUT = "ctl-a-00001"  # active, but version 1.9.3: not eligible
F, G = "ctl-a-00017", "ctl-a-00018"  # eligible: SWUpdate's integrity refusals
tok = st.tokens([A, B, E, Q, OUT, F, G])
srv = Server(st, "--poll-interval", "7", "--auth-fail-limit", "1000", "--max-body", "4096",
             "--tick-every", "0")

t.begin("authentication: missing, wrong, another device's, unknown device: 401 and nothing stored")
n = st.log_size()
s, j, _, _ = srv.request("GET", ddi(A))
t.eq(s, 401, "no Authorization")
t.eq((j or {}).get("errorCode"), "fwtrust.ddi.auth.missing", "errorCode")
t.eq(srv.request("GET", ddi(A), token="0" * 64)[0], 401, "wrong token")
t.eq(srv.request("GET", ddi(A), token=tok[B])[0], 401, "B's token for A")
t.eq(srv.request("GET", ddi("ctl-a-00099"), token=tok[A])[0], 401, "a device without a token")
t.eq(srv.request("GET", ddi("no-such-device"), token=tok[A])[0], 401, "unknown device")
t.eq(srv.request("GET", ddi(A), headers={"Authorization": "Bearer " + tok[A]})[0], 401,
     "another scheme")
t.eq(srv.request("GET", ddi(A), headers={"Authorization": "GatewayToken " + tok[A]})[0], 401,
     "gateway token when none is configured")
t.eq(st.log_size(), n, "records after refused requests")
t.end()

t.begin("a device that is not active is refused (403), even with its own token")
s, j, _, _ = srv.request("GET", ddi(Q), token=tok[Q])
t.eq(s, 403, "quarantined device")
t.check("quarantined" in (j or {}).get("message", ""), "message names the lifecycle: %r" % j)
t.end()

t.begin("root poll: sleep as HH:MM:SS, the deploymentBase and configData links")
s, j, _, h = srv.request("GET", ddi(A), token=tok[A])
t.eq(s, 200, "status")
t.eq(j["config"]["polling"]["sleep"], "00:00:07", "sleep")
links = j.get("_links", {})
t.check("deploymentBase" in links, "no deploymentBase link: %r" % j)
t.check("configData" in links, "no configData link: %r" % j)
t.check(links["deploymentBase"]["href"].startswith(srv.url + ddi(A, "deploymentBase/")),
        "href: %r" % links)
dep_href = links["deploymentBase"]["href"]
AID = dep_href.rsplit("/", 1)[1]
t.eq(AID, "101", "action id of campaign c-0001, attempt 1")
s, j, _, _ = srv.request("GET", ddi(OUT), token=tok[OUT])
t.eq(s, 200, "ineligible device polls")
t.check("deploymentBase" not in j.get("_links", {}), "ineligible device offered: %r" % j)
t.end()

t.begin("configData: malformed or empty refused (400, nothing stored); a PUT is recorded and the link goes")
n = st.log_size()
s, j, _, _ = srv.request("PUT", ddi(A, "configData"), raw_body=b'{"data": {"a": ')
t.eq(s, 401, "without a token")
s, j, _, _ = srv.request("PUT", ddi(A, "configData"), raw_body=b'{"data": {"a": ', token=tok[A])
t.eq(s, 400, "truncated JSON")
t.check("line 1" in (j or {}).get("message", ""), "message: %r" % j)
t.eq(srv.request("PUT", ddi(A, "configData"), body={"data": {}}, token=tok[A])[0], 400, "empty data")
t.eq(srv.request("PUT", ddi(A, "configData"), body={"data": {"k": 1}}, token=tok[A])[0], 400,
     "a number value")
t.eq(srv.request("PUT", ddi(A, "configData"), body={"data": {"k": "v"}, "mode": "x"},
                 token=tok[A])[0], 400, "bad mode")
t.eq(srv.request("POST", ddi(A, "configData"), body={"data": {"k": "v"}}, token=tok[A])[0], 405,
     "POST")
t.eq(st.log_size(), n, "records after refusals")
s, _, body, _ = srv.request("PUT", ddi(A, "configData"), token=tok[A],
                            body={"id": "", "time": "20261126T042529",
                                  "status": {"result": {"finished": "success"},
                                             "execution": "closed", "details": [""]},
                                  "data": {"serialNo": "SN-0001", "hwRevision": "B"}},
                            headers={"Expect": "100-continue"})
t.eq(s, 200, "SWUpdate's configData body, with Expect: 100-continue")
t.eq(body, b"", "empty body")
recs = st.records("device.attributes")
t.eq(len(recs), 1, "device.attributes records")
s, j, _, _ = srv.request("GET", ddi(A), token=tok[A])
t.check("configData" not in j.get("_links", {}), "configData link still there: %r" % j)
t.end()


def attrs_hmac(attrs):
    """attributes_hmac recomputed here (Python's hmac, not OpenSSL): HMAC-SHA256
    under the store's salt over the attributes as canonical JSON."""
    salt = bytes.fromhex(st.meta("attributes_hmac_salt") or "")
    text = json.dumps(attrs, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(salt, text.encode(), hashlib.sha256).hexdigest()


t.begin("device.attributes records the keys and an HMAC under the store's salt, never the values")
rec = recs[-1] if recs else {}
t.eq(rec.get("attribute_keys"), ["hwRevision", "serialNo"], "recorded keys, sorted")
t.check("attributes" not in rec and "attributes_sha256" not in rec, "values recorded: %r" % rec)
t.check("SN-0001" not in json.dumps(rec), "a value is in the record: %r" % rec)
salt = st.meta("attributes_hmac_salt")
t.check(salt is not None and len(salt) == 64 and all(c in "0123456789abcdef" for c in salt),
        "salt: %r" % salt)
t.eq(rec.get("attributes_hmac"), attrs_hmac({"hwRevision": "B", "serialNo": "SN-0001"}),
     "attributes_hmac")
# a merge: the record has the result's keys; the same salt
t.eq(srv.request("PUT", ddi(A, "configData"), token=tok[A],
                 body={"data": {"location": "Hall 7 / Bay \"3\""}})[0], 200, "merge")
rec = st.records("device.attributes")[-1]
t.eq(rec.get("attribute_keys"), ["hwRevision", "location", "serialNo"], "keys after the merge")
t.eq(rec.get("attributes_hmac"),
     attrs_hmac({"hwRevision": "B", "location": "Hall 7 / Bay \"3\"", "serialNo": "SN-0001"}),
     "attributes_hmac after the merge")
t.check("Hall 7" not in json.dumps(rec), "a value is in the record: %r" % rec)
t.eq(st.meta("attributes_hmac_salt"), salt, "the salt is kept")
# a different salt gives a different HMAC: the salt is the key
t.check(rec.get("attributes_hmac") != hashlib.sha256(json.dumps(
    {"hwRevision": "B", "location": "Hall 7 / Bay \"3\"", "serialNo": "SN-0001"},
    sort_keys=True, separators=(",", ":")).encode()).hexdigest(), "a plain SHA-256")
t.end()

t.begin("oversized bodies: 413 before the body is read, nothing stored")
n = st.log_size()
s, _, _, _ = srv.request("PUT", ddi(A, "configData"), token=tok[A],
                         raw_body=b'{"data":{"k":"' + b"x" * 8000 + b'"}}')
t.eq(s, 413, "8 KB body over a 4 KiB cap")
s, _, _, _ = srv.request("POST", ddi(A, "deploymentBase/%s/feedback" % AID), token=tok[A],
                         raw_body=b"x" * 5000, headers={"Expect": "100-continue"})
t.eq(s, 413, "with Expect: 100-continue")
t.eq(st.log_size(), n, "records")
t.end()

t.begin("deploymentBase: the chunk with the envelope and the image; other ids 404")
s, j, _, _ = srv.request("GET", ddi(A, "deploymentBase/" + AID), token=tok[A])
t.eq(s, 200, "status")
t.eq(j["id"], AID, "id")
t.eq(j["deployment"]["update"], "forced", "update")
ch = j["deployment"]["chunks"][0]
t.eq(ch["version"], "2.4.1", "version")
names = [a["filename"] for a in ch["artifacts"]]
t.eq([n_.rsplit(".", 1)[1] for n_ in names], ["suit", "bin"], "artifact kinds")
ART = {a["filename"]: a for a in ch["artifacts"]}
img = [a for a in ch["artifacts"] if a["filename"].endswith(".bin")][0]
with open(st.path("fw.bin"), "rb") as f:
    image = f.read()
t.eq(img["hashes"]["sha256"], hashlib.sha256(image).hexdigest(), "sha256")
t.eq(img["hashes"]["sha1"], hashlib.sha1(image).hexdigest(), "sha1")
t.eq(img["size"], len(image), "size")
t.eq(srv.request("GET", ddi(A, "deploymentBase/999"), token=tok[A])[0], 404, "unknown action")
t.eq(srv.request("GET", ddi(A, "deploymentBase/abc"), token=tok[A])[0], 404, "not a number")
t.eq(srv.request("GET", ddi(A, "deploymentBase/" + "9" * 30), token=tok[A])[0], 404, "too long")
t.eq(srv.request("GET", ddi(OUT, "deploymentBase/" + AID), token=tok[OUT])[0], 404,
     "ineligible device asks for A's action")
t.eq(srv.request("GET", ddi(A, "installedBase/" + AID), token=tok[A])[0], 404,
     "installedBase before the install")
t.eq(srv.request("GET", ddi(A, "nothing/here"), token=tok[A])[0], 404, "unknown resource")
t.eq(srv.request("DELETE", ddi(A), token=tok[A])[0], 405, "DELETE")
t.end()

t.begin("artifacts: HEAD, full GET, Range 206, suffix range, 416, MD5SUM; not assigned: 404")
href = img["_links"]["download-http"]["href"][len(srv.url):]
s, _, body, h = srv.request("HEAD", href, token=tok[A])
t.eq(s, 200, "HEAD")
t.eq(int(h.get("content-length", -1)), len(image), "HEAD Content-Length")
t.eq(body, b"", "HEAD body")
s, _, body, h = srv.request("GET", href, token=tok[A])
t.eq(s, 200, "GET")
t.check(body == image, "the image bytes")
t.eq(h.get("accept-ranges"), "bytes", "Accept-Ranges")
s, _, body, h = srv.request("GET", href, token=tok[A], headers={"Range": "bytes=1000-"})
t.eq(s, 206, "resume")
t.check(body == image[1000:], "bytes from 1000")
t.eq(h.get("content-range"), "bytes 1000-%d/%d" % (len(image) - 1, len(image)), "Content-Range")
s, _, body, _ = srv.request("GET", href, token=tok[A], headers={"Range": "bytes=-100"})
t.eq((s, body), (206, image[-100:]), "suffix range")
s, _, _, h = srv.request("GET", href, token=tok[A], headers={"Range": "bytes=%d-" % len(image)})
t.eq(s, 416, "range past the end")
t.eq(h.get("content-range"), "bytes */%d" % len(image), "416 Content-Range")
s, _, body, _ = srv.request("GET", href + ".MD5SUM", token=tok[A])
t.eq(body.decode(), "%s  %s" % (hashlib.md5(image).hexdigest(), img["filename"]), "MD5SUM")
t.eq(srv.request("GET", href, token=tok[B])[0], 401, "A's artifact URL with B's token")
other = href.replace(ddi(A), ddi(OUT))
t.eq(srv.request("GET", other, token=tok[OUT])[0], 404, "a device without the action")
t.eq(srv.request("GET", href.replace(img["filename"], "x.bin"), token=tok[A])[0], 404,
     "unknown file")
t.eq(srv.request("GET", href.replace(REL, "0" * 64), token=tok[A])[0], 404, "other release")
t.end()

t.begin("feedback: malformed JSON, missing fields, unknown actions refused; nothing stored")
n = st.log_size()
fb = ddi(A, "deploymentBase/%s/feedback" % AID)
s, j, _, _ = srv.request("POST", fb, token=tok[A], raw_body=b"{nope")
t.eq(s, 400, "not JSON")
t.check("not valid JSON" in (j or {}).get("message", ""), "message: %r" % j)
t.eq(srv.request("POST", fb, token=tok[A], body={"status": {}})[0], 400, "no execution")
t.eq(srv.request("POST", fb, token=tok[A],
                 body=feedback("exploded", "none"))[0], 400, "unknown execution")
t.eq(srv.request("POST", fb, token=tok[A],
                 body=feedback("closed", "maybe"))[0], 400, "unknown finished")
t.eq(srv.request("POST", fb, token=tok[A], body=feedback("proceeding", "none", details="x"))[0],
     400, "details not an array")
t.eq(srv.request("POST", ddi(A, "deploymentBase/777/feedback"), token=tok[A],
                 body=feedback("proceeding", "none"))[0], 404, "action of no campaign")
t.eq(srv.request("POST", ddi(OUT, "deploymentBase/%s/feedback" % AID), token=tok[OUT],
                 body=feedback("proceeding", "none"))[0], 410, "not eligible: 410")
t.eq(srv.request("GET", fb, token=tok[A])[0], 405, "GET on feedback")
t.eq(st.log_size(), n, "records after refusals")
t.eq(st.device_state(CID, A), "eligible", "A's state")
t.end()

t.begin("feedback drives the engine: proceeding -> delivered, closed/success -> installed")
s, _, body, _ = srv.request("POST", fb, token=tok[A],
                            body=feedback("proceeding", "none", ["Installing Update Chunk Artifacts."]))
t.eq((s, body), (200, b""), "proceeding")
t.eq(st.device_state(CID, A), "delivered", "A after proceeding")
n = st.log_size()
t.eq(srv.request("POST", fb, token=tok[A], body=feedback("proceeding", "none", ["again"]))[0],
     200, "again")
t.eq(st.log_size(), n, "a duplicate writes nothing")
s, j, _, _ = srv.request("GET", ddi(A), token=tok[A])
t.check("deploymentBase" in j.get("_links", {}), "the open action stays until closed: %r" % j)
t.eq(srv.request("POST", fb, token=tok[A],
                 body=feedback("closed", "success", ["Update Installed."]))[0], 200, "closed")
t.eq(st.device_state(CID, A), "installed", "A after closed/success")
dev = st.run("device", "show", A).stdout
t.check('"fw_version": "2.4.1"' in dev, "registry version: %s" % dev)
rec = [r for r in st.records("rollout.device") if r.get("device") == A][-1]
t.eq((rec.get("from"), rec.get("to")), ("delivered", "installed"), "record")
t.check("Update Installed." in str(rec), "details kept in the record: %r" % rec)
s, j, _, _ = srv.request("GET", ddi(A), token=tok[A])
links = j.get("_links", {})
t.check("deploymentBase" not in links and "installedBase" in links, "links after: %r" % links)
s, j, _, _ = srv.request("GET", links["installedBase"]["href"][len(srv.url):], token=tok[A])
t.eq((s, j and j["id"]), (200, AID), "installedBase")
t.eq(srv.request("POST", fb, token=tok[A], body=feedback("closed", "success"))[0], 200,
     "closed again: 200, nothing changes")
t.end()

t.begin("SWUpdate's feedback with unescaped quotes in details is read by key; failure with a hash error is an integrity failure")
fbB = ddi(B, "deploymentBase/101/feedback")
t.eq(srv.request("POST", fbB, token=tok[B], body=feedback("proceeding", "none"))[0], 200, "B proceeding")
broken = (b'{ "id": 101, "time": "20261126T042612", "status": { "result": { "progress": '
          b'{ "cnt" : 0, "of" : 1 }, "finished": "failure" }, "execution": "closed", '
          b'"details" : [ "ERROR : HASH mismatch : "abc" <--> "def"","No suitable .swu image found" ] } }')
s, _, _, _ = srv.request("POST", fbB, token=tok[B], raw_body=broken)
t.eq(s, 200, "lenient body")
t.eq(st.device_state(CID, B), "failed", "B failed")
rec = [r for r in st.records("rollout.device") if r.get("device") == B][-1]
t.check(rec.get("integrity_failure") is True or "integrity" in str(rec),
        "integrity failure recorded: %r" % rec)
t.check("HASH mismatch" in rec.get("detail", ""), "details kept: %r" % rec)
t.eq(st.status(CID)["state"], "paused", "an integrity failure pauses the campaign")
s, j, _, _ = srv.request("GET", ddi(B), token=tok[B])
t.eq(s, 403, "and quarantines the device")
st.run("campaign", "resume", CID, "--as", "op", "--reason", "test")
t.end()

HASH_LINE = ("[ERROR] : SWUPDATE failed [0] ERROR cpio_utils.c : copyfile : 657 : "
             "HASH mismatch : 7f1c02 <--> 5e2a91")
INVALID_LINE = "[ERROR] : SWUPDATE failed [0] ERROR : Image invalid or corrupted. Not installing ..."
CLOSING = ["No suitable .swu image found"]
# SWUpdate forwards its log in batches of up to 48 lines: the refusal comes
# last, past the 1000 bytes of details the server keeps
TRACE = ["[channel_log_effective_url] : Channel s effective URL resolved to "
         "http://127.0.0.1:8080/DEFAULT/controller/v1/x (%02d)" % i for i in range(20)]


def last_rec(dev):
    recs = [r for r in st.records("rollout.device") if r.get("device") == dev]
    return recs[-1] if recs else {}


t.begin("SWUpdate's refusal as progress (past the details cut), then its generic closing failure: an integrity failure at once")
fbF = ddi(F, "deploymentBase/101/feedback")
t.eq(srv.request("POST", fbF, token=tok[F], body=feedback("proceeding", "none"))[0], 200,
     "F proceeding")
t.eq(srv.request("POST", fbF, token=tok[F],
                 body=feedback("proceeding", "none", TRACE + [HASH_LINE, INVALID_LINE]))[0], 200,
     "the log batch with the refusal")
t.eq(st.device_state(CID, F), "failed", "F failed by its refusal line")
rec = last_rec(F)
t.eq((rec.get("from"), rec.get("to"), rec.get("integrity_failure"), rec.get("retry")),
     ("delivered", "failed", True, None), "record")
t.check(rec.get("detail", "").startswith(HASH_LINE) and len(rec["detail"].encode()) <= 1000,
        "the refusal first in the details kept: %r" % rec)
s = st.status(CID)
t.eq((s["state"], (s.get("paused") or {}).get("cause")), ("paused", "integrity_failure"),
     "campaign paused by the integrity condition")
t.eq(srv.request("GET", ddi(F), token=tok[F])[0], 403, "F quarantined")
n = st.log_size()
t.eq(srv.request("POST", fbF, token=tok[F], body=feedback("closed", "failure", CLOSING))[0], 403,
     "the closing failure of a device quarantined by then")
t.eq(st.log_size(), n, "the closing failure changes nothing")
t.eq(s["totals"]["integrity_failures"], 2, "integrity failures (B, F)")
st.run("campaign", "resume", CID, "--as", "op", "--reason", "test")
t.end()

t.begin("SWUpdate's generic closing failure first, its refusal line after: escalated to an integrity failure")
fbG = ddi(G, "deploymentBase/101/feedback")
t.eq(srv.request("POST", fbG, token=tok[G], body=feedback("proceeding", "none"))[0], 200,
     "G proceeding")
t.eq(srv.request("POST", fbG, token=tok[G], body=feedback("closed", "failure", CLOSING))[0], 200,
     "the closing failure")
t.eq(st.device_state(CID, G), "failed", "G failed")
rec = last_rec(G)
t.check(not rec.get("integrity_failure") and rec.get("retry"), "a plain failure first: %r" % rec)
t.eq(st.status(CID)["state"], "running", "campaign after the plain failure")
s, j, _, _ = srv.request("GET", ddi(G), token=tok[G])
t.eq(s, 200, "G still active")
before = st.status(CID)["totals"]
t.eq(srv.request("POST", fbG, token=tok[G],
                 body=feedback("proceeding", "none", [INVALID_LINE]))[0], 200, "the late refusal line")
t.eq(st.device_state(CID, G), "failed", "G still failed")
rec = last_rec(G)
t.eq((rec.get("from"), rec.get("to"), rec.get("cause"), rec.get("integrity_failure"),
      rec.get("retry"), rec.get("attempts"), rec.get("failures")),
     ("failed", "failed", "report", True, None, 1, 1), "the escalation's record")
t.check("Image invalid or corrupted" in rec.get("detail", ""), "details kept: %r" % rec)
s = st.status(CID)
t.eq((s["state"], (s.get("paused") or {}).get("cause"), (s.get("paused") or {}).get("device")),
     ("paused", "integrity_failure", G), "campaign paused by the integrity condition")
t.eq((s["totals"]["integrity_failures"], s["totals"]["failures"], s["totals"]["reports"]),
     (before["integrity_failures"] + 1, before["failures"], before["reports"]),
     "one more integrity failure, the same failure and report")
t.eq(srv.request("GET", ddi(G), token=tok[G])[0], 403, "G quarantined")
t.check("quarantined" in st.run("device", "show", G).stdout, "G's lifecycle")
st.run("campaign", "resume", CID, "--as", "op", "--reason", "test")
t.end()

t.begin("pause reaches a delivered device as cancelAction; its confirmation pauses it; resume offers again")
fbE = ddi(E, "deploymentBase/101/feedback")
t.eq(srv.request("POST", fbE, token=tok[E], body=feedback("proceeding", "none"))[0], 200, "E proceeding")
st.run("campaign", "pause", CID, "--as", "op", "--reason", "test")
s, j, _, _ = srv.request("GET", ddi(E), token=tok[E])
links = j.get("_links", {})
t.check("cancelAction" in links and "deploymentBase" not in links, "links: %r" % links)
chref = links.get("cancelAction", {}).get("href", "")
t.check("?" not in chref, "cancel href has no query string")
s, j, _, _ = srv.request("GET", chref[len(srv.url):], token=tok[E])
t.eq((s, j and j["cancelAction"]["stopId"]), (200, "101"), "cancelAction")
t.eq(srv.request("GET", ddi(E, "deploymentBase/101"), token=tok[E])[0], 404,
     "deploymentBase while cancelling")
n = st.log_size()
t.eq(srv.request("POST", chref[len(srv.url):] + "/feedback", token=tok[E],
                 body=feedback("rejected", "none"))[0], 200, "rejected")
t.eq(st.log_size(), n, "a rejected cancel changes nothing")
t.eq(srv.request("POST", chref[len(srv.url):] + "/feedback", token=tok[E],
                 body=feedback("closed", "success", ["cancellation acknowledged."]))[0], 200,
     "confirmed")
t.eq(st.device_state(CID, E), "paused", "E after the cancel")
s, j, _, _ = srv.request("GET", ddi(E), token=tok[E])
t.check(not {"deploymentBase", "cancelAction"} & set(j.get("_links", {})),
        "nothing while paused: %r" % j)
st.run("campaign", "resume", CID, "--as", "op", "--reason", "test")
s, j, _, _ = srv.request("GET", ddi(E), token=tok[E])
t.check("deploymentBase" in j.get("_links", {}), "offered again: %r" % j)
t.end()

t.begin("a token issued again replaces the old one")
old = tok[E]
tok[E] = st.tokens([E])[E]
t.eq(srv.request("GET", ddi(E), token=old)[0], 401, "old token")
t.eq(srv.request("GET", ddi(E), token=tok[E])[0], 200, "new token")
t.eq(srv.request("GET", ddi(E, tenant="OTHER"), token=tok[E])[0], 404, "other tenant")
t.end()

t.begin("the request log: one JSON line per request, never the token")
with open(srv.logpath) as f:
    lines = f.read().splitlines()
parsed = [json.loads(l) for l in lines]
t.check(len(parsed) >= 60, "%d lines" % len(parsed))
t.check(all({"ts", "peer", "method", "path", "status"} <= set(p) for p in parsed), "fields")
t.check(not any(v in "\n".join(lines) for v in tok.values()), "a token is in the log")
t.check(any(p.get("note") == "auth.refused" for p in parsed), "auth failures noted")
t.end()

t.begin("SIGTERM: the server stops cleanly and signs a checkpoint of what it wrote")
size = st.log_size()
rc = srv.stop(signal.SIGTERM)
t.eq(rc, 0, "exit status")
err = srv.stderr()
t.check("stopped" in err, "stderr: %s" % err)
out = st.run("audit", "verify").stdout
t.check(out.startswith("OK ") and ("%d records" % size) in out, "audit verify: %s" % out)
cp = st.run("audit", "checkpoint").stdout
t.check("\n%d\n" % size in cp, "the latest checkpoint covers all %d records: %s" % (size, cp))
t.end()

t.begin("failed authentications are rate-limited per address (429)")
srv = Server(st, "--auth-fail-limit", "5", "--tick-every", "0")
codes = [srv.request("GET", ddi(A), token="f" * 64)[0] for _ in range(7)]
t.eq(codes, [401] * 5 + [429] * 2, "codes")
t.eq(srv.request("GET", ddi(A), token=tok[A])[0], 429, "a good token from the address too")
t.eq(srv.stop(), 0, "stop")
t.end()

t.begin("crypto-shredding: the salt deleted, the log still verifies; the next configData makes a new one")
con = sqlite3.connect(st.db)
con.execute("DELETE FROM meta WHERE key = 'attributes_hmac_salt'")
con.commit()
con.close()
out = st.run("audit", "verify", check=False)
t.check(out.returncode == 0 and out.stdout.startswith("OK"), "audit: %s %s" % (out.stdout, out.stderr))
srv = Server(st, "--tick-every", "0")
t.eq(srv.request("PUT", ddi(E, "configData"), token=tok[E],
                 body={"data": {"serialNo": "SN-0016"}})[0], 200, "configData")
salt2 = st.meta("attributes_hmac_salt")
t.check(salt2 is not None and salt2 != salt, "a new salt: %r" % salt2)
t.eq(st.records("device.attributes")[-1].get("attributes_hmac"), attrs_hmac({"serialNo": "SN-0016"}),
     "attributes_hmac under the new salt")
t.eq(srv.stop(), 0, "stop")
out = st.run("audit", "verify", check=False)
t.check(out.returncode == 0 and out.stdout.startswith("OK"), "audit: %s %s" % (out.stdout, out.stderr))
t.end()

t.begin("serve refuses bad options with one line")
for args, want in ((["--poll-interval", "86400"], "86399"), (["--listen", "nowhere"], "nowhere"),
                   (["--threads", "x"], "--threads"), (["--public-url", "ftp://x"], "public URL")):
    r = st.run("serve", *args, "--log", "none", check=False)
    t.eq(r.returncode, 2, "exit of %s" % args)
    t.check(want in r.stderr and r.stderr.count("\n") == 1, "stderr of %s: %r" % (args, r.stderr))
t.end()

st.cleanup()
t.finish()
