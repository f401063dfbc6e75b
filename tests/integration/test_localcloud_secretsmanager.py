"""Secrets Manager on caliberd.

test_every_operation_through_awscli drives every operation (and the version
stages) through both real CLIs: awscli v1 (`aws` on PATH, botocore 1.43) and
Debian's awscli v2 (/usr/bin/aws 2.9).  The detailed behaviour is then
checked with an in-process botocore client (Debian's python3-botocore), which
is the same wire protocol without a process start per call.
"""
import base64
import json
import os
import time
import uuid

import pytest
from botocore.exceptions import ClientError


def name_for(what):
    return "caliber/test/%s-%s" % (what, uuid.uuid4().hex[:8])


def cli_error(r):
    """The error code awscli prints: 'An error occurred (Code) when calling ...'."""
    assert r.returncode != 0, "expected an error, got: %s" % r.stdout
    marker = "An error occurred ("
    i = r.stderr.find(marker)
    assert i >= 0, r.stderr
    return r.stderr[i + len(marker):r.stderr.index(")", i)]


def code_of(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def sm(localcloud):
    return localcloud.client("secretsmanager")


def test_every_operation_through_awscli_v1_and_v2(localcloud, tmp_path):
    # the two CLIs run side by side: each call is mostly Python start-up time
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(every_operation, localcloud, v, tmp_path / ("v%d" % v)) for v in (1, 2)]
        for f in futures:
            f.result()


def every_operation(localcloud, v, tmp_path):
    os.makedirs(tmp_path)
    aws = lambda *a: localcloud.aws_json("secretsmanager", *a, v=v)
    fail = lambda *a: cli_error(localcloud.aws("secretsmanager", *a, v=v))
    prefix = "caliber/cli-v%d-%s" % (v, uuid.uuid4().hex[:6])
    name = prefix + "/db"
    token = str(uuid.uuid4())

    created = aws("create-secret", "--name", name, "--description", "the db",
                  "--secret-string", "one", "--client-request-token", token,
                  "--tags", '[{"Key":"client","Value":"acme"}]')
    arn = created["ARN"]
    assert arn.startswith("arn:aws:secretsmanager:us-east-1:000000000000:secret:%s-" % name)
    assert len(arn.rsplit("-", 1)[1]) == 6 and created["VersionId"] == token
    assert aws("create-secret", "--name", name, "--secret-string", "one",
               "--client-request-token", token) == created
    assert fail("create-secret", "--name", name, "--secret-string", "two",
                "--client-request-token", token) == "ResourceExistsException"
    for secret_id in (name, arn, arn[:-7]):
        got = aws("get-secret-value", "--secret-id", secret_id)
        assert (got["SecretString"], got["VersionId"], got["VersionStages"]) == ("one", token, ["AWSCURRENT"])

    v2 = aws("put-secret-value", "--secret-id", name, "--secret-string", "two")["VersionId"]
    pending = aws("put-secret-value", "--secret-id", name, "--secret-string", "three",
                  "--version-stages", "AWSPENDING")["VersionId"]
    desc = aws("describe-secret", "--secret-id", name)
    assert desc["VersionIdsToStages"] == {token: ["AWSPREVIOUS"], v2: ["AWSCURRENT"],
                                          pending: ["AWSPENDING"]}
    assert desc["Description"] == "the db" and desc["Tags"] == [{"Key": "client", "Value": "acme"}]
    assert aws("get-secret-value", "--secret-id", name, "--version-stage", "AWSPREVIOUS")["SecretString"] == "one"
    assert aws("get-secret-value", "--secret-id", name, "--version-id", pending)["SecretString"] == "three"

    assert fail("update-secret-version-stage", "--secret-id", name, "--version-stage", "AWSCURRENT",
                "--move-to-version-id", pending) == "InvalidParameterException"
    aws("update-secret-version-stage", "--secret-id", name, "--version-stage", "AWSCURRENT",
        "--move-to-version-id", pending, "--remove-from-version-id", v2)
    aws("update-secret-version-stage", "--secret-id", name, "--version-stage", "AWSPENDING",
        "--remove-from-version-id", pending)
    assert aws("describe-secret", "--secret-id", name)["VersionIdsToStages"] == {
        v2: ["AWSPREVIOUS"], pending: ["AWSCURRENT"]}
    assert aws("get-secret-value", "--secret-id", name)["SecretString"] == "three"

    blob = tmp_path / "blob"
    blob.write_bytes(b"\x00\x01binary\xff")
    aws("create-secret", "--name", prefix + "/bin", "--secret-binary", "fileb://%s" % blob)
    got = aws("get-secret-value", "--secret-id", prefix + "/bin")
    assert base64.b64decode(got["SecretBinary"]) == b"\x00\x01binary\xff"
    assert "VersionId" not in aws("create-secret", "--name", prefix + "/empty")

    flt = json.dumps([{"Key": "name", "Values": [prefix]}])
    page = aws("list-secrets", "--filters", flt, "--no-paginate", "--max-results", "2")
    assert len(page["SecretList"]) == 2 and page["NextToken"]
    rest = aws("list-secrets", "--filters", flt, "--no-paginate", "--max-results", "2",
               "--next-token", page["NextToken"])
    assert "NextToken" not in rest
    assert sorted(s["Name"] for s in page["SecretList"] + rest["SecretList"]) == sorted(
        [name, prefix + "/bin", prefix + "/empty"])
    assert [s["Name"] for s in aws("list-secrets", "--filters", json.dumps(
        [{"Key": "tag-value", "Values": ["acme"]}, {"Key": "name", "Values": [prefix]}]))["SecretList"]] == [name]

    deleted = aws("delete-secret", "--secret-id", name, "--recovery-window-in-days", "7")
    assert deleted["ARN"] == arn and "DeletionDate" in deleted
    r = localcloud.aws("secretsmanager", "get-secret-value", "--secret-id", name, v=v)
    assert cli_error(r) == "InvalidRequestException" and "marked for deletion" in r.stderr
    assert [s["Name"] for s in aws("list-secrets", "--filters", flt)["SecretList"]] == sorted(
        [prefix + "/bin", prefix + "/empty"])
    if v == 1:  # the model of awscli 2.9 predates IncludePlannedDeletion
        listed = aws("list-secrets", "--filters", flt, "--include-planned-deletion")
        assert name in [s["Name"] for s in listed["SecretList"]]
    assert aws("restore-secret", "--secret-id", name)["ARN"] == arn
    assert aws("get-secret-value", "--secret-id", name)["SecretString"] == "three"
    aws("delete-secret", "--secret-id", name, "--force-delete-without-recovery")
    assert fail("get-secret-value", "--secret-id", name) == "ResourceNotFoundException"


