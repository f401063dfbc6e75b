"""Slow clients cannot take the API away (issue 9, finding 7).

300 connections trickling header bytes once filled libmicrohttpd's
connection limit, and every API call was reset.  Now the limit is far above
what a slowloris of that size holds, and a connection that has not sent a
whole header section within CALIBER_HTTP_HEADER_TIMEOUT seconds (20 by
default; 2 here) of its start, or a body at 1 KiB/s, is closed by caliberd.
"""
import os
import socket
import time

import pytest

from conftest import LocalCloud

SLOW = 300


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    lc = LocalCloud(str(tmp_path_factory.mktemp("slow") / "home"))
    lc["CALIBER_HTTP_HEADER_TIMEOUT"] = "2"
    lc.start()
    try:
        yield lc
    finally:
        lc.stop()


def trickle(lc, n, first):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", lc.port), timeout=10)
        s.sendall(first)
        socks.append(s)
    return socks


def closed_by_server(s, deadline):
    """True once the server closed the connection (EOF or reset) before deadline."""
    s.settimeout(0.5)
    while time.time() < deadline:
        try:
            s.sendall(b"X")
            if s.recv(1) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def test_slow_headers_neither_block_the_api_nor_stay_open(cloud):
    lc = cloud
    socks = trickle(lc, SLOW, b"GET / HTTP/1.1\r\nHost: x\r\nX-a: ")
    try:
        # the API answers while all of them hang on
        lc.aws_json("secretsmanager", "list-secrets")
        for s in socks[:50]:
            s.sendall(b"a")
        lc.aws_json("s3api", "list-buckets")
        # and each trickler is cut off soon after the header deadline
        deadline = time.time() + 30
        assert all(closed_by_server(s, deadline) for s in socks)
        assert "request header did not arrive in time" in lc.log()
        lc.aws_json("secretsmanager", "list-secrets")
    finally:
        for s in socks:
            s.close()


def test_a_trickled_body_is_cut_off_and_nothing_is_stored(cloud):
    lc = cloud
    lc.aws_json("s3api", "create-bucket", "--bucket", "slow-body")
    s = socket.create_connection(("127.0.0.1", lc.port), timeout=10)
    try:
        s.sendall(b"PUT /slow-body/k HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Length: 1000000\r\n\r\n")
        deadline = time.time() + 30
        assert closed_by_server(s, deadline)
    finally:
        s.close()
    assert "request body did not arrive in time" in lc.log()
    listed = lc.aws_json("s3api", "list-objects-v2", "--bucket", "slow-body")
    assert listed.get("KeyCount", 0) == 0, listed


def test_a_keep_alive_client_goes_on_working(cloud):
    # botocore keeps its connections: calls 3 s apart (beyond the 2 s header
    # deadline on an idle connection) still succeed
    s3 = cloud.client("s3")
    s3.list_buckets()
    time.sleep(3)
    s3.list_buckets()


def test_a_negative_content_length_is_refused_and_stores_nothing(cloud):
    # finding 13: refused by libmicrohttpd with 400 and the connection closed;
    # its reply's head comes twice (a defect of libmicrohttpd 0.9.75, documented
    # in docs/localcloud.md), which this test does not assert either way
    lc = cloud
    lc.aws_json("s3api", "create-bucket", "--bucket", "neg-length")
    s = socket.create_connection(("127.0.0.1", lc.port), timeout=10)
    try:
        s.sendall(b"PUT /neg-length/k HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Length: -5\r\n\r\nhello")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    assert data.startswith(b"HTTP/1.1 400 "), data[:200]
    listed = lc.aws_json("s3api", "list-objects-v2", "--bucket", "neg-length")
    assert listed.get("KeyCount", 0) == 0, listed
    lc.aws_json("s3api", "list-buckets")   # and the API goes on
