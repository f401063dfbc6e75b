"""ECS on the local cloud: images, services with rolling deployments and the
circuit breaker, one-off tasks, secrets, restarts.

One caliberd for the module (the `localcloud` fixture); the tests build on
each other in file order: a service of two api-mini tasks is created, moved
to a new revision, rolled back with the runbook's own commands, given a
revision that never starts (circuit breaker), and survives a kill -9 of
caliberd.  Health checks run every second so that a deployment takes a few
seconds.
"""
import hashlib
import json
import os
import shutil
import signal
import time
import urllib.request

import pytest

from conftest import TOP

CLUSTER = "ecs-it"
SERVICE = "api"
APP_DIR = os.path.join(TOP, "examples", "api-mini")


def container(image, command=None, **extra):
    c = {
        "name": "api",
        "image": image,
        "command": command or ["python3", "app.py"],
        "portMappings": [{"containerPort": 8000}],
        "healthCheck": {"command": ["CMD", "python3", "healthcheck.py"],
                        "interval": 1, "timeout": 2, "retries": 2},
        "logConfiguration": {"logDriver": "awslogs",
                             "options": {"awslogs-group": "/ecs/" + CLUSTER,
                                         "awslogs-create-group": "true",
                                         "awslogs-stream-prefix": "ecs"}},
    }
    c.update(extra)
    return c


def register(lc, family, containers):
    path = os.path.join(lc.home, "..", "td-%s-%d.json" % (family, time.monotonic_ns()))
    with open(path, "w") as f:
        json.dump({"family": family, "requiresCompatibilities": ["FARGATE"],
                   "networkMode": "awsvpc", "cpu": "256", "memory": "512",
                   "containerDefinitions": containers}, f)
    out = lc.aws_json("ecs", "register-task-definition", "--cli-input-json",
                      "file://" + os.path.abspath(path))
    return out["taskDefinition"]["taskDefinitionArn"]


def push(lc, src, name, tag):
    r = lc.caliber("local", "push-image", src, "--name", name, "--tag", tag)
    assert r.returncode == 0, r.stderr
    ref, digest = r.stdout.split()
    assert ref == "%s:%s" % (name, tag)
    return digest


def app_copy(tmp_path, version):
    d = os.path.join(str(tmp_path), "api-mini-" + version)
    shutil.copytree(APP_DIR, d)
    with open(os.path.join(d, "VERSION"), "w") as f:
        f.write(version + "\n")
    return d


def service(lc):
    return lc.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]


def wait_for(what, fn, timeout=45):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def wait_completed(lc, td_arn, timeout=45):
    def done():
        s = service(lc)
        deps = s["deployments"]
        if (len(deps) == 1 and deps[0]["taskDefinition"] == td_arn
                and deps[0]["rolloutState"] == "COMPLETED" and s["runningCount"] == s["desiredCount"]):
            return s
        return None
    return wait_for("deployment of %s to complete" % td_arn, done, timeout)


def service_tasks(lc):
    ecs = lc.client("ecs")
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]
    return ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []


def task_address(task):
    return task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]


def get(url, timeout=3):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def versions_served(lc):
    return sorted(json.loads(get("http://%s:8000/" % task_address(t))[1])["version"]
                  for t in service_tasks(lc))


