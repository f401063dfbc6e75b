#!/bin/sh
# bench/secrets.sh: GetSecretValue latency against caliberd, 1,000 calls on
# one keep-alive connection (each request SigV4-signed by botocore, sent with
# http.client), printed as p50/p90/p99/max; then, for scale, what one awscli
# v1 call costs (process start included), which is what a shell script pays.
# Starts a private caliberd in a temporary CALIBER_HOME on a free port.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
bin=${CALIBER_BIN_DIR:-$top/build/release}
home=$(mktemp -d)
trap '"$bin/caliber" local stop >/dev/null 2>&1 || true; rm -rf "$home"' EXIT INT TERM
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export CALIBER_HOME="$home/state"
"$bin/caliber" local start --port "$port" --edge-https-port "$(($port + 1))" --edge-http-port "$(($port + 2))" >/dev/null
eval "$("$bin/caliber" local env)"
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
N=${BENCH_SECRETS_CALLS:-1000} /usr/bin/python3 - <<'PY'
import http.client, json, os, statistics, time
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

endpoint = os.environ["AWS_ENDPOINT_URL"]
port = int(endpoint.rsplit(":", 1)[1])
creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
conn = http.client.HTTPConnection("127.0.0.1", port)

def call(op, body):
    data = json.dumps(body).encode()
    req = AWSRequest(method="POST", url=endpoint + "/", data=data,
                     headers={"X-Amz-Target": "secretsmanager." + op,
                              "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(creds, "secretsmanager", "us-east-1").add_auth(req)
    conn.request("POST", "/", body=data, headers=dict(req.headers.items()))
    resp = conn.getresponse()
    out = resp.read()
    if resp.status != 200 or resp.getheader("Connection") == "close":
        raise SystemExit("unexpected reply %d %s" % (resp.status, out[:200]))
    return json.loads(out)

call("CreateSecret", {"Name": "bench/db", "SecretString": json.dumps({"password": "x" * 32})})
n = int(os.environ["N"])
sock = None
lat = []
for i in range(n):
    t0 = time.perf_counter()
    call("GetSecretValue", {"SecretId": "bench/db"})
    lat.append((time.perf_counter() - t0) * 1000)
    if sock is None:
        sock = conn.sock
    elif conn.sock is not sock:
        raise SystemExit("the connection was not kept alive")
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print("GetSecretValue, %d calls on one keep-alive connection (signing included):" % n)
print("  p50 %.3f ms   p90 %.3f ms   p99 %.3f ms   max %.3f ms   mean %.3f ms   (%.0f calls/s)"
      % (q(0.50), q(0.90), q(0.99), lat[-1], statistics.mean(lat), n / (sum(lat) / 1000)))
PY
calls=5
start=$(date +%s%N)
i=0
while [ $i -lt $calls ]; do
	aws secretsmanager get-secret-value --secret-id bench/db --query VersionId --output text >/dev/null
	i=$((i + 1))
done
end=$(date +%s%N)
echo "awscli v1 get-secret-value, $calls calls (a new process each): mean $(( (end - start) / calls / 1000000 )) ms per call"
