"""DocumentDB's control plane on caliberd: `aws docdb` (awscli v2, /usr/bin/aws)
creates clusters that are real caliber-docdb servers on real PostgreSQL, and
Debian's pymongo reaches them with the URI made from DescribeDBClusters.

Polling for states uses an in-process botocore `docdb` client (Debian's
botocore, the same model awscli v1 carries); every operation under test runs
through awscli v2 itself.  Expected documents are the ones the test wrote.
"""
import datetime
import glob
import json
import os
import time
import uuid

import pymongo
import pytest
from botocore.exceptions import ClientError
from pymongo.errors import OperationFailure

from conftest import free_port, start_localcloud

MASTER = "docdbadmin"
MASTER_PW = "Initial-pass-1"


def ident(what):
    return "%s-%s" % (what, uuid.uuid4().hex[:8])


def docdb(lc, *args, service="docdb"):
    """An awscli v2 `aws docdb ...` (or `aws rds ...`) command, its JSON output parsed."""
    return lc.aws_json(service, *[str(a) for a in args], v=2)


def docdb_fail(lc, *args, service="docdb"):
    """The error code awscli v2 prints for a failing command."""
    r = lc.aws(service, *[str(a) for a in args], v=2)
    assert r.returncode != 0, "expected an error, got: %s" % r.stdout
    marker = "An error occurred ("
    i = r.stderr.find(marker)
    assert i >= 0, r.stderr
    return r.stderr[i + len(marker):r.stderr.index(")", i)]


def wait_cluster(client, cid, status="available", timeout=120):
    deadline = time.time() + timeout
    while True:
        c = client.describe_db_clusters(DBClusterIdentifier=cid)["DBClusters"][0]
        if c["Status"] == status:
            return c
        assert c["Status"] not in ("failed", "incompatible-restore"), c
        assert time.time() < deadline, "%s still %s" % (cid, c["Status"])
        time.sleep(0.2)


def wait_gone(client, cid, timeout=60):
    deadline = time.time() + timeout
    while True:
        try:
            client.describe_db_clusters(DBClusterIdentifier=cid)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "DBClusterNotFoundFault"
            return
        assert time.time() < deadline, "%s not deleted" % cid
        time.sleep(0.2)


def wait_snapshot(client, snap, timeout=60):
    deadline = time.time() + timeout
    while True:
        s = client.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snap)["DBClusterSnapshots"][0]
        if s["Status"] == "available":
            return s
        assert s["Status"] == "creating", s
        assert time.time() < deadline
        time.sleep(0.2)


def create_cluster(lc, cid, *extra, password=MASTER_PW):
    return docdb(lc, "create-db-cluster", "--db-cluster-identifier", cid, "--engine", "docdb",
                 "--master-username", MASTER, "--master-user-password", password, *extra)["DBCluster"]


def add_instance(lc, cid, iid=None):
    return docdb(lc, "create-db-instance", "--db-instance-identifier", iid or cid + "-1",
                 "--db-instance-class", "db.r5.large", "--engine", "docdb",
                 "--db-cluster-identifier", cid)["DBInstance"]


def uri(lc, cluster, user=MASTER, password=MASTER_PW):
    """The connection string as DocumentDB's console gives it, from DescribeDBClusters."""
    return ("mongodb://%s:%s@%s:%d/?tls=true&tlsCAFile=%s&replicaSet=rs0&readPreference=secondaryPreferred"
            "&retryWrites=false" % (user, password, cluster["Endpoint"], cluster["Port"],
                                    os.path.join(lc.home, "ca", "ca.pem")))


def mongo(lc, cluster, **kw):
    c = pymongo.MongoClient(uri(lc, cluster, **kw), serverSelectionTimeoutMS=15000)
    return c


