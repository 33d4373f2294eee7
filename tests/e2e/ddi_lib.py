"""Shared pieces of the device-API end-to-end tests: a store with a fleet,
a release and a campaign built with the real fwtrust CLI, the real
`fwtrust serve` on a loopback port, and a small result reporter that prints
the ok/FAIL/RESULT lines scripts/check.sh adds up."""
import atexit
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

V = "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe"
C = "1492af14-2569-5e48-bf42-9b2d51f2ab45"


class Suite:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.name = None
        self.problems = []

    def begin(self, name):
        self.name = name
        self.problems = []

    def bad(self, msg):
        self.problems.append(msg)

    def check(self, cond, msg):
        if not cond:
            self.bad(msg)
        return cond

    def eq(self, got, want, what):
        return self.check(got == want, "%s: got %r, expected %r" % (what, got, want))

    def end(self):
        if self.problems:
            self.failed += 1
            for p in self.problems:
                print("  %s: %s" % (self.name, p))
            print("FAIL " + self.name)
        else:
            self.passed += 1
            print("ok   " + self.name)
        sys.stdout.flush()

    def finish(self):
        print("RESULT %d %d" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


def die(msg):
    print("FAIL setup: " + msg)
    print("RESULT 0 1")
    sys.exit(1)


class Store:
    """A store in a temporary directory, driven by the fwtrust CLI."""

    def __init__(self, build, fleet_size=100, keep=False):
        self.build = os.path.realpath(build)
        self.fw = os.path.join(self.build, "fwtrust")
        self.dir = tempfile.mkdtemp(prefix="fwtrust-ddi-")
        self.db = os.path.join(self.dir, "s.db")
        self.env = dict(os.environ, FWTRUST_DB=self.db, FWTRUST_ACTOR="test:ddi")
        self.keep = keep
        self.fleet_size = fleet_size

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def run(self, *args, check=True, input=None):
        r = subprocess.run([self.fw] + [str(a) for a in args], cwd=self.dir, env=self.env,
                           capture_output=True, text=True, input=input)
        if check and r.returncode != 0:
            die("fwtrust %s: exit %d: %s" % (" ".join(map(str, args)), r.returncode,
                                             r.stderr.strip()))
        return r

    def log_size(self):
        con = sqlite3.connect(self.db)
        try:
            return con.execute("SELECT count(*) FROM evidence_leaves").fetchone()[0]
        finally:
            con.close()

    def meta(self, key):
        """A store setting (the meta table), None when it is not set."""
        con = sqlite3.connect(self.db)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        finally:
            con.close()
        return row[0] if row else None

    def records(self, rtype):
        """The evidence records of a type, parsed."""
        con = sqlite3.connect(self.db)
        try:
            rows = con.execute("SELECT record FROM evidence_leaves ORDER BY idx").fetchall()
        finally:
            con.close()
        out = []
        for (rec,) in rows:
            j = json.loads(bytes(rec))
            if j.get("type") == rtype:
                out.append(j)
        return out

    def fleet(self, only=None):
        """mkfleet, then import it (only: the device ids to keep)."""
        os.makedirs(self.path("fleet"), exist_ok=True)
        subprocess.run([os.path.join(self.build, "tests", "mkfleet"), self.path("fleet"),
                        str(self.fleet_size)], check=True, capture_output=True)
        self.run("init", "--origin", "test.example/ddi")
        self.run("ca", "add", "fleet/ca.pem")
        self.run("crl", "import", "fleet/crl.pem")
        src = "fleet/devices.csv"
        if only is not None:
            with open(self.path(src)) as f:
                lines = f.read().split("\n")
            keep = [lines[0]] + [l for l in lines[1:] if l.split(",")[0] in only]
            with open(self.path("fleet/some.csv"), "w") as f:
                f.write("\n".join(keep) + "\n")
            src = "fleet/some.csv"
        self.run("device", "import", src)

    def release(self, version="2.4.1", sequence=9, size=20000, swu=False, name="fw"):
        """A signed release (SUIT envelope and image; with swu, its .swu too)."""
        if not os.path.exists(self.path("rel.key")):
            self.run("key", "generate", "--alg", "ed25519", "--out", "rel")
            self.run("key", "trust", "rel.pub", "--name", "rel", "--role", "release-signing")
        with open(self.path(name + ".bin"), "wb") as f:
            f.write(os.urandom(size))
        self.run("sign", "--key", "rel.key", "--image", name + ".bin", "--vendor-id", V,
                 "--class-id", C, "--sequence", sequence, "--version", version, "--out",
                 name + ".suit")
        args = ["release", "add", name + ".suit", "--image", name + ".bin", "--product",
                "controller", "--family", "ctl-a", "--hw-revision", "B", "--hw-revision", "C"]
        if version == "2.4.1":
            args += ["--from", ">=2.0.0 <2.4.1"]
        if swu:
            self.swu(name, version)
            args += ["--swu", name + ".swu", "--swu-cert", "swu-cert.pem"]
        out = self.run(*args).stdout
        for line in out.splitlines():
            if line.startswith("release "):
                return line.split()[1]
        die("release add printed no release id: " + out)

    def swu(self, name, version):
        if not os.path.exists(self.path("swu-cert.pem")):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", self.path("swu-key.pem"), "-out",
                            self.path("swu-cert.pem"), "-days", "30", "-subj",
                            "/CN=fwtrust test signer"], check=True, capture_output=True)
        self.run("sign", "--format", "swu", "--key", "swu-key.pem", "--cert", "swu-cert.pem",
                 "--image", name + ".bin", "--version", version, "--hw-compat", "1.0",
                 "--out", name + ".swu")

    def operators(self):
        for k, role in (("rm", "release_manager"), ("ap1", "approver"), ("ap2", "approver"),
                        ("op", "operator")):
            self.run("key", "generate", "--alg", "ed25519", "--out", k)
            self.run("operator", "add", k, "--role", role, "--pub", k + ".pub")

    def campaign(self, policy, approve_stages=(0,)):
        with open(self.path("pol.json"), "w") as f:
            json.dump(policy, f)
        out = self.run("campaign", "create", "--policy", "pol.json", "--as", "rm").stdout
        cid = None
        for tok in out.split():
            if tok.startswith("c-"):
                cid = tok.strip(":,")
                break
        if cid is None:
            die("campaign create printed no id: " + out)
        for k in approve_stages:
            self.run("campaign", "approve", cid, "--key", "ap1.key", "--stage", k)
        return cid

    def status(self, cid):
        return json.loads(self.run("campaign", "status", cid, "--json").stdout)

    def device_state(self, cid, dev):
        rows = json.loads(self.run("campaign", "devices", cid, "--json").stdout)
        for r in rows:
            if r["device"] == dev:
                return r["state"]
        return None

    def tokens(self, devices, agent="suit"):
        out = self.run("device", "token", *devices, "--agent", agent).stdout
        return dict(line.split() for line in out.splitlines())

    def cleanup(self):
        if not self.keep:
            subprocess.run(["rm", "-rf", self.dir])


