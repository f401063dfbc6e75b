"""Tasks end (issue 9, finding 9; issue 8, shutdown).

A task that ignored SIGTERM once kept running with ppid 1 after
`caliber local stop` returned 0, and a stopTimeout of 10^12 was accepted,
leaving StopTask's task DEACTIVATING forever.  stopTimeout is capped at
ECS's 120 s, and caliberd's stop ends every task (SIGKILL after a grace
period) after joining its supervisor and health-checker threads.
"""
import os
import time

from conftest import integration

TOP = integration.TOP
STUBBORN = ["python3", "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "time.sleep(3600)"]


def register(lc, family, stop_timeout=None, command=STUBBORN):
    cd = {"name": "main", "image": "stubborn:v1", "command": command}
    if stop_timeout is not None:
        cd["stopTimeout"] = stop_timeout
    import json
    return lc.aws("ecs", "register-task-definition", "--family", family,
                  "--container-definitions", json.dumps([cd]))


def test_a_stop_timeout_above_ecs_maximum_is_refused(localcloud):
    for bad in (10 ** 12, 121, -1):
        r = register(localcloud, "too-patient", bad)
        assert r.returncode != 0
        assert "ClientException" in r.stderr
        assert "120" in r.stderr
    r = register(localcloud, "patient-enough", 120)
    assert r.returncode == 0, r.stderr


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def task_pids(marker):
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                if marker in f.read():
                    pids.append(int(p))
        except OSError:
            pass
    return pids


def test_local_stop_leaves_no_task_running_even_one_that_ignores_sigterm(tmp_path):
    with integration.start_localcloud(tmp_path) as lc:
        r = lc.caliber("local", "push-image", os.path.join(TOP, "examples", "api-mini"),
                       "--name", "stubborn", "--tag", "v1")
        assert r.returncode == 0, r.stderr
        marker = ("stubborn-%d" % os.getpid()).encode()
        command = STUBBORN[:2] + [STUBBORN[2] + " # " + marker.decode()]
        td = register(lc, "stubborn", 120, command)
        assert td.returncode == 0, td.stderr
        lc.aws_json("ecs", "create-cluster", "--cluster-name", "stop")
        lc.aws_json("ecs", "run-task", "--cluster", "stop", "--task-definition", "stubborn")
        deadline = time.time() + 60
        while not task_pids(marker) and time.time() < deadline:
            time.sleep(0.2)
        pids = task_pids(marker)
        assert pids, "the stubborn task did not start"
        r = lc.stop()
        assert r.returncode == 0
        # stop returned: nothing of the task is left, whatever it did with SIGTERM
        assert [p for p in pids if alive(p)] == []
        assert "ignored SIGTERM" in lc.log()