def _argv(cmdline_path):
    try:
        with open(cmdline_path, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def docs(client, coll="orders"):
    return list(client.shop[coll].find({}, sort=[("_id", 1)]))


def delete_cluster(lc, cid):
    client = lc.client("docdb")
    for i in client.describe_db_instances()["DBInstances"]:
        if i.get("DBClusterIdentifier") == cid:
            docdb(lc, "delete-db-instance", "--db-instance-identifier", i["DBInstanceIdentifier"])
    docdb(lc, "delete-db-cluster", "--db-cluster-identifier", cid, "--skip-final-snapshot")
    wait_gone(client, cid)


@pytest.fixture(scope="module")
def client(localcloud):
    return localcloud.client("docdb")


@pytest.fixture(scope="module")
def cluster(localcloud, client):
    """One cluster with one instance for the module, its documents in shop.orders."""
    cid = ident("src")
    create_cluster(localcloud, cid, "--backup-retention-period", 3, "--vpc-security-group-ids", "sg-0a1b2c3d",
                   "--storage-encrypted", "--tags", "Key=team,Value=api")
    add_instance(localcloud, cid)
    c = wait_cluster(client, cid)
    yield c
    delete_cluster(localcloud, cid)


def test_a_cluster_is_a_server_pymongo_reaches_with_the_uri_from_describe(localcloud, client, cluster):
    cid = cluster["DBClusterIdentifier"]
    c = docdb(localcloud, "describe-db-clusters", "--db-cluster-identifier", cid)["DBClusters"][0]
    assert c["Status"] == "available"
    assert c["Engine"] == "docdb" and c["EngineVersion"] == "5.0.0"
    assert c["MasterUsername"] == MASTER
    assert c["Endpoint"] == "localhost" and c["ReaderEndpoint"] == "localhost"
    assert isinstance(c["Port"], int) and c["Port"] > 0
    assert c["BackupRetentionPeriod"] == 3
    assert c["StorageEncrypted"] is True and c["DeletionProtection"] is False
    assert c["VpcSecurityGroups"] == [{"VpcSecurityGroupId": "sg-0a1b2c3d", "Status": "active"}]
    assert c["DBClusterArn"] == "arn:aws:rds:%s:000000000000:cluster:%s" % (localcloud["AWS_DEFAULT_REGION"], cid)
    assert c["DBClusterMembers"] == [{"DBInstanceIdentifier": cid + "-1", "IsClusterWriter": True,
                                      "DBClusterParameterGroupStatus": "in-sync", "PromotionTier": 1}]
    # the first automated backup is taken when the cluster becomes available
    assert c["EarliestRestorableTime"] <= c["LatestRestorableTime"]
    # aws rds sees the same cluster (one endpoint, one signing name)
    r = docdb(localcloud, "describe-db-clusters", "--db-cluster-identifier", cid, service="rds")["DBClusters"][0]
    assert r["Endpoint"] == c["Endpoint"] and r["Port"] == c["Port"]

    inst = docdb(localcloud, "describe-db-instances", "--db-instance-identifier", cid + "-1")["DBInstances"][0]
    assert inst["Engine"] == "docdb" and inst["DBClusterIdentifier"] == cid
    assert inst["DBInstanceStatus"] == "available"
    assert inst["Endpoint"] == {"Address": "localhost", "Port": c["Port"], "HostedZoneId": "ZNKXH85TT8WVW"}
    listed = docdb(localcloud, "describe-db-instances")["DBInstances"]
    assert cid + "-1" in [i["DBInstanceIdentifier"] for i in listed]

    # the wire server runs as its cluster's PostgreSQL user, never as root
    listen = ("127.0.0.1:%d" % c["Port"]).encode()
    owners = [os.stat(os.path.dirname(path)).st_uid for path in glob.glob("/proc/[0-9]*/cmdline")
              if _argv(path)[:1] and _argv(path)[0].endswith(b"caliber-docdb") and listen in _argv(path)]
    assert len(owners) == 1
    if os.getuid() == 0:
        assert owners[0] != 0

    m = mongo(localcloud, c)
    try:
        m.shop.orders.insert_many([{"_id": i, "item": "book-%d" % i, "qty": i * 2} for i in range(5)])
        assert m.shop.orders.count_documents({"qty": {"$gte": 4}}) == 3
        assert m.admin.command("hello")["setName"] == "rs0"
    finally:
        m.close()


def test_describe_filters_and_max_records_as_aws(localcloud, client, cluster):
    cid = cluster["DBClusterIdentifier"]
    got = docdb(localcloud, "describe-db-clusters", "--filters", "Name=db-cluster-id,Values=%s" % cid)["DBClusters"]
    assert [c["DBClusterIdentifier"] for c in got] == [cid]
    arn = cluster["DBClusterArn"]
    got = docdb(localcloud, "describe-db-clusters", "--filters", "Name=db-cluster-id,Values=%s" % arn)["DBClusters"]
    assert [c["DBClusterIdentifier"] for c in got] == [cid]
    got = docdb(localcloud, "describe-db-clusters", "--filters", "Name=engine,Values=aurora-postgresql")["DBClusters"]
    assert got == []
    assert docdb_fail(localcloud, "describe-db-clusters", "--filters", "Name=colour,Values=red") == \
        "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        client.describe_db_clusters(MaxRecords=5)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    page = client.describe_db_clusters(MaxRecords=20)
    assert cid in [c["DBClusterIdentifier"] for c in page["DBClusters"]] and "Marker" not in page


def error_of(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_errors_carry_documentdb_codes_and_statuses(localcloud, client, cluster):
    cid = cluster["DBClusterIdentifier"]
    assert error_of(client.describe_db_clusters, DBClusterIdentifier="no-such-cluster") == \
        ("DBClusterNotFoundFault", 404)
    assert docdb_fail(localcloud, "describe-db-clusters", "--db-cluster-identifier", "no-such-cluster") == \
        "DBClusterNotFoundFault"
    assert docdb_fail(localcloud, "create-db-cluster", "--db-cluster-identifier", cid, "--engine", "docdb",
                      "--master-username", MASTER, "--master-user-password", MASTER_PW) == \
        "DBClusterAlreadyExistsFault"
    new = ident("bad")
    kw = dict(DBClusterIdentifier=new, Engine="docdb", MasterUsername=MASTER, MasterUserPassword=MASTER_PW)
    assert error_of(client.create_db_cluster, **dict(kw, BackupRetentionPeriod=0)) == ("InvalidParameterValue", 400)
    assert error_of(client.create_db_cluster, **dict(kw, MasterUserPassword="short")) == \
        ("InvalidParameterValue", 400)
    assert error_of(client.create_db_cluster, **dict(kw, MasterUserPassword="with/slash1")) == \
        ("InvalidParameterValue", 400)
    assert error_of(client.create_db_cluster, **dict(kw, Engine="postgres")) == ("InvalidParameterValue", 400)
    assert error_of(client.create_db_cluster, **dict(kw, DBClusterIdentifier="1-starts-with-a-digit")) == \
        ("InvalidParameterValue", 400)
    assert error_of(client.create_db_cluster, **dict(kw, MasterUsername="has-hyphen")) == \
        ("InvalidParameterValue", 400)
    # the failed creates left nothing behind
    assert error_of(client.describe_db_clusters, DBClusterIdentifier=new) == ("DBClusterNotFoundFault", 404)

    # a cluster with instances is not deleted; a delete says what to do with the data
    assert error_of(client.delete_db_cluster, DBClusterIdentifier=cid, SkipFinalSnapshot=True) == \
        ("InvalidDBClusterStateFault", 400)
    assert error_of(client.delete_db_cluster, DBClusterIdentifier=cid) == ("InvalidParameterCombination", 400)
    assert error_of(client.delete_db_cluster, DBClusterIdentifier=cid, SkipFinalSnapshot=True,
                    FinalDBSnapshotIdentifier="final") == ("InvalidParameterCombination", 400)
    assert error_of(client.delete_db_cluster, DBClusterIdentifier="no-such-cluster", SkipFinalSnapshot=True) == \
        ("DBClusterNotFoundFault", 404)
    assert error_of(client.create_db_instance, DBInstanceIdentifier=ident("i"), DBInstanceClass="db.r5.large",
                    Engine="docdb", DBClusterIdentifier="no-such-cluster") == ("DBClusterNotFoundFault", 404)
    assert error_of(client.create_db_instance, DBInstanceIdentifier=cid + "-1", DBInstanceClass="db.r5.large",
                    Engine="docdb", DBClusterIdentifier=cid) == ("DBInstanceAlreadyExists", 400)
    assert error_of(client.describe_db_instances, DBInstanceIdentifier="no-such-instance") == \
        ("DBInstanceNotFound", 404)
    assert error_of(client.describe_db_cluster_snapshots, DBClusterSnapshotIdentifier="no-such-snap") == \
        ("DBClusterSnapshotNotFoundFault", 404)
    assert error_of(client.delete_db_cluster_snapshot, DBClusterSnapshotIdentifier="no-such-snap") == \
        ("DBClusterSnapshotNotFoundFault", 404)
    assert error_of(client.create_db_cluster_snapshot, DBClusterSnapshotIdentifier=ident("s"),
                    DBClusterIdentifier="no-such-cluster") == ("DBClusterNotFoundFault", 404)
    assert error_of(client.restore_db_cluster_from_snapshot, DBClusterIdentifier=ident("r"),
                    SnapshotIdentifier="no-such-snap", Engine="docdb") == ("DBClusterSnapshotNotFoundFault", 404)
    assert error_of(client.restore_db_cluster_to_point_in_time, DBClusterIdentifier=ident("r"),
                    SourceDBClusterIdentifier=cid) == ("InvalidParameterCombination", 400)
    assert error_of(client.restore_db_cluster_to_point_in_time, DBClusterIdentifier=ident("r"),
                    SourceDBClusterIdentifier=cid,
                    RestoreToTime=datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)) == \
        ("InvalidRestoreFault", 400)
    assert error_of(client.restore_db_cluster_to_point_in_time, DBClusterIdentifier=ident("r"),
                    SourceDBClusterIdentifier=cid,
                    RestoreToTime=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)) == \
        ("InvalidRestoreFault", 400)
    automated = client.describe_db_cluster_snapshots(DBClusterIdentifier=cid, SnapshotType="automated")
    snap = automated["DBClusterSnapshots"][0]["DBClusterSnapshotIdentifier"]
    assert snap.startswith("rds:%s-" % cid)
    assert error_of(client.delete_db_cluster_snapshot, DBClusterSnapshotIdentifier=snap) == \
        ("InvalidDBClusterSnapshotStateFault", 400)


