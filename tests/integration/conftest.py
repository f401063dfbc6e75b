"""Fixtures for tests against a real caliberd.

`localcloud` (module scope) starts a private caliberd with `caliber local
start`, in a temporary CALIBER_HOME on free ports, and stops it at the end
of the module.  It yields a LocalCloud: a dict holding the environment for
subprocesses (os.environ plus CALIBER_HOME, CALIBER_LOCAL_PORT,
CALIBER_EDGE_HTTPS_PORT, CALIBER_EDGE_HTTP_PORT, AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION and an empty
awscli configuration), with attributes and helpers:

    lc.home, lc.port, lc.endpoint, lc.edge_https_port, lc.edge_http_port
    lc.caliber(*args)           run bin_dir/caliber with this env
    lc.aws(*args, v=1|2)        run awscli v1 (`aws` on PATH, AWS_ENDPOINT_URL) or
                                v2 (/usr/bin/aws with --endpoint-url); CompletedProcess
    lc.aws_json(*args, v=1|2)   the same, checked, stdout parsed as JSON
    lc.client("secretsmanager") a botocore client on this endpoint (Debian's botocore, in-process)
    lc.request(method, path, body=b"", headers=None, service="secretsmanager",
               target=None, sign=True, key=None, secret=None)
                                one raw HTTP request, SigV4-signed with botocore;
                                returns (status, headers dict (lower case), body bytes)
    lc.start(), lc.stop(), lc.kill9(), lc.log()

`start_localcloud(tmp_path)` is the same as a context manager, for tests that
need their own instance (lifecycle, kill -9).  At stop the daemon's log is
checked for sanitizer reports, so the ASan run (CALIBER_BIN_DIR=build/asan)
fails on a leak or error at exit.
"""
import contextlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import time

import pytest

