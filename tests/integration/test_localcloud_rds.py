"""RDS for PostgreSQL on caliberd: real PostgreSQL servers behind the RDS Query API.

The operations go through the real CLIs (Debian's awscli v2 at /usr/bin/aws and
awscli v1 on PATH, both given --endpoint-url: awscli v1 1.45 does not apply
AWS_ENDPOINT_URL to its rds commands); polling for states uses an in-process
botocore client.  Data goes in and out with psql, the password in PGPASSWORD.
"""
import datetime
import json
import os
import subprocess
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import LocalCloud

MASTER_PW = "Initial-pass-1"


def ident(what):
    return "%s-%s" % (what, uuid.uuid4().hex[:8])


def aws(lc, *args, v=1):
    """An rds command through awscli v1 or v2, JSON output parsed."""
    args = ("--endpoint-url", lc.endpoint, "rds") + tuple(str(a) for a in args)
    return lc.aws_json(*args, v=v) if v == 1 else lc.aws_json(*args[2:], v=2)


def aws_fail(lc, *args, v=1):
    """The error code awscli prints for a failing rds command."""
    r = lc.aws("--endpoint-url", lc.endpoint, "rds", *[str(a) for a in args]) if v == 1 \
        else lc.aws("rds", *[str(a) for a in args], v=2)
    assert r.returncode != 0, "expected an error, got: %s" % r.stdout
    marker = "An error occurred ("
    i = r.stderr.find(marker)
    assert i >= 0, r.stderr
    return r.stderr[i + len(marker):r.stderr.index(")", i)]


def wait_instance(rds, db_id, status="available", timeout=90):
    deadline = time.time() + timeout
    while True:
        inst = rds.describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"][0]
        if inst["DBInstanceStatus"] == status:
            return inst
        assert inst["DBInstanceStatus"] not in ("failed", "incompatible-restore"), inst
        assert time.time() < deadline, "%s still %s" % (db_id, inst["DBInstanceStatus"])
        time.sleep(0.2)


def wait_first_backup(rds, db_id, timeout=90):
    deadline = time.time() + timeout
    while True:
        snaps = rds.describe_db_snapshots(DBInstanceIdentifier=db_id,
                                          SnapshotType="automated")["DBSnapshots"]
        if any(s["Status"] == "available" for s in snaps):
            return
        assert time.time() < deadline, "%s has no automated backup after %d s: %s" % (
            db_id, timeout, [(s["DBSnapshotIdentifier"], s["Status"]) for s in snaps])
        time.sleep(0.2)


def wait_gone(rds, db_id, timeout=60):
    deadline = time.time() + timeout
    while True:
        try:
            rds.describe_db_instances(DBInstanceIdentifier=db_id)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "DBInstanceNotFound"
            return
        assert time.time() < deadline, "%s not deleted" % db_id
        time.sleep(0.2)


def wait_snapshot(rds, snap, timeout=60):
    deadline = time.time() + timeout
    while True:
        s = rds.describe_db_snapshots(DBSnapshotIdentifier=snap)["DBSnapshots"][0]
        if s["Status"] == "available":
            return s
        assert s["Status"] == "creating", s
        assert time.time() < deadline
        time.sleep(0.2)


def psql(port, sql, password=MASTER_PW, user="app", db="appdb", check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGPASSWORD"] = password
    env["PGCONNECT_TIMEOUT"] = "5"
    r = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                        "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", db, "-c", sql],
                       env=env, capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def rows(port, **kw):
    out = psql(port, "SELECT n FROM t ORDER BY n", **kw).stdout.split()
    return [int(x) for x in out]


def create(lc, db_id, v=1, *extra):
    return aws(lc, "create-db-instance", "--db-instance-identifier", db_id,
               "--db-instance-class", "db.t3.micro", "--engine", "postgres",
               "--master-username", "app", "--master-user-password", MASTER_PW,
               "--db-name", "appdb", *extra, v=v)["DBInstance"]


def engine_dir(lc, db_id):
    return os.path.join(lc.home, "rds", db_id)


