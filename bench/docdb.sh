#!/bin/sh
# bench/docdb.sh: caliber-docdb through Debian's pymongo (insert_many of 10,000
# documents, find by an indexed field 1,000 times, a $group over the 10,000)
# beside the same work through psycopg2 on a jsonb table in the same
# PostgreSQL 15; prints each time and our overhead as a ratio, with the
# machine's load.  Figures only, never assertions.  bench/docdb.py does it.
#
#   bench/docdb.sh            (DOCDB_BENCH_REPEAT=3: runs per workload, best kept)
set -eu
cd "$(dirname "$0")/.."
bin=${CALIBER_BIN_DIR:-$(pwd)/build/release}
[ -x "$bin/caliber-docdb" ] || { echo "bench/docdb.sh: build caliber-docdb first (make)" >&2; exit 1; }
[ -x /usr/lib/postgresql/15/bin/initdb ] || { echo "bench/docdb.sh: PostgreSQL 15 is not installed" >&2; exit 1; }
# Debian's python: its pymongo and psycopg2 (pyenv's python has neither)
CALIBER_BIN_DIR=$bin exec /usr/bin/python3 bench/docdb.py
