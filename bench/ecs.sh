#!/bin/sh
# Benchmark: rolling deployments (and rollbacks, alternately) of a two-task
# ECS service on the local cloud, behind an ELBv2 load balancer realised by
# the nginx edge (a Route 53 alias acme.hicaliber.localhost -> the load
# balancer), with AWS-legal health checks (every 5 s, healthy after 2,
# deregistration delay 2 s; issue 14).  A client sends one request at a time,
# each on a new TLS connection, while a CPU-bound process runs beside it
# (BENCH_ECS_LOAD processes, default 1).  Prints the time from UpdateService
# to rolloutState COMPLETED and the failed requests per rollout.
# BENCH_ECS_RUNS rollouts (default 100: about 20 minutes).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
bin=${CALIBER_BIN_DIR:-$top/build/release}
runs=${BENCH_ECS_RUNS:-100}
load=${BENCH_ECS_LOAD:-1}
work=$(mktemp -d)
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
export CALIBER_HOME="$work/home"
CALIBER_LOCAL_PORT=$(free_port)
CALIBER_EDGE_HTTPS_PORT=$(free_port)
CALIBER_EDGE_HTTP_PORT=$(free_port)
export CALIBER_LOCAL_PORT CALIBER_EDGE_HTTPS_PORT CALIBER_EDGE_HTTP_PORT
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
/usr/bin/python3 - "$runs" "$CALIBER_EDGE_HTTPS_PORT" "$load" <<'PY'
import json, os, subprocess, sys, threading, time
import botocore.session
from botocore.config import Config

runs, edge_port, load = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = botocore.session.get_session()
kw = dict(region_name=os.environ["AWS_DEFAULT_REGION"], endpoint_url=os.environ["AWS_ENDPOINT_URL"],
          aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
          aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
          config=Config(parameter_validation=False))
ecs, elb, r53 = (s.create_client(n, **kw) for n in ("ecs", "elbv2", "route53"))
lb = elb.create_load_balancer(Name="bench", Subnets=["subnet-a"])["LoadBalancers"][0]
tg = elb.create_target_group(Name="bench", Protocol="HTTP", Port=8000, VpcId="vpc-local",
                             TargetType="ip", HealthCheckPath="/health/",
                             HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=4, HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
    {"Key": "deregistration_delay.timeout_seconds", "Value": "2"}])
elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                    DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
zone = r53.create_hosted_zone(Name="hicaliber.localhost", CallerReference="bench")["HostedZone"]["Id"]
r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
    "Action": "UPSERT", "ResourceRecordSet": {"Name": "acme.hicaliber.localhost", "Type": "A",
    "AliasTarget": {"HostedZoneId": lb["CanonicalHostedZoneId"], "DNSName": lb["DNSName"],
                    "EvaluateTargetHealth": True}}}]})
ecs.create_cluster(clusterName="bench")
arns = [ecs.register_task_definition(family="bench", containerDefinitions=[{
    "name": "api", "image": "api-mini:" + v, "command": ["python3", "app.py"],
    "portMappings": [{"containerPort": 8000}]}])["taskDefinition"]["taskDefinitionArn"]
    for v in ("v1", "v2")]
ecs.create_service(cluster="bench", serviceName="api", taskDefinition=arns[0], desiredCount=2,
                   loadBalancers=[{"targetGroupArn": tg, "containerName": "api", "containerPort": 8000}],
                   deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200,
                                            "deploymentCircuitBreaker": {"enable": True, "rollback": True}})


def wait(td):
    while True:
        d = ecs.describe_services(cluster="bench", services=["api"])["services"][0]["deployments"]
        if len(d) == 1 and d[0]["taskDefinition"] == td and d[0]["rolloutState"] == "COMPLETED":
            return
        time.sleep(0.05)


wait(arns[0])
url = "https://acme.hicaliber.localhost:%d/" % edge_port
codes = []
stop = threading.Event()


def client():
    # one request per curl: a new TLS connection each (curl resolves *.localhost itself)
    while not stop.is_set():
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                            "--cacert", os.environ["AWS_CA_BUNDLE"], url],
                           capture_output=True, text=True)
        codes.append(r.stdout or "000")


burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(load)]
th = threading.Thread(target=client)
th.start()
times, failed_per = [], []
try:
    for i in range(runs):
        td = arns[(i + 1) % 2]
        first = len(codes)
        t0 = time.monotonic()
        ecs.update_service(cluster="bench", service="api", taskDefinition=td)
        wait(td)
        times.append(time.monotonic() - t0)
        failed_per.append(sum(1 for c in codes[first:] if c != "200"))
finally:
    stop.set()
    th.join()
    for b in burners:
        b.kill()
times.sort()
failed = sum(1 for c in codes if c != "200")
print("ECS rolling deployments of a 2-task service behind the edge's load balancer, %d runs"
      " (rollouts and rollbacks), %d CPU-bound process(es) beside it" % (runs, load))
print("  (target group health check every 5 s, healthy after 2, deregistration delay 2 s)")
print("  UpdateService -> rolloutState COMPLETED: median %.2f s  (min %.2f, max %.2f)"
      % (times[len(times) // 2], times[0], times[-1]))
bad = sorted(set(c for c in codes if c != "200"))
print("  requests through https://acme.hicaliber.localhost (a new TLS connection each): %d,"
      " failed %d%s" % (len(codes), failed, " (status %s)" % ", ".join(bad) if bad else ""))
print("  failed requests per rollout: max %d, rollouts with a failure %d of %d"
      % (max(failed_per), sum(1 for f in failed_per if f), runs))
PY