def test_create_then_get_by_name_full_arn_and_partial_arn(sm):
    name = name_for("db")
    created = sm.create_secret(Name=name, SecretString='{"password":"s3cr3t-1"}')
    arn = created["ARN"]
    assert arn.startswith("arn:aws:secretsmanager:us-east-1:000000000000:secret:%s-" % name)
    assert len(arn) == len("arn:aws:secretsmanager:us-east-1:000000000000:secret:") + len(name) + 7
    for secret_id in (name, arn, arn[:-7]):
        got = sm.get_secret_value(SecretId=secret_id)
        assert got["SecretString"] == '{"password":"s3cr3t-1"}'
        assert (got["ARN"], got["Name"], got["VersionId"]) == (arn, name, created["VersionId"])
        assert got["VersionStages"] == ["AWSCURRENT"] and "CreatedDate" in got


def test_secret_without_value_has_no_version_until_put(sm):
    name = name_for("empty")
    created = sm.create_secret(Name=name, Description="no value yet")
    assert "VersionId" not in created
    code, msg = code_of(sm.get_secret_value, SecretId=name)
    assert code == "ResourceNotFoundException" and "staging label: AWSCURRENT" in msg
    desc = sm.describe_secret(SecretId=name)
    assert desc["Description"] == "no value yet" and desc["VersionIdsToStages"] == {}
    assert sm.put_secret_value(SecretId=name, SecretString="first")["VersionStages"] == ["AWSCURRENT"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "first"


def test_binary_secret_round_trips_every_byte(sm):
    name = name_for("bin")
    raw = bytes(range(256)) * 3
    sm.create_secret(Name=name, SecretBinary=raw)
    got = sm.get_secret_value(SecretId=name)
    assert "SecretString" not in got and got["SecretBinary"] == raw


def test_empty_string_is_a_value(sm):
    name = name_for("blank")
    sm.create_secret(Name=name, SecretString="")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == ""


def test_client_request_token_makes_create_and_put_idempotent(sm):
    name = name_for("idem")
    token = str(uuid.uuid4())
    first = sm.create_secret(Name=name, SecretString="same", ClientRequestToken=token)
    again = sm.create_secret(Name=name, SecretString="same", ClientRequestToken=token)
    assert first["VersionId"] == token and (again["ARN"], again["VersionId"]) == (first["ARN"], token)
    assert code_of(sm.create_secret, Name=name, SecretString="other",
                   ClientRequestToken=token)[0] == "ResourceExistsException"
    code, msg = code_of(sm.create_secret, Name=name, SecretString="same")
    assert code == "ResourceExistsException" and name in msg
    token2 = str(uuid.uuid4())
    put1 = sm.put_secret_value(SecretId=name, SecretString="second", ClientRequestToken=token2)
    put2 = sm.put_secret_value(SecretId=name, SecretString="second", ClientRequestToken=token2)
    assert put1["VersionId"] == put2["VersionId"] == token2
    assert put2["VersionStages"] == ["AWSCURRENT"]
    assert code_of(sm.put_secret_value, SecretId=name, SecretString="changed",
                   ClientRequestToken=token2)[0] == "ResourceExistsException"
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"] == {
        token2: ["AWSCURRENT"], token: ["AWSPREVIOUS"]}


