"""caliber-docdb driven by current clients from npm: the official Node.js
driver `mongodb` and `mongosh` in scripted runs (tests/docdb-node/, installed
by tools/install-deps.sh with `npm ci`).  A current driver negotiates a newer
wire version than Debian's pymongo 3.11 and sends what newer drivers send
(lsid, $db, OP_MSG only, speculative SCRAM-SHA-256, hello with helloOk).

Each test is a Node script that prints one JSON value (canonical Extended
JSON, so the types survive); the expected values are written from MongoDB's
manual.  The URI, with its password, reaches node in the environment only.
The servers are the fixtures of test_docdb_wire.py.
"""
import json
import os
import subprocess

import pytest

from conftest import TOP
from test_docdb_wire import MASTER_PASSWORD, client, docdb, pg  # noqa: F401 (fixtures)

NODE_DIR = os.path.join(TOP, "tests", "docdb-node")
NODE_MODULES = os.path.join(NODE_DIR, "node_modules")
MONGOSH = os.path.join(NODE_MODULES, ".bin", "mongosh")
NODE_SECONDS = 60

PRELUDE = """
const { MongoClient, BSON } = require("mongodb");
const URI = process.env.DOCDB_URI;
function out(v) { console.log(BSON.EJSON.stringify(v, { relaxed: false })); }
async function errorOf(p) {
    try { await p; return null; }
    catch (e) { return { code: e.code === undefined ? null : e.code, name: e.name, message: e.message }; }
}
(async () => {
%s
})().catch((e) => { console.error("node script failed:", e); process.exit(1); });
"""


@pytest.fixture(scope="module", autouse=True)
def node_modules():
    # Not a skip: the packages are a declared test dependency.
    assert os.path.isdir(os.path.join(NODE_MODULES, "mongodb")), \
        "tests/docdb-node/node_modules is missing: run tools/install-deps.sh (it runs npm ci there)"


def _ejson(text):
    """Canonical EJSON to Python: numbers keep their BSON type as a tag."""
    def hook(d):
        if len(d) == 1:
            (k, v), = d.items()
            if k == "$numberInt":
                return int(v)
            if k == "$numberLong":
                return ("int64", int(v))
            if k == "$numberDouble":
                return float(v)
            if k == "$oid":
                return ("oid", v)
        return d
    return json.loads(text, object_hook=hook)


def node(docdb, body, uri=None):
    env = dict(os.environ, DOCDB_URI=uri or docdb.uri(), NODE_PATH=NODE_MODULES)
    r = subprocess.run(["node", "-e", PRELUDE % body], cwd=NODE_DIR, env=env, capture_output=True,
               text=True, timeout=NODE_SECONDS)
    assert r.returncode == 0, "node failed (%d):\n%s\n%s\nserver log:\n%s" % (
        r.returncode, r.stdout, r.stderr, docdb.log()[-3000:])
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    assert lines, "the script printed nothing; stderr:\n" + r.stderr
    return _ejson(lines[-1])


def test_the_driver_is_current_and_negotiates_a_newer_wire_version(docdb):
    got = node(docdb, """
    const c = new MongoClient(URI);
    await c.connect();
    const hello = await c.db("admin").command({ hello: 1 });
    const v = require("mongodb/package.json").version;
    out({ v, max: hello.maxWireVersion, set: hello.setName, primary: hello.isWritablePrimary });
    await c.close();
    """)
    assert int(got["v"].split(".")[0]) >= 6, got
    assert got["max"] == 13 and got["set"] == "rs0" and got["primary"] is True, got
    assert "wire protocol error" not in docdb.log() and "protocol" not in docdb.log().lower(), docdb.log()