class Server:
    """The real `fwtrust serve` on a loopback port."""

    def __init__(self, store, *extra):
        self.store = store
        ready = store.path("ready-%d" % time.monotonic_ns())
        self.logpath = store.path("requests.log")
        self.errpath = store.path("serve.err")
        self.err = open(self.errpath, "a")
        self.proc = subprocess.Popen(
            [store.fw, "serve", "--listen", "127.0.0.1:0", "--ready-file", ready, "--log",
             self.logpath, *map(str, extra)],
            cwd=store.dir, env=store.env, stdout=subprocess.DEVNULL, stderr=self.err)
        for _ in range(200):
            if os.path.exists(ready) and open(ready).read().strip():
                break
            if self.proc.poll() is not None:
                die("fwtrust serve exited: " + open(self.errpath).read())
            time.sleep(0.05)
        else:
            die("fwtrust serve did not start")
        atexit.register(self._kill)  # never left running when a test dies
        self.port = int(open(ready).read().strip())
        self.url = "http://127.0.0.1:%d" % self.port

    def request(self, method, path, body=None, headers=None, token=None, raw_body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "TargetToken " + token
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        j = None
        if payload and hdrs.get("content-type", "").startswith("application/"):
            try:
                j = json.loads(payload)
            except ValueError:
                pass
        return r.status, j, payload, hdrs

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        return self.proc.returncode

    def stderr(self):
        return open(self.errpath).read()


def ddi(dev, rest="", tenant="DEFAULT"):
    return "/%s/controller/v1/%s%s" % (tenant, dev, ("/" + rest) if rest else "")


def feedback(execution, finished, details=None, aid="1"):
    st = {"execution": execution, "result": {"finished": finished}}
    if details is not None:
        st["details"] = details
    return {"id": aid, "time": "20261126T120000", "status": st}