def test_modify_changes_the_master_password_retention_and_deletion_protection(localcloud, client, cluster):
    cid = cluster["DBClusterIdentifier"]
    new_pw = "Changed-pass-2"
    c = docdb(localcloud, "modify-db-cluster", "--db-cluster-identifier", cid, "--master-user-password", new_pw,
              "--backup-retention-period", 7, "--deletion-protection", "--apply-immediately")["DBCluster"]
    assert c["BackupRetentionPeriod"] == 7 and c["DeletionProtection"] is True
    c = wait_cluster(client, cid)
    try:
        m = mongo(localcloud, c, password=new_pw)
        assert m.shop.command("ping")["ok"] == 1.0
        m.close()
        with pytest.raises(OperationFailure) as e:
            m = mongo(localcloud, c, password=MASTER_PW)
            try:
                m.shop.command("ping")
            finally:
                m.close()
        assert e.value.code == 18
        # protected: even without instances a delete is refused
        assert docdb_fail(localcloud, "delete-db-cluster", "--db-cluster-identifier", cid,
                          "--skip-final-snapshot") in ("InvalidParameterCombination", "InvalidDBClusterStateFault")
        assert error_of(client.delete_db_cluster, DBClusterIdentifier=cid, SkipFinalSnapshot=True)[0] in \
            ("InvalidParameterCombination", "InvalidDBClusterStateFault")
    finally:
        c = docdb(localcloud, "modify-db-cluster", "--db-cluster-identifier", cid, "--master-user-password",
                  MASTER_PW, "--no-deletion-protection", "--apply-immediately")["DBCluster"]
        assert c["DeletionProtection"] is False and c["BackupRetentionPeriod"] == 7
        wait_cluster(client, cid)
    # the password never reached a log or a command line
    logs = [os.path.join(localcloud.home, "caliberd.log")] + glob.glob(os.path.join(localcloud.home, "docdb", "*",
                                                                                  "docdb.log"))
    for path in logs:
        with open(path, errors="replace") as f:
            text = f.read()
        assert new_pw not in text and MASTER_PW not in text, path
    for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(cmdline, "rb") as f:
                argv = f.read()
        except OSError:
            continue
        if b"caliber-docdb" in argv:
            assert new_pw.encode() not in argv and MASTER_PW.encode() not in argv


