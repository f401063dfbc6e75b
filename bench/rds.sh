#!/bin/sh
# Benchmark: RDS on the local cloud.  Time from CreateDBInstance to the
# instance reported 'available' (initdb, first start, master role and
# database, first automated base backup), for a few instances; then a
# manual snapshot and a restore from it.  Polls DescribeDBInstances every
# 50 ms with an in-process botocore client, so the figure is the daemon's,
# not awscli's start-up or its waiter's 30 s period.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
bin=${CALIBER_BIN_DIR:-$top/build/release}
runs=${BENCH_RDS_RUNS:-5}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CALIBER_HOME="$work/home" CALIBER_LOCAL_PORT="$port"
cleanup() {
	"$bin/caliber" local stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
"$bin/caliber" local start >/dev/null
eval "$("$bin/caliber" local env)"

/usr/bin/python3 - "$runs" <<'PY'
import os, statistics, sys, time
import botocore.session
from botocore.config import Config

runs = int(sys.argv[1])
rds = botocore.session.get_session().create_client(
    "rds", region_name=os.environ["AWS_DEFAULT_REGION"], endpoint_url=os.environ["AWS_ENDPOINT_URL"],
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    config=Config(retries={"max_attempts": 0}))

def until(fn, what):
    t0 = time.time()
    while not fn():
        if time.time() - t0 > 300:
            raise SystemExit("%s: not done after 300 s" % what)
        time.sleep(0.05)

def available(db):
    return rds.describe_db_instances(DBInstanceIdentifier=db)["DBInstances"][0]["DBInstanceStatus"] == "available"

def timed_create(db):
    t0 = time.time()
    rds.create_db_instance(DBInstanceIdentifier=db, Engine="postgres", DBInstanceClass="db.t3.micro",
                           MasterUsername="app", MasterUserPassword="Bench-pass-1", DBName="app")
    api = time.time() - t0
    until(lambda: available(db), db)
    return api, time.time() - t0

created, api = [], []
for i in range(runs):
    a, t = timed_create("bench-%d" % i)
    api.append(a)
    created.append(t)

t0 = time.time()
rds.create_db_snapshot(DBInstanceIdentifier="bench-0", DBSnapshotIdentifier="bench-snap")
until(lambda: rds.describe_db_snapshots(DBSnapshotIdentifier="bench-snap")["DBSnapshots"][0]["Status"] == "available", "snapshot")
snap = time.time() - t0
until(lambda: available("bench-0"), "bench-0")
t0 = time.time()
rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="bench-restored", DBSnapshotIdentifier="bench-snap")
until(lambda: available("bench-restored"), "restore")
restore = time.time() - t0
t0 = time.time()
rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="bench-0",
                                         TargetDBInstanceIdentifier="bench-pitr", UseLatestRestorableTime=True)
until(lambda: available("bench-pitr"), "pitr")
pitr = time.time() - t0

# leave nothing behind: the data of a root caliberd live outside CALIBER_HOME
for db in ["bench-%d" % i for i in range(runs)] + ["bench-restored", "bench-pitr"]:
    rds.delete_db_instance(DBInstanceIdentifier=db, SkipFinalSnapshot=True)
rds.delete_db_snapshot(DBSnapshotIdentifier="bench-snap")
until(lambda: not rds.describe_db_instances()["DBInstances"], "deletes")

print("RDS PostgreSQL on caliberd (load average %.1f)" % os.getloadavg()[0])
print("  CreateDBInstance reply:            mean %6.1f ms" % (1000 * statistics.mean(api)))
print("  CreateDBInstance -> available:     mean %5.2f s  (min %.2f, max %.2f, %d runs: %s)" % (
    statistics.mean(created), min(created), max(created), runs, " ".join("%.2f" % x for x in created)))
print("  CreateDBSnapshot -> available:     %5.2f s" % snap)
print("  restore from snapshot -> available: %5.2f s" % restore)
print("  point in time (latest) -> available: %5.2f s" % pitr)
PY
