"""caliber-docdb driven by libmongoc (Debian's libmongoc-dev 1.23): the C
client tests/clients/docdb-mongoc.c, built by the Makefile with the tests,
connects with TLS (the local CA) and SCRAM, inserts, finds with a sort, a
projection and batchSize 1 (so across getMore), and runs an aggregate.
Expected values are the inventory examples of MongoDB's manual.  The URI
reaches the client in the environment only.  The servers are the fixtures
of test_docdb_wire.py.
"""
import json
import os
import subprocess

import pytest

from conftest import BIN_DIR
from test_docdb_wire import client, docdb, pg  # noqa: F401 (fixtures)

MONGOC_CLIENT = os.path.join(BIN_DIR, "tests", "clients", "docdb-mongoc")


def run_client(docdb, uri, coll="inventory"):
    assert os.access(MONGOC_CLIENT, os.X_OK), "%s is not built (make all)" % MONGOC_CLIENT
    env = dict(os.environ, DOCDB_URI=uri)
    return subprocess.run([MONGOC_CLIENT, "mongocdb", coll], env=env, capture_output=True, text=True, timeout=60)


def _plain(v):
    """Canonical EJSON numbers to (type, value), the rest as is."""
    if isinstance(v, dict):
        if len(v) == 1:
            (k, x), = v.items()
            if k == "$numberInt":
                return ("int32", int(x))
            if k == "$numberLong":
                return ("int64", int(x))
            if k == "$numberDouble":
                return ("double", float(x))
            if k == "$date":
                return ("date", int(x["$numberLong"]))
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_libmongoc_inserts_finds_and_aggregates(docdb, client, mechanism):
    r = run_client(docdb, docdb.uri(authMechanism=mechanism))
    assert r.returncode == 0, "docdb-mongoc failed:\n%s\nserver log:\n%s" % (r.stderr, docdb.log()[-3000:])
    got = _plain(json.loads(r.stdout))
    assert got["maxWireVersion"] == ("int32", 13), got
    assert got["inserted"] == ("int32", 4), got
    assert got["found"] == [
        {"_id": ("int32", 3), "item": "paper", "qty": ("int32", 100),
         "size": {"h": ("double", 8.5), "uom": "in"}},
        {"_id": ("int32", 4), "item": "planner", "qty": ("int64", 75),
         "size": {"h": ("double", 22.85), "uom": "cm"}, "when": ("date", 1700000000123)},
    ], got["found"]
    # $sum keeps int32 while it fits and widens to int64 when an addend is one
    assert got["aggregate"] == [
        {"_id": "A", "total": ("int32", 50), "n": ("int32", 1)},
        {"_id": "D", "total": ("int64", 175), "n": ("int32", 2)},
    ], got["aggregate"]
    # what pymongo reads back is what the C client wrote, types and all
    doc = client.mongocdb.inventory.find_one({"_id": 4})
    assert type(doc["qty"]).__name__ == "Int64" and doc["when"].year == 2023, doc
    client.drop_database("mongocdb")


def test_libmongoc_with_a_wrong_password_is_refused(docdb):
    r = run_client(docdb, docdb.uri(password="not-the-password"))
    assert r.returncode == 1, r.stdout
    assert "Authentication failed." in r.stderr, r.stderr
    assert "not-the-password" not in docdb.log()


def test_libmongoc_without_tls_is_refused(docdb):
    uri = docdb.uri(tls="false").replace("&tlsCAFile=" + docdb.ca_file, "") + "&serverSelectionTimeoutMS=2000"
    r = run_client(docdb, uri)
    assert r.returncode == 1 and "error" in r.stderr, (r.stdout, r.stderr)
