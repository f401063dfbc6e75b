#!/bin/sh
# Benchmark: how long a rolling deployment of a two-task ECS service takes on
# the local cloud, from UpdateService to rolloutState COMPLETED (new tasks
# started, healthy by their container health check every 1 s, old tasks
# stopped).  Also counts failed requests to the tasks the service reports
# RUNNING and HEALTHY (and not being stopped), polled during the rollout (there is no load balancer
# in front yet: ELBv2 is not part of caliberd so far).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
bin=${CALIBER_BIN_DIR:-$top/build/release}
runs=${BENCH_ECS_RUNS:-5}
work=$(mktemp -d)
export CALIBER_HOME="$work/home"
export CALIBER_LOCAL_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CALIBER_EDGE_HTTPS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CALIBER_EDGE_HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
	"$bin/caliber" local stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
"$bin/caliber" local start >/dev/null
for v in v1 v2; do
	cp -r "$top/examples/api-mini" "$work/$v"
	echo "$v" >"$work/$v/VERSION"
	"$bin/caliber" local push-image "$work/$v" --name api-mini --tag "$v" >/dev/null
done
eval "$("$bin/caliber" local env)"
/usr/bin/python3 - "$runs" <<'PY'
import json, os, sys, threading, time, urllib.request
import botocore.session

runs = int(sys.argv[1])
s = botocore.session.get_session()
kw = dict(region_name=os.environ["AWS_DEFAULT_REGION"], endpoint_url=os.environ["AWS_ENDPOINT_URL"],
          aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
          aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
ecs, logs = s.create_client("ecs", **kw), s.create_client("logs", **kw)
ecs.create_cluster(clusterName="bench")
arns = []
for v in ("v1", "v2"):
    arns.append(ecs.register_task_definition(family="bench", containerDefinitions=[{
        "name": "api", "image": "api-mini:" + v, "command": ["python3", "app.py"],
        "portMappings": [{"containerPort": 8000}],
        "healthCheck": {"command": ["CMD", "python3", "healthcheck.py"], "interval": 1,
                        "timeout": 2, "retries": 2}}])["taskDefinition"]["taskDefinitionArn"])
ecs.create_service(cluster="bench", serviceName="api", taskDefinition=arns[0], desiredCount=2,
                   deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200})


def completed(td):
    svc = ecs.describe_services(cluster="bench", services=["api"])["services"][0]
    d = svc["deployments"]
    return len(d) == 1 and d[0]["taskDefinition"] == td and d[0]["rolloutState"] == "COMPLETED"


def wait(td):
    while not completed(td):
        time.sleep(0.05)


wait(arns[0])
ok = failed = 0
stop = threading.Event()


def prober():
    global ok, failed
    while not stop.is_set():
        t = ecs.list_tasks(cluster="bench", serviceName="api")["taskArns"]
        for task in ecs.describe_tasks(cluster="bench", tasks=t)["tasks"] if t else []:
            if (task["lastStatus"] != "RUNNING" or task["desiredStatus"] != "RUNNING"
                    or task["healthStatus"] != "HEALTHY"):
                continue
            ip = task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
            try:
                urllib.request.urlopen("http://%s:8000/" % ip, timeout=2).read()
                ok += 1
            except Exception:
                failed += 1


th = threading.Thread(target=prober)
th.start()
times = []
for i in range(runs):
    td = arns[(i + 1) % 2]
    t0 = time.monotonic()
    ecs.update_service(cluster="bench", service="api", taskDefinition=td)
    wait(td)
    times.append(time.monotonic() - t0)
stop.set()
th.join()
times.sort()
print("ECS rolling deployment of a 2-task service (health check every 1 s), %d runs" % runs)
print("  UpdateService -> rolloutState COMPLETED: median %.2f s  (min %.2f, max %.2f)"
      % (times[len(times) // 2], times[0], times[-1]))
print("  requests to tasks reported RUNNING+HEALTHY during the rollouts: %d ok, %d failed"
      % (ok, failed))
PY
