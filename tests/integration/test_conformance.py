"""test_conformance.py: for every operation caliber supports, the same call
made with awscli (v1, botocore) and with `caliber api`, against a local
capture server, under a fixed clock (faketime) and fixed credentials, must
produce the same request: method, path, query, every signed header and its
value, the body (JSON, form and XML compared structurally) and the
Authorization header byte for byte (which implies the very same canonical
request and body hash).  Both outputs, parsed from the same canned
model-shaped answer, must also agree.

Differences allowed, and why: where awscli's botocore (1.43) models a
member that Debian's python3-botocore (1.29, caliber's models) does not
(ECS RunTask's auto-filled clientToken), the bodies must agree but for that
member, and the signatures cannot.  awscli's unsigned User-Agent,
amz-sdk-invocation-id, amz-sdk-request, Accept-Encoding and Expect headers,
which are not part of the signature; caliber's own User-Agent.
"""
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from capture_server import CaptureServer  # noqa: E402
from conformance_cases import CASES  # noqa: E402

CLOCK = "2026-01-02 03:04:05"
UNSIGNED = {"user-agent", "amz-sdk-invocation-id", "amz-sdk-request", "accept-encoding",
            "expect", "content-length", "accept", "connection", "transfer-encoding"}


def caliber_bin():
    d = os.environ.get("CALIBER_BIN_DIR")
    top = os.environ.get("CALIBER_TOP", os.path.join(os.path.dirname(__file__), "..", ".."))
    path = os.path.join(d, "caliber") if d else os.path.join(top, "bin", "caliber")
    assert os.access(path, os.X_OK), "no caliber binary at %s (build with make)" % path
    return path


def xform_name(op):
    # botocore's xform_name, which names awscli's commands
    from botocore import xform_name as xf
    return xf(op, "-")


def make_env(tmp_path):
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("AWS_") or k == "CALIBER_DEBUG":
            del e[k]
    e.update(AWS_ACCESS_KEY_ID="AKIDCALIBERTEST", AWS_SECRET_ACCESS_KEY="c4l1b3r/s3cr3t+key",
             AWS_DEFAULT_REGION="eu-west-1", AWS_CONFIG_FILE=str(tmp_path / "none"),
             AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_MAX_ATTEMPTS="1",
             AWS_RETRY_MODE="standard", HOME=str(tmp_path))
    # awscli v1 prints timestamps as received unless told otherwise; caliber prints ISO 8601
    (tmp_path / "config").write_text("[default]\ncli_timestamp_format = iso8601\n")
    e["AWS_CONFIG_FILE"] = str(tmp_path / "config")
    return e


def case_id(c):
    return "%s-%s" % (c[0], c[1])


def run_aws(server, env, tmp_path, service, op, params, opts):
    infile = tmp_path / "input.json"
    infile.write_text(json.dumps(params))
    cmd = ["faketime", "-f", CLOCK, "aws", "--endpoint-url", server.url, "--output", "json",
           "--no-paginate", "s3api" if service == "s3" else service, xform_name(op)]
    if opts.get("outfile"):
        # awscli's get-object wants its required members as flags beside the outfile
        for k, v in params.items():
            cmd += ["--" + xform_name(k), str(v)]
    else:
        cmd += ["--cli-input-json", "file://%s" % infile]
    if "body" in opts:
        cmd += ["--body", str(tmp_path / "body.bin")]
    if opts.get("outfile"):
        cmd += [str(tmp_path / "aws-out.bin")]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def run_caliber(server, env, tmp_path, service, op, params, opts):
    cmd = ["faketime", "-f", CLOCK, caliber_bin(), "api", "--endpoint-url", server.url,
           service, op, "-"]
    if "body" in opts:
        cmd += ["--body-file", str(tmp_path / "body.bin")]
    if opts.get("outfile"):
        cmd += ["--outfile", str(tmp_path / "caliber-out.bin")]
    # faketime preloads itself: an ASan build must accept not coming first
    env = dict(env, ASAN_OPTIONS=":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                        "verify_asan_link_order=0"])))
    return subprocess.run(cmd, env=env, input=json.dumps(params), capture_output=True,
                          text=True, timeout=120)


def headers_of(req):
    h = {}
    for k, v in req["headers"]:
        h.setdefault(k.lower(), []).append(v)
    return {k: ",".join(v) for k, v in h.items()}


def signed_headers(h):
    auth = h.get("authorization", "")
    assert "SignedHeaders=" in auth, "request not signed: %r" % auth
    return auth.split("SignedHeaders=")[1].split(",")[0].split(";")


def xml_tree(data):
    def norm(el):
        tag = el.tag
        text = (el.text or "").strip()
        return (tag, tuple(sorted(el.attrib.items())), text, tuple(norm(c) for c in el))
    return norm(ET.fromstring(data))


def body_form(req):
    ct = headers_of(req).get("content-type", "")
    body = req["body"]
    if not body:
        return ("empty",)
    if "json" in ct:
        return ("json", json.loads(body))
    if "x-www-form-urlencoded" in ct:
        return ("form", sorted(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)))
    if body.lstrip().startswith(b"<"):
        return ("xml", xml_tree(body))
    return ("raw", body)