@pytest.fixture(scope="module")
def images(localcloud, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("images")
    return {"v1": push(localcloud, app_copy(tmp, "v1"), "api-mini", "v1"),
            "v2": push(localcloud, app_copy(tmp, "v2"), "api-mini", "v2")}


def test_push_image_is_addressed_by_content_and_tags_move(localcloud, images, tmp_path):
    lc = localcloud
    assert images["v1"].startswith("sha256:") and len(images["v1"]) == 71
    assert images["v1"] != images["v2"]
    # the same tree under another tag: the same digest
    assert push(lc, app_copy(tmp_path, "v1"), "api-mini", "again") == images["v1"]
    # a tag moves to the new tree; the digest of the old one still resolves
    moved = push(lc, app_copy(tmp_path / "x", "v2"), "api-mini", "again")
    assert moved == images["v2"]
    with open(os.path.join(lc.home, "images", "tags", "api-mini", "again")) as f:
        assert f.read().strip() == images["v2"]
    assert os.path.isdir(os.path.join(lc.home, "images", "sha256", images["v1"][7:], "rootfs"))
    # a mode change is a change of content
    d = app_copy(tmp_path / "y", "v1")
    os.chmod(os.path.join(d, "app.py"), 0o755)
    assert push(lc, d, "api-mini", "exec") != images["v1"]
    r = lc.caliber("local", "push-image", d, "--name", "Bad Name")
    assert r.returncode == 2 and "invalid image name" in r.stderr


def test_service_of_two_tasks_runs_healthy_on_their_own_addresses(localcloud, images):
    lc = localcloud
    lc.aws_json("ecs", "create-cluster", "--cluster-name", CLUSTER)
    td1 = register(lc, CLUSTER, [container("api-mini:v1")])
    assert td1.endswith(":task-definition/%s:1" % CLUSTER)
    out = lc.aws_json("ecs", "create-service", "--cluster", CLUSTER, "--service-name", SERVICE,
                      "--task-definition", CLUSTER, "--desired-count", "2",
                      "--launch-type", "FARGATE", "--deployment-configuration",
                      "minimumHealthyPercent=100,maximumPercent=200,"
                      "deploymentCircuitBreaker={enable=true,rollback=true}")
    assert out["service"]["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    s = wait_completed(lc, td1)
    tasks = service_tasks(lc)
    assert len(tasks) == 2
    assert all(t["lastStatus"] == "RUNNING" and t["healthStatus"] == "HEALTHY" for t in tasks)
    addrs = {task_address(t) for t in tasks}
    assert len(addrs) == 2 and all(a.startswith("127.") for a in addrs)
    for a in addrs:
        assert get("http://%s:8000/health/" % a) == (200, "ok\n")
        assert json.loads(get("http://%s:8000/" % a)[1])["version"] == "v1"
    assert tasks[0]["containers"][0]["imageDigest"] == images["v1"]
    messages = [e["message"] for e in s["events"]]
    assert any(m.startswith("(service api) has started 2 tasks: (task ") for m in messages)
    wait_for("steady state event", lambda: "(service api) has reached a steady state." in
             [e["message"] for e in service(lc)["events"]])


def test_update_to_a_new_revision_rolls_out_and_serves_the_new_version(localcloud, images):
    lc = localcloud
    before = {t["taskArn"] for t in service_tasks(lc)}
    td2 = register(lc, CLUSTER, [container("api-mini:v2")])
    out = lc.aws_json("ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE,
                      "--task-definition", td2, v=2)
    deps = out["service"]["deployments"]
    assert deps[0]["status"] == "PRIMARY" and deps[0]["rolloutState"] == "IN_PROGRESS"
    assert deps[1]["status"] == "ACTIVE"
    wait_completed(lc, td2)
    assert versions_served(lc) == ["v2", "v2"]
    after = {t["taskArn"] for t in service_tasks(lc)}
    assert not (before & after)
    stopped = lc.client("ecs").describe_tasks(cluster=CLUSTER, tasks=sorted(before))["tasks"]
    assert all(t["lastStatus"] == "STOPPED" for t in stopped)
    assert all(t["stoppedReason"].startswith("Scaling activity initiated by (deployment ecs-svc/")
               for t in stopped)


def test_runbook_rollback_commands_work_verbatim(localcloud):
    lc = localcloud
    # runbook 2, step 1, with awscli v2 and v1
    for v in (2, 1):
        r = lc.aws("ecs", "list-task-definitions", "--family-prefix", CLUSTER, "--status", "ACTIVE",
                   "--sort", "DESC", v=v)
        assert r.returncode == 0, r.stderr
        arns = json.loads(r.stdout)["taskDefinitionArns"]
        assert [a.rsplit(":", 1)[1] for a in arns] == ["2", "1"]
    previous = arns[1]
    # step 2
    r = lc.aws("ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE,
               "--task-definition", previous, v=2)
    assert r.returncode == 0, r.stderr
    # step 3
    wait_completed(lc, previous)
    r = lc.aws("ecs", "describe-services", "--cluster", CLUSTER, "--services", SERVICE, v=2)
    assert json.loads(r.stdout)["services"][0]["taskDefinition"] == previous
    assert versions_served(lc) == ["v1", "v1"]


def test_a_revision_that_never_starts_trips_the_circuit_breaker_and_rolls_back(localcloud):
    lc = localcloud
    good = service(lc)["taskDefinition"]
    bad = register(lc, CLUSTER, [container(
        "api-mini:v2", command=["python3", "-c", "import sys; print('boom'); sys.exit(1)"])])
    lc.aws_json("ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE,
                "--task-definition", bad)

    def failed():
        msgs = [e["message"] for e in service(lc)["events"]]
        return [m for m in msgs if "deployment failed: tasks failed to start." in m]
    msg = wait_for("the circuit breaker", failed)[0]
    assert msg.startswith("(service api) (deployment ecs-svc/")
    s = wait_completed(lc, good)
    assert s["taskDefinition"] == good
    assert any(e["message"].startswith("(service api) rolling back to deployment ecs-svc/")
               for e in s["events"])
    assert versions_served(lc) == ["v1", "v1"]
    # the failed tasks say why
    ecs = lc.client("ecs")
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus="STOPPED")["taskArns"]
    stopped = ecs.describe_tasks(cluster=CLUSTER, tasks=arns[-100:])["tasks"]
    # (a task still starting when the rollback came is stopped by the scheduler instead)
    exited = [t for t in stopped if t["taskDefinitionArn"] == bad
              and t["stoppedReason"] == "Essential container in task exited"]
    assert len(exited) >= 3  # the threshold for 2 desired tasks: max(3, 0.5 * 2)
    assert all(t["containers"][0]["exitCode"] == 1 for t in exited)


def test_run_task_reports_exit_code_and_its_output_is_in_cloudwatch_logs(localcloud):
    lc = localcloud
    register(lc, "oneoff", [{
        "name": "job", "image": "api-mini:v1", "command": ["python3", "app.py"],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/oneoff", "awslogs-create-group": "true",
            "awslogs-stream-prefix": "run"}}}])
    overrides = {"containerOverrides": [{
        "name": "job",
        "command": ["sh", "-c", "echo migrating $STEP; echo done >&2; exit 3"],
        "environment": [{"name": "STEP", "value": "0042"}]}]}
    out = lc.aws_json("ecs", "run-task", "--cluster", CLUSTER, "--task-definition", "oneoff",
                      "--overrides", json.dumps(overrides), v=2)
    task = out["tasks"][0]
    assert task["lastStatus"] == "PROVISIONING" and task["desiredStatus"] == "RUNNING"
    arn = task["taskArn"]

    def stopped():
        t = lc.aws_json("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", arn)["tasks"][0]
        return t if t["lastStatus"] == "STOPPED" else None
    t = wait_for("the task to stop", stopped)
    assert t["containers"][0]["exitCode"] == 3
    assert t["stopCode"] == "EssentialContainerExited"
    assert t["stoppedReason"] == "Essential container in task exited"
    assert t["startedAt"] and t["stoppedAt"] >= t["startedAt"]
    stream = "run/job/" + arn.rsplit("/", 1)[1]
    r = lc.aws_json("logs", "get-log-events", "--log-group-name", "/ecs/oneoff",
                    "--log-stream-name", stream, "--start-from-head", v=2)
    assert [e["message"] for e in r["events"]] == ["migrating 0042", "done"]


