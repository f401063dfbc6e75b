"""ECS tasks run unprivileged, apart from caliberd and from each other
(issue 9, finding 6).

Tasks once ran as root and could read master.key and the credentials file.
caliberd (as root) now runs each task as a user of its own (no passwd
entry, never root), with its image read-only at /var/lib/caliber/task-image
and an empty tmpfs over $CALIBER_HOME; a task cannot read another task's
environment, where its secrets are.
"""
import json
import os
import time

import pytest

from conftest import integration

APP = os.path.join(integration.TOP, "examples", "api-mini")

PROBE = r"""
import os, sys
home = sys.argv[1]
failures = []
if os.getuid() == 0 or os.geteuid() == 0:
    failures.append("runs as root")
for name in ("master.key", "credentials", "caliberd.db"):
    try:
        open(os.path.join(home, name), "rb").read(1)
        failures.append("read " + name)
    except OSError:
        pass
try:
    if os.listdir(home):
        failures.append("lists the home: %r" % os.listdir(home)[:5])
except OSError:
    pass
if os.environ.get("CALIBER_IMAGE_DIR") != os.getcwd() or not os.path.exists("app.py"):
    failures.append("image not at its directory: %s %s" % (os.getcwd(), os.environ.get("CALIBER_IMAGE_DIR")))
try:
    open("written", "w")
    failures.append("wrote into the image")
except OSError:
    pass
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid():
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                if b"OTHER_TASK_SECRET=" in f.read():
                    failures.append("read the environment of pid " + pid)
        except OSError:
            pass
print("probe:", failures or "isolated", flush=True)
sys.exit(1 if failures else 0)
"""


def wait_task(lc, cluster, arn, status, timeout=60):
    deadline = time.time() + timeout
    while True:
        t = lc.aws_json("ecs", "describe-tasks", "--cluster", cluster, "--tasks", arn)["tasks"][0]
        if t["lastStatus"] == status:
            return t
        assert time.time() < deadline, t
        time.sleep(0.3)


@pytest.mark.skipif(os.geteuid() != 0, reason="tasks change user only under a root caliberd")
def test_a_task_is_not_root_sees_no_home_and_no_other_task(localcloud):
    lc = localcloud
    r = lc.caliber("local", "push-image", APP, "--name", "iso", "--tag", "v1")
    assert r.returncode == 0, r.stderr
    lc.aws_json("ecs", "create-cluster", "--cluster-name", "iso")
    lc.aws_json("logs", "create-log-group", "--log-group-name", "/iso")
    logc = {"logDriver": "awslogs", "options": {"awslogs-group": "/iso",
                                                "awslogs-stream-prefix": "p"}}
    victim = lc.aws_json("ecs", "register-task-definition", "--family", "iso-victim",
                         "--container-definitions", json.dumps([{
                             "name": "v", "image": "iso:v1",
                             "command": ["python3", "-c", "import time; time.sleep(300)"],
                             "environment": [{"name": "OTHER_TASK_SECRET", "value": "s3cr3t"}],
                             "stopTimeout": 2}]))["taskDefinition"]["taskDefinitionArn"]
    v = lc.aws_json("ecs", "run-task", "--cluster", "iso",
                    "--task-definition", victim)["tasks"][0]["taskArn"]
    wait_task(lc, "iso", v, "RUNNING")
    probe = lc.aws_json("ecs", "register-task-definition", "--family", "iso-probe",
                        "--container-definitions", json.dumps([{
                            "name": "p", "image": "iso:v1", "logConfiguration": logc,
                            "command": ["python3", "-c", PROBE, lc.home]}]))
    arn = lc.aws_json("ecs", "run-task", "--cluster", "iso", "--task-definition",
                      probe["taskDefinition"]["taskDefinitionArn"])["tasks"][0]["taskArn"]
    t = wait_task(lc, "iso", arn, "STOPPED")
    events = lc.aws_json("logs", "filter-log-events", "--log-group-name", "/iso")["events"]
    said = [e["message"] for e in events if e["message"].startswith("probe:")]
    assert t["containers"][0].get("exitCode") == 0, (t, said)
    assert said == ["probe: isolated"], said
    lc.aws_json("ecs", "stop-task", "--cluster", "iso", "--task", v)
