"""Rolling deployments behind the load balancer never leave a name without a
target (issue 14): a 2-task service behind an ALB (AWS-legal health checks:
every 5 s, healthy after 2, deregistration delay 2 s) is rolled out and
rolled back while a client sends one request at a time, each on a new TLS
connection, and a CPU-bound process and a second local cloud run beside it.

The second cloud is what made names lose their targets: both caliberds
handed out the same task addresses, so one cloud's health checker was
answered by the other cloud's task while its own new task was still
starting; the rollout drained the old tasks on that answer, and the new
task then died on EADDRINUSE.  Task addresses are now unique on the
machine.

CALIBER_ROLLOUTS sets how many rollouts and rollbacks run (default 20, as
issue 14 asks; the ASan pass of tools/run-tests.sh runs 3, and
bench/ecs.sh runs 100).
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from conftest import TOP, start_localcloud

ZONE = "hicaliber.localhost"
ROLLOUTS = int(os.environ.get("CALIBER_ROLLOUTS", "20"))


def push(lc, tmp, version):
    d = os.path.join(str(tmp), "api-" + version)
    if not os.path.isdir(d):
        shutil.copytree(os.path.join(TOP, "examples", "api-mini"), d)
        with open(os.path.join(d, "VERSION"), "w") as f:
            f.write(version + "\n")
    r = lc.caliber("local", "push-image", d, "--name", "api-mini", "--tag", version)
    assert r.returncode == 0, r.stderr


def wait_for(what, fn, timeout=90):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def task_definition(lc, version, command):
    return lc.client("ecs").register_task_definition(
        family="roll", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
        cpu="256", memory="512", containerDefinitions=[{
            "name": "api", "image": "api-mini:" + version, "command": command,
            "portMappings": [{"containerPort": 8000}]}])["taskDefinition"]["taskDefinitionArn"]


def service(lc, cluster):
    return lc.client("ecs").describe_services(cluster=cluster, services=["api"])["services"][0]


def completed(lc, cluster, td):
    d = service(lc, cluster)["deployments"]
    return len(d) == 1 and d[0]["taskDefinition"] == td and d[0]["rolloutState"] == "COMPLETED"


def addresses(lc, cluster):
    ecs = lc.client("ecs")
    arns = ecs.list_tasks(cluster=cluster)["taskArns"]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []
    return {t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] for t in tasks
            if t["lastStatus"] != "STOPPED"}


def service_behind_alb(lc, cluster, td, name="acme"):
    elb, r53, ecs = lc.client("elbv2"), lc.client("route53"), lc.client("ecs")
    lb = elb.create_load_balancer(Name=cluster + "-lb", Subnets=["subnet-a", "subnet-b"])[
        "LoadBalancers"][0]
    tg = elb.create_target_group(
        Name=cluster + "-tg", Protocol="HTTP", Port=8000, VpcId="vpc-local", TargetType="ip",
        HealthCheckPath="/health/", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=4,
        HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "2"}])
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    zone = r53.create_hosted_zone(Name=ZONE, CallerReference=cluster)["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": "%s.%s" % (name, ZONE), "Type": "A", "AliasTarget": {
                "HostedZoneId": lb["CanonicalHostedZoneId"], "DNSName": lb["DNSName"],
                "EvaluateTargetHealth": True}}}]})
    ecs.create_cluster(clusterName=cluster)
    ecs.create_service(
        cluster=cluster, serviceName="api", taskDefinition=td, desiredCount=2,
        launchType="FARGATE",
        loadBalancers=[{"targetGroupArn": tg, "containerName": "api", "containerPort": 8000}],
        deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200,
                                 "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    return tg


@pytest.fixture(scope="module")
def neighbour(tmp_path_factory):
    """A second local cloud on the machine with a 2-task service of its own."""
    tmp = tmp_path_factory.mktemp("neighbour")
    with start_localcloud(tmp) as lc:
        push(lc, tmp, "n1")
        td = task_definition(lc, "n1", ["python3", "app.py"])
        service_behind_alb(lc, "nb", td, name="other")
        wait_for("the neighbour's service", lambda: completed(lc, "nb", td))
        yield lc


def test_rollouts_and_rollbacks_under_load_beside_another_cloud_fail_no_request(
        localcloud, neighbour, tmp_path):
    lc = localcloud
    push(lc, tmp_path, "v1")
    push(lc, tmp_path, "v2")
    # v2 takes a moment to listen, as real apps do: the window in which a
    # stranger on its address could answer its health checks
    tds = [task_definition(lc, "v1", ["python3", "app.py"]),
           task_definition(lc, "v2", ["sh", "-c", "sleep 2; exec python3 app.py"])]
    url = "https://acme.%s:%d/" % (ZONE, lc.edge_https_port)
    codes, versions, shared, stop = [], set(), [], threading.Event()
    watching = threading.Event()

    def client():
        while not stop.is_set():
            r = subprocess.run(["curl", "-s", "--max-time", "10", "--cacert", lc["AWS_CA_BUNDLE"],
                                "-w", "\n%{http_code}", url], capture_output=True, text=True)
            body, _, code = r.stdout.rpartition("\n")
            codes.append(code)
            if code == "200":
                versions.add(json.loads(body)["version"])

    def watch():
        while not stop.is_set():
            try:
                both = addresses(lc, "roll") & addresses(neighbour, "nb")
            except Exception:  # botocore's: the cluster is not created yet, or a task went
                both = set()
            if both:
                shared.append(both)
            watching.set()
            time.sleep(0.5)

    watcher = threading.Thread(target=watch)
    watcher.start()
    watching.wait(30)
    try:
        tg = service_behind_alb(lc, "roll", tds[0])
        wait_for("the first deployment", lambda: completed(lc, "roll", tds[0]))
    except BaseException:
        stop.set()
        watcher.join()
        raise
    load = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    threads = [threading.Thread(target=client), watcher]
    threads[0].start()
    try:
        for i in range(ROLLOUTS):
            td = tds[(i + 1) % 2]
            lc.client("ecs").update_service(cluster="roll", service="api", taskDefinition=td)
            wait_for("rollout %d" % i, lambda: completed(lc, "roll", td))
    finally:
        stop.set()
        for t in threads:
            t.join()
        load.kill()
        load.wait()
    failed = [c for c in codes if c != "200"]
    assert len(codes) > 10 * ROLLOUTS
    assert failed == [], "%d of %d requests failed (%s); caliberd.log:\n%s" % (
        len(failed), len(codes), sorted(set(failed)), lc.log()[-6000:])
    assert versions == {"v1", "v2"}
    assert shared == []
    # the rollouts went as planned: no task of ours failed to start (as one does
    # that finds its address taken by the other cloud's task)
    ecs = lc.client("ecs")
    stopped = ecs.list_tasks(cluster="roll", desiredStatus="STOPPED")["taskArns"]
    reasons = [t.get("stoppedReason", "") for i in range(0, len(stopped), 100)
               for t in ecs.describe_tasks(cluster="roll", tasks=stopped[i:i + 100])["tasks"]]
    assert [r for r in reasons if "Scaling activity" not in r] == []
    events = [e["message"] for e in service(lc, "roll")["events"]]
    assert not [m for m in events if "failed" in m or "rolling back" in m], events
    assert any("has begun draining connections" in m for m in events)
    states = lc.client("elbv2").describe_target_health(TargetGroupArn=tg)[
        "TargetHealthDescriptions"]
    assert len([s for s in states if s["TargetHealth"]["State"] == "healthy"]) == 2
    for s in states:
        if s["TargetHealth"]["State"] != "healthy":
            assert s["TargetHealth"]["Reason"] == "Target.DeregistrationInProgress"
            assert s["TargetHealth"]["Description"] == "Target deregistration is in progress"
    assert "out of the edge (task " in lc.log()
