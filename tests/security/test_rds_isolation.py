"""RDS instances keep their master users off the machine and out of each other
(issue 9, finding 3).

The attack: the master user (a CREATEROLE role, as on RDS) granted itself
pg_execute_server_program, which PostgreSQL 15 allows; COPY ... FROM PROGRAM
'grep -r ... /var/lib/caliber/rds' then ran as the one OS user of every
server, found another instance's row in its WAL and listed the roots of
other local clouds.  On RDS the master cannot run programs nor read the
server's files, and instances are isolated.  Here the guard module that
every server preloads refuses those grants (for anyone but a superuser),
and each instance's server runs as an OS user of its own whose files are
closed to the others.
"""
import os
import pwd
import secrets
import stat
import subprocess
import time

import psycopg2
import psycopg2.errors
import pytest

MASTER = "app"
MASTER_PW = "Initial-pass-1"
CLOSED_ROLES = ("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files")


def wait_available(rds, db_id, timeout=120):
    deadline = time.time() + timeout
    while True:
        inst = rds.describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"][0]
        if inst["DBInstanceStatus"] == "available":
            return inst
        assert inst["DBInstanceStatus"] not in ("failed", "incompatible-restore"), inst
        assert time.time() < deadline, "%s still %s" % (db_id, inst["DBInstanceStatus"])
        time.sleep(0.2)


def connect(port):
    c = psycopg2.connect(host="127.0.0.1", port=port, user=MASTER, password=MASTER_PW,
                         dbname="appdb", connect_timeout=10)
    c.autocommit = True
    return c


def refused(conn, sql):
    """The error PostgreSQL answers sql with (it must refuse it)."""
    with conn.cursor() as cur:
        with pytest.raises(psycopg2.Error) as info:
            cur.execute(sql)
    return info.value


def data_dir(lc, db_id):
    return os.path.realpath(os.path.join(lc.home, "rds", db_id, "data"))


def postmaster_uid(lc, db_id):
    with open(os.path.join(data_dir(lc, db_id), "postmaster.pid")) as f:
        pid = int(f.readline())
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise AssertionError("no Uid in /proc/%d/status" % pid)


def run_as(uid, *cmd):
    """cmd as uid with its primary group and nothing else: what its server can do."""
    pw = pwd.getpwuid(uid)
    return subprocess.run(list(cmd), user=uid, group=pw.pw_gid, extra_groups=[],
                          capture_output=True, text=True, timeout=60, cwd="/")


@pytest.fixture(scope="module")
def two_instances(localcloud):
    """An attacker's instance and a victim's, the victim holding a marked row."""
    rds = localcloud.client("rds")
    suffix = secrets.token_hex(4)
    attacker, victim = "attacker-" + suffix, "victim-" + suffix
    for db_id in (attacker, victim):
        rds.create_db_instance(DBInstanceIdentifier=db_id, DBInstanceClass="db.t3.micro",
                               Engine="postgres", MasterUsername=MASTER,
                               MasterUserPassword=MASTER_PW, DBName="appdb",
                               AllocatedStorage=20)
    ports = {db_id: wait_available(rds, db_id)["Endpoint"]["Port"] for db_id in (attacker, victim)}
    marker = "victim-secret-" + secrets.token_hex(8)
    c = connect(ports[victim])
    with c.cursor() as cur:
        cur.execute("CREATE TABLE secrets (s text); INSERT INTO secrets VALUES (%s)", (marker,))
    c.close()
    yield localcloud, rds, attacker, victim, ports, marker
    users = [pwd.getpwuid(os.stat(os.path.dirname(data_dir(localcloud, db_id))).st_uid).pw_name
             for db_id in (attacker, victim)] if os.geteuid() == 0 else []
    for db_id in (attacker, victim):
        rds.delete_db_instance(DBInstanceIdentifier=db_id, SkipFinalSnapshot=True)
    deadline = time.time() + 60
    for db_id in (attacker, victim):
        while True:
            try:
                rds.describe_db_instances(DBInstanceIdentifier=db_id)
            except rds.exceptions.DBInstanceNotFoundFault:
                break
            assert time.time() < deadline, "%s not deleted" % db_id
            time.sleep(0.2)
    # the instances' OS users go with them
    for name in users:
        with pytest.raises(KeyError):
            pwd.getpwnam(name)


def test_the_master_cannot_grant_itself_the_roles_that_reach_the_os(two_instances):
    lc, rds, attacker, victim, ports, marker = two_instances
    c = connect(ports[attacker])
    try:
        for role in CLOSED_ROLES:
            for sql in ("GRANT %s TO %s" % (role, MASTER),
                        "GRANT %s TO %s WITH ADMIN OPTION" % (role, MASTER),
                        "CREATE ROLE sneak_%s IN ROLE %s" % (role, role),
                        "ALTER GROUP %s ADD USER %s" % (role, MASTER),
                        # from PL/pgSQL, as a statement built at run time
                        "DO $$ BEGIN EXECUTE 'GRANT %s TO %s'; END $$" % (role, MASTER)):
                err = refused(c, sql)
                assert isinstance(err, psycopg2.errors.InsufficientPrivilege), (sql, err)
        # through a CREATEROLE role of its own
        with c.cursor() as cur:
            cur.execute("CREATE ROLE helper CREATEROLE")
            cur.execute("GRANT helper TO %s" % MASTER)
            cur.execute("SET ROLE helper")
        err = refused(c, "GRANT pg_execute_server_program TO helper")
        assert isinstance(err, psycopg2.errors.InsufficientPrivilege), err
        assert "permission denied to grant role" in str(err)
        with c.cursor() as cur:
            cur.execute("RESET ROLE")
            for role in CLOSED_ROLES:
                cur.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", (MASTER, role))
                assert cur.fetchone() == (False,), role
            # the master keeps CREATEROLE for its tenants' roles, as on RDS
            cur.execute("CREATE ROLE tenant LOGIN PASSWORD 'Tenant-pass-1' IN ROLE helper")
            cur.execute("GRANT tenant TO %s" % MASTER)
            cur.execute("SELECT pg_has_role(%s, 'tenant', 'MEMBER')", (MASTER,))
            assert cur.fetchone() == (True,)
    finally:
        c.close()


