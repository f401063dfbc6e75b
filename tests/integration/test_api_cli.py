"""test_api_cli.py: `caliber api` as a command: usage errors exit 2 and say
what is valid, AWS errors go to stderr with code and request id and exit 1,
input from stdin, pagination, and CALIBER_DEBUG=aws logs that never show a
secret.  Runs the real binary against the local capture server."""
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from capture_server import CaptureServer  # noqa: E402
from test_conformance import caliber_bin  # noqa: E402

JSON_H = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "rid-42"}


@pytest.fixture(scope="module")
def server():
    s = CaptureServer().start()
    yield s
    s.stop()


@pytest.fixture
def env(tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e.pop("CALIBER_DEBUG", None)
    e.update(AWS_ACCESS_KEY_ID="AKIDCLITEST", AWS_SECRET_ACCESS_KEY="cli/secret",
             AWS_DEFAULT_REGION="eu-west-1", HOME=str(tmp_path))
    return e


def api(server, env, *args, stdin=None):
    return subprocess.run([caliber_bin(), "api", "--endpoint-url", server.url] + list(args),
                          env=env, input=stdin, capture_output=True, text=True, timeout=30)


def test_help_documents_flags_and_exit_codes(server, env):
    p = api(server, env, "--help")
    assert p.returncode == 0
    assert "--endpoint-url" in p.stdout and "Exit codes" in p.stdout


def test_unknown_service_is_a_usage_error_listing_the_services(server, env):
    p = api(server, env, "ec2", "DescribeInstances")
    assert p.returncode == 2
    assert "unknown service 'ec2'" in p.stderr and "secretsmanager" in p.stderr


def test_unknown_operation_is_a_usage_error_listing_the_operations(server, env):
    p = api(server, env, "sts", "GetSessionToken")
    assert p.returncode == 2
    assert "GetCallerIdentity" in p.stderr and "AssumeRole" in p.stderr


def test_invalid_json_says_where(server, env):
    p = api(server, env, "secretsmanager", "GetSecretValue", '{"SecretId": }')
    assert p.returncode == 2
    assert "not valid JSON" in p.stderr and "line 1, column" in p.stderr


def test_unknown_parameter_is_a_usage_error_naming_the_valid_ones(server, env):
    p = api(server, env, "secretsmanager", "GetSecretValue", '{"SecretID": "x"}')
    assert p.returncode == 2
    assert "'SecretID'" in p.stderr and "SecretId" in p.stderr
    assert server.take() == []


def test_aws_error_goes_to_stderr_with_code_and_request_id(server, env):
    server.reply_with({"status": 400, "headers": JSON_H, "body": json.dumps(
        {"__type": "ResourceNotFoundException",
         "Message": "Secrets Manager can't find the specified secret."})})
    p = api(server, env, "secretsmanager", "GetSecretValue", '{"SecretId": "nope"}')
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr == ("caliber: error: ResourceNotFoundException: Secrets Manager can't find "
                        "the specified secret. (request id rid-42)\n")


def test_input_from_stdin_and_secret_kept_out_of_debug_log(server, env):
    server.reply_with({"status": 200, "headers": JSON_H, "body": json.dumps(
        {"ARN": "arn", "Name": "n", "VersionId": "v1"})})
    env = dict(env, CALIBER_DEBUG="aws", AWS_SESSION_TOKEN="tok-should-not-leak")
    p = api(server, env, "secretsmanager", "PutSecretValue", "-",
            stdin='{"SecretId": "n", "SecretString": "correct horse battery"}')
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"ARN": "arn", "Name": "n", "VersionId": "v1"}
    req = server.take()[0]
    assert json.loads(req["body"])["SecretString"] == "correct horse battery"
    assert "> POST %s/" % server.url in p.stderr
    assert '"SecretString":"***"' in p.stderr
    for secret in ("correct horse", "tok-should-not-leak", "cli/secret"):
        assert secret not in p.stderr


def test_paginate_merges_every_page(server, env):
    server.reply_with(
        {"status": 200, "headers": JSON_H, "body": '{"taskArns": ["a", "b"], "nextToken": "n1"}'},
        {"status": 200, "headers": JSON_H, "body": '{"taskArns": ["c"]}'})
    p = api(server, env, "--paginate", "ecs", "ListTasks", '{"cluster": "acme-stg"}')
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["taskArns"] == ["a", "b", "c"]
    reqs = server.take()
    assert len(reqs) == 2 and json.loads(reqs[1]["body"])["nextToken"] == "n1"


def test_region_is_required(server, env):
    del env["AWS_DEFAULT_REGION"]
    p = api(server, env, "sts", "GetCallerIdentity")
    assert p.returncode == 2
    assert "region" in p.stderr


def test_no_credentials_on_the_machine_exits_1_not_usage(server, env):
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    p = api(server, env, "sts", "GetCallerIdentity")
    assert p.returncode == 1, p.stderr
    assert "no AWS credentials found" in p.stderr
    assert server.take() == []


def test_missing_operation_lists_the_services_operations(server, env):
    p = api(server, env, "secretsmanager")
    assert p.returncode == 2
    assert "missing OPERATION" in p.stderr and "GetSecretValue" in p.stderr


def test_get_object_streams_the_body_to_the_outfile(server, env, tmp_path):
    body = b"\x00\x01binary\xff" * 1000
    server.reply_with({"status": 200, "headers": {"Content-Type": "application/octet-stream",
                                                  "ETag": '"e"'}, "body": body})
    out = tmp_path / "obj.bin"
    p = api(server, env, "s3", "GetObject", '{"Bucket": "b", "Key": "k"}', "--outfile", str(out))
    assert p.returncode == 0, p.stderr
    assert out.read_bytes() == body
    assert "Body" not in json.loads(p.stdout)
    assert server.take()[0]["target"] == "/b/k"


def test_wait_polls_the_waiter_until_success(server, env):
    pending = ("<GetChangeResponse><ChangeInfo><Id>/change/C1</Id><Status>%s</Status>"
               "</ChangeInfo></GetChangeResponse>")
    server.reply_with({"status": 200, "headers": {}, "body": pending % "PENDING"},
                      {"status": 200, "headers": {}, "body": pending % "INSYNC"})
    p = api(server, env, "--wait", "ResourceRecordSetsChanged", "--wait-delay", "0.05",
            "route53", '{"Id": "/change/C1"}')
    assert p.returncode == 0, p.stderr
    reqs = server.take()
    assert len(reqs) == 2 and reqs[0]["target"] == "/2013-04-01/change/C1"


def test_wait_fails_on_timeout_and_unknown_waiters(server, env):
    server.reply_with({"status": 200, "headers": {}, "body":
                       "<GetChangeResponse><ChangeInfo><Status>PENDING</Status></ChangeInfo>"
                       "</GetChangeResponse>"})
    p = api(server, env, "--wait", "ResourceRecordSetsChanged", "--wait-delay", "0.05",
            "--wait-timeout", "0.2", "route53", '{"Id": "C1"}')
    assert p.returncode == 1
    assert "timed out" in p.stderr
    p = api(server, env, "--wait", "Nope", "route53", '{"Id": "C1"}')
    assert p.returncode == 2
    assert "ResourceRecordSetsChanged" in p.stderr
