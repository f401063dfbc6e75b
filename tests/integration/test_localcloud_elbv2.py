"""ELBv2 on the local cloud, realised by the nginx edge: a Route 53 alias to
a load balancer routes https://<name>.hicaliber.localhost to the healthy
tasks of an ECS service, a rolling deployment behind it fails no request,
host-header rules pick target groups, deregistered targets drain."""
import json
import os
import shutil
import subprocess
import threading
import time

import pytest
from botocore.config import Config

from conftest import TOP, LocalCloud

ZONE = "hicaliber.localhost"


def push(lc, tmp, version):
    d = os.path.join(str(tmp), "api-" + version)
    shutil.copytree(os.path.join(TOP, "examples", "api-mini"), d)
    with open(os.path.join(d, "VERSION"), "w") as f:
        f.write(version + "\n")
    r = lc.caliber("local", "push-image", d, "--name", "api-mini", "--tag", version)
    assert r.returncode == 0, r.stderr


def curl(lc, host, path="/"):
    """(status, body) of https://host:<edge port>path, trusting the local CA (curl resolves *.localhost)."""
    r = subprocess.run(["curl", "-s", "--max-time", "5", "--cacert", lc["AWS_CA_BUNDLE"],
                        "-w", "\n%{http_code}", "https://%s:%d%s" % (host, lc.edge_https_port, path)],
                       capture_output=True, text=True)
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def wait_for(what, fn, timeout=45):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


@pytest.fixture(scope="module")
def localcloud(tmp_path_factory):
    """A caliberd that takes health checks of 1 s (AWS's least is 5 s), so targets turn
    healthy in seconds."""
    lc = LocalCloud(os.path.join(str(tmp_path_factory.mktemp("localcloud")), "home"))
    lc["CALIBER_ELB_QUICK_HEALTH_CHECKS"] = "1"
    lc.start()
    try:
        yield lc
    finally:
        if lc.caliber("local", "status").returncode == 0:
            lc.stop()


def elb(lc):
    # with CALIBER_ELB_QUICK_HEALTH_CHECKS, intervals below AWS's 5 s: skip botocore's range checks
    import botocore.session
    return botocore.session.get_session().create_client(
        "elbv2", region_name="us-east-1", endpoint_url=lc.endpoint,
        aws_access_key_id=lc["AWS_ACCESS_KEY_ID"], aws_secret_access_key=lc["AWS_SECRET_ACCESS_KEY"],
        config=Config(parameter_validation=False, retries={"max_attempts": 0}))


def target_group(lc, name, delay=1):
    arn = elb(lc).create_target_group(
        Name=name, Protocol="HTTP", Port=8000, VpcId="vpc-local", TargetType="ip",
        HealthCheckPath="/health/", HealthCheckIntervalSeconds=1, HealthCheckTimeoutSeconds=1,
        HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    lc.aws_json("elbv2", "modify-target-group-attributes", "--target-group-arn", arn,
                "--attributes", "Key=deregistration_delay.timeout_seconds,Value=%d" % delay)
    return arn


def health(lc, tg):
    out = lc.aws_json("elbv2", "describe-target-health", "--target-group-arn", tg)
    return {(d["Target"]["Id"], d["TargetHealth"]["State"]) for d in out["TargetHealthDescriptions"]}


@pytest.fixture(scope="module")
def stack(localcloud, tmp_path_factory):
    lc = localcloud
    tmp = tmp_path_factory.mktemp("elb")
    push(lc, tmp, "v1")
    push(lc, tmp, "v2")
    lb = lc.aws_json("elbv2", "create-load-balancer", "--name", "api-lb", "--type", "application",
                     "--subnets", "subnet-a", "subnet-b", v=2)["LoadBalancers"][0]
    tg = target_group(lc, "api-tg")
    listener = lc.aws_json("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"],
                           "--protocol", "HTTPS", "--port", "443", "--default-actions",
                           "Type=forward,TargetGroupArn=" + tg)["Listeners"][0]
    zone = lc.aws_json("route53", "create-hosted-zone", "--name", ZONE, "--caller-reference",
                       "elb-it")["HostedZone"]["Id"]
    changes = [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": "%s.%s" % (sub, ZONE), "Type": "A", "AliasTarget": {
            "HostedZoneId": lb["CanonicalHostedZoneId"], "DNSName": lb["DNSName"],
            "EvaluateTargetHealth": True}}} for sub in ("acme", "beta")]
    lc.aws_json("route53", "change-resource-record-sets", "--hosted-zone-id", zone,
                "--change-batch", json.dumps({"Changes": changes}))
    lc.aws_json("ecs", "create-cluster", "--cluster-name", "elb-it")
    return {"lc": lc, "lb": lb, "tg": tg, "listener": listener}


def register(lc, version):
    td = {"family": "elb-it", "containerDefinitions": [{
        "name": "api", "image": "api-mini:" + version, "command": ["python3", "app.py"],
        "portMappings": [{"containerPort": 8000}]}]}
    return lc.client("ecs").register_task_definition(**td)["taskDefinition"]["taskDefinitionArn"]


def completed(lc, td):
    s = lc.client("ecs").describe_services(cluster="elb-it", services=["api"])["services"][0]
    d = s["deployments"]
    return len(d) == 1 and d[0]["taskDefinition"] == td and d[0]["rolloutState"] == "COMPLETED"


