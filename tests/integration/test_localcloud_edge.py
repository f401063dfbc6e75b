"""The nginx edge: a Route 53 alias to a CloudFront distribution makes
https://www.<sub>.hicaliber.localhost:<port>/ serve the distribution's bucket, with
a certificate from the local CA, CloudFront-like caching and invalidation, graceful
reloads and supervision.  Checked with curl (--cacert the CA bundle, --resolve)."""
import hashlib
import json
import os
import signal
import subprocess
import threading
import time

from conftest import start_localcloud


def curl(lc, host, path="/", extra=()):
    """GET over the edge: (status, headers dict lower-case, body bytes)."""
    port = lc.edge_https_port
    url = "https://%s:%d%s" % (host, port, path)
    r = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert", lc["AWS_CA_BUNDLE"],
                        "--resolve", "%s:%d:127.0.0.1" % (host, port), "-D", "-", "-o", "-", url]
                       + list(extra), capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr.decode()
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def site(lc, sub, files, ttl=(0, 3600, 86400), tmp=None, alias=True):
    """A bucket with files, a distribution over it, a zone and the www alias: the host name.
    With alias=False the alias is left out and returned as a function that makes it."""
    bucket = "edge-%s" % sub
    assert lc.aws("s3", "mb", "s3://" + bucket).returncode == 0
    src = tmp / bucket
    for name, data in files.items():
        p = src / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    r = lc.aws("s3", "sync", str(src), "s3://%s/" % bucket)
    assert r.returncode == 0, r.stderr
    host = "www.%s.hicaliber.localhost" % sub
    cfg = {
        "CallerReference": "edge-" + sub, "Comment": "", "Enabled": True,
        "DefaultRootObject": "index.html", "Aliases": {"Quantity": 1, "Items": [host]},
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": bucket + ".s3.us-east-1.amazonaws.com",
                                               "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https",
                                 "MinTTL": ttl[0], "DefaultTTL": ttl[1], "MaxTTL": ttl[2],
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                                 "TrustedSigners": {"Enabled": False, "Quantity": 0}}}
    dist = lc.aws_json("cloudfront", "create-distribution", "--distribution-config", json.dumps(cfg))["Distribution"]
    zone = lc.aws_json("route53", "create-hosted-zone", "--name", "%s.hicaliber.localhost" % sub,
                       "--caller-reference", "edge-zone-" + sub)["HostedZone"]["Id"]
    batch = {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": host, "Type": "A", "AliasTarget": {"HostedZoneId": "Z2FDTNDATAQYW2",
                                                   "DNSName": dist["DomainName"],
                                                   "EvaluateTargetHealth": False}}}]}

    def make_alias():
        r = lc.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zone,
                   "--change-batch", json.dumps(batch), v=2)
        assert r.returncode == 0, r.stderr
    if not alias:
        return host, make_alias
    make_alias()
    return host, bucket, dist["Id"]


def put(lc, bucket, key, data, tmp, *extra):
    p = tmp / ("put-" + key.replace("/", "_"))
    p.write_bytes(data)
    r = lc.aws("s3", "cp", str(p), "s3://%s/%s" % (bucket, key), *extra)
    assert r.returncode == 0, r.stderr