def test_managed_master_password_is_a_secrets_manager_secret(localcloud, client):
    cid = ident("managed")
    # awscli v2 2.9's docdb model predates the option; its rds model (the same API) has it
    c = docdb(localcloud, "create-db-cluster", "--db-cluster-identifier", cid, "--engine", "docdb",
              "--master-username", MASTER, "--manage-master-user-password", service="rds")["DBCluster"]
    arn = c["MasterUserSecret"]["SecretArn"]
    assert c["MasterUserSecret"]["SecretStatus"] == "active"
    secret = localcloud.aws_json("secretsmanager", "describe-secret", "--secret-id", arn, v=2)
    assert secret["Name"].startswith(("rds!cluster-", "rds-cluster-"))
    value = json.loads(localcloud.aws_json("secretsmanager", "get-secret-value", "--secret-id", arn,
                                           v=2)["SecretString"])
    assert value["username"] == MASTER and len(value["password"]) >= 8
    add_instance(localcloud, cid)
    c = wait_cluster(client, cid)
    m = mongo(localcloud, c, password=value["password"])
    try:
        assert m.shop.command("ping")["ok"] == 1.0
    finally:
        m.close()
    assert docdb_fail(localcloud, "modify-db-cluster", "--db-cluster-identifier", cid, "--master-user-password",
                      "Other-pass-3", "--apply-immediately") == "InvalidParameterCombination"
    delete_cluster(localcloud, cid)
    r = localcloud.aws("secretsmanager", "describe-secret", "--secret-id", arn, v=2)
    assert r.returncode != 0 and "ResourceNotFoundException" in r.stderr