def test_crud(docdb):
    got = node(docdb, """
    const c = new MongoClient(URI + "&authMechanism=SCRAM-SHA-256");
    const col = c.db("nodecrud").collection("people");
    await col.drop().catch(() => {});
    const ins = await col.insertMany([{ _id: 1, name: "ada", age: 36 }, { _id: 2, name: "bob", age: 25 },
        { _id: 3, name: "cy", age: 41 }]);
    const one = await col.insertOne({ _id: 4, name: "di", age: 30, when: new Date(0), big: BSON.Long.fromString("9007199254740993") });
    const found = await col.find({ age: { $gte: 30 } }).sort({ age: -1 }).project({ _id: 0, name: 1 }).toArray();
    const upd = await col.updateOne({ _id: 2 }, { $set: { age: 26 } });
    const fam = await col.findOneAndUpdate({ _id: 3 }, { $inc: { age: 1 } }, { returnDocument: "after" });
    const rep = await col.replaceOne({ _id: 1 }, { name: "ada", age: 37 });
    const ups = await col.updateOne({ _id: 9 }, { $set: { name: "zed" } }, { upsert: true });
    const del = await col.deleteMany({ age: { $lt: 30 } });
    const four = await col.findOne({ _id: 4 });
    const left = await col.find().sort({ _id: 1 }).toArray();
    out({ ins: ins.insertedCount, one: one.insertedId, found, upd: [upd.matchedCount, upd.modifiedCount],
        fam, rep: rep.modifiedCount, ups: ups.upsertedId, del: del.deletedCount, four,
        left, count: await col.countDocuments({}), est: await col.estimatedDocumentCount(),
        distinct: await col.distinct("name") });
    await c.close();
    """)
    assert got["ins"] == 3 and got["one"] == 4, got
    assert got["found"] == [{"name": "cy"}, {"name": "ada"}, {"name": "di"}], got
    assert got["upd"] == [1, 1] and got["rep"] == 1 and got["ups"] == 9, got
    assert got["fam"] == {"_id": 3, "name": "cy", "age": 42}, got
    # bob (26) and zed (no age: $lt does not match a missing field) -> only bob
    assert got["del"] == 1, got
    assert got["four"]["when"] == {"$date": ("int64", 0)}, got["four"]
    assert got["four"]["big"] == ("int64", 9007199254740993), "an int64 must come back exact: %r" % got["four"]
    assert [d["_id"] for d in got["left"]] == [1, 3, 4, 9], got
    assert got["count"] == 4 and got["est"] == 4, got
    assert sorted(got["distinct"]) == ["ada", "cy", "di", "zed"], got


def test_query_and_update_operators_from_the_manual(docdb):
    # The inventory of the manual's "Query an Array" and "Update Documents" pages.
    got = node(docdb, """
    const c = new MongoClient(URI);
    const col = c.db("nodeops").collection("inventory");
    await col.drop().catch(() => {});
    await col.insertMany([
        { _id: 1, item: "journal", qty: 25, tags: ["blank", "red"], dim_cm: [14, 21], size: { h: 14, w: 21, uom: "cm" }, status: "A" },
        { _id: 2, item: "notebook", qty: 50, tags: ["red", "blank"], dim_cm: [14, 21], size: { h: 8.5, w: 11, uom: "in" }, status: "A" },
        { _id: 3, item: "paper", qty: 100, tags: ["red", "blank", "plain"], dim_cm: [14, 21], size: { h: 8.5, w: 11, uom: "in" }, status: "D" },
        { _id: 4, item: "planner", qty: 75, tags: ["blank", "red"], dim_cm: [22.85, 30], size: { h: 22.85, w: 30, uom: "cm" }, status: "D" },
        { _id: 5, item: "postcard", qty: 45, tags: ["blue"], dim_cm: [10, 15.25], size: { h: 10, w: 15.25, uom: "cm" }, status: "A" },
    ]);
    const ids = async (f) => (await col.find(f).sort({ _id: 1 }).toArray()).map((d) => d._id);
    const q = {
        all: await ids({ tags: { $all: ["red", "blank"] } }),
        exact: await ids({ tags: ["red", "blank"] }),
        gt25: await ids({ dim_cm: { $gt: 25 } }),
        elem: await ids({ dim_cm: { $elemMatch: { $gt: 22, $lt: 30 } } }),
        idx1: await ids({ "dim_cm.1": { $gt: 25 } }),
        size3: await ids({ tags: { $size: 3 } }),
        or: await ids({ $or: [{ status: "A", qty: { $lt: 30 } }, { item: { $regex: "^p" } }] }),
        uom: await ids({ "size.uom": "in" }),
        nin: await ids({ status: { $nin: ["A"] } }),
    };
    await col.updateOne({ item: "paper" }, { $set: { "size.uom": "cm", status: "P" }, $currentDate: { lastModified: true } });
    await col.updateMany({ qty: { $lt: 50 } }, { $set: { "size.uom": "in", status: "P" } });
    await col.updateOne({ _id: 5 }, { $push: { tags: { $each: ["x", "y"], $position: 0 } }, $inc: { qty: -5 } });
    await col.updateOne({ _id: 4 }, { $pull: { tags: "red" }, $unset: { size: "" }, $rename: { dim_cm: "dims" } });
    const paper = await col.findOne({ _id: 3 });
    out({ q, paper: { uom: paper.size.uom, status: paper.status, dated: paper.lastModified instanceof Date },
        lt50: (await col.find({ qty: { $lt: 50 } }).sort({ _id: 1 }).toArray()).map((d) => [d._id, d.size.uom, d.status]),
        five: await col.findOne({ _id: 5 }, { projection: { _id: 0, tags: 1, qty: 1 } }),
        four: await col.findOne({ _id: 4 }, { projection: { _id: 0, tags: 1, size: 1, dims: 1 } }) });
    await c.close();
    """)
    q = got["q"]
    assert q["all"] == [1, 2, 3, 4], q
    assert q["exact"] == [2], q
    assert q["gt25"] == [4], q
    assert q["elem"] == [4], q
    assert q["idx1"] == [4], q
    assert q["size3"] == [3], q
    assert q["or"] == [1, 3, 4, 5], q
    assert q["uom"] == [2, 3], q
    assert q["nin"] == [3, 4], q
    assert got["paper"] == {"uom": "cm", "status": "P", "dated": True}, got
    assert got["lt50"] == [[1, "in", "P"], [5, "in", "P"]], got
    assert got["five"] == {"qty": 40, "tags": ["x", "y", "blue"]}, got
    assert got["four"] == {"tags": ["blank"], "dims": [22.85, 30]}, got