def test_put_moves_awscurrent_and_awsprevious_and_deprecates_the_oldest(sm):
    name = name_for("rotate")
    v1 = sm.create_secret(Name=name, SecretString="one")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="two")["VersionId"]
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"] == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    v3 = sm.put_secret_value(SecretId=name, SecretString="three")["VersionId"]
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"] == {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    prev = sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")
    assert (prev["SecretString"], prev["VersionId"]) == ("two", v2)
    old = sm.get_secret_value(SecretId=name, VersionId=v1)
    assert (old["SecretString"], old["VersionStages"]) == ("one", [])
    assert code_of(sm.get_secret_value, SecretId=name, VersionId=v1,
                   VersionStage="AWSCURRENT")[0] == "ResourceNotFoundException"
    both = sm.get_secret_value(SecretId=name, VersionId=v3, VersionStage="AWSCURRENT")
    assert both["SecretString"] == "three"
    listed = sm.list_secret_version_ids(SecretId=name)["Versions"]
    assert sorted(x["VersionId"] for x in listed) == sorted([v2, v3])
    listed = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    assert sorted(x["VersionId"] for x in listed) == sorted([v1, v2, v3])


def test_put_with_a_custom_stage_leaves_awscurrent_alone(sm):
    name = name_for("pending")
    v1 = sm.create_secret(Name=name, SecretString="live")["VersionId"]
    put = sm.put_secret_value(SecretId=name, SecretString="next", VersionStages=["AWSPENDING"])
    assert put["VersionStages"] == ["AWSPENDING"]
    got = sm.get_secret_value(SecretId=name)
    assert (got["SecretString"], got["VersionId"]) == ("live", v1)
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPENDING")["SecretString"] == "next"
    # moving AWSCURRENT onto the version holding AWSPREVIOUS takes that label away from it
    v3 = sm.put_secret_value(SecretId=name, SecretString="third")["VersionId"]
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=v1,
                                   RemoveFromVersionId=v3)
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"] == {
        v1: ["AWSCURRENT"], v3: ["AWSPREVIOUS"], put["VersionId"]: ["AWSPENDING"]}


def test_update_secret_version_stage_moves_and_removes_labels(sm):
    name = name_for("stage")
    v1 = sm.create_secret(Name=name, SecretString="one")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="two")["VersionId"]
    code, msg = code_of(sm.update_secret_version_stage, SecretId=name, VersionStage="AWSCURRENT",
                        MoveToVersionId=v1)
    assert code == "InvalidParameterException" and v2 in msg
    assert code_of(sm.update_secret_version_stage, SecretId=name, VersionStage="AWSCURRENT",
                   MoveToVersionId=v1, RemoveFromVersionId=v1)[0] == "InvalidParameterException"
    out = sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                         MoveToVersionId=v1, RemoveFromVersionId=v2)
    assert out["Name"] == name
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"] == {v1: ["AWSCURRENT"], v2: ["AWSPREVIOUS"]}
    sm.update_secret_version_stage(SecretId=name, VersionStage="BLUE", MoveToVersionId=v2)
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"] == {
        v1: ["AWSCURRENT"], v2: ["AWSPREVIOUS", "BLUE"]}
    sm.update_secret_version_stage(SecretId=name, VersionStage="BLUE", RemoveFromVersionId=v2)
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"] == {v1: ["AWSCURRENT"], v2: ["AWSPREVIOUS"]}
    assert code_of(sm.update_secret_version_stage, SecretId=name, VersionStage="AWSCURRENT",
                   RemoveFromVersionId=v1)[0] == "InvalidParameterException"
    assert code_of(sm.update_secret_version_stage, SecretId=name, VersionStage="BLUE",
                   MoveToVersionId=str(uuid.uuid4()))[0] == "ResourceNotFoundException"