def test_snapshot_restore_and_final_snapshot_leave_the_source_untouched(localcloud, client, cluster):
    cid = cluster["DBClusterIdentifier"]
    m = mongo(localcloud, cluster)
    try:
        m.shop.snap.delete_many({})
        m.shop.snap.insert_many([{"_id": i, "phase": "before"} for i in range(3)])
        snap = ident("manual")
        s = docdb(localcloud, "create-db-cluster-snapshot", "--db-cluster-snapshot-identifier", snap,
                  "--db-cluster-identifier", cid)["DBClusterSnapshot"]
        assert s["Status"] == "creating" and s["SnapshotType"] == "manual" and s["Engine"] == "docdb"
        s = wait_snapshot(client, snap)
        assert s["DBClusterIdentifier"] == cid and s["MasterUsername"] == MASTER
        assert docdb_fail(localcloud, "create-db-cluster-snapshot", "--db-cluster-snapshot-identifier", snap,
                          "--db-cluster-identifier", cid) == "DBClusterSnapshotAlreadyExistsFault"
        m.shop.snap.insert_many([{"_id": i, "phase": "after"} for i in range(3, 6)])
        listed = docdb(localcloud, "describe-db-cluster-snapshots", "--db-cluster-identifier", cid,
                       "--snapshot-type", "manual")["DBClusterSnapshots"]
        assert [x["DBClusterSnapshotIdentifier"] for x in listed] == [snap]

        new = ident("fromsnap")
        r = docdb(localcloud, "restore-db-cluster-from-snapshot", "--db-cluster-identifier", new,
                  "--snapshot-identifier", snap, "--engine", "docdb")["DBCluster"]
        assert r["Status"] == "creating" and r["Port"] != cluster["Port"]
        add_instance(localcloud, new)
        r = wait_cluster(client, new)
        n = mongo(localcloud, r)
        try:
            assert docs(n, "snap") == [{"_id": i, "phase": "before"} for i in range(3)]
            n.shop.snap.insert_one({"_id": 99, "phase": "restored"})
        finally:
            n.close()
        assert docs(m, "snap") == [{"_id": i, "phase": "before"} for i in range(3)] + \
            [{"_id": i, "phase": "after"} for i in range(3, 6)]

        # a delete with a final snapshot keeps the data as they were
        docdb(localcloud, "delete-db-instance", "--db-instance-identifier", new + "-1")
        final = ident("final")
        d = docdb(localcloud, "delete-db-cluster", "--db-cluster-identifier", new,
                  "--final-db-snapshot-identifier", final)["DBCluster"]
        assert d["Status"] == "deleting"
        wait_gone(client, new)
        f = client.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=final)["DBClusterSnapshots"][0]
        assert f["Status"] == "available" and f["SnapshotType"] == "manual" and f["DBClusterIdentifier"] == new
        gone = docdb(localcloud, "delete-db-cluster-snapshot", "--db-cluster-snapshot-identifier", snap)
        assert gone["DBClusterSnapshot"]["DBClusterSnapshotIdentifier"] == snap
        assert error_of(client.describe_db_cluster_snapshots, DBClusterSnapshotIdentifier=snap)[0] == \
            "DBClusterSnapshotNotFoundFault"
        docdb(localcloud, "delete-db-cluster-snapshot", "--db-cluster-snapshot-identifier", final)
    finally:
        m.close()


def test_runbook_point_in_time_restore_gives_exactly_the_documents_of_that_time(localcloud, client, cluster):
    src = cluster["DBClusterIdentifier"]
    m = mongo(localcloud, cluster)
    try:
        m.shop.pitr.delete_many({})
        first = [{"_id": "a%d" % i, "n": i, "at": datetime.datetime(2024, 1, 1, i)} for i in range(4)]
        m.shop.pitr.insert_many(first)
        time.sleep(1.5)
        noted = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(seconds=1)
        time.sleep(2.5)
        m.shop.pitr.insert_many([{"_id": "b%d" % i, "n": 10 + i} for i in range(3)])
        m.shop.pitr.update_one({"_id": "a0"}, {"$set": {"n": 100}})

        new = ident("pitr")
        t = noted.strftime("%Y-%m-%dT%H:%M:%SZ")
        # the runbook's command, verbatim
        r = docdb(localcloud, "restore-db-cluster-to-point-in-time", "--source-db-cluster-identifier", src,
                  "--db-cluster-identifier", new, "--restore-to-time", t)["DBCluster"]
        assert r["Status"] == "creating"
        add_instance(localcloud, new)
        r = wait_cluster(client, new)
        n = mongo(localcloud, r)
        try:
            assert list(n.shop.pitr.find({}, sort=[("_id", 1)])) == first
        finally:
            n.close()
        # the source is untouched
        assert m.shop.pitr.count_documents({}) == 7 and m.shop.pitr.find_one({"_id": "a0"})["n"] == 100

        latest = ident("latest")
        docdb(localcloud, "restore-db-cluster-to-point-in-time", "--source-db-cluster-identifier", src,
              "--db-cluster-identifier", latest, "--use-latest-restorable-time")
        r = wait_cluster(client, latest)
        n = mongo(localcloud, r)
        try:
            assert n.shop.pitr.count_documents({}) == 7
        finally:
            n.close()
    finally:
        m.close()
    delete_cluster(localcloud, new)
    delete_cluster(localcloud, latest)