def test_aggregation(docdb):
    # The manual's $group example (sales of items by day), and $unwind / $lookup.
    got = node(docdb, """
    const c = new MongoClient(URI);
    const db = c.db("nodeagg");
    await db.dropDatabase();
    await db.collection("sales").insertMany([
        { _id: 1, item: "abc", price: 10, quantity: 2, tags: ["a", "b"] },
        { _id: 2, item: "jkl", price: 20, quantity: 1, tags: ["b"] },
        { _id: 3, item: "xyz", price: 5, quantity: 10, tags: [] },
        { _id: 4, item: "xyz", price: 5, quantity: 20, tags: ["c"] },
        { _id: 5, item: "abc", price: 10, quantity: 10, tags: ["a"] },
    ]);
    await db.collection("items").insertMany([{ _id: "abc", label: "ABC" }, { _id: "xyz", label: "XYZ" }]);
    const sales = db.collection("sales");
    out({
        group: await sales.aggregate([{ $group: { _id: "$item", qty: { $sum: "$quantity" }, avg: { $avg: "$quantity" },
            n: { $sum: 1 }, max: { $max: "$quantity" } } }, { $sort: { _id: 1 } }]).toArray(),
        unwind: await sales.aggregate([{ $unwind: "$tags" }, { $group: { _id: "$tags", n: { $sum: 1 } } },
            { $sort: { _id: 1 } }]).toArray(),
        lookup: await sales.aggregate([{ $match: { _id: { $in: [2, 3] } } }, { $sort: { _id: 1 } },
            { $lookup: { from: "items", localField: "item", foreignField: "_id", as: "it" } },
            { $project: { _id: 1, it: 1 } }]).toArray(),
        count: await sales.aggregate([{ $match: { price: { $gte: 10 } } }, { $count: "n" }]).toArray(),
        batched: (await sales.aggregate([{ $sort: { _id: 1 } }], { batchSize: 2 }).toArray()).map((d) => d._id),
        unknown: await errorOf(sales.aggregate([{ $group: { _id: { $mod: ["$price", 2] } } }]).toArray()),
    });
    await c.close();
    """)
    assert got["group"] == [
        {"_id": "abc", "qty": 12, "avg": 6.0, "n": 2, "max": 10},
        {"_id": "jkl", "qty": 1, "avg": 1.0, "n": 1, "max": 1},
        {"_id": "xyz", "qty": 30, "avg": 15.0, "n": 2, "max": 20},
    ], got["group"]
    assert got["unwind"] == [{"_id": "a", "n": 2}, {"_id": "b", "n": 2}, {"_id": "c", "n": 1}], got
    assert got["lookup"] == [{"_id": 2, "it": []}, {"_id": 3, "it": [{"_id": "xyz", "label": "XYZ"}]}], got
    assert got["count"] == [{"n": 3}], got
    assert got["batched"] == [1, 2, 3, 4, 5], got
    assert got["unknown"]["code"] == 168, "an unsupported expression operator is MongoDB's 168: %r" % got


