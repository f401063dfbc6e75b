"""caliber local start|stop|status|env, durability, authentication and
malformed requests against a real caliberd."""
import json
import os
import socket
import stat
import subprocess
import time

import pytest
from botocore.exceptions import ClientError

from conftest import LocalCloud, start_localcloud, free_port


def raw_exchange(port, data, timeout=30, half_close=False):
    """Send raw bytes (the server may close early) and return what it answers."""
    reply = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        try:
            while b"\r\n\r\n" not in reply:
                part = s.recv(65536)
                if not part:
                    break
                reply += part
        except OSError:
            pass
    return reply


def json_error(body):
    doc = json.loads(body)
    return doc["__type"], doc["message"]


# -- lifecycle ---------------------------------------------------------------

def test_start_status_env_stop(tmp_path):
    lc = LocalCloud(tmp_path / "home")
    r = lc.caliber("local", "--help")
    assert r.returncode == 0
    for action in ("start", "stop", "status", "env", "--port", "CALIBER_HOME"):
        assert action in r.stdout
    r = lc.caliber("local", "status")
    assert r.returncode == 1 and "not running" in r.stdout
    r = lc.caliber("local", "env")
    assert r.returncode == 1 and "caliber local start" in r.stderr and r.stdout == ""
    r = lc.caliber("local", "start")
    assert r.returncode == 0, r.stderr
    assert lc.endpoint in r.stdout
    try:
        r = lc.caliber("local", "status")
        assert r.returncode == 0
        assert "running" in r.stdout and "endpoint: %s" % lc.endpoint in r.stdout
        pid = lc.pid()
        with open(os.path.join(lc.home, "caliberd.pid")) as f:
            assert int(f.read()) == pid
        assert open("/proc/%d/comm" % pid).read().strip() == "caliberd"
        # a second start does not start a second daemon
        r = lc.caliber("local", "start")
        assert r.returncode == 0 and "already runs" in r.stdout and lc.pid() == pid
        # eval "$(caliber local env)" configures awscli v1
        env = {k: v for k, v in lc.items() if not k.startswith("AWS_") or k in (
            "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PAGER", "AWS_EC2_METADATA_DISABLED")}
        out = subprocess.run(
            ["sh", "-c", 'eval "$("$CALIBER_BIN_DIR/caliber" local env)" && '
             'aws secretsmanager create-secret --name from-env --secret-string v --query Name --output text'],
            env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "from-env"
        r = lc.caliber("local", "env")
        lines = dict(l[len("export "):].split("=", 1) for l in r.stdout.splitlines())
        assert set(lines) == {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                              "AWS_DEFAULT_REGION", "AWS_CA_BUNDLE"}
        # the local CA that signs the edge's certificates
        assert lines["AWS_CA_BUNDLE"] == "'%s'" % os.path.join(lc.home, "ca", "ca.pem")
        assert lines["AWS_ENDPOINT_URL"] == "'%s'" % lc.endpoint
    finally:
        r = lc.caliber("local", "stop")
    assert r.returncode == 0 and "stopped" in r.stdout
    lc.assert_clean_log()
    assert lc.caliber("local", "status").returncode == 1
    assert not os.path.exists(os.path.join(lc.home, "caliberd.pid"))
    assert "stopped" in lc.log().splitlines()[-1]
    r = lc.caliber("local", "stop")
    assert r.returncode == 0 and "not running" in r.stdout


def test_credentials_are_generated_once_and_private(tmp_path):
    with start_localcloud(tmp_path) as lc:
        key, secret = lc["AWS_ACCESS_KEY_ID"], lc["AWS_SECRET_ACCESS_KEY"]
        assert key.startswith("AKIA") and len(key) == 20 and key.isalnum() and key.isupper()
        secret_ok = len(secret) == 40 and secret not in lc.log()
        assert secret_ok, "the secret key is not 40 characters, or it is in the log"  # value never shown
        for f in ("credentials", "master.key"):
            assert stat.S_IMODE(os.stat(os.path.join(lc.home, f)).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(lc.home).st_mode) == 0o700
        lc.stop()
        lc.start()
        same = (lc["AWS_ACCESS_KEY_ID"], lc["AWS_SECRET_ACCESS_KEY"]) == (key, secret)
        assert same, "the credentials changed across a restart"


def test_ports_given_to_start_are_remembered(tmp_path):
    lc = LocalCloud(tmp_path / "home")
    port = free_port()
    env = {"CALIBER_LOCAL_PORT": ""}
    r = lc.caliber("local", "start", "--port", port, env=env)
    assert r.returncode == 0, r.stderr
    try:
        r = lc.caliber("local", "status", env=env)
        assert "endpoint: http://127.0.0.1:%d" % port in r.stdout
        assert "127.0.0.1:%d" % port in lc.caliber("local", "env", env=env).stdout
    finally:
        lc.caliber("local", "stop", env=env)
    lc.assert_clean_log()


def test_start_removes_bodies_a_killed_daemon_left_in_tmp(tmp_path):
    with start_localcloud(tmp_path) as lc:
        sm = lc.client("secretsmanager")
        sm.create_secret(Name="kept", SecretString="v1")
        lc.kill9()
        tmp = os.path.join(lc.home, "tmp")
        stray = os.path.join(tmp, "body-Ab12Cd")
        with open(stray, "wb") as f:
            f.write(b"half an upload")
        other = os.path.join(tmp, "not-caliberd.txt")
        with open(other, "w") as f:
            f.write("someone else's")
        lc.start()
        assert not os.path.exists(stray)
        assert os.path.exists(other)
        assert lc.client("secretsmanager").get_secret_value(SecretId="kept")["SecretString"] == "v1"


def test_binds_loopback_only(localcloud):
    want = "0100007F:%04X" % localcloud.port
    listening = []
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[1].endswith(":%04X" % localcloud.port):
                listening.append(fields[1])
    assert listening == [want]


def test_data_survives_stop_and_start(tmp_path):
    with start_localcloud(tmp_path) as lc:
        sm = lc.client("secretsmanager")
        sm.create_secret(Name="durable/one", SecretString="v1")
        sm.put_secret_value(SecretId="durable/one", SecretString="v2")
        lc.stop()
        lc.start()
        sm = lc.client("secretsmanager")
        assert sm.get_secret_value(SecretId="durable/one")["SecretString"] == "v2"
        assert sm.get_secret_value(SecretId="durable/one", VersionStage="AWSPREVIOUS")["SecretString"] == "v1"


def test_acknowledged_writes_survive_kill_9(tmp_path):
    with start_localcloud(tmp_path) as lc:
        sm = lc.client("secretsmanager")
        for i in range(20):
            sm.create_secret(Name="crash/%d" % i, SecretString="value-%d" % i)
        sm.put_secret_value(SecretId="crash/19", SecretString="last")
        lc.kill9()
        # the pid file stays behind but is not locked: reads as not running
        assert os.path.exists(os.path.join(lc.home, "caliberd.pid"))
        assert lc.caliber("local", "status").returncode == 1
        lc.start()
        sm = lc.client("secretsmanager")
        for i in range(19):
            assert sm.get_secret_value(SecretId="crash/%d" % i)["SecretString"] == "value-%d" % i
        assert sm.get_secret_value(SecretId="crash/19")["SecretString"] == "last"


@pytest.mark.parametrize("args,env", [
    (["local", "start", "--port", "0"], {}),
    (["local", "start", "--port", "65536"], {}),
    (["local", "start", "--port", "abc"], {}),
    (["local", "start", "--port"], {}),
    (["local", "start", "--edge-https-port", "-1"], {}),
    (["local", "start", "--timeout", "0"], {}),
    (["local", "start", "--bogus"], {}),
    (["local", "status", "--port", "1234"], {}),
    (["local", "frobnicate"], {}),
    (["local"], {}),
    (["local", "start"], {"CALIBER_LOCAL_PORT": "not-a-port"}),
    (["local", "start"], {"CALIBER_EDGE_HTTP_PORT": "99999"}),
])
def test_bad_input_exits_2_and_creates_nothing(tmp_path, args, env):
    lc = LocalCloud(tmp_path / "home")
    os.rmdir(lc.home)
    r = lc.caliber(*args, env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "error" in r.stderr
    assert not os.path.exists(lc.home)


def test_start_fails_cleanly_when_the_port_is_taken(tmp_path):
    lc = LocalCloud(tmp_path / "home")
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", lc.port))
        s.listen(1)
        r = lc.caliber("local", "start", "--timeout", "30")
    assert r.returncode == 1
    assert "127.0.0.1:%d" % lc.port in r.stderr
    assert lc.caliber("local", "status").returncode == 1


# -- authentication ----------------------------------------------------------

def test_wrong_secret_is_refused_with_invalid_signature(localcloud):
    for v in (1, 2):
        r = localcloud.aws("secretsmanager", "list-secrets", v=v,
                           env={"AWS_SECRET_ACCESS_KEY": "x" * 40})
        assert r.returncode != 0 and "(InvalidSignatureException)" in r.stderr, r.stderr
    status, hdrs, body = localcloud.request("POST", "/", body="{}", target="secretsmanager.ListSecrets",
                                            secret="y" * 40)
    assert status == 403 and json_error(body)[0] == "InvalidSignatureException"
    assert hdrs["x-amzn-requestid"]


def test_unknown_key_id_is_refused_as_unrecognized_client(localcloud):
    r = localcloud.aws("secretsmanager", "list-secrets", env={"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"})
    assert r.returncode != 0 and "(UnrecognizedClientException)" in r.stderr, r.stderr
    status, _, body = localcloud.request("POST", "/", body="{}", target="secretsmanager.ListSecrets",
                                         key="AKIAIOSFODNN7EXAMPLE")
    assert status == 403
    assert json_error(body) == ("UnrecognizedClientException",
                                "The security token included in the request is invalid.")


def test_skewed_client_clock_is_refused_as_expired_signature(localcloud):
    r = localcloud.aws("secretsmanager", "list-secrets", wrapper=["faketime", "-f", "-1h"])
    assert r.returncode != 0, r.stdout
    assert "(InvalidSignatureException)" in r.stderr and "Signature expired" in r.stderr, r.stderr
    r = localcloud.aws("secretsmanager", "list-secrets", wrapper=["faketime", "-f", "+20m"])
    assert "(InvalidSignatureException)" in r.stderr and "not yet current" in r.stderr, r.stderr
    # within 15 minutes is accepted
    r = localcloud.aws("secretsmanager", "list-secrets", wrapper=["faketime", "-f", "-10m"])
    assert r.returncode == 0, r.stderr


def test_unsigned_requests_are_refused_in_each_protocols_shape(localcloud):
    status, hdrs, body = localcloud.request("POST", "/", body="{}", sign=False,
                                            target="secretsmanager.ListSecrets")
    assert status == 403 and hdrs["content-type"] == "application/x-amz-json-1.1"
    assert json_error(body) == ("MissingAuthenticationTokenException", "Missing Authentication Token")
    status, _, body = localcloud.request("POST", "/", body="Action=DescribeDBInstances&Version=2014-10-31",
                                         sign=False,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403
    assert b"<ErrorResponse>" in body and b"<Type>Sender</Type>" in body
    assert b"<Code>MissingAuthenticationToken</Code>" in body and b"<RequestId>" in body
    status, hdrs, body = localcloud.request("GET", "/some-bucket/key", sign=False)
    assert status == 403 and body.startswith(b"<?xml")
    assert b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>" in body
    assert hdrs["x-amz-request-id"]
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", localcloud.endpoint + "/"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout == "403"


def test_unreadable_signature_is_an_incomplete_signature(localcloud):
    status, _, body = localcloud.request(
        "POST", "/", body="{}", sign=False, target="secretsmanager.ListSecrets",
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=garbage", "X-Amz-Date": "20260101T000000Z"})
    assert status == 400 and json_error(body)[0] == "IncompleteSignatureException"


# -- malformed requests --------------------------------------------------------

def test_malformed_json_requests_get_errors_and_the_daemon_goes_on(localcloud):
    cases = [
        ("secretsmanager.GetSecretValue", b"{not json", 400, "SerializationException"),
        ("secretsmanager.GetSecretValue", b"[1,2,3]", 400, "SerializationException"),
        ("secretsmanager.GetSecretValue", b'{"SecretId": 5}', 400, "SerializationException"),
        ("secretsmanager.GetSecretValue", b"\xff\xfe\x00garbage", 400, "SerializationException"),
        ("secretsmanager.GetSecretValue", b"{}", 400, "InvalidParameterException"),
        ("secretsmanager.NoSuchOperation", b"{}", 400, "UnknownOperationException"),
        ("kinesis_20131202.ListStreams", b"{}", 400, "UnknownOperationException"),
    ]
    for target, body, want_status, want_code in cases:
        status, hdrs, data = localcloud.request("POST", "/", body=body, target=target)
        assert (status, json_error(data)[0]) == (want_status, want_code), (target, body, data)
        assert hdrs["x-amzn-requestid"]
    status, _, data = localcloud.request("POST", "/", body=b"{}", headers={"Content-Type": "application/x-amz-json-1.1"})
    assert status == 400 and json_error(data)[0] == "UnknownOperationException"
    status, _, data = localcloud.request("POST", "/", body=b"{}", target="DynamoDB_20120810.ListTables",
                                         service="dynamodb")
    assert status == 400 and "dynamodb" in json_error(data)[1]
    assert localcloud.healthy()


def test_header_and_body_caps_are_answered_with_errors(localcloud):
    status, _, data = localcloud.request("POST", "/", body="{}", target="secretsmanager.ListSecrets",
                                         headers={"X-Padding": "p" * 20000})
    assert status == 400 and json_error(data)[0] == "RequestHeaderSectionTooLarge"
    reply = raw_exchange(localcloud.port, b"POST / HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"p" * 100000 +
                         b"\r\nContent-Length: 2\r\n\r\n{}")
    assert reply.startswith(b"HTTP/1.1 431"), reply[:200]
    big = json.dumps({"SecretId": "x", "Pad": "p" * (1024 * 1024 + 10)})
    status, _, data = localcloud.request("POST", "/", body=big, target="secretsmanager.GetSecretValue")
    assert status == 413 and json_error(data)[0] == "RequestEntityTooLarge"
    # an absurd Content-Length is refused before any of the body is read
    reply = raw_exchange(localcloud.port,
                         b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: secretsmanager.ListSecrets\r\n"
                         b"Authorization: AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/secretsmanager/"
                         b"aws4_request, SignedHeaders=host, Signature=00\r\nContent-Length: 10000000000\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert localcloud.healthy()


def test_refusal_with_expect_100_continue_is_sent_before_the_body(localcloud):
    reply = raw_exchange(localcloud.port,
                         b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: secretsmanager.ListSecrets\r\n"
                         b"Expect: 100-continue\r\nContent-Length: 5000000\r\n\r\n", timeout=10)
    assert reply.startswith(b"HTTP/1.1 403"), reply[:200]
    assert b"100 Continue" not in reply
    assert localcloud.healthy()


def test_oversized_chunked_body_is_refused_after_reading(localcloud):
    with socket.create_connection(("127.0.0.1", localcloud.port), timeout=30) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: secretsmanager.ListSecrets\r\n"
                  b"Authorization: AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/secretsmanager/aws4_request, "
                  b"SignedHeaders=host, Signature=00\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"p" * 65536
        for _ in range(20):
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply:
            part = s.recv(65536)
            if not part:
                break
            reply += part
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert localcloud.healthy()


def test_garbage_on_the_socket_does_not_hurt_the_daemon(localcloud):
    for junk in (b"\x00\xff\xfe garbage\r\n\r\n", b"GET\r\n\r\n", b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                 b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", b"\r\n" * 1000,
                 b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"):
        reply = raw_exchange(localcloud.port, junk, timeout=10, half_close=True)
        # an HTTP error, or a closed connection for bytes that are not HTTP at all
        assert reply == b"" or reply.startswith(b"HTTP/1.1 4"), (junk[:40], reply[:100])
    assert localcloud.healthy()
    sm = localcloud.client("secretsmanager")
    sm.create_secret(Name="after-garbage", SecretString="ok")
    assert sm.get_secret_value(SecretId="after-garbage")["SecretString"] == "ok"


def test_keep_alive_connection_serves_many_requests(localcloud):
    import http.client
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    creds = Credentials(localcloud["AWS_ACCESS_KEY_ID"], localcloud["AWS_SECRET_ACCESS_KEY"])
    conn = http.client.HTTPConnection("127.0.0.1", localcloud.port, timeout=30)
    try:
        sock = None
        # errors (unknown operation, bad JSON, unknown secret) keep the connection too
        for op, body, want in [("ListSecrets", b"{}", 200), ("NoSuchOperation", b"{}", 400),
                               ("ListSecrets", b"{}", 200), ("GetSecretValue", b"{bad", 400),
                               ("GetSecretValue", b'{"SecretId":"nope"}', 400), ("ListSecrets", b"{}", 200)]:
            req = AWSRequest(method="POST", url=localcloud.endpoint + "/", data=body,
                             headers={"X-Amz-Target": "secretsmanager." + op,
                                      "Content-Type": "application/x-amz-json-1.1"})
            SigV4Auth(creds, "secretsmanager", "us-east-1").add_auth(req)
            conn.request("POST", "/", body=body, headers=dict(req.headers.items()))
            resp = conn.getresponse()
            data = resp.read()
            assert resp.status == want, data
            if want == 200:
                assert "SecretList" in json.loads(data)
            assert resp.getheader("Connection") != "close"
            sock = sock or conn.sock
            assert conn.sock is sock  # the same socket served every request
    finally:
        conn.close()


def test_free_port_stays_out_of_the_kernels_ephemeral_range():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        lo, hi = (int(x) for x in f.read().split())
    for _ in range(50):
        port = free_port()
        assert not lo <= port <= hi, port
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