def test_a_task_cannot_change_its_image(localcloud, images):
    lc = localcloud
    register(lc, "writer", [{
        "name": "w", "image": "api-mini:v1",
        "command": ["sh", "-c", "if echo x >> app.py; then echo wrote; else echo refused; fi; "
                                "echo tmp > /tmp/caliber-ecs-it-$$ && echo tmp-ok; "
                                "rm -f /tmp/caliber-ecs-it-$$"],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/writer", "awslogs-create-group": "true",
            "awslogs-stream-prefix": "w"}}}])
    ecs = lc.client("ecs")
    arn = ecs.run_task(cluster=CLUSTER, taskDefinition="writer")["tasks"][0]["taskArn"]
    wait_for("the task to stop", lambda: ecs.describe_tasks(
        cluster=CLUSTER, tasks=[arn])["tasks"][0]["lastStatus"] == "STOPPED")
    events = lc.client("logs").get_log_events(
        logGroupName="/ecs/writer", logStreamName="w/w/" + arn.rsplit("/", 1)[1],
        startFromHead=True)["events"]
    lines = [e["message"] for e in events]
    assert "refused" in lines and "wrote" not in lines
    assert "tmp-ok" in lines
    digest = images["v1"][7:]
    with open(os.path.join(lc.home, "images", "sha256", digest, "rootfs", "app.py")) as f:
        assert f.read().endswith("main()\n")


