"""A write to caliberd's store that fails fails the call (issue 8).

A call whose write did not happen must never answer success.  The failure is
real: a trigger put into caliberd's own SQLite store (another connection, as
an operator's sqlite3 would) makes the write abort, as a full disk or an I/O
error would.  The call answers 500, nothing of it is stored, and once the
trigger is gone the same call succeeds.
"""
import contextlib
import json
import os
import sqlite3
import time

import pytest
from botocore.exceptions import ClientError


@contextlib.contextmanager
def failing(lc, table, op="INSERT"):
    db = sqlite3.connect(os.path.join(lc.home, "caliberd.db"), timeout=10)
    try:
        db.execute("CREATE TRIGGER test_fail BEFORE %s ON %s BEGIN "
                   "SELECT RAISE(ABORT, 'simulated write failure'); END" % (op, table))
        db.commit()
        yield
    finally:
        db.execute("DROP TRIGGER IF EXISTS test_fail")
        db.commit()
        db.close()


def test_create_service_whose_deployment_is_not_stored_answers_500_and_leaves_nothing(localcloud):
    lc = localcloud
    lc.aws_json("ecs", "create-cluster", "--cluster-name", "store-it")
    td = lc.aws_json("ecs", "register-task-definition", "--family", "store-it",
                     "--container-definitions", json.dumps([{
                         "name": "c", "image": "none:v1", "command": ["true"]}]))
    td_arn = td["taskDefinition"]["taskDefinitionArn"]
    args = ("ecs", "create-service", "--cluster", "store-it", "--service-name", "svc",
            "--task-definition", td_arn, "--desired-count", "0")
    with failing(lc, "ecs_deployment"):
        r = lc.aws(*args)
        assert r.returncode != 0
        assert "ServerException" in r.stderr and "write to the store failed" in r.stderr, r.stderr
        assert lc.aws_json("ecs", "list-services", "--cluster", "store-it")["serviceArns"] == []
    out = lc.aws_json(*args)
    assert out["service"]["deployments"][0]["status"] == "PRIMARY"


def test_rds_calls_whose_write_fails_answer_500_and_change_nothing(localcloud):
    rds = localcloud.client("rds")
    rds.create_db_instance(DBInstanceIdentifier="store-it", DBInstanceClass="db.t3.micro",
                           Engine="postgres", MasterUsername="app",
                           MasterUserPassword="Store-it-pw-1", AllocatedStorage=20)
    deadline = time.time() + 90
    while rds.describe_db_instances(DBInstanceIdentifier="store-it")["DBInstances"][0][
            "DBInstanceStatus"] != "available":
        assert time.time() < deadline
        time.sleep(0.3)
    calls = [lambda: rds.reboot_db_instance(DBInstanceIdentifier="store-it"),
             lambda: rds.modify_db_instance(DBInstanceIdentifier="store-it",
                                            BackupRetentionPeriod=3),
             lambda: rds.delete_db_instance(DBInstanceIdentifier="store-it",
                                            SkipFinalSnapshot=True)]
    with failing(localcloud, "rds_instance", "UPDATE"):
        for call in calls:
            with pytest.raises(ClientError) as err:
                call()
            assert err.value.response["Error"]["Code"] == "InternalFailure"
            assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
            inst = rds.describe_db_instances(DBInstanceIdentifier="store-it")["DBInstances"][0]
            assert inst["DBInstanceStatus"] == "available", inst
            assert inst["BackupRetentionPeriod"] != 3
    rds.delete_db_instance(DBInstanceIdentifier="store-it", SkipFinalSnapshot=True)