def normalise_output(v):
    """Timestamps as instants, so that '+00:00' and 'Z' forms compare equal."""
    if isinstance(v, dict):
        return {k: normalise_output(x) for k, x in v.items() if k != "ResponseMetadata"}
    if isinstance(v, list):
        return [normalise_output(x) for x in v]
    if isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] == "T":
        try:
            return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return v
    return v


def run_both(case, d):
    """awscli, then caliber, against a capture server of the case's own."""
    service, op, params, reply, opts = case
    if "body" in opts:
        (d / "body.bin").write_bytes(opts["body"])
    s = CaptureServer().start()
    try:
        s.reply_with(reply)
        a = run_aws(s, make_env(d), d, service, op, params, opts)
        aws_reqs = s.take()
        s.reply_with(reply)
        c = run_caliber(s, make_env(d), d, service, op, params, opts)
        cal_reqs = s.take()
    finally:
        s.stop()
    return a, aws_reqs, c, cal_reqs


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    """Every case run first, a few at a time: awscli takes about a second a process."""
    from concurrent.futures import ThreadPoolExecutor

    for tool in ("aws", "faketime"):
        assert shutil.which(tool), "%s is required on PATH" % tool
    caliber_bin()
    # mktemp is not thread-safe (under load two threads collide): the directories first
    dirs = {case_id(case): tmp_path_factory.mktemp(case_id(case)) for case in CASES}

    def one(case):
        d = dirs[case_id(case)]
        return case_id(case), (d,) + run_both(case, d)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(one, CASES))


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_caliber_sends_what_awscli_sends(calls, case):
    service, op, params, reply, opts = case
    tmp_path, a, aws_reqs, c, cal_reqs = calls[case_id(case)]
    assert aws_reqs, "awscli sent nothing: %s" % a.stderr
    assert a.returncode == 0, a.stderr
    assert c.returncode == 0, c.stderr
    assert len(cal_reqs) == 1

    ra, rc = aws_reqs[0], cal_reqs[0]
    assert rc["method"] == ra["method"]
    pa, qa = (ra["target"].split("?", 1) + [""])[:2]
    pc, qc = (rc["target"].split("?", 1) + [""])[:2]
    assert pc == pa
    assert sorted(urllib.parse.parse_qsl(qc, keep_blank_values=True)) == \
        sorted(urllib.parse.parse_qsl(qa, keep_blank_values=True))
    ha, hc = headers_of(ra), headers_of(rc)
    assert signed_headers(hc) == signed_headers(ha)
    for name in signed_headers(ha):
        if name not in ("authorization", "x-amz-content-sha256") or \
                not opts.get("newer_members"):
            assert hc.get(name) == ha.get(name), name
    if opts.get("newer_members"):
        # awscli's newer model adds members (auto-filled idempotency tokens) that
        # Debian's model lacks: bodies agree without them; the signatures cannot
        ba = json.loads(ra["body"])
        for k in opts["newer_members"]:
            ba.pop(k)
        assert json.loads(rc["body"]) == ba
    else:
        assert body_form(rc) == body_form(ra)
        assert rc["body"] == ra["body"]
        assert hc["authorization"] == ha["authorization"]
    # nothing else differs but the headers that are not signed
    assert set(hc) - set(ha) - UNSIGNED == set()

    out_a = json.loads(a.stdout) if a.stdout.strip() else {}
    out_c = json.loads(c.stdout)
    assert normalise_output(out_c) == normalise_output(out_a)
    if opts.get("outfile"):
        assert (tmp_path / "caliber-out.bin").read_bytes() == \
            (tmp_path / "aws-out.bin").read_bytes()
