"""Two local clouds on one machine never give out the same task address
(issue 9, finding 10).

Both once started at 127.100.0.1, and the second cloud's task failed with
"Address already in use".  Each caliberd now claims blocks of addresses
machine-wide for as long as it runs (a lock that its death releases) and
skips any address something already listens on (localcloud/core/taskaddr.h).
"""
import json
import os
import time
import urllib.request

from conftest import LocalCloud, integration

APP = os.path.join(integration.TOP, "examples", "api-mini")


def run_api(lc):
    r = lc.caliber("local", "push-image", APP, "--name", "addr", "--tag", "v1")
    assert r.returncode == 0, r.stderr
    lc.aws_json("ecs", "create-cluster", "--cluster-name", "addr")
    td = lc.aws_json("ecs", "register-task-definition", "--family", "addr",
                     "--container-definitions", json.dumps([{
                         "name": "api", "image": "addr:v1", "command": ["python3", "app.py"],
                         "portMappings": [{"containerPort": 8000}]}]))
    arn = lc.aws_json("ecs", "run-task", "--cluster", "addr", "--task-definition",
                      td["taskDefinition"]["taskDefinitionArn"])["tasks"][0]["taskArn"]
    deadline = time.time() + 60
    while True:
        t = lc.aws_json("ecs", "describe-tasks", "--cluster", "addr", "--tasks", arn)["tasks"][0]
        if t["lastStatus"] == "RUNNING":
            addr = t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
            try:
                with urllib.request.urlopen("http://%s:8000/" % addr, timeout=3) as r:
                    return addr, json.loads(r.read())
            except OSError:
                pass
        assert t["lastStatus"] != "STOPPED", t
        assert time.time() < deadline, t
        time.sleep(0.3)


def test_two_local_clouds_tasks_get_distinct_addresses_and_both_serve(tmp_path):
    a = LocalCloud(str(tmp_path / "a"))
    b = LocalCloud(str(tmp_path / "b"))
    a.start()
    try:
        b.start()
        try:
            addr_a, body_a = run_api(a)
            addr_b, body_b = run_api(b)
            assert addr_a != addr_b, (addr_a, addr_b)
            assert body_a["app"] == body_b["app"] == "api-mini"
            assert "Address already in use" not in a.log() + b.log()
        finally:
            b.stop()
    finally:
        a.stop()