def test_a_unique_index_violation_is_11000(docdb):
    got = node(docdb, """
    const c = new MongoClient(URI);
    const col = c.db("nodeidx").collection("users");
    await col.drop().catch(() => {});
    const name = await col.createIndex({ email: 1 }, { unique: true });
    await col.insertOne({ email: "a@example.com" });
    const dup = await errorOf(col.insertOne({ email: "a@example.com" }));
    const bulk = await errorOf(col.insertMany([{ email: "b@example.com" }, { email: "a@example.com" },
        { email: "c@example.com" }], { ordered: false }));
    out({ name, dup, bulk, n: await col.countDocuments({}), idx: (await col.indexes()).map((i) => [i.name, !!i.unique]) });
    await c.close();
    """)
    assert got["name"] == "email_1", got
    assert got["dup"]["code"] == 11000 and "E11000 duplicate key error" in got["dup"]["message"], got
    assert got["bulk"]["code"] == 11000 and got["bulk"]["name"] == "MongoBulkWriteError", got
    assert got["n"] == 3, "an unordered insertMany keeps the documents that do not collide: %r" % got
    assert got["idx"] == [["_id_", False], ["email_1", True]], got


def test_cursors_across_getmore(docdb):
    got = node(docdb, """
    const c = new MongoClient(URI);
    const col = c.db("nodecur").collection("n");
    await col.drop().catch(() => {});
    await col.insertMany(Array.from({ length: 250 }, (_, i) => ({ i })));
    const seen = [];
    const cur = col.find({ i: { $gte: 7 } }, { batchSize: 16 }).sort({ i: 1 });
    for await (const d of cur) seen.push(d.i);
    const early = col.find({}, { batchSize: 5 });
    await early.next();
    await early.close();
    const sum = seen.reduce((a, b) => a + b, 0);
    out({ n: seen.length, first: seen[0], last: seen[seen.length - 1], sum,
        after: await col.countDocuments({}) });
    await c.close();
    """)
    assert got["n"] == 243 and got["first"] == 7 and got["last"] == 249, got
    assert got["sum"] == sum(range(7, 250)), got
    assert got["after"] == 250, got


def test_a_wrong_password_is_18(docdb):
    got = node(docdb, """
    const c = new MongoClient(URI, { serverSelectionTimeoutMS: 5000 });
    out(await errorOf(c.connect()));
    await c.close();
    """, uri=docdb.uri(password="not-the-password"))
    assert got["code"] == 18 and got["message"] == "Authentication failed.", got
    assert "not-the-password" not in docdb.log()


def test_tls_is_required(docdb):
    got = node(docdb, """
    const c = new MongoClient(URI.replace(/&tlsCAFile=[^&]*/, ""), { serverSelectionTimeoutMS: 2000 });
    const e = await errorOf(c.connect());
    out(e && e.name);
    await c.close();
    """, uri=docdb.uri(tls="false"))
    assert got == "MongoServerSelectionError", got


def test_retryable_writes_as_documentdb_answers_them(docdb):
    # The driver's default is retryWrites=true; DocumentDB (5.0) refuses the
    # txnNumber that carries with 301, so its connection strings, and ours,
    # say retryWrites=false.  Reads are not affected.
    got = node(docdb, """
    const dflt = new MongoClient(URI.replace("&retryWrites=false", ""));
    const col = dflt.db("noderetry").collection("r");
    const refused = await errorOf(col.insertOne({ x: 1 }));
    const read = await col.find({}).toArray();
    await dflt.close();
    const ok = new MongoClient(URI);
    const col2 = ok.db("noderetry").collection("r");
    await col2.deleteMany({});
    const ins = await col2.insertOne({ x: 2 });
    out({ refused, read: read.length, ok: ins.acknowledged, n: await col2.countDocuments({ x: 2 }) });
    await ok.close();
    """)
    assert "retryWrites=false" in docdb.uri()
    assert got["refused"]["code"] == 301 and "Retryable writes are not supported" in got["refused"]["message"], got
    assert got["read"] == 0 and got["ok"] is True and got["n"] == 1, got