@pytest.fixture(scope="module")
def rds(localcloud):
    return localcloud.client("rds")


@pytest.fixture(scope="module")
def pg(localcloud, rds):
    """One available instance (master 'app', database 'appdb') for the smaller tests,
    with its first automated backup taken: the next is a day away, so no backup
    ('backing-up', which refuses reboots and modifications as on AWS) starts under a test."""
    db_id = ident("pg")
    create(localcloud, db_id)
    wait_first_backup(rds, db_id)
    inst = wait_instance(rds, db_id)
    yield db_id, inst["Endpoint"]["Port"]
    rds.delete_db_instance(DBInstanceIdentifier=db_id, SkipFinalSnapshot=True)
    wait_gone(rds, db_id)


def test_snapshot_and_point_in_time_restores_give_exactly_the_rows_of_their_moment(localcloud, rds):
    lc = localcloud
    src, snap, restored, pitr = ident("src"), ident("snap"), ident("restored"), ident("pitr")

    inst = create(lc, src, 2)
    assert inst["DBInstanceStatus"] == "creating" and inst["BackupRetentionPeriod"] == 1
    # awscli's own waiter (30 s between polls) runs alongside the rest of the test
    waiter = subprocess.Popen(["aws", "--endpoint-url", lc.endpoint, "rds", "wait",
                               "db-instance-available", "--db-instance-identifier", src],
                              env=dict(lc), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    inst = wait_instance(rds, src)
    assert inst["Endpoint"]["Address"] == "127.0.0.1"
    port = inst["Endpoint"]["Port"]
    assert "LatestRestorableTime" in inst
    psql(port, "CREATE TABLE t (n int PRIMARY KEY); INSERT INTO t VALUES (1), (2)")

    s = aws(lc, "create-db-snapshot", "--db-instance-identifier", src,
            "--db-snapshot-identifier", snap)["DBSnapshot"]
    assert s["Status"] == "creating" and s["SnapshotType"] == "manual"
    wait_snapshot(rds, snap)
    wait_instance(rds, src)
    psql(port, "INSERT INTO t VALUES (3)")
    time.sleep(1.2)
    between = datetime.datetime.now(datetime.timezone.utc)
    time.sleep(1.2)
    psql(port, "INSERT INTO t VALUES (4)")

    # runbook 4.2, verbatim flags, through awscli v2
    r = aws(lc, "restore-db-instance-from-db-snapshot", "--db-instance-identifier", restored,
            "--db-snapshot-identifier", snap, "--db-subnet-group-name", "caliber-acme-prod",
            "--vpc-security-group-ids", "sg-0123456789abcdef0", v=2)["DBInstance"]
    assert r["DBInstanceStatus"] == "creating"
    assert r["DBSubnetGroup"]["DBSubnetGroupName"] == "caliber-acme-prod"
    assert [g["VpcSecurityGroupId"] for g in r["VpcSecurityGroups"]] == ["sg-0123456789abcdef0"]
    p = aws(lc, "restore-db-instance-to-point-in-time", "--source-db-instance-identifier", src,
            "--target-db-instance-identifier", pitr,
            "--restore-time", between.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))["DBInstance"]
    assert p["DBInstanceStatus"] == "creating"

    r = wait_instance(rds, restored)
    p = wait_instance(rds, pitr)
    assert len({port, r["Endpoint"]["Port"], p["Endpoint"]["Port"]}) == 3
    assert rows(r["Endpoint"]["Port"]) == [1, 2]
    assert rows(p["Endpoint"]["Port"]) == [1, 2, 3]
    assert rows(port) == [1, 2, 3, 4]       # the source is untouched
    # restored instances are writable (promoted), and independent of their source
    psql(p["Endpoint"]["Port"], "INSERT INTO t VALUES (10)")
    assert rows(port) == [1, 2, 3, 4]

    # restored instances get their own first automated backup
    for db_id in (restored, pitr):
        own = rds.describe_db_snapshots(DBInstanceIdentifier=db_id)["DBSnapshots"]
        assert [(x["SnapshotType"], x["Status"]) for x in own] == [("automated", "available")]

    snaps = aws(lc, "describe-db-snapshots", "--db-instance-identifier", src)["DBSnapshots"]
    assert {x["SnapshotType"] for x in snaps} == {"manual", "automated"}
    assert [x["DBSnapshotIdentifier"] for x in snaps if x["SnapshotType"] == "manual"] == [snap]
    auto = [x["DBSnapshotIdentifier"] for x in snaps if x["SnapshotType"] == "automated"]
    assert auto and all(a.startswith("rds:%s-" % src) for a in auto)
    one = aws(lc, "describe-db-snapshots", "--db-snapshot-identifier", snap, v=2)["DBSnapshots"]
    assert [(x["DBSnapshotIdentifier"], x["DBInstanceIdentifier"], x["Status"], x["Engine"])
            for x in one] == [(snap, src, "available", "postgres")]
    assert aws_fail(lc, "describe-db-snapshots", "--db-snapshot-identifier", "no-such") == \
        "DBSnapshotNotFound"

    # latest restorable time: everything committed, including row 4
    latest = ident("latest")
    aws(lc, "restore-db-instance-to-point-in-time", "--source-db-instance-identifier", src,
        "--target-db-instance-identifier", latest, "--use-latest-restorable-time")
    assert rows(wait_instance(rds, latest)["Endpoint"]["Port"]) == [1, 2, 3, 4]

    out, err = waiter.communicate(timeout=90)
    assert waiter.returncode == 0, err

    # deleting with a final snapshot keeps it (and the manual one), drops automated backups
    final = ident("final")
    d = aws(lc, "delete-db-instance", "--db-instance-identifier", src,
            "--final-db-snapshot-identifier", final)["DBInstance"]
    assert d["DBInstanceStatus"] == "deleting"
    for db_id in (restored, pitr, latest):
        aws(lc, "delete-db-instance", "--db-instance-identifier", db_id, "--skip-final-snapshot")
    for db_id in (src, restored, pitr, latest):
        wait_gone(rds, db_id)
        assert not os.path.exists(engine_dir(lc, db_id))
    left = rds.describe_db_snapshots(DBInstanceIdentifier=src)["DBSnapshots"]
    assert sorted((x["DBSnapshotIdentifier"], x["SnapshotType"], x["Status"]) for x in left) == \
        sorted([(snap, "manual", "available"), (final, "manual", "available")])
    for x in (snap, final):
        aws(lc, "delete-db-snapshot", "--db-snapshot-identifier", x)
    assert rds.describe_db_snapshots(DBInstanceIdentifier=src)["DBSnapshots"] == []