def test_alias_serves_the_bucket_over_https_with_root_object_and_types(localcloud, tmp_path):
    lc = localcloud
    assert lc["AWS_CA_BUNDLE"].endswith("ca.pem") and os.path.exists(lc["AWS_CA_BUNDLE"])
    host, bucket, _ = site(lc, "serve", {"index.html": b"<h1>home</h1>", "app.js": b"let a=1;",
                                        "css/site.css": b"body{}"}, tmp=tmp_path)
    status, headers, body = curl(lc, host, "/")
    assert status == 200 and body == b"<h1>home</h1>" and headers["content-type"] == "text/html"
    status, headers, body = curl(lc, host, "/app.js")
    want = lc.aws_json("s3api", "head-object", "--bucket", bucket, "--key", "app.js")["ContentType"]
    assert status == 200 and body == b"let a=1;" and headers["content-type"] == want
    status, headers, _ = curl(lc, host, "/css/site.css")
    assert status == 200 and headers["content-type"] == "text/css"
    status, _, _ = curl(lc, host, "/missing.html")
    assert status == 403
    # plain HTTP redirects to HTTPS on the edge's port
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                        "--resolve", "%s:%d:127.0.0.1" % (host, lc.edge_http_port),
                        "http://%s:%d/app.js" % (host, lc.edge_http_port)],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout == "301 https://%s:%d/app.js" % (host, lc.edge_https_port)
    # a name nobody routed is not served, and the certificate does not cover it
    r = subprocess.run(["curl", "-sS", "--cacert", lc["AWS_CA_BUNDLE"], "--resolve",
                        "nobody.hicaliber.localhost:%d:127.0.0.1" % lc.edge_https_port,
                        "https://nobody.hicaliber.localhost:%d/" % lc.edge_https_port],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0


def test_changed_objects_stay_cached_until_invalidated(localcloud, tmp_path):
    lc = localcloud
    host, bucket, dist = site(lc, "cache", {"index.html": b"old index", "app.js": b"old app"},
                              tmp=tmp_path)
    assert curl(lc, host, "/")[2] == b"old index"
    assert curl(lc, host, "/app.js")[2] == b"old app"
    status, headers, _ = curl(lc, host, "/app.js")
    assert headers["x-cache"] == "Hit from cloudfront"
    put(lc, bucket, "index.html", b"new index", tmp_path)
    put(lc, bucket, "app.js", b"new app", tmp_path)
    assert curl(lc, host, "/")[2] == b"old index"
    assert curl(lc, host, "/app.js")[2] == b"old app"
    # an invalidation of one path purges that path only
    inv = lc.aws_json("cloudfront", "create-invalidation", "--distribution-id", dist, "--paths",
                      "/app.js")["Invalidation"]
    r = lc.aws("cloudfront", "wait", "invalidation-completed", "--distribution-id", dist, "--id", inv["Id"])
    assert r.returncode == 0, r.stderr
    assert curl(lc, host, "/app.js")[2] == b"new app"
    assert curl(lc, host, "/")[2] == b"old index"
    inv = lc.aws_json("cloudfront", "create-invalidation", "--distribution-id", dist, "--paths",
                      "/*", v=2)["Invalidation"]
    assert lc.aws_json("cloudfront", "get-invalidation", "--distribution-id", dist, "--id",
                       inv["Id"])["Invalidation"]["Status"] == "Completed"
    assert curl(lc, host, "/")[2] == b"new index"


def test_objects_refresh_when_their_ttl_passes(localcloud, tmp_path):
    lc = localcloud
    host, bucket, _ = site(lc, "ttl", {"index.html": b"first", "long.txt": b"long first"},
                           ttl=(0, 1, 60), tmp=tmp_path)
    assert curl(lc, host, "/")[2] == b"first"
    assert curl(lc, host, "/long.txt")[2] == b"long first"
    put(lc, bucket, "index.html", b"second", tmp_path)
    # an object's own Cache-Control (within MinTTL..MaxTTL) wins over DefaultTTL
    put(lc, bucket, "long.txt", b"long second", tmp_path, "--cache-control", "max-age=60")
    time.sleep(2.2)
    assert curl(lc, host, "/")[2] == b"second"
    # long.txt was cached with DefaultTTL (1 s) before: now fetched, and kept for 60 s
    assert curl(lc, host, "/long.txt")[2] == b"long second"
    put(lc, bucket, "long.txt", b"long third", tmp_path, "--cache-control", "max-age=60")
    time.sleep(1.5)
    assert curl(lc, host, "/long.txt")[2] == b"long second"


def test_a_reload_finishes_the_download_in_flight(localcloud, tmp_path):
    lc = localcloud
    big = os.urandom(4 * 1024 * 1024)
    host, bucket, _ = site(lc, "reload", {"index.html": b"x", "big.bin": big}, tmp=tmp_path)
    other, make_alias = site(lc, "reload2", {"index.html": b"second site"}, tmp=tmp_path,
                             alias=False)
    pid_file = os.path.join(lc.home, "edge", "nginx.pid")
    master = int(open(pid_file).read())
    out = tmp_path / "download"
    port = lc.edge_https_port
    # about 8 s at 512 KB/s: the configuration changes under it
    proc = subprocess.Popen(["curl", "-sS", "--fail", "--limit-rate", "512K", "--cacert", lc["AWS_CA_BUNDLE"],
                             "--resolve", "%s:%d:127.0.0.1" % (host, port), "-o", str(out),
                             "https://%s:%d/big.bin" % (host, port)], stderr=subprocess.PIPE)
    ended = []
    waiter = threading.Thread(target=lambda: ended.append((proc.wait(), time.monotonic())))
    waiter.start()
    deadline = time.monotonic() + 30
    while not (out.exists() and out.stat().st_size > 0):
        assert proc.poll() is None and time.monotonic() < deadline, \
            "the download did not start: %r" % proc.stderr.read()
        time.sleep(0.05)
    make_alias()
    assert curl(lc, other, "/")[2] == b"second site"
    reloaded = time.monotonic()     # the new configuration is serving
    waiter.join(timeout=60)
    assert ended, "the download did not finish within 60 s"
    assert ended[0][0] == 0, proc.stderr.read()
    # the precondition, not a timing: the download was still running when the reload took effect
    assert ended[0][1] > reloaded, "the download ended before the reload: make it longer"
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(big).digest()
    assert int(open(pid_file).read()) == master


def test_nginx_is_restarted_when_it_dies(localcloud, tmp_path):
    lc = localcloud
    host, _, _ = site(lc, "restart", {"index.html": b"still here"}, tmp=tmp_path)
    pid_file = os.path.join(lc.home, "edge", "nginx.pid")
    master = int(open(pid_file).read())
    os.kill(master, signal.SIGKILL)
    for _ in range(100):
        time.sleep(0.1)
        try:
            now = int(open(pid_file).read())
        except (OSError, ValueError):
            continue
        if now != master:
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                                lc["AWS_CA_BUNDLE"], "--resolve",
                                "%s:%d:127.0.0.1" % (host, lc.edge_https_port),
                                "https://%s:%d/" % (host, lc.edge_https_port)],
                               capture_output=True, text=True)
            if r.stdout == "200":
                break
    else:
        raise AssertionError("nginx was not restarted")
    assert curl(lc, host, "/")[2] == b"still here"


