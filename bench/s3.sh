#!/bin/sh
# Benchmark: 'aws s3 sync' of 2,000 small files (1-4 KiB, in 20 directories)
# into a private caliberd, with awscli v1 (`aws`) and v2 (/usr/bin/aws), then
# a second sync of the unchanged tree (listing and comparing only).  Prints
# the wall time and files per second of each.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
files=${BENCH_S3_FILES:-2000}
work=$(mktemp -d)
export CALIBER_HOME="$work/home"
cleanup() {
	"$top/bin/caliber" local stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
"$top/bin/caliber" local start --port "$(free_port)" --edge-https-port "$(free_port)" \
	--edge-http-port "$(free_port)" >/dev/null
eval "$("$top/bin/caliber" local env)"
export AWS_CONFIG_FILE="$work/aws-config" AWS_SHARED_CREDENTIALS_FILE="$work/none" AWS_PAGER=""
printf '[default]\n' >"$AWS_CONFIG_FILE"

python3 - "$work/tree" "$files" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
for i in range(n):
    d = os.path.join(root, "dir%02d" % (i % 20))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "file%05d.txt" % i), "wb") as f:
        f.write(rnd.randbytes(rnd.randint(1024, 4096)))
PY

now() { python3 -c 'import time; print(time.time())'; }
run() {
	label=$1
	shift
	t0=$(now)
	"$@" >/dev/null
	t1=$(now)
	python3 - "$label" "$t0" "$t1" "$files" <<'PY'
import sys
label, t0, t1, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
s = t1 - t0
print("  %-40s %7.2f s  %8.0f files/s" % (label, s, n / s))
PY
}

echo "aws s3 sync of $files small files into caliberd ($(aws --version 2>&1 | cut -d' ' -f1), $(/usr/bin/aws --version 2>&1 | cut -d' ' -f1))"
aws s3 mb s3://bench-v1 >/dev/null
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" s3 mb s3://bench-v2 >/dev/null
run "awscli v1: first sync (uploads all)" aws s3 sync "$work/tree" s3://bench-v1/ --only-show-errors
run "awscli v1: second sync (uploads none)" aws s3 sync "$work/tree" s3://bench-v1/ --only-show-errors
run "awscli v2: first sync (uploads all)" /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" s3 sync "$work/tree" s3://bench-v2/ --only-show-errors
run "awscli v2: second sync (uploads none)" /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" s3 sync "$work/tree" s3://bench-v2/ --only-show-errors
# (s3api's --query applies per page of 1,000; count the listing instead)
count=$(aws s3 ls s3://bench-v1/ --recursive | wc -l)
echo "  objects in bench-v1 after the syncs: $count"