def test_clusters_survive_kill9_and_restarts_of_caliberd(tmp_path):
    with start_localcloud(tmp_path) as lc:
        client = lc.client("docdb")
        cid = ident("durable")
        create_cluster(lc, cid)
        add_instance(lc, cid)
        c = wait_cluster(client, cid)
        m = mongo(lc, c)
        m.shop.orders.insert_many([{"_id": i} for i in range(10)])
        m.close()

        lc.kill9()
        lc.start()
        client = lc.client("docdb")
        c = wait_cluster(client, cid)
        m = mongo(lc, c)
        assert [d["_id"] for d in docs(m)] == list(range(10))
        m.shop.orders.insert_one({"_id": 10})
        m.close()

        lc.stop()
        lc.start()
        client = lc.client("docdb")
        c = wait_cluster(client, cid)
        m = mongo(lc, c)
        assert [d["_id"] for d in docs(m)] == list(range(11))
        m.close()
        delete_cluster(lc, cid)


def test_subnet_and_cluster_parameter_groups_are_recorded_checked_and_described_back(localcloud, client):
    sg = docdb(localcloud, "create-db-subnet-group", "--db-subnet-group-name", "Api-Subnets",
               "--db-subnet-group-description", "the api's subnets",
               "--subnet-ids", "subnet-0aaa1111", "subnet-0bbb2222")["DBSubnetGroup"]
    assert sg["DBSubnetGroupName"] == "api-subnets" and sg["SubnetGroupStatus"] == "Complete"
    assert [s["SubnetIdentifier"] for s in sg["Subnets"]] == ["subnet-0aaa1111", "subnet-0bbb2222"]
    assert docdb_fail(localcloud, "create-db-subnet-group", "--db-subnet-group-name", "api-subnets",
                      "--db-subnet-group-description", "again", "--subnet-ids", "subnet-0aaa1111") == \
        "DBSubnetGroupAlreadyExists"
    assert error_of(client.create_db_subnet_group, DBSubnetGroupName="x", DBSubnetGroupDescription="d",
                    SubnetIds=["not-a-subnet"]) == ("InvalidSubnet", 400)
    sg = docdb(localcloud, "modify-db-subnet-group", "--db-subnet-group-name", "api-subnets",
               "--db-subnet-group-description", "moved", "--subnet-ids", "subnet-0ccc3333")["DBSubnetGroup"]
    assert sg["DBSubnetGroupDescription"] == "moved" and len(sg["Subnets"]) == 1
    got = docdb(localcloud, "describe-db-subnet-groups", "--db-subnet-group-name", "api-subnets")
    assert got["DBSubnetGroups"] == [sg]
    assert error_of(client.describe_db_subnet_groups, DBSubnetGroupName="nope") == \
        ("DBSubnetGroupNotFoundFault", 404)

    pg = docdb(localcloud, "create-db-cluster-parameter-group", "--db-cluster-parameter-group-name", "api-params",
               "--db-parameter-group-family", "docdb5.0", "--description", "the api's")["DBClusterParameterGroup"]
    assert pg["DBParameterGroupFamily"] == "docdb5.0" and pg["DBClusterParameterGroupArn"].endswith(":cluster-pg:api-params")
    assert docdb_fail(localcloud, "create-db-cluster-parameter-group", "--db-cluster-parameter-group-name",
                      "api-params", "--db-parameter-group-family", "docdb5.0", "--description", "x") == \
        "DBParameterGroupAlreadyExists"
    names = [g["DBClusterParameterGroupName"] for g in
             docdb(localcloud, "describe-db-cluster-parameter-groups")["DBClusterParameterGroups"]]
    assert "default.docdb5.0" in names and "api-params" in names

    def params(name):
        return {p["ParameterName"]: (p["ParameterValue"], p["Source"]) for p in
                docdb(localcloud, "describe-db-cluster-parameters", "--db-cluster-parameter-group-name",
                      name)["Parameters"]}
    assert params("api-params")["tls"] == ("enabled", "system")
    docdb(localcloud, "modify-db-cluster-parameter-group", "--db-cluster-parameter-group-name", "api-params",
          "--parameters", "ParameterName=profiler,ParameterValue=enabled,ApplyMethod=immediate",
          "ParameterName=profiler_threshold_ms,ParameterValue=250,ApplyMethod=immediate")
    p = params("api-params")
    assert p["profiler"] == ("enabled", "user") and p["profiler_threshold_ms"] == ("250", "user")
    assert error_of(client.modify_db_cluster_parameter_group, DBClusterParameterGroupName="api-params",
                    Parameters=[{"ParameterName": "profiler_threshold_ms", "ParameterValue": "10",
                                 "ApplyMethod": "immediate"}]) == ("InvalidParameterValue", 400)
    assert error_of(client.modify_db_cluster_parameter_group, DBClusterParameterGroupName="api-params",
                    Parameters=[{"ParameterName": "no_such", "ParameterValue": "1",
                                 "ApplyMethod": "immediate"}]) == ("InvalidParameterValue", 400)
    assert error_of(client.modify_db_cluster_parameter_group, DBClusterParameterGroupName="default.docdb5.0",
                    Parameters=[{"ParameterName": "tls", "ParameterValue": "disabled",
                                 "ApplyMethod": "pending-reboot"}]) == ("InvalidParameterValue", 400)
    docdb(localcloud, "reset-db-cluster-parameter-group", "--db-cluster-parameter-group-name", "api-params",
          "--parameters", "ParameterName=profiler,ApplyMethod=immediate")
    p = params("api-params")
    assert p["profiler"] == ("disabled", "system") and p["profiler_threshold_ms"] == ("250", "user")
    assert error_of(client.describe_db_cluster_parameters, DBClusterParameterGroupName="nope") == \
        ("DBParameterGroupNotFound", 404)
    assert error_of(client.delete_db_cluster_parameter_group, DBClusterParameterGroupName="default.docdb5.0") == \
        ("InvalidDBParameterGroupState", 400)

    # a cluster must name groups that exist, and holds them while it lives
    kw = dict(Engine="docdb", MasterUsername=MASTER, MasterUserPassword=MASTER_PW)
    assert error_of(client.create_db_cluster, DBClusterIdentifier=ident("g"), DBSubnetGroupName="nope", **kw) == \
        ("DBSubnetGroupNotFoundFault", 404)
    assert error_of(client.create_db_cluster, DBClusterIdentifier=ident("g"), DBClusterParameterGroupName="nope",
                    **kw) == ("DBClusterParameterGroupNotFound", 404)
    cid = ident("grouped")
    port = free_port()
    c = create_cluster(localcloud, cid, "--db-subnet-group-name", "api-subnets",
                       "--db-cluster-parameter-group-name", "api-params", "--port", port)
    assert c["DBSubnetGroup"] == "api-subnets" and c["DBClusterParameterGroup"] == "api-params"
    # a Port asked for is the one it listens on when it is free
    assert c["Port"] == port
    assert docdb_fail(localcloud, "modify-db-cluster", "--db-cluster-identifier", cid, "--port", port + 1,
                      "--apply-immediately") in ("InvalidParameterValue", "InvalidDBClusterStateFault")
    assert docdb_fail(localcloud, "delete-db-subnet-group", "--db-subnet-group-name", "api-subnets") == \
        "InvalidDBSubnetGroupStateFault"
    assert docdb_fail(localcloud, "delete-db-cluster-parameter-group", "--db-cluster-parameter-group-name",
                      "api-params") == "InvalidDBParameterGroupState"
    c = wait_cluster(client, cid)
    assert docdb_fail(localcloud, "modify-db-cluster", "--db-cluster-identifier", cid, "--port", port + 1,
                      "--apply-immediately") == "InvalidParameterValue"
    m = mongo(localcloud, c)
    try:
        assert m.admin.command("hello")["me"] == "localhost:%d" % port
    finally:
        m.close()
    delete_cluster(localcloud, cid)
    docdb(localcloud, "delete-db-subnet-group", "--db-subnet-group-name", "api-subnets")
    docdb(localcloud, "delete-db-cluster-parameter-group", "--db-cluster-parameter-group-name", "api-params")
    assert error_of(client.describe_db_subnet_groups, DBSubnetGroupName="api-subnets")[0] == \
        "DBSubnetGroupNotFoundFault"
    assert error_of(client.describe_db_cluster_parameter_groups, DBClusterParameterGroupName="api-params")[0] == \
        "DBParameterGroupNotFound"