TOP = os.environ.get("CALIBER_TOP", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BIN_DIR = os.environ.get("CALIBER_BIN_DIR", os.path.join(TOP, "build", "release"))
AWS_V1 = "aws"
AWS_V2 = "/usr/bin/aws"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer")


def ephemeral_port_range():
    """The kernel's range for outgoing connections' local ports."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now, outside the
    kernel's ephemeral range: a port picked there (bind to 0) can be taken by
    an outgoing connection before the daemon or nginx binds it."""
    lo, hi = ephemeral_port_range()
    pool = [p for p in range(20000, 32001) if not lo <= p <= hi]
    if not pool:
        pool = [p for p in range(1024, 65536) if not lo <= p <= hi]
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.choice(pool)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port outside the ephemeral range %d-%d" % (lo, hi))


class LocalCloud(dict):
    """Environment of a private caliberd (see the module docstring)."""

    def __init__(self, home):
        super().__init__()
        self.home = str(home)
        self.port = free_port()
        self.edge_https_port = free_port()
        self.edge_http_port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        os.makedirs(self.home, exist_ok=True)
        awsconf = os.path.join(self.home, "..", "aws-config-%d" % self.port)
        with open(awsconf, "w") as f:
            f.write("[default]\n")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_") and not k.startswith("CALIBER_")}
        env.update({
            "CALIBER_HOME": self.home,
            "CALIBER_LOCAL_PORT": str(self.port),
            "CALIBER_EDGE_HTTPS_PORT": str(self.edge_https_port),
            "CALIBER_EDGE_HTTP_PORT": str(self.edge_http_port),
            "CALIBER_BIN_DIR": BIN_DIR,
            "CALIBER_TOP": TOP,
            "AWS_CONFIG_FILE": os.path.abspath(awsconf),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.home, "no-such-credentials"),
            "AWS_PAGER": "",
            "AWS_DEFAULT_OUTPUT": "json",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
        })
        self.update(env)

    def __repr__(self):
        # never the secret key in a test report
        return "LocalCloud(home=%r, endpoint=%r)" % (self.home, self.endpoint)

    __str__ = __repr__

    # -- lifecycle -------------------------------------------------------
    def caliber(self, *args, check=False, timeout=120, env=None):
        e = dict(self)
        if env:
            e.update(env)
        return subprocess.run([os.path.join(BIN_DIR, "caliber")] + [str(a) for a in args],
                              env=e, capture_output=True, text=True, timeout=timeout, check=check)

    def start(self):
        r = self.caliber("local", "start", "--timeout", "60")
        assert r.returncode == 0, "caliber local start failed: %s%s\n%s" % (r.stdout, r.stderr, self.log())
        r = self.caliber("local", "env", check=True)
        for line in r.stdout.splitlines():
            assert line.startswith("export ")
            k, v = line[len("export "):].split("=", 1)
            self[k] = v.strip("'")
        return self

    def stop(self, check_log=True):
        r = self.caliber("local", "stop", "--timeout", "60")
        assert r.returncode == 0, "caliber local stop failed: %s%s" % (r.stdout, r.stderr)
        if check_log:
            self.assert_clean_log()
        return r

    def pid(self):
        r = self.caliber("local", "status")
        for line in r.stdout.splitlines():
            if line.startswith("pid: "):
                return int(line[5:])
        return None

    def kill9(self):
        pid = self.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        for _ in range(200):
            if self.caliber("local", "status").returncode != 0:
                return
            time.sleep(0.05)
        raise AssertionError("caliberd still runs after SIGKILL")

    def log(self):
        try:
            with open(os.path.join(self.home, "caliberd.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def assert_clean_log(self):
        log = self.log()
        for mark in SANITIZER_MARKS:
            assert mark not in log, "sanitizer report in caliberd.log:\n" + log[-6000:]

    # -- clients ---------------------------------------------------------
    def aws(self, *args, v=1, env=None, timeout=120, wrapper=None):
        e = dict(self)
        if env:
            e.update(env)
        if v == 1:
            cmd = [AWS_V1] + [str(a) for a in args]
        else:
            cmd = [AWS_V2, "--endpoint-url", e["AWS_ENDPOINT_URL"]] + [str(a) for a in args]
        if wrapper:
            cmd = list(wrapper) + cmd
        return subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=timeout)

    def aws_json(self, *args, v=1, env=None):
        r = self.aws(*args, v=v, env=env)
        assert r.returncode == 0, "aws v%d %s failed: %s" % (v, " ".join(map(str, args)), r.stderr)
        return json.loads(r.stdout) if r.stdout.strip() else {}

    def request(self, method, path, body=b"", headers=None, service="secretsmanager",
                target=None, sign=True, key=None, secret=None, region=None):
        """One raw HTTP request on a new connection, signed like botocore signs."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        if isinstance(body, str):
            body = body.encode()
        hdrs = dict(headers or {})
        if target is not None:
            hdrs["X-Amz-Target"] = target
            hdrs.setdefault("Content-Type", "application/x-amz-json-1.1")
        url = self.endpoint + path
        if sign:
            req = AWSRequest(method=method, url=url, data=body, headers=hdrs)
            creds = Credentials(key or self["AWS_ACCESS_KEY_ID"], secret or self["AWS_SECRET_ACCESS_KEY"])
            SigV4Auth(creds, service, region or self["AWS_DEFAULT_REGION"]).add_auth(req)
            hdrs = dict(req.headers.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def client(self, service, region=None):
        """A botocore client for this endpoint (in-process: fast, no retries)."""
        import botocore.session
        from botocore.config import Config

        session = botocore.session.get_session()
        return session.create_client(
            service, region_name=region or self["AWS_DEFAULT_REGION"], endpoint_url=self.endpoint,
            aws_access_key_id=self["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"max_attempts": 0}))

    def healthy(self):
        status, _, body = self.request("GET", "/_caliber/health", sign=False)
        return status == 200 and json.loads(body)["status"] == "running"


@contextlib.contextmanager
def start_localcloud(tmp_path):
    """A private caliberd in tmp_path/home, stopped (and its log checked) on exit."""
    lc = LocalCloud(os.path.join(str(tmp_path), "home"))
    lc.start()
    try:
        yield lc
    finally:
        if lc.caliber("local", "status").returncode == 0:
            lc.stop()


@pytest.fixture(scope="module")
def localcloud(tmp_path_factory):
    with start_localcloud(tmp_path_factory.mktemp("localcloud")) as lc:
        yield lc