def edge_work_dirs(lc):
    """The workers' directories under /var/cache/caliber-edge whose owner file names
    this instance's edge directory."""
    base, mine, found = "/var/cache/caliber-edge", os.path.realpath(os.path.join(lc.home, "edge")), []
    for d in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        try:
            with open(os.path.join(base, d, "owner")) as f:
                if os.path.realpath(f.read().strip()) == mine:
                    found.append(os.path.join(base, d))
        except OSError:
            pass
    return found


def test_edge_workers_run_unprivileged_and_come_back_after_caliberd_kill_9(tmp_path):
    with start_localcloud(tmp_path) as lc:
        host, _, _ = site(lc, "durable", {"index.html": b"durable site"}, tmp=tmp_path)
        assert curl(lc, host, "/")[2] == b"durable site"
        master = int(open(os.path.join(lc.home, "edge", "nginx.pid")).read())
        users = subprocess.run(["ps", "-o", "user=", "--ppid", str(master)], capture_output=True,
                               text=True).stdout.split()
        assert users and all(u == ("caliber" if os.geteuid() == 0 else users[0]) for u in users)
        lc.kill9()
        for _ in range(50):
            if not os.path.exists("/proc/%d" % master):
                break
            time.sleep(0.1)
        assert not os.path.exists("/proc/%d" % master), "nginx outlived caliberd"
        lc.start()
        assert curl(lc, host, "/")[2] == b"durable site"
        # as root the workers' cache/temp directory is under /var/cache/caliber-edge;
        # a clean stop removes it
        work = edge_work_dirs(lc)
        assert len(work) == (1 if os.geteuid() == 0 else 0), work
        lc.stop()
        assert [d for d in work if os.path.exists(d)] == []
