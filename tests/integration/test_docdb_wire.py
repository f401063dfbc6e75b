"""caliber-docdb, the local DocumentDB's data plane, driven by Debian's
pymongo 3.11 against the real binary and a real PostgreSQL 15 server.

Expected query results are written from MongoDB's manual (the "inventory"
examples of the query tutorials and the operator pages), not from what the
server answers.  Each module run starts one PostgreSQL server (initdb as the
postgres user, a Unix socket in a private directory) and one caliber-docdb,
and removes both, with their directories, at the end.
"""
import datetime
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time

import bson
import pymongo
import pytest
from bson.binary import Binary
from bson.codec_options import CodecOptions
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.objectid import ObjectId
from bson.raw_bson import RawBSONDocument
from bson.regex import Regex
from bson.son import SON

from conftest import BIN_DIR, SANITIZER_MARKS, free_port

PG_BIN = "/usr/lib/postgresql/15/bin"
MASTER_PASSWORD = "Master-Pw-7d1e94"
PG_PASSWORD = "Pg-Pw-3c55a0"
READY_SECONDS = 30


def _as_postgres():
    if os.getuid() == 0:
        import pwd
        pw = pwd.getpwnam("postgres")
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)


class Postgres:
    def __init__(self, root):
        self.root = root
        self.data = os.path.join(root, "data")
        self.sock = os.path.join(root, "sock")
        self.port = free_port()
        os.makedirs(self.sock)
        pwfile = os.path.join(root, "pwfile")
        with open(pwfile, "w") as f:
            f.write(PG_PASSWORD)
        if os.getuid() == 0:
            import pwd
            pw = pwd.getpwnam("postgres")
            for p in (root, self.sock, pwfile):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        subprocess.run([PG_BIN + "/initdb", "-D", self.data, "-U", "docdb", "--pwfile", pwfile,
                        "-A", "scram-sha-256"], check=True, stdout=subprocess.DEVNULL,
                       preexec_fn=_as_postgres)
        os.unlink(pwfile)
        self.start()

    def start(self):
        subprocess.run([PG_BIN + "/pg_ctl", "-D", self.data, "-l", os.path.join(self.root, "log"), "-w",
                        "-o", "-p %d -k %s -c listen_addresses=''" % (self.port, self.sock), "start"],
                       check=True, stdout=subprocess.DEVNULL, preexec_fn=_as_postgres)

    def stop(self):
        subprocess.run([PG_BIN + "/pg_ctl", "-D", self.data, "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_as_postgres)

    def psql(self, sql):
        env = dict(os.environ, PGPASSWORD=PG_PASSWORD)
        out = subprocess.run([PG_BIN + "/psql", "-h", self.sock, "-p", str(self.port), "-U", "docdb",
                              "-d", "postgres", "-At", "-c", sql], env=env, check=True,
                             capture_output=True, text=True)
        return out.stdout

    @property
    def conninfo(self):
        return "host=%s port=%d user=docdb dbname=postgres password=%s" % (self.sock, self.port, PG_PASSWORD)


class Docdb:
    """One caliber-docdb process; the secrets go in by environment only."""

    def __init__(self, root, pg):
        self.root = root
        self.pg = pg
        self.port = free_port()
        self.ca_dir = os.path.join(root, "ca")
        self.state = os.path.join(root, "state")
        self.log_path = os.path.join(root, "docdb.log")
        self.proc = None

    @property
    def ca_file(self):
        return os.path.join(self.ca_dir, "ca.pem")

    def start(self):
        env = dict(os.environ, CALIBER_DOCDB_PG=self.pg.conninfo, CALIBER_DOCDB_MASTER_PASSWORD=MASTER_PASSWORD)
        self.argv = [os.path.join(BIN_DIR, "caliber-docdb"), "--listen", "127.0.0.1:%d" % self.port,
                     "--advertise", "localhost:%d" % self.port, "--tls-ca-dir", self.ca_dir,
                     "--state-dir", self.state]
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.argv, env=env, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "caliber-docdb exited with %s; its log:\n%s" % (
                self.proc.returncode, self.log())
            if "listening on" in self.log():
                return
            time.sleep(0.05)
        pytest.fail("caliber-docdb did not report 'listening on' within %ds; its log:\n%s" % (
            READY_SECONDS, self.log()))

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def assert_clean_log(self):
        log = self.log()
        for mark in SANITIZER_MARKS:
            assert mark not in log, "caliber-docdb's log has a sanitizer report:\n%s" % log[-6000:]

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def uri(self, user="master", password=MASTER_PASSWORD, db="admin", **opts):
        q = {"replicaSet": "rs0", "tls": "true", "tlsCAFile": self.ca_file, "retryWrites": "false"}
        q.update({k: str(v) for k, v in opts.items()})
        auth = "%s:%s@" % (user, password) if user else ""
        return "mongodb://%slocalhost:%d/%s?%s" % (auth, self.port, db, "&".join("%s=%s" % kv for kv in q.items()))

    def client(self, **kw):
        timeout = kw.pop("serverSelectionTimeoutMS", 10000)
        return pymongo.MongoClient(self.uri(**kw), serverSelectionTimeoutMS=timeout)


@pytest.fixture(scope="module")
def pg():
    root = tempfile.mkdtemp(prefix="docdb-pg-")
    os.chmod(root, 0o755)
    server = None
    try:
        server = Postgres(os.path.join(root, "pg"))
        yield server
    finally:
        if server:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def docdb(pg):
    root = tempfile.mkdtemp(prefix="docdb-srv-")
    d = Docdb(root, pg)
    try:
        d.start()
        yield d
        d.stop()
        d.assert_clean_log()
    finally:
        d.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def client(docdb):
    c = docdb.client()
    yield c
    c.close()


@pytest.fixture
def coll(client, request):
    name = re.sub(r"[^A-Za-z0-9]", "_", request.node.name)[:60]
    client.testdb.drop_collection(name)
    yield client.testdb[name]
    client.testdb.drop_collection(name)


# ---- the handshake and the wire ----

def test_hello_answers_as_the_primary_of_replica_set_rs0(docdb, client):
    hello = client.admin.command("hello")
    assert hello["setName"] == "rs0", hello
    assert hello["hosts"] == ["localhost:%d" % docdb.port], hello
    assert hello["isWritablePrimary"] is True, hello
    assert hello["minWireVersion"] == 0 and hello["maxWireVersion"] == 13, hello
    assert hello["maxMessageSizeBytes"] == 48000000, hello
    legacy = client.admin.command("isMaster")
    assert legacy["ismaster"] is True and legacy["setName"] == "rs0", legacy
    assert client.primary == ("localhost", docdb.port), client.primary
    assert client.admin.command("ping")["ok"] == 1.0
    assert client.admin.command("buildInfo")["version"].startswith("5.0"), "DocumentDB 5.0's version expected"
    status = client.admin.command("serverStatus")
    assert status["connections"]["current"] >= 1, status


def _tls_socket(docdb):
    ctx = ssl.create_default_context(cafile=docdb.ca_file)
    raw = socket.create_connection(("127.0.0.1", docdb.port))
    return ctx.wrap_socket(raw, server_hostname="localhost")


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return buf
        buf += chunk
    return buf


def _crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_legacy_op_query_handshake_gets_an_op_reply(docdb):
    body = struct.pack("<i", 0) + b"admin.$cmd\0" + struct.pack("<ii", 0, -1) + bson.encode({"isMaster": 1})
    msg = struct.pack("<iiii", 16 + len(body), 7, 0, 2004) + body
    with _tls_socket(docdb) as s:
        s.sendall(msg)
        hdr = _recv_exact(s, 16)
        length, _, response_to, opcode = struct.unpack("<iiii", hdr)
        rest = _recv_exact(s, length - 16)
    assert opcode == 1 and response_to == 7, "an OP_REPLY to request 7 expected, got opcode %d" % opcode
    flags, cursor_id, start, nret = struct.unpack("<iqii", rest[:20])
    assert nret == 1, nret
    doc = bson.decode(rest[20:])
    assert doc["ismaster"] is True and doc["setName"] == "rs0", doc


def _op_msg(sections, flags=0, checksum=False):
    body = struct.pack("<I", flags | (1 if checksum else 0)) + sections
    length = 16 + len(body) + (4 if checksum else 0)
    msg = struct.pack("<iiii", length, 11, 0, 2013) + body
    if checksum:
        msg += struct.pack("<I", _crc32c(msg))
    return msg


def _reply_doc(s):
    hdr = _recv_exact(s, 16)
    if len(hdr) < 16:
        return None
    length, _, _, opcode = struct.unpack("<iiii", hdr)
    rest = _recv_exact(s, length - 16)
    assert opcode == 2013, opcode
    return bson.decode(rest[5:])


def test_op_msg_with_document_sequence_and_checksum_is_parsed(docdb):
    docs = bson.encode({"a": 1}) + bson.encode({"a": 2})
    ident = b"documents\0"
    seq = b"\x01" + struct.pack("<i", 4 + len(ident) + len(docs)) + ident + docs
    sections = b"\x00" + bson.encode(SON([("insert", "raw"), ("$db", "testdb")])) + seq
    with _tls_socket(docdb) as s:
        s.sendall(_op_msg(sections, checksum=True))
        doc = _reply_doc(s)
    # parsed whole (checksum verified, kind-1 section folded in): refused only for want of a login
    assert doc["code"] == 13 and "requires authentication" in doc["errmsg"], doc


def test_op_msg_with_a_wrong_checksum_or_an_oversized_length_is_dropped(docdb):
    sections = b"\x00" + bson.encode(SON([("ping", 1), ("$db", "admin")]))
    bad = bytearray(_op_msg(sections, checksum=True))
    bad[-1] ^= 0xFF
    with _tls_socket(docdb) as s:
        s.sendall(bytes(bad))
        assert _reply_doc(s) is None, "a message with a wrong CRC-32C must not be answered"
    with _tls_socket(docdb) as s:
        s.sendall(struct.pack("<iiii", 60 * 1000 * 1000, 1, 0, 2013))
        assert _reply_doc(s) is None, "a 60 MB message is over the 48 MB cap and must be refused"
    with _tls_socket(docdb) as s:
        s.sendall(_op_msg(sections))
        assert _reply_doc(s)["ok"] == 1.0, "the server must still answer after dropping bad peers"


def test_tls_is_required_and_a_plain_connection_is_refused(docdb):
    plain = pymongo.MongoClient("mongodb://master:%s@localhost:%d/?replicaSet=rs0&retryWrites=false" % (
        MASTER_PASSWORD, docdb.port), serverSelectionTimeoutMS=2000)
    with pytest.raises(pymongo.errors.ServerSelectionTimeoutError):
        plain.admin.command("ping")
    plain.close()
    assert "TLS handshake failed" in docdb.log(), "the refusal should be logged with what to do"


# ---- authentication and authorisation ----

def test_a_wrong_password_fails_with_error_18(docdb):
    bad = docdb.client(password="not-the-password")
    with pytest.raises(pymongo.errors.OperationFailure) as ei:
        bad.admin.command("ping")
    assert ei.value.code == 18, ei.value.details
    bad.close()


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_scram_mechanisms_authenticate(docdb, client, mechanism):
    client.mechdb.command("createUser", "mech_" + mechanism[-1], pwd="pw-" + mechanism,
                          roles=[{"role": "readWrite", "db": "mechdb"}])
    try:
        c = docdb.client(user="mech_" + mechanism[-1], password="pw-" + mechanism, db="mechdb",
                         authMechanism=mechanism)
        c.mechdb.things.insert_one({"m": mechanism})
        assert c.mechdb.things.find_one({"m": mechanism})["m"] == mechanism
        c.close()
    finally:
        client.mechdb.command("dropUser", "mech_" + mechanism[-1])
        client.drop_database("mechdb")


def test_unauthenticated_commands_are_refused_with_13(docdb):
    anon = docdb.client(user=None)
    with pytest.raises(pymongo.errors.OperationFailure) as ei:
        anon.testdb.anything.find_one()
    assert ei.value.code == 13, ei.value.details
    anon.close()


def test_a_user_is_confined_to_its_database(docdb, client):
    client.tenant_a.command("createUser", "tenant_a_app", pwd="a-secret-1",
                            roles=[{"role": "readWrite", "db": "tenant_a"}])
    client.tenant_a.command("createUser", "tenant_a_ro", pwd="a-secret-2", roles=["read"])
    client.tenant_b.secrets.insert_one({"owner": "b"})
    try:
        info = client.tenant_a.command("usersInfo", "tenant_a_app")["users"][0]
        assert info["roles"] == [{"role": "readWrite", "db": "tenant_a"}], info
        assert "credentials" not in info and "pwd" not in info, "usersInfo must not show secrets"
        a = docdb.client(user="tenant_a_app", password="a-secret-1", db="tenant_a")
        a.tenant_a.orders.insert_one({"n": 1})
        assert a.tenant_a.orders.count_documents({}) == 1
        for action in (lambda: a.tenant_b.secrets.find_one(), lambda: a.tenant_b.secrets.insert_one({"x": 1}),
                       lambda: a.tenant_b.command("listCollections")):
            with pytest.raises(pymongo.errors.OperationFailure) as ei:
                action()
            assert ei.value.code == 13, ei.value.details
        assert a.list_database_names() == ["tenant_a"], "listDatabases shows only what the user may read"
        ro = docdb.client(user="tenant_a_ro", password="a-secret-2", db="tenant_a")
        assert ro.tenant_a.orders.find_one()["n"] == 1
        with pytest.raises(pymongo.errors.OperationFailure) as ei:
            ro.tenant_a.orders.insert_one({"n": 2})
        assert ei.value.code == 13
        client.tenant_a.command("grantRolesToUser", "tenant_a_ro", roles=["readWrite"])
        ro2 = docdb.client(user="tenant_a_ro", password="a-secret-2", db="tenant_a")
        ro2.tenant_a.orders.insert_one({"n": 2})
        client.tenant_a.command("updateUser", "tenant_a_ro", pwd="a-secret-3")
        with pytest.raises(pymongo.errors.OperationFailure) as ei:
            docdb.client(user="tenant_a_ro", password="a-secret-2", db="tenant_a").tenant_a.command("ping")
        assert ei.value.code == 18
        for c in (a, ro, ro2):
            c.close()
    finally:
        for u in ("tenant_a_app", "tenant_a_ro"):
            client.tenant_a.command("dropUser", u)
        client.drop_database("tenant_a")
        client.drop_database("tenant_b")
    with pytest.raises(pymongo.errors.OperationFailure) as ei:
        client.tenant_a.command("dropUser", "tenant_a_app")
    assert ei.value.code == 11


def test_users_are_stored_salted_never_with_the_password(docdb, pg, client):
    client.saltdb.command("createUser", "salted", pwd="Visible-Pw-991", roles=["read"])
    try:
        rows = pg.psql("SELECT sha1 || ' ' || sha256 FROM caliber_docdb.users WHERE name = 'salted'")
        assert rows.strip(), "the user must be stored in PostgreSQL"
        assert "Visible-Pw-991" not in rows
        assert rows.count("$") == 6, "iterations$salt$StoredKey$ServerKey per mechanism: %r" % rows
        assert "Visible-Pw-991" not in docdb.log()
    finally:
        client.saltdb.command("dropUser", "salted")


def test_retryable_writes_are_refused_with_documentdbs_error_301(docdb):
    c = pymongo.MongoClient(docdb.uri(retryWrites="true"), serverSelectionTimeoutMS=10000)
    with pytest.raises(pymongo.errors.OperationFailure) as ei:
        c.testdb.retry.insert_one({"x": 1})
    assert ei.value.code == 301 and "Retryable writes are not supported" in str(ei.value), ei.value.details
    c.close()


def test_the_secrets_are_neither_in_argv_nor_in_the_environment_nor_in_the_log(docdb):
    with open("/proc/%d/cmdline" % docdb.proc.pid, "rb") as f:
        cmdline = f.read()
    assert MASTER_PASSWORD.encode() not in cmdline and PG_PASSWORD.encode() not in cmdline, cmdline
    # the server wipes both values in its environment block once read
    with open("/proc/%d/environ" % docdb.proc.pid, "rb") as f:
        environ = f.read()
    assert MASTER_PASSWORD.encode() not in environ, "the master password is still in /proc/<pid>/environ"
    assert PG_PASSWORD.encode() not in environ, "the PostgreSQL password is still in /proc/<pid>/environ"
    assert MASTER_PASSWORD not in docdb.log() and PG_PASSWORD not in docdb.log()


# ---- documents ----

def test_bson_types_and_field_order_survive_exactly(coll):
    original = SON([
        ("_id", ObjectId()), ("zeta", 1), ("alpha", Int64(2 ** 40)), ("pi", 3.25),
        ("dec", Decimal128("1234.5678")), ("when", datetime.datetime(2026, 1, 2, 3, 4, 5, 678000)),
        ("bin", Binary(b"\x00\x01\xff", 0)), ("uuidish", Binary(b"0123456789abcdef", 4)),
        ("re", Regex("^ab+c", "i")), ("none", None), ("yes", True),
        ("nested", SON([("b", 1), ("a", [1, "two", SON([("y", 2), ("x", 1)]), [3, 4]])])),
    ])
    coll.insert_one(original)
    raw = coll.with_options(codec_options=CodecOptions(document_class=RawBSONDocument)).find_one(
        {"_id": original["_id"]})
    assert raw.raw == bson.encode(original), "the stored document must come back byte for byte"


def test_insert_find_update_delete(coll):
    ids = coll.insert_many([{"n": i, "even": i % 2 == 0} for i in range(10)]).inserted_ids
    assert len(ids) == 10
    assert [d["n"] for d in coll.find({"even": True}).sort("n", -1)] == [8, 6, 4, 2, 0]
    assert [d["n"] for d in coll.find().sort("n", 1).skip(3).limit(2)] == [3, 4]
    assert coll.find_one({"n": 4}, {"_id": 0, "n": 1}) == {"n": 4}
    assert coll.find_one({"n": 4}, {"even": 0, "_id": 0}) == {"n": 4}
    r = coll.update_many({"even": False}, {"$set": {"odd": True}})
    assert (r.matched_count, r.modified_count) == (5, 5)
    r = coll.update_many({"even": False}, {"$set": {"odd": True}})
    assert (r.matched_count, r.modified_count) == (5, 0), "setting the same value modifies nothing"
    assert coll.delete_one({"n": 9}).deleted_count == 1
    assert coll.delete_many({"odd": True}).deleted_count == 4
    assert coll.count_documents({}) == 5
    assert sorted(coll.distinct("n")) == [0, 2, 4, 6, 8]


def test_find_and_modify(coll):
    coll.insert_many([{"k": "a", "v": 1}, {"k": "b", "v": 2}])
    before = coll.find_one_and_update({"k": "a"}, {"$inc": {"v": 10}}, projection={"_id": 0})
    assert before == {"k": "a", "v": 1}
    after = coll.find_one_and_update({"k": "a"}, {"$inc": {"v": 1}}, projection={"_id": 0},
                                     return_document=pymongo.ReturnDocument.AFTER)
    assert after == {"k": "a", "v": 12}
    top = coll.find_one_and_delete({}, sort=[("v", -1)], projection={"_id": 0})
    assert top == {"k": "a", "v": 12}
    up = coll.find_one_and_update({"k": "c"}, {"$set": {"v": 3}}, upsert=True, projection={"_id": 0},
                                  return_document=pymongo.ReturnDocument.AFTER)
    assert up == {"k": "c", "v": 3}
    assert coll.find_one_and_replace({"k": "b"}, {"k": "b2"}, projection={"_id": 0}) == {"k": "b", "v": 2}
    assert coll.count_documents({"k": "b2", "v": {"$exists": False}}) == 1


def test_cursors_return_every_document_across_get_more(coll):
    coll.insert_many([{"i": i} for i in range(250)])
    got = [d["i"] for d in coll.find({}, batch_size=40)]
    assert got == list(range(250)), "natural order, all 250, across getMore batches"
    cur = coll.find({}, batch_size=10)
    assert next(cur)["i"] == 0
    cur.close()  # killCursors
    db = coll.database
    first = db.command("find", coll.name, batchSize=5)
    cid = first["cursor"]["id"]
    assert cid != 0 and len(first["cursor"]["firstBatch"]) == 5
    more = db.command("getMore", Int64(cid), collection=coll.name, batchSize=300)
    assert len(more["cursor"]["nextBatch"]) == 245 and more["cursor"]["id"] == 0
    with pytest.raises(pymongo.errors.OperationFailure) as ei:
        db.command("getMore", Int64(cid), collection=coll.name)
    assert ei.value.code == 43, "an exhausted cursor is gone: CursorNotFound"


def test_aggregate_common_stages(coll):
    coll.insert_many([{"g": "x", "v": 1}, {"g": "y", "v": 5}, {"g": "x", "v": 3}, {"g": "z"}])
    out = list(coll.aggregate([{"$match": {"v": {"$gte": 1}}},
                               {"$group": {"_id": "$g", "total": {"$sum": "$v"}, "n": {"$sum": 1},
                                           "avg": {"$avg": "$v"}, "hi": {"$max": "$v"}, "vs": {"$push": "$v"}}},
                               {"$sort": {"total": -1}}]))
    assert out == [{"_id": "x", "total": 4, "n": 2, "avg": 2.0, "hi": 3, "vs": [1, 3]},
                   {"_id": "y", "total": 5, "n": 1, "avg": 5.0, "hi": 5, "vs": [5]}][::-1]
    assert list(coll.aggregate([{"$match": {"g": "x"}}, {"$count": "c"}])) == [{"c": 2}]
    assert coll.count_documents({"g": "x"}) == 2
    with pytest.raises(pymongo.errors.OperationFailure) as ei:
        list(coll.aggregate([{"$facet": {}}]))
    assert ei.value.code == 40324, ei.value.details


def test_aggregate_unwind_add_fields_and_lookup(client):
    db = client.aggdb
    db.orders.insert_many([{"_id": 1, "item": "almonds", "sizes": ["S", "M"]},
                           {"_id": 2, "item": "pecans", "sizes": []},
                           {"_id": 3, "item": "cookies"}])
    db.stock.insert_many([{"_id": 10, "sku": "almonds", "n": 120}, {"_id": 11, "sku": "cookies", "n": 80},
                          {"_id": 12, "sku": "almonds", "n": 5}])
    try:
        # $unwind: an empty array and a missing field produce no document unless preserved
        assert [(d["_id"], d["sizes"]) for d in db.orders.aggregate([{"$unwind": "$sizes"}])] == [(1, "S"), (1, "M")]
        kept = list(db.orders.aggregate([{"$unwind": {"path": "$sizes", "preserveNullAndEmptyArrays": True,
                                                      "includeArrayIndex": "i"}}]))
        assert [(d["_id"], d.get("sizes"), d.get("i")) for d in kept] == [(1, "S", 0), (1, "M", 1), (2, None, None),
                                                                          (3, None, None)]
        added = list(db.orders.aggregate([{"$match": {"_id": 3}}, {"$addFields": {"copy": "$item", "fixed": 7}}]))
        assert added == [{"_id": 3, "item": "cookies", "copy": "cookies", "fixed": 7}]
        joined = list(db.orders.aggregate([{"$lookup": {"from": "stock", "localField": "item",
                                                        "foreignField": "sku", "as": "inv"}},
                                           {"$project": {"sizes": 0}}]))
        assert joined == [{"_id": 1, "item": "almonds", "inv": [{"_id": 10, "sku": "almonds", "n": 120},
                                                                  {"_id": 12, "sku": "almonds", "n": 5}]},
                          {"_id": 2, "item": "pecans", "inv": []},
                          {"_id": 3, "item": "cookies", "inv": [{"_id": 11, "sku": "cookies", "n": 80}]}]
        with pytest.raises(pymongo.errors.OperationFailure) as ei:
            list(db.orders.aggregate([{"$addFields": {"x": {"$add": [1, 2]}}}]))
        assert ei.value.code == 168, "an expression operator not implemented is refused"
    finally:
        client.drop_database("aggdb")


# ---- query operators, expected results from MongoDB's manual ----

INVENTORY = [
    {"_id": 1, "item": "journal", "qty": 25, "tags": ["blank", "red"], "dim": [14, 21],
     "size": SON([("h", 14), ("w", 21), ("uom", "cm")]), "status": "A",
     "instock": [{"wh": "A", "qty": 5}, {"wh": "C", "qty": 15}]},
    {"_id": 2, "item": "notebook", "qty": 50, "tags": ["red", "blank"], "dim": [14, 21],
     "size": SON([("h", 8.5), ("w", 11), ("uom", "in")]), "status": "A", "instock": [{"wh": "C", "qty": 5}]},
    {"_id": 3, "item": "paper", "qty": 100, "tags": ["red", "blank", "plain"], "dim": [14, 21],
     "size": SON([("h", 8.5), ("w", 11), ("uom", "in")]), "status": "D"},
    {"_id": 4, "item": "planner", "qty": 75, "tags": ["blank", "red"], "dim": [22.85, 30],
     "size": SON([("h", 22.85), ("w", 30), ("uom", "cm")]), "status": "D"},
    {"_id": 5, "item": "postcard", "qty": 45, "tags": ["blue"], "dim": [10, 15.25],
     "size": SON([("h", 10), ("w", 15.25), ("uom", "cm")]), "status": "A"},
    {"_id": 6, "item": "sketchbook", "tags": [], "status": "P"},
]

QUERIES = [
    ({"status": "D"}, [3, 4]),
    ({"status": {"$eq": "D"}}, [3, 4]),
    ({"status": {"$in": ["A", "D"]}}, [1, 2, 3, 4, 5]),
    ({"status": "A", "qty": {"$lt": 30}}, [1]),
    ({"$or": [{"status": "A"}, {"qty": {"$lt": 30}}]}, [1, 2, 5]),
    ({"$and": [{"qty": {"$gte": 45}}, {"qty": {"$lte": 75}}]}, [2, 4, 5]),
    ({"$nor": [{"status": "A"}, {"qty": {"$gt": 70}}]}, [6]),
    ({"qty": {"$ne": 25}}, [2, 3, 4, 5, 6]),
    ({"qty": {"$nin": [25, 50]}}, [3, 4, 5, 6]),
    ({"qty": {"$gt": 50}}, [3, 4]),
    ({"qty": {"$not": {"$gt": 50}}}, [1, 2, 5, 6]),
    ({"qty": {"$exists": False}}, [6]),
    ({"qty": {"$exists": True}}, [1, 2, 3, 4, 5]),
    ({"qty": None}, [6]),
    ({"qty": {"$gt": "a"}}, []),
    ({"status": {"$gte": "B"}}, [3, 4, 6]),
    ({"qty": {"$type": "int"}}, [1, 2, 3, 4, 5]),
    ({"size.h": {"$type": "double"}}, [2, 3, 4]),
    ({"qty": {"$type": ["string", "int"]}}, [1, 2, 3, 4, 5]),
    ({"qty": {"$mod": [25, 0]}}, [1, 2, 3, 4]),
    ({"item": {"$regex": "^p"}}, [3, 4, 5]),
    ({"item": {"$regex": "^P", "$options": "i"}}, [3, 4, 5]),
    ({"item": re.compile("book$")}, [2, 6]),
    ({"item": {"$not": re.compile("^p")}}, [1, 2, 6]),
    ({"item": {"$in": [re.compile("^j"), "paper"]}}, [1, 3]),
    ({"tags": ["red", "blank"]}, [2]),
    ({"tags": "red"}, [1, 2, 3, 4]),
    ({"tags": {"$all": ["red", "blank"]}}, [1, 2, 3, 4]),
    ({"tags": {"$size": 3}}, [3]),
    ({"tags": {"$size": 0}}, [6]),
    ({"tags": {"$elemMatch": {"$eq": "plain"}}}, [3]),
    ({"dim": {"$gt": 25}}, [4]),
    ({"dim": {"$gt": 15, "$lt": 20}}, [1, 2, 3, 5]),
    ({"dim": {"$elemMatch": {"$gt": 22, "$lt": 30}}}, [4]),
    ({"dim.1": {"$gt": 25}}, [4]),
    ({"size": SON([("h", 14), ("w", 21), ("uom", "cm")])}, [1]),
    ({"size": SON([("w", 21), ("h", 14), ("uom", "cm")])}, []),
    ({"size.uom": "in"}, [2, 3]),
    ({"size.h": {"$lt": 15}, "size.uom": "in"}, [2, 3]),
    ({"instock.wh": "C"}, [1, 2]),
    ({"instock.qty": {"$gt": 10}}, [1]),
    ({"instock": {"$elemMatch": {"wh": "C", "qty": {"$gt": 10}}}}, [1]),
    ({"instock": {"$elemMatch": {"wh": "A", "qty": {"$gt": 10}}}}, []),
    ({"instock.0.wh": "A"}, [1]),
    ({"instock.wh": None}, [3, 4, 5, 6]),
    ({"$comment": "ignored", "status": "P"}, [6]),
]


@pytest.fixture(scope="module")
def inventory(client):
    client.querydb.drop_collection("inventory")
    client.querydb.inventory.insert_many(INVENTORY)
    yield client.querydb.inventory
    client.querydb.drop_collection("inventory")


@pytest.mark.parametrize("flt,expected", QUERIES, ids=[str(q[0]) for q in QUERIES])
def test_query_operator(inventory, flt, expected):
    assert sorted(d["_id"] for d in inventory.find(flt)) == expected


@pytest.mark.parametrize("flt,code,words", [
    ({"qty": {"$foo": 1}}, 2, "unknown operator: $foo"),
    ({"$where": "true"}, 2, "unknown top level operator: $where"),
    ({"$expr": {"$gt": ["$qty", 1]}}, 2, "unknown top level operator"),
    ({"qty": {"$in": 5}}, 2, "$in needs an array"),
    ({"qty": {"$type": "nosuch"}}, 2, "nosuch"),
])
def test_unsupported_operators_get_mongodbs_error_not_an_answer(inventory, flt, code, words):
    with pytest.raises(pymongo.errors.OperationFailure) as ei:
        list(inventory.find(flt))
    assert ei.value.code == code and words in str(ei.value), ei.value.details


def test_an_unknown_command_gets_error_59(client):
    with pytest.raises(pymongo.errors.OperationFailure) as ei:
        client.testdb.command("noSuchCommandHere")
    assert ei.value.code == 59 and ei.value.details["codeName"] == "CommandNotFound"


# ---- update operators, expected results from MongoDB's manual ----

UPDATES = [
    ({"a": 1, "b": {"c": 1}}, {"$set": {"b.c": 2, "d.e": 3}}, {"a": 1, "b": {"c": 2}, "d": {"e": 3}}),
    ({"a": 1, "b": 2}, {"$unset": {"a": ""}}, {"b": 2}),
    ({"n": 5}, {"$inc": {"n": 2, "m": -1}}, {"n": 7, "m": -1}),
    ({"n": 5}, {"$inc": {"n": 0.5}}, {"n": 5.5}),
    ({"p": 10}, {"$mul": {"p": 3, "q": 2}}, {"p": 30, "q": 0}),
    ({"lo": 5, "hi": 5}, {"$min": {"lo": 3, "hi": 9}}, {"lo": 3, "hi": 5}),
    ({"lo": 5, "hi": 5}, {"$max": {"lo": 3, "hi": 9}}, {"lo": 5, "hi": 9}),
    ({"nick": "x", "k": 1}, {"$rename": {"nick": "alias"}}, {"k": 1, "alias": "x"}),
    ({"s": [1]}, {"$push": {"s": 2}}, {"s": [1, 2]}),
    ({"s": [1]}, {"$push": {"s": {"$each": [2, 3, 4], "$slice": -3}}}, {"s": [2, 3, 4]}),
    ({"s": [1, 4]}, {"$push": {"s": {"$each": [2, 3], "$position": 1}}}, {"s": [1, 2, 3, 4]}),
    ({}, {"$push": {"s": "new"}}, {"s": ["new"]}),
    ({"t": ["a", "b"]}, {"$addToSet": {"t": "a"}}, {"t": ["a", "b"]}),
    ({"t": ["a", "b"]}, {"$addToSet": {"t": {"$each": ["b", "c", "c"]}}}, {"t": ["a", "b", "c"]}),
    ({"v": [3, 6, 9, 1]}, {"$pull": {"v": {"$gte": 6}}}, {"v": [3, 1]}),
    ({"v": ["a", "b", "a"]}, {"$pull": {"v": "a"}}, {"v": ["b"]}),
    ({"r": [{"i": "A", "s": 8}, {"i": "B", "s": 9}]}, {"$pull": {"r": {"s": 8, "i": "A"}}}, {"r": [{"i": "B", "s": 9}]}),
    ({"v": [1, 2, 3]}, {"$pullAll": {"v": [1, 3]}}, {"v": [2]}),
    ({"v": [1, 2, 3]}, {"$pop": {"v": 1}}, {"v": [1, 2]}),
    ({"v": [1, 2, 3]}, {"$pop": {"v": -1}}, {"v": [2, 3]}),
    ({"arr": [1, 2, 3]}, {"$set": {"arr.1": 20}}, {"arr": [1, 20, 3]}),
    ({"a": 1}, {"$setOnInsert": {"b": 2}}, {"a": 1}),
]


@pytest.mark.parametrize("start,update,expected", UPDATES, ids=[str(u[1]) for u in UPDATES])
def test_update_operator(coll, start, update, expected):
    doc = dict(start, _id="u")
    coll.insert_one(doc)
    coll.update_one({"_id": "u"}, update)
    got = coll.find_one({"_id": "u"})
    del got["_id"]
    assert got == expected


def test_current_date_sets_a_date(coll):
    coll.insert_one({"_id": 1})
    coll.update_one({"_id": 1}, {"$currentDate": {"seen": True, "ts": {"$type": "timestamp"}}})
    got = coll.find_one({"_id": 1})
    assert isinstance(got["seen"], datetime.datetime), got
    assert isinstance(got["ts"], bson.timestamp.Timestamp), got


def test_replacement_upsert_and_set_on_insert(coll):
    coll.insert_one({"_id": 1, "a": 1, "b": 2})
    coll.replace_one({"_id": 1}, {"c": 3})
    assert coll.find_one({"_id": 1}) == {"_id": 1, "c": 3}
    r = coll.update_one({"sku": "x1"}, {"$set": {"qty": 5}, "$setOnInsert": {"created": True}}, upsert=True)
    assert r.upserted_id is not None and r.matched_count == 0
    got = coll.find_one({"sku": "x1"}, {"_id": 0})
    assert got == {"sku": "x1", "qty": 5, "created": True}
    coll.update_one({"sku": "x1"}, {"$set": {"qty": 6}, "$setOnInsert": {"created": "again"}}, upsert=True)
    assert coll.find_one({"sku": "x1"}, {"_id": 0}) == {"sku": "x1", "qty": 6, "created": True}


@pytest.mark.parametrize("update,code", [
    ({"$inc": {"s": 1}}, 14),
    ({"$set": {"_id": 2}}, 66),
    ({"$foo": {"a": 1}}, 9),
    ({"$set": {"a": 1}, "$unset": {"a": ""}}, 40),
])
def test_update_errors_carry_mongodbs_codes(coll, update, code):
    coll.insert_one({"_id": 1, "s": "text"})
    with pytest.raises(pymongo.errors.WriteError) as ei:
        coll.update_one({"_id": 1}, update)
    assert ei.value.code == code, ei.value.details
    assert coll.find_one({"_id": 1}) == {"_id": 1, "s": "text"}, "a failed update changes nothing"


# ---- positional updates: $, $[] and $[<identifier>] with arrayFilters ----
# The examples of the manual's pages for the three operators, with their
# documented results.

def _grades(coll):
    return {d["_id"]: d["grades"] for d in coll.find()}


def test_positional_dollar_updates_the_first_matched_element(coll):
    coll.insert_many([{"_id": 1, "grades": [85, 80, 80]}, {"_id": 2, "grades": [88, 90, 92]},
                      {"_id": 3, "grades": [85, 100, 90]}])
    r = coll.update_one({"_id": 1, "grades": 80}, {"$set": {"grades.$": 82}})
    assert r.modified_count == 1
    assert _grades(coll)[1] == [85, 82, 80]
    coll.update_many({"grades": {"$gte": 90}}, {"$inc": {"grades.$": 1}})
    assert _grades(coll) == {1: [85, 82, 80], 2: [88, 91, 92], 3: [85, 101, 90]}


def test_positional_dollar_into_embedded_documents(coll):
    coll.insert_many([
        {"_id": 4, "grades": [{"grade": 80, "mean": 75, "std": 8}, {"grade": 85, "mean": 90, "std": 5},
                              {"grade": 85, "mean": 85, "std": 8}]},
        {"_id": 5, "grades": [{"grade": 80, "mean": 75, "std": 8}, {"grade": 85, "mean": 90, "std": 5},
                              {"grade": 90, "mean": 85, "std": 3}]},
    ])
    coll.update_one({"_id": 4, "grades.grade": 85}, {"$set": {"grades.$.std": 6}})
    assert _grades(coll)[4] == [{"grade": 80, "mean": 75, "std": 8}, {"grade": 85, "mean": 90, "std": 6},
                                {"grade": 85, "mean": 85, "std": 8}]
    coll.update_one({"_id": 5, "grades": {"$elemMatch": {"grade": {"$lte": 90}, "mean": {"$gt": 80}}}},
                    {"$set": {"grades.$.std": 6}})
    assert _grades(coll)[5] == [{"grade": 80, "mean": 75, "std": 8}, {"grade": 85, "mean": 90, "std": 6},
                                {"grade": 90, "mean": 85, "std": 3}]
    doc = coll.find_one_and_update({"grades.grade": 90}, {"$set": {"grades.$.note": "top"}},
                                   return_document=pymongo.ReturnDocument.AFTER)
    assert doc["_id"] == 5 and doc["grades"][2] == {"grade": 90, "mean": 85, "std": 3, "note": "top"}, doc


def test_all_positional_updates_every_element(coll):
    coll.insert_many([{"_id": 1, "grades": [85, 82, 80]}, {"_id": 2, "grades": [88, 90, 92]},
                      {"_id": 3, "grades": [85, 100, 90]}])
    coll.update_many({}, {"$inc": {"grades.$[]": 10}})
    assert _grades(coll) == {1: [95, 92, 90], 2: [98, 100, 102], 3: [95, 110, 100]}
    coll.insert_one({"_id": 4, "grades": [{"grade": 80, "mean": 75, "std": 8}, {"grade": 85, "mean": 90, "std": 6},
                                          {"grade": 85, "mean": 85, "std": 8}]})
    coll.update_one({"_id": 4}, {"$inc": {"grades.$[].std": -2}})
    assert [g["std"] for g in _grades(coll)[4]] == [6, 4, 6]
    # upsert: the inserted document starts from the query's equality on the array
    r = coll.update_one({"myArray": [5, 8]}, {"$set": {"myArray.$[]": 10}}, upsert=True)
    assert coll.find_one({"_id": r.upserted_id}, {"_id": 0}) == {"myArray": [10, 10]}


def test_filtered_positional_with_array_filters(coll):
    coll.insert_many([{"_id": 1, "grades": [95, 92, 90]}, {"_id": 2, "grades": [98, 100, 102]},
                      {"_id": 3, "grades": [95, 110, 100]}])
    r = coll.update_many({}, {"$set": {"grades.$[element]": 100}}, array_filters=[{"element": {"$gte": 100}}])
    assert r.matched_count == 3 and r.modified_count == 2
    assert _grades(coll) == {1: [95, 92, 90], 2: [98, 100, 100], 3: [95, 100, 100]}


def test_filtered_positional_into_embedded_documents(coll):
    coll.insert_many([
        {"_id": 1, "grades": [{"grade": 80, "mean": 75, "std": 6}, {"grade": 85, "mean": 90, "std": 4},
                              {"grade": 85, "mean": 85, "std": 6}]},
        {"_id": 2, "grades": [{"grade": 90, "mean": 75, "std": 6}, {"grade": 87, "mean": 90, "std": 3},
                              {"grade": 85, "mean": 85, "std": 4}]},
    ])
    coll.update_many({}, {"$set": {"grades.$[elem].mean": 100}}, array_filters=[{"elem.grade": {"$gte": 85}}])
    assert {k: [g["mean"] for g in v] for k, v in _grades(coll).items()} == {1: [75, 100, 100], 2: [100, 100, 100]}
    coll.update_many({}, {"$inc": {"grades.$[elem].std": -1}},
                     array_filters=[{"elem.grade": {"$gte": 80}, "elem.std": {"$gt": 5}}])
    assert {k: [g["std"] for g in v] for k, v in _grades(coll).items()} == {1: [5, 4, 5], 2: [5, 3, 4]}


def test_filtered_positional_with_a_negation(coll):
    coll.insert_many([{"_id": 1, "name": "Christine Franklin", "degrees": [{"level": "Master"}, {"level": "Bachelor"}]},
                      {"_id": 2, "name": "Reyansh Sengupta", "degrees": [{"level": "Bachelor"}]}])
    coll.update_many({}, {"$set": {"degrees.$[degree].gradcampaign": 1}},
                     array_filters=[{"degree.level": {"$ne": "Bachelor"}}])
    assert coll.find_one({"_id": 1})["degrees"] == [{"level": "Master", "gradcampaign": 1}, {"level": "Bachelor"}]
    assert coll.find_one({"_id": 2})["degrees"] == [{"level": "Bachelor"}]


def test_nested_all_and_filtered_positionals(coll):
    coll.insert_one({"_id": 1, "grades": [{"type": "quiz", "questions": [10, 8, 5]},
                                          {"type": "quiz", "questions": [8, 9, 6]},
                                          {"type": "hw", "questions": [5, 4, 3]},
                                          {"type": "exam", "questions": [25, 10, 23, 0]}]})
    coll.update_many({}, {"$inc": {"grades.$[].questions.$[score]": 2}}, array_filters=[{"score": {"$gte": 8}}])
    assert [g["questions"] for g in _grades(coll)[1]] == [[12, 10, 5], [10, 11, 6], [5, 4, 3], [27, 12, 25, 0]]
    coll.update_many({}, {"$inc": {"grades.$[t].questions.$[score]": 1}},
                     array_filters=[{"t.type": "quiz"}, {"score": {"$gte": 8}}])
    assert [g["questions"] for g in _grades(coll)[1]] == [[13, 11, 5], [11, 12, 6], [5, 4, 3], [27, 12, 25, 0]]


def test_find_and_modify_with_array_filters(coll):
    coll.insert_many([{"_id": 1, "grades": [95, 92, 90]}, {"_id": 2, "grades": [98, 100, 102]}])
    doc = coll.find_one_and_update({"grades": {"$gte": 100}}, {"$set": {"grades.$[element]": 100}},
                                   array_filters=[{"element": {"$gte": 100}}],
                                   return_document=pymongo.ReturnDocument.AFTER)
    assert doc == {"_id": 2, "grades": [98, 100, 100]}, doc
    with pytest.raises(pymongo.errors.OperationFailure) as ei:
        coll.find_one_and_update({"_id": 1}, {"$set": {"grades.$[e]": 0}}, array_filters=[{"f": 1}])
    assert ei.value.code == 2, ei.value.details
    assert _grades(coll)[1] == [95, 92, 90]


@pytest.mark.parametrize("query,update,filters,code,words", [
    ({"_id": 1}, {"$set": {"grades.$[x]": 1}}, [{"y": 1}], 2, "No array filter found for identifier 'x'"),
    ({"_id": 1}, {"$set": {"grades.$[x]": 1}}, [{"x": 1}, {"y": 1}], 9, "identifier 'y' was not used"),
    ({"_id": 1}, {"$set": {"grades.$[x]": 1}}, [{"x": 1}, {"x": 2}], 9, "multiple array filters"),
    ({"_id": 1}, {"$set": {"grades.$[X]": 1}}, [{"X": 1}], 2, "beginning with a lowercase letter"),
    ({"_id": 1}, {"$set": {"grades.$[x]": 1}}, [{"x": 1, "z.a": 1}], 9, "single top-level field name"),
    ({"_id": 1}, {"$set": {"grades.$[x]": 1}}, [{"x": {"$where": "1"}}], 2, "unknown operator"),
    ({"_id": 1}, {"$set": {"name.$[]": 1}}, None, 2, "Cannot apply array updates to non-array element"),
    ({"_id": 1}, {"$set": {"nothere.$[]": 1}}, None, 2, "must exist in the document"),
    ({"_id": 1}, {"$set": {"grades.$": 1}}, None, 2, "did not find the match needed from the query"),
    ({"_id": 1, "grades": 3}, {"$set": {"grades.$.a.$": 1}}, None, 2, "Too many positional"),
    ({"_id": 1}, {"$rename": {"grades.$[]": "g"}}, None, 2, "may not be dynamic"),
    ({"_id": 1}, {"$set": {"grades.$foo": 1}}, None, 52, "is not valid for storage"),
    ({"_id": 1}, {"$set": {"grades.$[]": 0, "grades.$[x]": 1}}, [{"x": 2}], 40, "conflict at 'grades.1'"),
])
def test_positional_errors_carry_mongodbs_codes(coll, query, update, filters, code, words):
    coll.insert_one({"_id": 1, "name": "n", "grades": [1, 2, 3]})
    with pytest.raises(pymongo.errors.WriteError) as ei:
        coll.update_one(query, update, array_filters=filters)
    assert ei.value.code == code and words in str(ei.value), ei.value.details
    assert coll.find_one({"_id": 1}) == {"_id": 1, "name": "n", "grades": [1, 2, 3]}, "a failed update changes nothing"


def test_positional_dollar_in_an_upsert_that_inserts_is_refused(coll):
    with pytest.raises(pymongo.errors.WriteError) as ei:
        coll.update_one({"grades": 80}, {"$set": {"grades.$": 82}}, upsert=True)
    assert ei.value.code == 2, ei.value.details
    assert coll.count_documents({}) == 0


# ---- indexes ----

def test_unique_index_refuses_duplicates_with_11000(coll):
    coll.create_index("email", unique=True)
    coll.insert_one({"email": "a@example.com"})
    with pytest.raises(pymongo.errors.DuplicateKeyError) as ei:
        coll.insert_one({"email": "a@example.com"})
    e = ei.value
    assert e.code == 11000
    assert re.match(r"E11000 duplicate key error collection: testdb\.\S+ index: email_1 dup key: ", str(e)), str(e)
    assert e.details["keyPattern"] == {"email": 1} and e.details["keyValue"] == {"email": "a@example.com"}
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        coll.insert_one({"_id": coll.find_one()["_id"], "email": "b@example.com"})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        coll.update_one({"email": {"$exists": False}}, {"$set": {"email": "a@example.com"}}, upsert=True)
    assert coll.count_documents({}) == 1, "no refused write may leave a trace"
    with pytest.raises(pymongo.errors.BulkWriteError) as bi:
        coll.insert_many([{"email": "c@x"}, {"email": "a@example.com"}, {"email": "d@x"}], ordered=False)
    assert bi.value.details["nInserted"] == 2 and bi.value.details["writeErrors"][0]["index"] == 1
    with pytest.raises(pymongo.errors.BulkWriteError) as bi:
        coll.insert_many([{"email": "e@x"}, {"email": "a@example.com"}, {"email": "f@x"}], ordered=True)
    assert bi.value.details["nInserted"] == 1, "an ordered insert stops at the first error"
    assert coll.count_documents({"email": "f@x"}) == 0


def test_compound_unique_index_is_enforced_on_the_pair(coll):
    coll.create_index([("tenant", 1), ("name", 1)], unique=True, name="tenant_name")
    coll.insert_many([{"tenant": "a", "name": "x"}, {"tenant": "b", "name": "x"}, {"tenant": "a", "name": "y"}])
    with pytest.raises(pymongo.errors.DuplicateKeyError) as ei:
        coll.insert_one({"tenant": "a", "name": "x"})
    assert "index: tenant_name" in str(ei.value)
    with pytest.raises(pymongo.errors.OperationFailure) as ei:
        coll.create_index("tenant", unique=True)
    assert ei.value.code == 11000, "existing duplicates must fail the index build"
    info = coll.index_information()
    assert set(info) == {"_id_", "tenant_name"} and info["tenant_name"]["unique"] is True
    coll.drop_index("tenant_name")
    coll.insert_one({"tenant": "a", "name": "x"})
    assert set(coll.index_information()) == {"_id_"}


def test_a_query_on_an_indexed_field_uses_a_postgresql_index(coll):
    coll.insert_many([{"sku": "sku-%05d" % i, "qty": i} for i in range(3000)])
    coll.create_index("sku")
    plan = coll.database.command("explain", {"find": coll.name, "filter": {"sku": "sku-01234"}})
    wp = plan["queryPlanner"]["winningPlan"]
    text = "\n".join(wp["postgresPlan"])
    assert wp["stage"] == "IXSCAN" and wp["indexName"] == "sku_1", wp
    assert re.search(r"Index Scan|Bitmap Index Scan", text) and re.search(r"c\d+_i\d+", text), text
    unindexed = coll.database.command("explain", {"find": coll.name, "filter": {"qty": 1234}})
    assert unindexed["queryPlanner"]["winningPlan"]["stage"] == "COLLSCAN"
    assert [d["qty"] for d in coll.find({"sku": "sku-01234"})] == [1234]
    assert [d["qty"] for d in coll.find({"sku": {"$gte": "sku-02997"}})] == [2997, 2998, 2999]
    assert [d["qty"] for d in coll.find({"sku": {"$in": ["sku-00001", "sku-00002", "nope"]}})] == [1, 2]


def test_concurrent_writers_cannot_break_a_unique_index(coll):
    """Four connections insert the same 40 keys at once: each key is stored
    exactly once, every other attempt is an E11000."""
    coll.create_index("k", unique=True)
    inserted, duplicates, errors = [], [], []

    def writer(w):
        for i in range(40):
            try:
                coll.insert_one({"k": i, "writer": w})
                inserted.append(i)
            except pymongo.errors.DuplicateKeyError:
                duplicates.append(i)
            except Exception as e:  # reported below with its value
                errors.append(repr(e))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], errors
    assert sorted(inserted) == list(range(40)), "each key inserted once: %r" % sorted(inserted)
    assert len(duplicates) == 3 * 40
    assert sorted(coll.distinct("k")) == list(range(40)) and coll.count_documents({}) == 40


def test_an_index_over_arrays_never_hides_matches(coll):
    coll.create_index("tags")
    coll.insert_many([{"tags": "a"}, {"tags": ["a", "b"]}, {"tags": ["c"]}])
    assert coll.count_documents({"tags": "a"}) == 2, "an array element matches as MongoDB's multikey index"


# ---- collections and databases ----

def test_create_list_drop_collections_and_databases(client):
    db = client.ddldb
    db.create_collection("one")
    with pytest.raises(pymongo.errors.CollectionInvalid):
        db.create_collection("one")
    db.two.insert_one({"x": 1})
    assert db.list_collection_names() == ["one", "two"]
    assert "ddldb" in client.list_database_names()
    db.drop_collection("one")
    assert db.list_collection_names() == ["two"]
    client.drop_database("ddldb")
    assert "ddldb" not in client.list_database_names()
    assert db.two.find_one() is None


def test_the_collection_is_a_postgresql_table_in_the_databases_schema(pg, client):
    client.layoutdb.things.insert_one({"_id": "k", "v": 1})
    try:
        out = pg.psql("SELECT count(*) FROM layoutdb.things")
        assert out.strip() == "1", out
    finally:
        client.drop_database("layoutdb")


# ---- durability ----

def test_acknowledged_writes_survive_kill_9_of_the_server(pg):
    """A server of its own on the same PostgreSQL, so the module's server and
    its clients' pooled connections are not disturbed."""
    root = tempfile.mkdtemp(prefix="docdb-kill-")
    own = Docdb(root, pg)
    try:
        own.start()
        c = own.client()
        c.durable.kept.drop()
        c.durable.kept.insert_many([{"i": i} for i in range(200)])
        c.durable.kept.update_many({"i": {"$lt": 50}}, {"$set": {"touched": True}})
        c.durable.kept.delete_many({"i": {"$gte": 190}})
        c.close()
        own.kill9()
        own.start()
        c = own.client()
        assert c.durable.kept.count_documents({}) == 190
        assert c.durable.kept.count_documents({"touched": True}) == 50
        c.drop_database("durable")
        c.close()
        own.stop()
        own.assert_clean_log()
    finally:
        own.stop()
        shutil.rmtree(root, ignore_errors=True)
