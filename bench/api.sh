#!/bin/sh
# bench/api.sh: one Secrets Manager GetSecretValue, whole process, with
# 'caliber api', awscli v2 (/usr/bin/aws, Debian's) and awscli v1 (the 'aws'
# of pyenv's python: 'python3 -m awscli'), in one hyperfine run against the
# same local endpoint (tests/integration/capture_server.py
# answering with a valid GetSecretValue response).  Prints both means and
# the ratio.  Figures only, never assertions.
#
#   bench/api.sh [RUNS]       (default 20)
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
runs=${1:-20}
caliber=${CALIBER_BIN_DIR:-$top/build/release}/caliber
[ -x "$caliber" ] || { echo "bench/api.sh: build caliber first (make)" >&2; exit 1; }
awsv2=/usr/bin/aws
[ -x "$awsv2" ] || { echo "bench/api.sh: awscli v2 ($awsv2, Debian's awscli) is not installed" >&2; exit 1; }
python3 -c 'import awscli' 2>/dev/null ||
	{ echo "bench/api.sh: awscli v1 (python3 -m awscli) is not importable by $(command -v python3)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench/api.sh: hyperfine is not installed" >&2; exit 1; }

tmp=$(mktemp -d)
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

cat >"$tmp/reply.json" <<'JSON'
{"status": 200,
 "headers": {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "bench"},
 "body": "{\"ARN\": \"arn:aws:secretsmanager:eu-west-1:123456789012:secret:caliber/acme/stg/db-AbCdEf\", \"Name\": \"caliber/acme/stg/db\", \"VersionId\": \"11111111-2222-4333-8444-555555555555\", \"SecretString\": \"{\\\"username\\\": \\\"acme\\\", \\\"password\\\": \\\"bench\\\"}\", \"VersionStages\": [\"AWSCURRENT\"], \"CreatedDate\": 1767323045.123}"}
JSON
python3 tests/integration/capture_server.py "$tmp/port" "$tmp/reply.json" &
server=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
url="http://127.0.0.1:$(cat "$tmp/port")"

export AWS_ACCESS_KEY_ID=AKIDCALIBERBENCH AWS_SECRET_ACCESS_KEY=bench/secret
export AWS_DEFAULT_REGION=eu-west-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
hyperfine -N --warmup 2 --runs "$runs" --export-json "$tmp/result.json" \
	-n caliber "$caliber api --endpoint-url $url secretsmanager GetSecretValue '{\"SecretId\":\"caliber/acme/stg/db\"}'" \
	-n awscli-v2 "$awsv2 --endpoint-url $url secretsmanager get-secret-value --secret-id caliber/acme/stg/db" \
	-n awscli-v1 "python3 -m awscli --endpoint-url $url secretsmanager get-secret-value --secret-id caliber/acme/stg/db" \
	>"$tmp/hyperfine.txt"
python3 - "$tmp/result.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
c = r["caliber"]["mean"]
print("GetSecretValue, whole process, %d runs each, local endpoint" % len(r["caliber"]["times"]))
for name in ("caliber", "awscli-v2", "awscli-v1"):
    x = r[name]
    print("  %-10s %8.2f ms (+/- %.2f)  %6.1fx caliber" % (name, x["mean"] * 1000, x["stddev"] * 1000, x["mean"] / c))
PY