def error_of(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_errors_carry_rds_codes_and_statuses(localcloud, rds, pg):
    db_id, _ = pg
    assert error_of(rds.describe_db_instances, DBInstanceIdentifier="nope") == \
        ("DBInstanceNotFound", 404)
    assert error_of(rds.describe_db_snapshots, DBSnapshotIdentifier="nope") == \
        ("DBSnapshotNotFound", 404)
    assert error_of(rds.delete_db_snapshot, DBSnapshotIdentifier="nope") == \
        ("DBSnapshotNotFound", 404)
    assert error_of(rds.reboot_db_instance, DBInstanceIdentifier="nope") == \
        ("DBInstanceNotFound", 404)
    assert error_of(rds.create_db_instance, DBInstanceIdentifier="1bad", Engine="postgres",
                    DBInstanceClass="db.t3.micro", MasterUsername="app",
                    MasterUserPassword=MASTER_PW) == ("InvalidParameterValue", 400)
    assert error_of(rds.create_db_instance, DBInstanceIdentifier=ident("x"), Engine="mysql",
                    DBInstanceClass="db.t3.micro", MasterUsername="app",
                    MasterUserPassword=MASTER_PW) == ("InvalidParameterValue", 400)
    assert error_of(rds.create_db_instance, DBInstanceIdentifier=ident("x"), Engine="postgres",
                    DBInstanceClass="db.t3.micro", MasterUsername="app",
                    MasterUserPassword="short") == ("InvalidParameterValue", 400)
    assert aws_fail(localcloud, "create-db-instance", "--db-instance-identifier", db_id.upper(),
                    "--db-instance-class", "db.t3.micro", "--engine", "postgres",
                    "--master-username", "app", "--master-user-password", MASTER_PW) == \
        "DBInstanceAlreadyExists"
    assert error_of(rds.delete_db_instance, DBInstanceIdentifier=db_id) == \
        ("InvalidParameterCombination", 400)
    assert error_of(rds.restore_db_instance_to_point_in_time, SourceDBInstanceIdentifier=db_id,
                    TargetDBInstanceIdentifier=ident("x"),
                    RestoreTime=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)) == \
        ("InvalidRestoreFault", 400)
    assert error_of(rds.restore_db_instance_to_point_in_time, SourceDBInstanceIdentifier="nope",
                    TargetDBInstanceIdentifier=ident("x"), UseLatestRestorableTime=True) == \
        ("DBInstanceNotFound", 404)
    assert error_of(rds.restore_db_instance_from_db_snapshot, DBInstanceIdentifier=ident("x"),
                    DBSnapshotIdentifier="nope") == ("DBSnapshotNotFound", 404)
    # retention 0: no automated backups, no point in time restore
    rds.modify_db_instance(DBInstanceIdentifier=db_id, BackupRetentionPeriod=0)
    assert error_of(rds.restore_db_instance_to_point_in_time, SourceDBInstanceIdentifier=db_id,
                    TargetDBInstanceIdentifier=ident("x"), UseLatestRestorableTime=True) == \
        ("PointInTimeRestoreNotEnabled", 400)
    assert rds.describe_db_snapshots(DBInstanceIdentifier=db_id)["DBSnapshots"] == []
    inst = rds.modify_db_instance(DBInstanceIdentifier=db_id, BackupRetentionPeriod=7)
    assert inst["DBInstance"]["BackupRetentionPeriod"] == 7