def test_describe_pages_with_marker_as_awscli_follows_it(localcloud, client):
    # "default-..." sorts before the default groups ('-' < '.'): a Marker is a place in one order
    names = ["default-%02d" % i for i in range(3)] + ["page-%02d" % i for i in range(20)]
    for n in names:
        client.create_db_subnet_group(DBSubnetGroupName=n, DBSubnetGroupDescription=n, SubnetIds=["subnet-0aaa1111"])
        client.create_db_cluster_parameter_group(DBClusterParameterGroupName=n, DBParameterGroupFamily="docdb5.0",
                                                 Description=n)
    try:
        first = client.describe_db_subnet_groups(MaxRecords=20)
        assert len(first["DBSubnetGroups"]) == 20 and first["Marker"]
        rest = client.describe_db_subnet_groups(MaxRecords=20, Marker=first["Marker"])
        assert "Marker" not in rest
        got = [g["DBSubnetGroupName"] for g in first["DBSubnetGroups"] + rest["DBSubnetGroups"]]
        assert [g for g in got if g in names] == names and len(got) == len(set(got))
        # awscli v2 follows the Marker itself, 20 at a time
        listed = docdb(localcloud, "describe-db-cluster-parameter-groups", "--page-size", 20)
        got = [g["DBClusterParameterGroupName"] for g in listed["DBClusterParameterGroups"]]
        assert [g for g in got if g in names] == names and len(got) == len(set(got))
        assert "default.docdb5.0" in got and got == sorted(got)
        listed = docdb(localcloud, "describe-db-subnet-groups", "--page-size", 20)
        assert [g["DBSubnetGroupName"] for g in listed["DBSubnetGroups"]
                if g["DBSubnetGroupName"] in names] == names
    finally:
        for n in names:
            client.delete_db_subnet_group(DBSubnetGroupName=n)
            client.delete_db_cluster_parameter_group(DBClusterParameterGroupName=n)