def proc_with_env(name, value):
    """Pids whose environment holds name=value (caliberd runs tasks as its own user)."""
    want = ("%s=%s" % (name, value)).encode()
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % p, "rb") as f:
                if want in f.read().split(b"\0"):
                    pids.append(int(p))
        except OSError:
            pass
    return pids


def test_secrets_reach_the_task_environment_only_and_stop_task_sends_sigterm(localcloud):
    lc = localcloud
    value = "s3cr3t-%d" % time.monotonic_ns()
    arn = lc.aws_json("secretsmanager", "create-secret", "--name", "caliber/it/stg/app",
                      "--secret-string", json.dumps({"DJANGO_SECRET_KEY": value}))["ARN"]
    register(lc, "secrets", [{
        "name": "app", "image": "api-mini:v1",
        "command": ["python3", "-c",
                    "import os, hashlib, time; "
                    "print('key', hashlib.sha256(os.environ['KEY'].encode()).hexdigest()); "
                    "print('whole', len(os.environ['WHOLE']), flush=True); time.sleep(60)"],
        "secrets": [{"name": "KEY", "valueFrom": arn + ":DJANGO_SECRET_KEY::"},
                    {"name": "WHOLE", "valueFrom": arn}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/secrets", "awslogs-create-group": "true",
            "awslogs-stream-prefix": "s"}}}])
    task = lc.aws_json("ecs", "run-task", "--cluster", CLUSTER, "--task-definition", "secrets")
    task_arn = task["tasks"][0]["taskArn"]
    stream = "s/app/" + task_arn.rsplit("/", 1)[1]

    def logged():
        r = lc.client("logs").get_log_events(logGroupName="/ecs/secrets", logStreamName=stream,
                                             startFromHead=True)
        return [e["message"] for e in r["events"]] if len(r["events"]) >= 2 else None
    lines = wait_for("the task's output", logged)
    assert lines == ["key " + hashlib.sha256(value.encode()).hexdigest(),
                     "whole %d" % len(json.dumps({"DJANGO_SECRET_KEY": value}))]
    pids = proc_with_env("CALIBER_TASK_ARN", task_arn)
    assert len(pids) == 1
    with open("/proc/%d/cmdline" % pids[0], "rb") as f:
        assert value.encode() not in f.read()
    assert os.stat("/proc/%d/environ" % pids[0]).st_mode & 0o777 == 0o400
    assert value not in lc.log()
    lc.aws_json("ecs", "stop-task", "--cluster", CLUSTER, "--task", task_arn, "--reason", "test")

    def stopped():
        t = lc.client("ecs").describe_tasks(cluster=CLUSTER, tasks=[task_arn])["tasks"][0]
        return t if t["lastStatus"] == "STOPPED" else None
    t = wait_for("the task to stop", stopped)
    assert t["containers"][0]["exitCode"] == 128 + signal.SIGTERM
    assert t["stopCode"] == "UserInitiated" and t["stoppedReason"] == "test"