def test_passwords_are_scram_checked_changed_in_place_and_never_logged(localcloud, rds, pg):
    lc = localcloud
    db_id, port = pg
    psql(port, "CREATE TABLE t (n int); INSERT INTO t VALUES (7)")
    assert psql(port, "SELECT 1", password="wrong-password", check=False).returncode != 0
    with open(os.path.join(engine_dir(lc, db_id), "data", "pg_hba.conf")) as f:
        hba = [l.split() for l in f if l.strip() and not l.startswith("#")]
    assert hba and all(l[-1] == "scram-sha-256" for l in hba)

    new_pw = "Rotated-pass-2"
    m = aws(lc, "modify-db-instance", "--db-instance-identifier", db_id,
            "--master-user-password", new_pw, "--apply-immediately", v=2)["DBInstance"]
    assert m["DBInstanceStatus"] == "available"
    assert psql(port, "SELECT 1", check=False).returncode != 0
    assert rows(port, password=new_pw) == [7]

    # a reboot keeps data and password
    assert aws(lc, "reboot-db-instance", "--db-instance-identifier", db_id)["DBInstance"][
        "DBInstanceStatus"] == "rebooting"
    wait_instance(rds, db_id)
    assert rows(port, password=new_pw) == [7]

    log = lc.log()
    with open(os.path.join(engine_dir(lc, db_id), "postgres.log"), errors="replace") as f:
        log += f.read()
    for secret in (MASTER_PW, new_pw):
        assert secret not in log