def test_the_master_cannot_run_programs_nor_read_another_instances_files(two_instances):
    lc, rds, attacker, victim, ports, marker = two_instances
    victim_file = os.path.join(data_dir(lc, victim), "PG_VERSION")
    root = os.path.dirname(os.path.dirname(data_dir(lc, victim)))
    c = connect(ports[attacker])
    try:
        with c.cursor() as cur:
            cur.execute("CREATE TABLE loot (line text)")
        for sql in ("COPY loot FROM PROGRAM 'id; grep -r -a %s %s'" % (marker, root),
                    "COPY loot TO PROGRAM 'sh -c id'",
                    "COPY loot FROM '%s'" % victim_file,
                    "COPY loot TO '/tmp/caliber-loot'",
                    "SELECT pg_read_file('%s')" % victim_file,
                    "SELECT pg_read_binary_file('%s')" % victim_file,
                    "SELECT pg_ls_dir('%s')" % root,
                    "SELECT pg_stat_file('%s')" % victim_file,
                    "SELECT lo_import('%s')" % victim_file):
            err = refused(c, sql)
            assert isinstance(err, psycopg2.errors.InsufficientPrivilege), (sql, err)
        with c.cursor() as cur:
            cur.execute("SELECT count(*) FROM loot")
            assert cur.fetchone() == (0,)
    finally:
        c.close()


def test_each_instance_runs_as_its_own_os_user_closed_to_the_others(two_instances):
    lc, rds, attacker, victim, ports, marker = two_instances
    if os.geteuid() != 0:
        pytest.skip("caliberd without root runs every server as its own user")
    a_uid, v_uid = postmaster_uid(lc, attacker), postmaster_uid(lc, victim)
    assert a_uid != v_uid and 0 not in (a_uid, v_uid)
    for uid, db_id in ((a_uid, attacker), (v_uid, victim)):
        name = pwd.getpwuid(uid).pw_name
        assert name.startswith("caliber-db-") and name != "caliber-db", name
        inst_dir = os.path.dirname(data_dir(lc, db_id))
        st = os.stat(inst_dir)
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (uid, 0o700), inst_dir
        assert os.stat(data_dir(lc, db_id)).st_uid == uid

    victim_dir = os.path.dirname(data_dir(lc, victim))
    root = os.path.dirname(victim_dir)
    # the marked row is on the victim's disk (its WAL and heap): root finds it there
    r = subprocess.run(["grep", "-r", "-a", "-l", marker, victim_dir], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and victim_dir in r.stdout, r

    # the attacker's server user: its own files, yes; the victim's, the root, no
    assert run_as(a_uid, "cat", os.path.join(data_dir(lc, attacker), "PG_VERSION")).stdout.strip() == "15"
    for cmd in (["cat", os.path.join(data_dir(lc, victim), "PG_VERSION")],
                ["ls", victim_dir],
                ["ls", os.path.join(victim_dir, "wal-archive")],
                ["ls", os.path.join(data_dir(lc, victim), "pg_wal")],
                ["ls", root]):
        r = run_as(a_uid, *cmd)
        assert r.returncode != 0 and "Permission denied" in r.stderr, (cmd, r)
    # nor the instance directories of the other local clouds on this machine
    # (/var/lib/caliber/rds itself is 0711, but caliberds older than this test
    # set it back to 0755 when they start: each root is checked)
    if os.path.isdir("/var/lib/caliber/rds"):
        for other in os.listdir("/var/lib/caliber/rds"):
            path = os.path.join("/var/lib/caliber/rds", other)
            if path == root or not os.path.isdir(path):
                continue
            r = run_as(a_uid, "ls", path)
            if not os.path.exists(path):
                continue    # another caliberd removed it (its home is gone) meanwhile
            assert r.returncode != 0 and "Permission denied" in r.stderr, (path, r)
    r = run_as(a_uid, "grep", "-r", "-a", "-l", marker, root)
    assert marker not in r.stdout and victim_dir not in r.stdout, r

    # the victim's snapshot is root's: the attacker (or a later owner of the victim's uid) cannot read it
    snap = "victim-snap-" + secrets.token_hex(4)
    rds.create_db_snapshot(DBInstanceIdentifier=victim, DBSnapshotIdentifier=snap)
    deadline = time.time() + 120
    while rds.describe_db_snapshots(DBSnapshotIdentifier=snap)["DBSnapshots"][0]["Status"] != "available":
        assert time.time() < deadline
        time.sleep(0.2)
    snaps = os.path.join(root, ".snapshots")
    r = subprocess.run(["grep", "-r", "-a", "-l", marker, snaps], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r
    for path in r.stdout.split():
        d = os.path.join(snaps, os.path.relpath(path, snaps).split(os.sep)[0])
        st = os.stat(d)
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o700), d
        assert os.stat(path).st_uid == 0, path
    for uid in (a_uid, v_uid):
        r = run_as(uid, "grep", "-r", "-a", "-l", marker, snaps)
        assert marker not in r.stdout and r.stdout.strip() == "", r
        r = run_as(uid, "ls", snaps)
        assert r.returncode != 0 and "Permission denied" in r.stderr, r
    rds.delete_db_snapshot(DBSnapshotIdentifier=snap)