def test_task_secrets_by_name_are_the_task_regions_and_stages_and_partial_arns_resolve(localcloud):
    lc = localcloud
    region = lc["AWS_DEFAULT_REGION"]
    other = "us-west-2" if region != "us-west-2" else "eu-west-1"
    name = "caliber/it/regional-%d" % time.monotonic_ns()
    lc.aws_json("secretsmanager", "create-secret", "--name", name, "--secret-string", "other",
                "--region", other)
    arn = lc.aws_json("secretsmanager", "create-secret", "--name", name,
                      "--secret-string", "home1")["ARN"]
    lc.aws_json("secretsmanager", "put-secret-value", "--secret-id", arn, "--secret-string", "home2")
    register(lc, "regional", [{
        "name": "job", "image": "api-mini:v1",
        "command": ["sh", "-c", "echo $BYNAME $PREV"],
        "secrets": [{"name": "BYNAME", "valueFrom": name},
                    {"name": "PREV", "valueFrom": arn[:-7] + "::AWSPREVIOUS:"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/regional", "awslogs-create-group": "true",
            "awslogs-stream-prefix": "r"}}}])
    task_arn = lc.aws_json("ecs", "run-task", "--cluster", CLUSTER,
                           "--task-definition", "regional")["tasks"][0]["taskArn"]

    def stopped():
        t = lc.client("ecs").describe_tasks(cluster=CLUSTER, tasks=[task_arn])["tasks"][0]
        return t if t["lastStatus"] == "STOPPED" else None
    t = wait_for("the task to stop", stopped)
    assert t["containers"][0]["exitCode"] == 0, t
    r = lc.client("logs").get_log_events(logGroupName="/ecs/regional",
                                         logStreamName="r/job/" + task_arn.rsplit("/", 1)[1],
                                         startFromHead=True)
    assert [e["message"] for e in r["events"]] == ["home2 home1"]


def test_stop_task_kills_a_task_that_ignores_sigterm_after_its_stop_timeout(localcloud):
    lc = localcloud
    register(lc, "stubborn", [{
        "name": "app", "image": "api-mini:v1", "stopTimeout": 1,
        "command": ["python3", "-c",
                    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                    "print('up', flush=True); time.sleep(60)"]}])
    ecs = lc.client("ecs")
    arn = ecs.run_task(cluster=CLUSTER, taskDefinition="stubborn")["tasks"][0]["taskArn"]
    wait_for("the task to run", lambda: ecs.describe_tasks(
        cluster=CLUSTER, tasks=[arn])["tasks"][0]["lastStatus"] == "RUNNING")
    time.sleep(0.5)
    ecs.stop_task(cluster=CLUSTER, task=arn)
    t = wait_for("the task to stop", lambda: (lambda t: t if t["lastStatus"] == "STOPPED" else None)(
        ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]), timeout=15)
    assert t["containers"][0]["exitCode"] == 128 + signal.SIGKILL
    assert (t["stoppedAt"] - t["stoppingAt"]).total_seconds() >= 1


def test_task_definitions_deregister_to_inactive_and_list_by_family_status_and_order(localcloud):
    lc = localcloud
    a1 = register(lc, "listing", [container("api-mini:v1")])
    a2 = register(lc, "listing", [container("api-mini:v1")])
    out = lc.aws_json("ecs", "deregister-task-definition", "--task-definition", "listing:1")
    assert out["taskDefinition"]["status"] == "INACTIVE"
    assert lc.aws_json("ecs", "list-task-definitions", "--family-prefix", "listing")[
        "taskDefinitionArns"] == [a2]
    assert lc.aws_json("ecs", "list-task-definitions", "--family-prefix", "listing", "--status",
                       "INACTIVE")["taskDefinitionArns"] == [a1]
    d = lc.aws_json("ecs", "describe-task-definition", "--task-definition", "listing")
    assert d["taskDefinition"]["revision"] == 2
    r = lc.aws("ecs", "run-task", "--cluster", CLUSTER, "--task-definition", a1)
    assert r.returncode != 0 and "ClientException" in r.stderr
    r = lc.aws("ecs", "describe-task-definition", "--task-definition", "nosuch")
    assert r.returncode != 0 and "Unable to describe task definition." in r.stderr
    r = lc.aws("ecs", "describe-services", "--cluster", "nosuch", "--services", "x")
    assert r.returncode != 0 and "ClusterNotFoundException" in r.stderr