class CommandLines(threading.Thread):
    """Every distinct command line on the machine, sampled until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen = set()
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        with open("/proc/%s/cmdline" % pid, "rb") as f:
                            self.seen.add(f.read())
                    except OSError:
                        pass
            time.sleep(0.002)

    def stop(self):
        self.done.set()
        self.join()
        return self.seen


def test_managed_master_password_lives_in_a_secrets_manager_secret(localcloud, rds):
    lc = localcloud
    db_id = ident("managed")
    cmdlines = CommandLines()
    cmdlines.start()
    inst = aws(lc, "create-db-instance", "--db-instance-identifier", db_id,
               "--db-instance-class", "db.t3.micro", "--engine", "postgres",
               "--master-username", "owner", "--manage-master-user-password",
               "--db-name", "appdb")["DBInstance"]
    arn = inst["MasterUserSecret"]["SecretArn"]
    # RDS's name is rds!db-<uuid>; rds-db-<uuid> where Secrets Manager refuses '!'
    assert (":secret:rds!db-" in arn or ":secret:rds-db-" in arn) and inst["MasterUserSecret"]["SecretStatus"] == "active"
    # initdb alone takes longer than this next request: the instance is still creating
    assert error_of(rds.reboot_db_instance, DBInstanceIdentifier=db_id) == \
        ("InvalidDBInstanceState", 400)
    assert error_of(rds.create_db_snapshot, DBInstanceIdentifier=db_id,
                    DBSnapshotIdentifier=ident("s")) == ("InvalidDBInstanceState", 400)
    value = lc.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    cred = json.loads(value)
    assert cred["username"] == "owner" and len(cred["password"]) >= 16
    port = wait_instance(rds, db_id)["Endpoint"]["Port"]
    seen = cmdlines.stop()
    # initdb, postgres, pg_basebackup ran meanwhile: the password was on no command line
    assert any(b"initdb" in c for c in seen) and any(b"pg_basebackup" in c for c in seen)
    assert not [c for c in seen if cred["password"].encode() in c]
    out = psql(port, "SELECT current_user", user="owner", password=cred["password"]).stdout
    assert out.strip() == "owner"
    rds.delete_db_instance(DBInstanceIdentifier=db_id, SkipFinalSnapshot=True)
    wait_gone(rds, db_id)
    with pytest.raises(ClientError) as e:
        lc.client("secretsmanager").get_secret_value(SecretId=arn)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def server_answers(port):
    r = psql(port, "SELECT 1", check=False)
    return r.returncode == 0


def delete(rds, db_id):
    """Delete at once: with backups every 2 s one may be under way, which RDS
    does not let stand in a delete's way."""
    out = rds.delete_db_instance(DBInstanceIdentifier=db_id, SkipFinalSnapshot=True)
    assert out["DBInstance"]["DBInstanceStatus"] == "deleting", out


def test_a_delete_during_a_backup_waits_for_it_and_removes_the_instance(tmp_path):
    lc = LocalCloud(os.path.join(str(tmp_path), "home"))
    lc.start()
    try:
        rds = lc.client("rds")
        db_id = ident("busy")
        create(lc, db_id)
        port = wait_instance(rds, db_id)["Endpoint"]["Port"]
        psql(port, "CREATE TABLE t (n int); INSERT INTO t SELECT generate_series(1, 1000)")
        snap = ident("snap")
        rds.create_db_snapshot(DBInstanceIdentifier=db_id, DBSnapshotIdentifier=snap)
        assert rds.describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"][0][
            "DBInstanceStatus"] == "backing-up"
        delete(rds, db_id)
        wait_gone(rds, db_id)
        # the backup that was under way finished: a manual snapshot outlives its instance
        deadline = time.time() + 60
        while True:
            s = rds.describe_db_snapshots(DBSnapshotIdentifier=snap)["DBSnapshots"][0]
            if s["Status"] != "creating":
                break
            assert time.time() < deadline, s
            time.sleep(0.2)
        assert s["Status"] == "available", s
        assert not os.path.exists(engine_dir(lc, db_id))
        back = ident("back")
        rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=back,
                                                 DBSnapshotIdentifier=snap)
        back_port = wait_instance(rds, back)["Endpoint"]["Port"]
        assert psql(back_port, "SELECT count(*) FROM t").stdout.strip() == "1000"
        delete(rds, back)
        wait_gone(rds, back)
    finally:
        lc.stop()