def test_load_balancer_has_a_dns_name_and_the_alb_zone(stack):
    lc, lb = stack["lc"], stack["lb"]
    assert lb["DNSName"].startswith("api-lb-") and lb["DNSName"].endswith(".us-east-1.elb.localhost")
    assert lb["CanonicalHostedZoneId"] == "Z35SXDOTRQ7X7K"
    got = lc.aws_json("elbv2", "describe-load-balancers", "--names", "api-lb")["LoadBalancers"]
    assert [x["LoadBalancerArn"] for x in got] == [lb["LoadBalancerArn"]]
    r = lc.aws("elbv2", "create-load-balancer", "--name", "api-lb", "--subnets", "subnet-a")
    assert r.returncode != 0 and "DuplicateLoadBalancerName" in r.stderr
    r = lc.aws("elbv2", "describe-load-balancers", "--names", "nosuch")
    assert r.returncode != 0 and "LoadBalancerNotFound" in r.stderr


def test_route53_alias_serves_the_healthy_tasks_of_a_service(stack):
    lc, tg = stack["lc"], stack["tg"]
    td = register(lc, "v1")
    lc.aws_json("ecs", "create-service", "--cluster", "elb-it", "--service-name", "api",
                "--task-definition", td, "--desired-count", "2", "--load-balancers",
                "targetGroupArn=%s,containerName=api,containerPort=8000" % tg)
    wait_for("the service to complete", lambda: completed(lc, td))
    states = health(lc, tg)
    assert len(states) == 2 and all(s == "healthy" for _, s in states)
    assert all(ip.startswith("127.") for ip, _ in states)
    status, body = curl(lc, "acme." + ZONE)
    assert status == 200 and json.loads(body)["version"] == "v1"
    assert curl(lc, stack["lb"]["DNSName"], "/health/") == (200, "ok\n")


def test_a_rolling_deployment_behind_the_load_balancer_fails_no_request(stack):
    lc, tg = stack["lc"], stack["tg"]
    td = register(lc, "v2")
    codes, versions, stop = [], set(), threading.Event()

    def load():
        while not stop.is_set():
            status, body = curl(lc, "acme." + ZONE)
            codes.append(status)
            if status == 200:
                versions.add(json.loads(body)["version"])
    t = threading.Thread(target=load)
    t.start()
    try:
        time.sleep(0.5)
        lc.client("ecs").update_service(cluster="elb-it", service="api", taskDefinition=td)
        wait_for("the rollout", lambda: completed(lc, td))
        time.sleep(1)
    finally:
        stop.set()
        t.join()
    assert len(codes) > 20
    assert [c for c in codes if c != 200] == []
    assert versions == {"v1", "v2"}
    assert json.loads(curl(lc, "acme." + ZONE)[1])["version"] == "v2"
    assert len(health(lc, tg)) == 2


def test_host_header_rules_route_and_deregistered_targets_drain(stack):
    lc = stack["lc"]
    beta = target_group(lc, "beta-tg", delay=4)
    lc.aws_json("elbv2", "create-rule", "--listener-arn", stack["listener"]["ListenerArn"],
                "--priority", "10", "--conditions", "Field=host-header,Values=beta." + ZONE,
                "--actions", "Type=forward,TargetGroupArn=" + beta)
    ecs = lc.client("ecs")
    task = ecs.run_task(cluster="elb-it", taskDefinition=register(lc, "v1"))["tasks"][0]
    ip = task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
    lc.aws_json("elbv2", "register-targets", "--target-group-arn", beta, "--targets",
                "Id=%s,Port=8000" % ip)
    wait_for("the beta target", lambda: health(lc, beta) == {(ip, "healthy")})
    # healthy is recorded before the edge's reload serves it (as on AWS, routing follows)
    status, body = wait_for("the beta name to serve", lambda: (
        lambda r: r if r[0] == 200 else None)(curl(lc, "beta." + ZONE)), timeout=15)
    assert json.loads(body)["version"] == "v1"
    assert json.loads(curl(lc, "acme." + ZONE)[1])["version"] == "v2"
    lc.aws_json("elbv2", "deregister-targets", "--target-group-arn", beta, "--targets",
                "Id=%s,Port=8000" % ip)
    assert elb(lc).describe_target_health(TargetGroupArn=beta)["TargetHealthDescriptions"][0][
        "TargetHealth"]["State"] == "draining"
    assert curl(lc, "beta." + ZONE)[0] == 503  # no healthy target left behind that name
    wait_for("the target to drain", lambda: health(lc, beta) == set())
    ecs.stop_task(cluster="elb-it", task=task["taskArn"])


def test_after_a_kill9_the_name_serves_new_tasks_and_no_old_target(stack):
    lc, tg = stack["lc"], stack["tg"]
    old = {ip for ip, _ in health(lc, tg)}
    assert len(old) == 2
    lc.kill9()
    lc.start()
    td = lc.client("ecs").describe_services(cluster="elb-it", services=["api"])["services"][0][
        "taskDefinition"]
    wait_for("the service to come back", lambda: completed(lc, td))
    new = wait_for("two healthy targets", lambda: (lambda h: h if len(h) == 2 and all(
        s == "healthy" for _, s in h) else None)(health(lc, tg)))
    assert not ({ip for ip, _ in new} & old)
    status, body = wait_for("the name to serve", lambda: (lambda r: r if r[0] == 200 else None)(
        curl(lc, "acme." + ZONE)))
    assert json.loads(body)["version"] == "v2"