def test_list_secrets_filters_on_name_description_tags_and_all(sm):
    prefix = "caliber/filter-%s" % uuid.uuid4().hex[:6]
    specs = [
        ("%s/alpha" % prefix, "Database password", [{"Key": "client", "Value": "acme"}]),
        ("%s/beta" % prefix, "django secret key", [{"Key": "client", "Value": "globex"}]),
        ("%s/gamma" % prefix, "other", [{"Key": "team", "Value": "ops"}]),
    ]
    for name, desc, tags in specs:
        sm.create_secret(Name=name, Description=desc, SecretString="x", Tags=tags)

    def names(*filters):
        out = sm.list_secrets(Filters=list(filters))
        return sorted(s["Name"] for s in out["SecretList"] if s["Name"].startswith(prefix))

    mine = {"Key": "name", "Values": [prefix]}
    all3 = sorted(s[0] for s in specs)
    assert names(mine) == all3
    assert names({"Key": "name", "Values": [prefix.upper()]}) == []  # case-sensitive
    assert names({"Key": "name", "Values": [prefix + "/al", prefix + "/be"]}) == all3[:2]
    assert names(mine, {"Key": "description", "Values": ["DATABASE"]}) == [prefix + "/alpha"]
    assert names(mine, {"Key": "tag-key", "Values": ["client"]}) == all3[:2]
    assert names(mine, {"Key": "tag-key", "Values": ["Client"]}) == []
    assert names(mine, {"Key": "tag-value", "Values": ["glob"]}) == [prefix + "/beta"]
    assert names(mine, {"Key": "tag-key", "Values": ["!client"]}) == [prefix + "/gamma"]
    assert names(mine, {"Key": "all", "Values": ["OPS"]}) == [prefix + "/gamma"]
    assert names(mine, {"Key": "all", "Values": ["django key"]}) == [prefix + "/beta"]
    entry = sm.list_secrets(Filters=[{"Key": "name", "Values": [prefix + "/alpha"]}])["SecretList"][0]
    assert entry["Description"] == "Database password"
    assert entry["Tags"] == [{"Key": "client", "Value": "acme"}]
    assert list(entry["SecretVersionsToStages"].values()) == [["AWSCURRENT"]]


def test_list_secrets_pages_with_max_results_and_next_token(sm):
    prefix = "caliber/page-%s" % uuid.uuid4().hex[:6]
    made = ["%s/s%d" % (prefix, i) for i in range(5)]
    for n in made:
        sm.create_secret(Name=n, SecretString="x")
    flt = [{"Key": "name", "Values": [prefix]}]
    seen, kw, pages = [], {}, 0
    while True:
        out = sm.list_secrets(MaxResults=2, Filters=flt, **kw)
        pages += 1
        assert len(out["SecretList"]) <= 2
        seen += [s["Name"] for s in out["SecretList"]]
        if "NextToken" not in out:
            break
        kw = {"NextToken": out["NextToken"]}
    assert pages == 3 and seen == made  # CreatedDate order, oldest first
    desc = sm.list_secrets(Filters=flt, SortOrder="desc")["SecretList"]
    assert [s["Name"] for s in desc] == made[::-1]
    assert code_of(sm.list_secrets, NextToken="bm9wZQ==")[0] == "InvalidNextTokenException"
    assert code_of(sm.list_secrets, MaxResults=101)[0] == "InvalidParameterException"


def test_delete_with_recovery_window_refuses_value_until_restored(sm, localcloud):
    name = name_for("del")
    arn = sm.create_secret(Name=name, SecretString="keep-me")["ARN"]
    before = time.time()
    out = sm.delete_secret(SecretId=name)
    assert out["ARN"] == arn
    assert abs(out["DeletionDate"].timestamp() - (before + 30 * 86400)) < 120
    code, msg = code_of(sm.get_secret_value, SecretId=name)
    assert code == "InvalidRequestException" and "marked for deletion" in msg
    assert code_of(sm.put_secret_value, SecretId=name, SecretString="n")[0] == "InvalidRequestException"
    assert code_of(sm.delete_secret, SecretId=name)[0] == "InvalidRequestException"
    assert code_of(sm.create_secret, Name=name, SecretString="x")[0] == "InvalidRequestException"
    assert "DeletedDate" in sm.describe_secret(SecretId=name)
    flt = [{"Key": "name", "Values": [name]}]
    assert sm.list_secrets(Filters=flt)["SecretList"] == []
    # Debian's botocore 1.29 predates IncludePlannedDeletion: send it raw
    status, _, body = localcloud.request("POST", "/", target="secretsmanager.ListSecrets", body=json.dumps(
        {"Filters": flt, "IncludePlannedDeletion": True}))
    assert status == 200 and [s["Name"] for s in json.loads(body)["SecretList"]] == [name]
    assert sm.restore_secret(SecretId=name)["ARN"] == arn
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "keep-me"
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)