def test_instances_survive_kill9_and_restarts_of_caliberd(tmp_path):
    lc = LocalCloud(os.path.join(str(tmp_path), "home"))
    lc["CALIBER_RDS_BACKUP_INTERVAL"] = "2"     # automated backups every 2 s
    lc.start()
    try:
        rds = lc.client("rds")
        db_id = ident("durable")
        create(lc, db_id)
        port = wait_instance(rds, db_id)["Endpoint"]["Port"]
        psql(port, "CREATE TABLE t (n int); INSERT INTO t VALUES (1)")

        # killed while a second instance is being created (initdb takes longer than this)
        cut = ident("cut")
        create(lc, cut)
        lc.kill9()
        # the database is its own process: it serves while caliberd is dead
        psql(port, "INSERT INTO t VALUES (2)")
        lc.start()
        rds = lc.client("rds")
        inst = wait_instance(rds, db_id)
        assert inst["Endpoint"]["Port"] == port
        assert rows(port) == [1, 2]
        # the interrupted create is redone: the instance serves with its master password
        cut_port = wait_instance(rds, cut)["Endpoint"]["Port"]
        psql(cut_port, "CREATE TABLE t (n int); INSERT INTO t VALUES (9)")
        assert rows(cut_port) == [9]
        delete(rds, cut)

        # a clean stop stops the servers (even with a create under way); the next start
        # brings them back with their data, and finishes the create
        stopped = ident("stopped")
        create(lc, stopped)
        lc.stop()
        assert not server_answers(port)
        lc.start()
        rds = lc.client("rds")
        wait_instance(rds, db_id)
        assert rows(port) == [1, 2]
        stopped_port = wait_instance(rds, stopped)["Endpoint"]["Port"]
        assert psql(stopped_port, "SELECT current_user").stdout.strip() == "app"
        delete(rds, stopped)

        # backups on the configured interval, named like RDS's
        deadline = time.time() + 30
        while True:
            auto = rds.describe_db_snapshots(DBInstanceIdentifier=db_id,
                                             SnapshotType="automated")["DBSnapshots"]
            if len([s for s in auto if s["Status"] == "available"]) >= 3:
                break
            assert time.time() < deadline, auto
            time.sleep(0.5)
        assert all(s["DBSnapshotIdentifier"].startswith("rds:%s-" % db_id) for s in auto)
        # the WAL archive keeps nothing older than the oldest automated backup's start
        oldest = min((s for s in auto if s["Status"] == "available"),
                     key=lambda s: s["SnapshotCreateTime"])["DBSnapshotIdentifier"]
        with open(os.path.join(lc.home, "rds", ".snapshots", oldest, "data", "backup_label")) as f:
            start = [l for l in f if l.startswith("START WAL LOCATION")][0].split("(file ")[1][:24]
        archive = os.path.join(engine_dir(lc, db_id), "wal-archive")
        segments = sorted(n for n in os.listdir(archive) if len(n) == 24)
        assert segments and segments[0] >= start, (start, segments[:3])

        # runbook 4.2 as written: list the snapshots, restore the newest automated one
        listed = aws(lc, "describe-db-snapshots", "--db-instance-identifier", db_id,
                     v=2)["DBSnapshots"]
        newest = max((s for s in listed if s["SnapshotType"] == "automated" and
                      s["Status"] == "available"), key=lambda s: s["SnapshotCreateTime"])
        back = ident("back")
        aws(lc, "restore-db-instance-from-db-snapshot", "--db-instance-identifier", back,
            "--db-snapshot-identifier", newest["DBSnapshotIdentifier"],
            "--db-subnet-group-name", "caliber-local", "--vpc-security-group-ids", "sg-local", v=2)
        assert rows(wait_instance(rds, back)["Endpoint"]["Port"]) == [1, 2]
        delete(rds, back)
        delete(rds, db_id)
        wait_gone(rds, db_id)
    finally:
        if lc.caliber("local", "status").returncode == 0:
            lc.stop()