def test_tags_are_kept_by_arn_as_aws_keeps_them(localcloud, client, cluster):
    arn = cluster["DBClusterArn"]

    def tags(resource):
        return docdb(localcloud, "list-tags-for-resource", "--resource-name", resource)["TagList"]
    assert tags(arn) == [{"Key": "team", "Value": "api"}]
    docdb(localcloud, "add-tags-to-resource", "--resource-name", arn, "--tags", "Key=team,Value=core",
          "Key=env,Value=prod")
    assert tags(arn) == [{"Key": "team", "Value": "core"}, {"Key": "env", "Value": "prod"}]
    docdb(localcloud, "remove-tags-from-resource", "--resource-name", arn, "--tag-keys", "team")
    assert tags(arn) == [{"Key": "env", "Value": "prod"}]

    inst = client.describe_db_instances(DBInstanceIdentifier=cluster["DBClusterIdentifier"] + "-1")["DBInstances"][0]
    assert tags(inst["DBInstanceArn"]) == []
    docdb(localcloud, "add-tags-to-resource", "--resource-name", inst["DBInstanceArn"], "--tags", "Key=role,Value=w")
    assert tags(inst["DBInstanceArn"]) == [{"Key": "role", "Value": "w"}]

    client.create_db_subnet_group(DBSubnetGroupName="tagged", DBSubnetGroupDescription="t",
                                  SubnetIds=["subnet-0aaa1111"], Tags=[{"Key": "k", "Value": "v"}])
    try:
        sg = client.describe_db_subnet_groups(DBSubnetGroupName="tagged")["DBSubnetGroups"][0]
        assert tags(sg["DBSubnetGroupArn"]) == [{"Key": "k", "Value": "v"}]
    finally:
        client.delete_db_subnet_group(DBSubnetGroupName="tagged")

    missing = arn.rsplit(":", 1)[0] + ":no-such-cluster"
    assert docdb_fail(localcloud, "list-tags-for-resource", "--resource-name", missing) == "DBClusterNotFoundFault"
    assert error_of(client.list_tags_for_resource, ResourceName=missing) == ("DBClusterNotFoundFault", 404)
    assert error_of(client.list_tags_for_resource, ResourceName="not-an-arn") == ("InvalidParameterValue", 400)
