"""The operator's environment stays with the operator (issue 8, child
processes).

`caliber local start` runs from a shell that may hold real AWS keys, a
session token and a profile: none of it may reach caliberd, nginx,
PostgreSQL or a task, and no descriptor of the caller (a pipe) may leak
into them.
"""
import os
import secrets
import subprocess
import time

import pytest

from conftest import LocalCloud, integration

TOP = integration.TOP


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def environ_of(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return f.read()
    except OSError:
        return b""


def descendants(root):
    children = {}
    for pid in all_pids():
        try:
            with open("/proc/%d/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


@pytest.fixture
def cloud_started_from_an_operator_shell(tmp_path):
    secret = "wJalr" + secrets.token_hex(16)
    token = "IQoJb3JpZ2luX2VjE" + secrets.token_hex(24)
    lc = LocalCloud(str(tmp_path / "home"))
    rfd, wfd = os.pipe()
    try:
        env = dict(lc, AWS_ACCESS_KEY_ID="AKIAOPERATOR0000TEST", AWS_SECRET_ACCESS_KEY=secret,
                   AWS_SESSION_TOKEN=token, AWS_PROFILE="operator-prod-" + secrets.token_hex(4))
        r = subprocess.run([os.path.join(integration.BIN_DIR, "caliber"), "local", "start",
                            "--timeout", "60"], env=env, pass_fds=(wfd,), capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        os.close(wfd)
        wfd = -1
        r = lc.caliber("local", "env", check=True)
        for line in r.stdout.splitlines():
            assert line.startswith("export "), line
            k, v = line[len("export "):].split("=", 1)
            lc[k] = v.strip("'")
        assert lc.get("AWS_ENDPOINT_URL") == lc.endpoint, r.stdout
        yield lc, (secret.encode(), token.encode()), os.fstat(rfd).st_ino
    finally:
        if wfd >= 0:
            os.close(wfd)
        os.close(rfd)
        if lc.caliber("local", "status").returncode == 0:
            lc.stop()


def test_no_process_of_the_local_cloud_holds_the_operators_keys_or_descriptors(
        cloud_started_from_an_operator_shell):
    lc, marks, pipe_inode = cloud_started_from_an_operator_shell
    # a database server and a task, besides caliberd and nginx
    lc.aws_json("rds", "create-db-instance", "--db-instance-identifier", "env-db",
                "--engine", "postgres", "--db-instance-class", "db.t4g.micro",
                "--master-username", "caliber", "--manage-master-user-password", v=2)
    r = lc.caliber("local", "push-image", os.path.join(TOP, "examples", "api-mini"),
                   "--name", "env-probe", "--tag", "v1")
    assert r.returncode == 0, r.stderr
    lc.aws_json("ecs", "create-cluster", "--cluster-name", "env")
    td = lc.aws_json("ecs", "register-task-definition", "--family", "env-probe",
                     "--container-definitions",
                     '[{"name": "probe", "image": "env-probe:v1", '
                     '"command": ["python3", "-c", "import time; time.sleep(120)"]}]')
    lc.aws_json("ecs", "run-task", "--cluster", "env", "--task-definition",
                td["taskDefinition"]["taskDefinitionArn"])
    r = lc.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "env-db",
               v=2, timeout=180)
    assert r.returncode == 0, r.stderr
    deadline = time.time() + 60
    while time.time() < deadline:
        tasks = lc.aws_json("ecs", "list-tasks", "--cluster", "env",
                            "--desired-status", "RUNNING")["taskArns"]
        desc = lc.aws_json("ecs", "describe-tasks", "--cluster", "env", "--tasks", *tasks)
        if tasks and all(t["lastStatus"] == "RUNNING" for t in desc["tasks"]):
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the probe task did not reach RUNNING")

    daemon = lc.pid()
    family = descendants(daemon)
    names = set()
    for pid in family:
        try:
            with open("/proc/%d/comm" % pid) as f:
                names.add(f.read().strip())
        except OSError:
            pass
    assert {"caliberd", "nginx", "python3"} <= names, names
    # every process on the machine: the database servers run in their own session
    leaked = [pid for pid in all_pids() if any(m in environ_of(pid) for m in marks)]
    assert leaked == [], "processes holding the operator's keys: %s" % leaked
    assert not [pid for pid in family if b"AWS_PROFILE=operator-prod" in environ_of(pid)]
    # no descriptor of the caller's pipe in the daemon, nginx or the task
    for pid in family:
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            assert target != "pipe:[%d]" % pipe_inode, (pid, fd)


def test_local_start_fails_when_another_local_cloud_holds_the_port(tmp_path):
    """issue 9, finding 11: the daemon that answers must be the one started."""
    with integration.start_localcloud(tmp_path / "a") as a:
        b = LocalCloud(str(tmp_path / "b" / "home"))
        b["CALIBER_LOCAL_PORT"] = str(a.port)
        r = b.caliber("local", "start", "--timeout", "30")
        assert r.returncode == 1, r.stdout + r.stderr
        assert "running" not in r.stdout
        assert str(a.port) in r.stderr
        assert b.caliber("local", "status").returncode != 0
        # the first one is untouched
        assert a.caliber("local", "status").returncode == 0