def test_delete_options_are_validated_and_force_delete_is_immediate(sm):
    name = name_for("force")
    sm.create_secret(Name=name, SecretString="x")
    for days in (6, 31):
        code, msg = code_of(sm.delete_secret, SecretId=name, RecoveryWindowInDays=days)
        assert code == "InvalidParameterException" and "between 7 and 30" in msg
    assert code_of(sm.delete_secret, SecretId=name, RecoveryWindowInDays=7,
                   ForceDeleteWithoutRecovery=True)[0] == "InvalidParameterException"
    first = sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert code_of(sm.get_secret_value, SecretId=name)[0] == "ResourceNotFoundException"
    again = sm.create_secret(Name=name, SecretString="reborn")
    assert again["ARN"] != first["ARN"]


def test_errors_for_unknown_secret_and_bad_input(sm):
    code, msg = code_of(sm.get_secret_value, SecretId="caliber/no/such")
    assert code == "ResourceNotFoundException" and "can't find the specified secret" in msg
    assert code_of(sm.describe_secret, SecretId="arn:aws:secretsmanager:us-east-1:000000000000:"
                   "secret:nope-abcdef")[0] == "ResourceNotFoundException"
    assert code_of(sm.create_secret, Name="bad name!", SecretString="x")[0] == "InvalidParameterException"
    assert code_of(sm.create_secret, Name=name_for("both"), SecretString="x",
                   SecretBinary=b"x")[0] == "InvalidParameterException"
    assert code_of(sm.create_secret, Name=name_for("big"),
                   SecretString="x" * 65537)[0] == "InvalidParameterException"
    assert code_of(sm.put_secret_value, SecretId="caliber/no/such",
                   SecretString="x")[0] == "ResourceNotFoundException"


def test_update_secret_and_tags(sm):
    name = name_for("upd")
    v1 = sm.create_secret(Name=name, SecretString="a")["VersionId"]
    out = sm.update_secret(SecretId=name, Description="now described", SecretString="b")
    desc = sm.describe_secret(SecretId=name)
    assert desc["Description"] == "now described"
    assert desc["VersionIdsToStages"] == {v1: ["AWSPREVIOUS"], out["VersionId"]: ["AWSCURRENT"]}
    sm.tag_resource(SecretId=name, Tags=[{"Key": "env", "Value": "stg"}, {"Key": "client", "Value": "acme"}])
    sm.tag_resource(SecretId=name, Tags=[{"Key": "env", "Value": "prod"}])
    sm.untag_resource(SecretId=name, TagKeys=["client"])
    assert sm.describe_secret(SecretId=name)["Tags"] == [{"Key": "env", "Value": "prod"}]


def test_any_region_in_the_scope_is_accepted_and_keeps_secrets_apart(localcloud):
    eu = localcloud.client("secretsmanager", region="eu-west-1")
    us = localcloud.client("secretsmanager", region="us-east-1")
    name = name_for("region")
    arn = eu.create_secret(Name=name, SecretString="eu")["ARN"]
    assert ":eu-west-1:" in arn
    assert code_of(us.get_secret_value, SecretId=name)[0] == "ResourceNotFoundException"
    assert us.get_secret_value(SecretId=arn)["SecretString"] == "eu"


def test_values_are_encrypted_at_rest(sm, localcloud):
    marker = "plaintext-marker-" + uuid.uuid4().hex
    name = name_for("rest")
    sm.create_secret(Name=name, SecretString=marker)
    sm.put_secret_value(SecretId=name, SecretString=marker + "-2")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == marker + "-2"
    found_name = False
    for f in os.listdir(localcloud.home):
        path = os.path.join(localcloud.home, f)
        if os.path.isfile(path):
            with open(path, "rb") as fh:
                data = fh.read()
            assert marker.encode() not in data, "secret value in clear in %s" % f
            found_name |= f.startswith("caliberd.db") and name.encode() in data
    assert found_name, "the secret's name is in the database files, so the check reads the right files"
    assert marker not in localcloud.log()
    key = os.path.join(localcloud.home, "master.key")
    assert os.stat(key).st_mode & 0o777 == 0o600 and os.path.getsize(key) == 32