def test_a_transaction_is_refused_not_half_applied(docdb):
    # Transactions are not implemented (docs/localcloud.md): the server says
    # 20 IllegalOperation, which the driver (7.x) rewrites for any write that
    # carried a txnNumber into its "does not support retryable writes" advice;
    # the server's own error stays in originalError.
    got = node(docdb, """
    const c = new MongoClient(URI);
    const col = c.db("nodetxn").collection("t");
    await col.deleteMany({});
    const s = c.startSession();
    s.startTransaction();
    const e = await errorOf(col.insertOne({ x: 1 }, { session: s }));
    let orig = null;
    try { await col.insertOne({ x: 2 }, { session: s }); } catch (x) { orig = x.errorResponse && x.errorResponse.originalError; }
    await s.abortTransaction().catch(() => {});
    await s.endSession();
    out({ e, orig: orig && { code: orig.code, message: orig.message }, n: await col.countDocuments({}) });
    await c.close();
    """)
    assert got["e"] is not None, got
    assert got["orig"] == {"code": 20, "message": "transactions are not supported by the local DocumentDB"}, got
    assert got["n"] == 0, "nothing of a refused transaction is written: %r" % got


def test_a_user_is_confined_to_its_database(docdb, client):
    client.node_a.command("createUser", "node_a_app", pwd="node-a-secret", roles=[{"role": "readWrite", "db": "node_a"}])
    client.node_b.secrets.insert_one({"owner": "b"})
    try:
        got = node(docdb, """
        const c = new MongoClient(URI);
        await c.db("node_a").collection("orders").insertOne({ n: 1 });
        out({ own: await c.db("node_a").collection("orders").countDocuments({}),
            read: await errorOf(c.db("node_b").collection("secrets").findOne({})),
            write: await errorOf(c.db("node_b").collection("secrets").insertOne({ x: 1 })),
            dbs: (await c.db("admin").admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name) });
        await c.close();
        """, uri=docdb.uri(user="node_a_app", password="node-a-secret", db="node_a"))
        assert got["own"] == 1, got
        assert got["read"]["code"] == 13 and got["write"]["code"] == 13, got
        assert got["dbs"] == ["node_a"], got
        assert client.node_b.secrets.count_documents({"x": 1}) == 0
    finally:
        client.node_a.command("dropUser", "node_a_app")
        client.drop_database("node_a")
        client.drop_database("node_b")


def _mongosh(docdb, script):
    # --nodb and connect() in the script: the URI (and its password) stays
    # out of argv.
    env = dict(os.environ, DOCDB_URI=docdb.uri())
    r = subprocess.run([MONGOSH, "--nodb", "--quiet", "--norc", "--eval",
                "db = connect(process.env.DOCDB_URI);\n" + script],
               cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=NODE_SECONDS)
    assert r.returncode == 0, "mongosh failed (%d):\n%s\n%s" % (r.returncode, r.stdout, r.stderr)
    return r.stdout


def test_mongosh_scripted_run(docdb):
    out = _mongosh(docdb, """
    const s = db.getSiblingDB("shdb");
    s.c.drop();
    s.c.insertMany([{ x: 1 }, { x: 2 }, { x: 3 }]);
    s.c.createIndex({ x: 1 }, { unique: true });
    let dup = null;
    try { s.c.insertOne({ x: 2 }); } catch (e) { dup = e.code; }
    print(EJSON.stringify({
        found: s.c.find({ x: { $gt: 1 } }, { _id: 0 }).sort({ x: 1 }).toArray(),
        total: s.c.aggregate([{ $group: { _id: null, t: { $sum: "$x" } } }]).toArray()[0].t,
        dup, version: db.version(), ok: db.adminCommand({ ping: 1 }).ok }));
    """)
    got = json.loads(out.strip().splitlines()[-1])
    assert got["found"] == [{"x": 2}, {"x": 3}] and got["total"] == 6 and got["dup"] == 11000, got
    assert got["version"].startswith("5.0") and got["ok"] == 1, got


def test_mongosh_runs_a_script_file(docdb, tmp_path):
    path = tmp_path / "seed.js"
    path.write_text('db.getSiblingDB("shfile").k.insertOne({ _id: "seeded", v: 1 });\n'
            'print(db.getSiblingDB("shfile").k.findOne({ _id: "seeded" }).v);\n')
    env = dict(os.environ, DOCDB_URI=docdb.uri())
    r = subprocess.run([MONGOSH, "--nodb", "--quiet", "--norc", "--eval", "db = connect(process.env.DOCDB_URI)",
                str(path)], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=NODE_SECONDS)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "1", r.stdout
