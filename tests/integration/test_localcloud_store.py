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


def test_reads_do_not_wait_for_a_writer_holding_the_store(localcloud):
    """Describe/List/Get calls run in deferred read transactions (issue 8).

    Another connection holds the store's write lock for longer than
    caliberd's busy timeout (5 s).  Reads must answer at once with what was
    last committed; a write waits and then fails with 500, as it must
    while the database is locked by someone else.
    """
    lc = localcloud
    sm = lc.client("secretsmanager")
    ecs = lc.client("ecs")
    sm.create_secret(Name="held/one", SecretString="v1")
    ecs.create_cluster(clusterName="held")
    db = sqlite3.connect(os.path.join(lc.home, "caliberd.db"), timeout=10, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE sm_secret SET description = description WHERE 0")
        for _ in range(3):
            assert sm.describe_secret(SecretId="held/one")["Name"] == "held/one"
            names = [s["Name"] for s in sm.list_secrets(
                Filters=[{"Key": "name", "Values": ["held/"]}])["SecretList"]]
            assert names == ["held/one"]
            assert ecs.describe_clusters(clusters=["held"])["clusters"][0]["status"] == "ACTIVE"
            assert any(a.endswith(":cluster/held") for a in ecs.list_clusters()["clusterArns"])
        with pytest.raises(ClientError) as err:
            sm.put_secret_value(SecretId="held/one", SecretString="v2")
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    finally:
        db.execute("ROLLBACK")
        db.close()
    sm.put_secret_value(SecretId="held/one", SecretString="v2")
    assert sm.get_secret_value(SecretId="held/one")["SecretString"] == "v2"


def test_concurrent_readers_and_writers_get_no_busy_answer(localcloud):
    """Eight threads, reading and writing Secrets Manager and ECS at once,
    while the ECS scheduler writes on its own connection: every call
    succeeds, and nothing of SQLite's "database is locked" reaches a client
    or the log.  Bounded: 8 threads x 60 calls."""
    import threading

    lc = localcloud
    setup = lc.client("secretsmanager")
    for i in range(4):
        setup.create_secret(Name="busy/%d" % i, SecretString="0")
    lc.client("ecs").create_cluster(clusterName="busy")
    failures = []
    log_from = len(lc.log())

    def writer(n):
        sm, ecs = lc.client("secretsmanager"), lc.client("ecs")
        try:
            for k in range(60):
                sm.put_secret_value(SecretId="busy/%d" % (n % 4), SecretString=str(k))
                ecs.register_task_definition(family="busy-%d" % n, containerDefinitions=[
                    {"name": "c", "image": "none:v1", "command": ["true"]}])
        except Exception as exc:  # noqa: BLE001 - the failure is what is asserted
            failures.append("writer %d: %r" % (n, exc))

    def reader(n):
        sm, ecs = lc.client("secretsmanager"), lc.client("ecs")
        try:
            for k in range(60):
                assert sm.describe_secret(SecretId="busy/%d" % (k % 4))["Name"]
                assert len(sm.list_secrets(
                    Filters=[{"Key": "name", "Values": ["busy/"]}])["SecretList"]) == 4
                ecs.list_task_definitions()
                assert ecs.describe_clusters(clusters=["busy"])["clusters"][0]["clusterName"]
        except Exception as exc:  # noqa: BLE001
            failures.append("reader %d: %r" % (n, exc))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
    threads += [threading.Thread(target=reader, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not [t for t in threads if t.is_alive()], "threads still running after 300 s"
    assert failures == []
    log = lc.log()[log_from:]
    assert "database is locked" not in log and "SQLITE_BUSY" not in log, log[-3000:]
    for n in range(3):
        revs = lc.client("ecs").list_task_definitions(familyPrefix="busy-%d" % n)
        assert len(revs["taskDefinitionArns"]) == 60
