"""ECS quotas and this machine's limits (issue 9, finding 4).

`create-service --desired-count 100000` once made 100,000 task rows and
6,066 processes.  ECS's quotas are enforced with ECS's errors; at most
CALIBER_ECS_MAX_TASKS tasks run at once (the rest stay PROVISIONING with a
service event, as on ECS without capacity); STOPPED tasks are forgotten
after CALIBER_ECS_STOPPED_RETENTION seconds (an hour by default, as on ECS).
"""
import json
import os
import time

import pytest

from conftest import LocalCloud, integration

APP = os.path.join(integration.TOP, "examples", "api-mini")


@pytest.fixture(scope="module")
def small_cloud(tmp_path_factory):
    lc = LocalCloud(str(tmp_path_factory.mktemp("limits") / "home"))
    lc["CALIBER_ECS_MAX_TASKS"] = "3"
    lc["CALIBER_ECS_STOPPED_RETENTION"] = "2"
    lc.start()
    try:
        r = lc.caliber("local", "push-image", APP, "--name", "limits", "--tag", "v1")
        assert r.returncode == 0, r.stderr
        lc.aws_json("ecs", "create-cluster", "--cluster-name", "limits")
        lc.td = lc.aws_json("ecs", "register-task-definition", "--family", "limits",
                            "--container-definitions", json.dumps([{
                                "name": "main", "image": "limits:v1",
                                "command": ["python3", "-c", "import time; time.sleep(600)"],
                                "stopTimeout": 2}]))["taskDefinition"]["taskDefinitionArn"]
        yield lc
    finally:
        lc.stop()


def statuses(lc, service):
    arns = lc.aws_json("ecs", "list-tasks", "--cluster", "limits",
                       "--service-name", service)["taskArns"]
    if not arns:
        return []
    return sorted(t["lastStatus"] for t in
                  lc.aws_json("ecs", "describe-tasks", "--cluster", "limits", "--tasks", *arns)["tasks"])


def test_quotas_are_refused_with_ecs_errors(small_cloud):
    lc = small_cloud
    r = lc.aws("ecs", "create-service", "--cluster", "limits", "--service-name", "huge",
               "--task-definition", lc.td, "--desired-count", "100000")
    assert r.returncode != 0
    assert "InvalidParameterException" in r.stderr and "5000" in r.stderr
    assert lc.aws_json("ecs", "list-services", "--cluster", "limits")["serviceArns"] == []


def test_tasks_beyond_the_machine_cap_wait_with_an_event_and_the_api_stays_prompt(small_cloud):
    lc = small_cloud
    lc.aws_json("ecs", "create-service", "--cluster", "limits", "--service-name", "capped",
                "--task-definition", lc.td, "--desired-count", "5")
    deadline = time.time() + 60
    while time.time() < deadline:
        st = statuses(lc, "capped")
        if st.count("RUNNING") == 3 and len(st) == 5:
            break
        time.sleep(0.5)
    st = statuses(lc, "capped")
    assert st.count("RUNNING") == 3, st
    assert st.count("PROVISIONING") == 2, st
    time.sleep(2)   # still held, not started
    assert statuses(lc, "capped").count("RUNNING") == 3
    events = lc.aws_json("ecs", "describe-services", "--cluster", "limits",
                         "--services", "capped")["services"][0]["events"]
    assert any("unable to place a task" in e["message"] and "CALIBER_ECS_MAX_TASKS" in e["message"]
               for e in events), events
    # scaling to 0 and deleting answer at once, and the tasks go
    lc.aws_json("ecs", "update-service", "--cluster", "limits", "--service", "capped",
                "--desired-count", "0")
    lc.aws_json("ecs", "delete-service", "--cluster", "limits", "--service", "capped", "--force")


def test_stopped_tasks_are_forgotten_after_the_retention(small_cloud):
    lc = small_cloud
    out = lc.aws_json("ecs", "run-task", "--cluster", "limits", "--task-definition", lc.td)
    arn = out["tasks"][0]["taskArn"]
    lc.aws_json("ecs", "stop-task", "--cluster", "limits", "--task", arn)
    deadline = time.time() + 60
    gone = False
    while time.time() < deadline and not gone:
        d = lc.aws_json("ecs", "describe-tasks", "--cluster", "limits", "--tasks", arn)
        gone = d["tasks"] == [] and d["failures"][0]["reason"] == "MISSING"
        time.sleep(0.5)
    assert gone, d
