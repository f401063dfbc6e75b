"""bench/docdb.py, run by bench/docdb.sh: caliber-docdb through pymongo beside
the same work through psycopg2 on a jsonb table in the same PostgreSQL.

One PostgreSQL 15 and one caliber-docdb (TLS and SCRAM as always) are started
in a temporary directory with test_docdb_wire.py's helpers and removed at the
end.  Each workload runs REPEAT times; the best time is reported (the least
disturbed by the other load on the machine), with the ratio docdb/jsonb.
Figures only, never assertions.
"""
import os
import random
import shutil
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import psycopg2  # noqa: E402
import psycopg2.extras  # noqa: E402
import pymongo  # noqa: E402
from psycopg2.extras import Json  # noqa: E402

import test_docdb_wire as w  # noqa: E402

N = 10000
FINDS = 1000
REPEAT = int(os.environ.get("DOCDB_BENCH_REPEAT", "3"))


def documents():
    return [{"k": i, "name": "item-%05d" % i, "grp": i % 10, "v": i * 0.5, "tags": ["t%d" % (i % 7), "all"],
             "dim": {"h": i % 13, "w": i % 17}} for i in range(N)]


def best(fn):
    times = []
    for _ in range(REPEAT):
        times.append(fn())
    return min(times)


def bench_docdb(d):
    c = pymongo.MongoClient(d.uri(), serverSelectionTimeoutMS=10000)
    coll = c.bench.items
    keys = [random.randrange(N) for _ in range(FINDS)]

    def insert():
        coll.drop()
        coll.create_index("k")
        docs = documents()
        t = time.perf_counter()
        coll.insert_many(docs)
        return time.perf_counter() - t

    def find():
        t = time.perf_counter()
        for k in keys:
            assert coll.find_one({"k": k})["k"] == k
        return time.perf_counter() - t

    def agg():
        t = time.perf_counter()
        r = list(coll.aggregate([{"$group": {"_id": "$grp", "n": {"$sum": 1}, "s": {"$sum": "$v"}}}]))
        assert len(r) == 10 and sum(x["n"] for x in r) == N
        return time.perf_counter() - t

    out = {"insert": best(insert), "find": best(find), "aggregate": best(agg)}
    c.close()
    return out


def bench_jsonb(pg):
    conn = psycopg2.connect(pg.conninfo)
    cur = conn.cursor()
    keys = [random.randrange(N) for _ in range(FINDS)]

    def insert():
        cur.execute("DROP TABLE IF EXISTS bench_items")
        cur.execute("CREATE TABLE bench_items (id bigserial PRIMARY KEY, doc jsonb NOT NULL)")
        cur.execute("CREATE INDEX ON bench_items ((doc->'k'))")
        conn.commit()
        docs = documents()
        t = time.perf_counter()
        psycopg2.extras.execute_values(cur, "INSERT INTO bench_items (doc) VALUES %s", [(Json(x),) for x in docs],
                                       page_size=1000)
        conn.commit()
        return time.perf_counter() - t

    def find():
        t = time.perf_counter()
        for k in keys:
            cur.execute("SELECT doc FROM bench_items WHERE doc->'k' = %s::jsonb LIMIT 1", (str(k),))
            assert cur.fetchone()[0]["k"] == k
        conn.commit()
        return time.perf_counter() - t

    def agg():
        t = time.perf_counter()
        cur.execute("SELECT doc->'grp', count(*), sum((doc->>'v')::float8) FROM bench_items GROUP BY 1")
        r = cur.fetchall()
        assert len(r) == 10 and sum(x[1] for x in r) == N
        conn.commit()
        return time.perf_counter() - t

    out = {"insert": best(insert), "find": best(find), "aggregate": best(agg)}
    cur.execute("DROP TABLE bench_items")
    conn.commit()
    conn.close()
    return out


def main():
    os.environ.setdefault("CALIBER_BIN_DIR", os.path.join(TOP, "build", "release"))
    w.BIN_DIR = os.environ["CALIBER_BIN_DIR"]
    root = tempfile.mkdtemp(prefix="docdb-bench-")
    os.chmod(root, 0o755)
    pg = d = None
    try:
        with open("/proc/loadavg") as f:
            load0 = f.read().split()[:3]
        pg = w.Postgres(os.path.join(root, "pg"))
        d = w.Docdb(os.path.join(root, "srv"), pg)
        os.makedirs(d.root)
        d.start()
        jb = bench_jsonb(pg)
        dd = bench_docdb(d)
        with open("/proc/loadavg") as f:
            load1 = f.read().split()[:3]
        print("caliber-docdb (pymongo %s, TLS, SCRAM-SHA-256) vs psycopg2 %s on jsonb, same PostgreSQL 15;"
              " best of %d" % (pymongo.version, psycopg2.__version__.split()[0], REPEAT))
        print("load average before %s, after %s; %d CPUs" % (" ".join(load0), " ".join(load1), os.cpu_count()))
        print("%-34s %10s %10s %8s" % ("workload", "docdb", "jsonb", "ratio"))
        for key, label in (("insert", "insert_many %d documents" % N),
                           ("find", "find by indexed field x%d" % FINDS),
                           ("aggregate", "$group over %d documents" % N)):
            print("%-34s %9.3fs %9.3fs %7.2fx" % (label, dd[key], jb[key], dd[key] / jb[key]))
    finally:
        if d:
            d.stop()
        if pg:
            pg.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