def test_services_come_back_to_their_desired_count_after_caliberd_is_killed(localcloud):
    lc = localcloud
    before = service_tasks(lc)
    assert len(before) == 2
    old_pids = [p for t in before for p in proc_with_env("CALIBER_TASK_ARN", t["taskArn"])
                if b"app.py" in open("/proc/%d/cmdline" % p, "rb").read()]
    assert len(old_pids) == 2  # (health check processes share the environment)
    lc.kill9()
    lc.start()
    s = wait_completed(lc, service(lc)["taskDefinition"])
    assert s["runningCount"] == 2
    # the deployment stays COMPLETED; the new tasks pass their health checks
    after = wait_for("two healthy tasks", lambda: (lambda ts: ts if len(ts) == 2 and all(
        t["healthStatus"] == "HEALTHY" for t in ts) else None)(service_tasks(lc)))
    assert len(after) == 2 and not ({t["taskArn"] for t in before} & {t["taskArn"] for t in after})
    old = lc.client("ecs").describe_tasks(cluster=CLUSTER, tasks=[t["taskArn"] for t in before])
    assert all(t["lastStatus"] == "STOPPED" and t["stoppedReason"] == "Task stopped: caliberd restarted"
               for t in old["tasks"])
    for p in old_pids:
        assert not os.path.exists("/proc/%d" % p) or open("/proc/%d/stat" % p).read().split()[2] == "Z"
    assert versions_served(lc) == ["v1", "v1"]


def test_a_deployment_cut_by_kill9_of_caliberd_converges_after_restart(localcloud, images):
    """Issue 5: kill -9 caliberd mid-deployment; once it is back, the service
    converges to the new revision, serving it from as many tasks as desired."""
    lc = localcloud
    td2 = register(lc, CLUSTER, [container("api-mini:v2")])
    out = lc.aws_json("ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE,
                      "--task-definition", td2, v=2)
    assert out["service"]["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    lc.kill9()
    lc.start()
    s = wait_completed(lc, td2, timeout=90)
    assert s["runningCount"] == 2
    assert versions_served(lc) == ["v2", "v2"]


def test_deleting_a_service_stops_its_tasks(localcloud):
    lc = localcloud
    r = lc.aws("ecs", "delete-service", "--cluster", CLUSTER, "--service", SERVICE)
    assert r.returncode != 0 and "scaled above 0" in r.stderr
    out = lc.aws_json("ecs", "delete-service", "--cluster", CLUSTER, "--service", SERVICE, "--force")
    assert out["service"]["status"] == "DRAINING"
    wait_for("the service to go", lambda: service(lc)["status"] == "INACTIVE")
    assert service_tasks(lc) == []
    assert lc.aws_json("ecs", "list-services", "--cluster", CLUSTER)["serviceArns"] == []


def test_run_task_in_a_cluster_with_a_255_character_name_keeps_whole_arns(localcloud):
    """A cluster name may have 255 characters: task ARNs (over 256 bytes then)
    are never truncated, so each RunTask makes a task of its own."""
    lc = localcloud
    name = "c" * 255
    lc.aws_json("ecs", "create-cluster", "--cluster-name", name)
    td = register(lc, "long-cluster", [container("busybox-missing:latest", ["true"])])
    arns = []
    for _ in range(2):
        out = lc.aws_json("ecs", "run-task", "--cluster", name, "--task-definition", td,
                          "--launch-type", "FARGATE")
        assert out["failures"] == []
        arn = out["tasks"][0]["taskArn"]
        assert arn.startswith("arn:aws:ecs:%s:000000000000:task/%s/" % (lc["AWS_DEFAULT_REGION"], name))
        assert len(arn.rsplit("/", 1)[1]) == 32
        arns.append(arn)
    assert arns[0] != arns[1]
    described = lc.aws_json("ecs", "describe-tasks", "--cluster", name, "--tasks", *arns)
    assert sorted(t["taskArn"] for t in described["tasks"]) == sorted(arns)
