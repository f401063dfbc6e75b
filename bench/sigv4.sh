#!/bin/sh
# SigV4: requests signed and verified per second by lib/aws/sigv4.c, next to
# botocore's SigV4Auth (what awscli uses) signing the same request.
set -eu
cd "$(dirname "$0")/.."
make -s build/release/libcaliber.a
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2046
cc -std=c11 -O2 -D_GNU_SOURCE -Ilib bench/sigv4-bench.c build/release/libcaliber.a \
	$(pkg-config --libs openssl) -o "$tmp/sigv4-bench"
echo "caliber (C, one core):"
"$tmp/sigv4-bench"
echo "botocore $(python3 -c 'import botocore; print(botocore.__version__)') SigV4Auth.add_auth (Python):"
python3 - <<'PY'
import time
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

creds = Credentials("AKIDEXAMPLE", "secret")
auth = SigV4Auth(creds, "ecs", "us-east-1")
body = b"x" * 1024
n = 5000
t0 = time.monotonic()
for _ in range(n):
    r = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeServices"})
    auth.add_auth(r)
t1 = time.monotonic()
print("add_auth:     %8.0f requests/s (%.1f us each)" % (n / (t1 - t0), (t1 - t0) / n * 1e6))
PY
