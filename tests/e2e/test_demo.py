"""`make demo` (tools/demo.sh): it runs every step, each step checks its own
result, and a check that does not hold stops the demo with a non-zero exit
that names it."""
import http.server
import os
import subprocess
import threading

from conftest import TOP, free_port

CHECKS = os.path.join(TOP, "tools", "demo-checks.sh")


def run_check(tmp_path, script):
    """Run a shell snippet with the demo's checks sourced; CompletedProcess."""
    return subprocess.run(["bash", "-c", '. "$1"; work="$2"; ' + script, "check", CHECKS,
                           str(tmp_path)], capture_output=True, text=True, timeout=60)


def test_expect_passes_an_equal_value_and_stops_at_a_different_one(tmp_path):
    ok = run_check(tmp_path, 'expect "rows restored" 3 3; echo after')
    assert ok.returncode == 0
    assert ok.stdout == "ok: rows restored (3)\nafter\n"
    bad = run_check(tmp_path, 'expect "rows restored" 4 3; echo after')
    assert bad.returncode == 1
    assert "after" not in bad.stdout
    assert bad.stderr == "demo: FAILED: rows restored: expected '3', got '4'\n"


class _Server(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status, body = {"/ok": (200, b"release 2"), "/error": (500, b"<h1>500 Internal Server Error</h1>"),
                        "/old": (200, b"release 1")}[self.path]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_expect_http_checks_the_status_and_the_body(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    try:
        ok = run_check(tmp_path, 'expect_http "frontend" %s/ok 200 "release 2"' % base)
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.startswith("ok: frontend (HTTP 200, release 2)")
        # the defect an outside review found: nginx's 500 printed, and "done"
        err = run_check(tmp_path, 'expect_http "frontend" %s/error 200 "release 2"; echo done' % base)
        assert err.returncode == 1
        assert "done" not in err.stdout
        assert "demo: FAILED: frontend: GET %s/error: expected HTTP 200, got 500" % base in err.stderr
        old = run_check(tmp_path, 'expect_http "frontend" %s/old 200 "release 2"' % base)
        assert old.returncode == 1
        assert "expected a body with 'release 2', got: release 1" in old.stderr
        down = run_check(tmp_path, 'expect_http "frontend" http://127.0.0.1:%d/ 200 x' % free_port())
        assert down.returncode == 1
        assert "demo: FAILED: frontend: GET" in down.stderr
    finally:
        server.shutdown()


def test_make_demo_runs_every_step_and_every_check_holds(tmp_path):
    env = dict(os.environ, CALIBER_DEMO_DIR=str(tmp_path / "demo"),
               CALIBER_STATE_DIR=str(tmp_path / "state"),
               CALIBER_LOCAL_PORT=str(free_port()), CALIBER_EDGE_HTTPS_PORT=str(free_port()),
               CALIBER_EDGE_HTTP_PORT=str(free_port()))
    for k in ("CALIBER_HOME", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        env.pop(k, None)
    r = subprocess.run([os.path.join(TOP, "tools", "demo.sh")], cwd=TOP, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "FAILED" not in r.stdout + r.stderr
    oks = [line for line in r.stdout.splitlines() if line.startswith("ok: ")]
    # each operation of the demo asserted its result
    for what in ("the secret's versions and stages", "rows in the restored instance",
                 "the API serves v2 after the rollout", "the rollback's deployment",
                 "the API serves v1 again after the rollback",
                 "CloudFront serves its cached copy until an invalidation",
                 "after the invalidation CloudFront serves release 2"):
        assert any(line.startswith("ok: " + what) for line in oks), what
    assert "== done: every check held" in r.stdout
    # and the demo's local cloud is stopped at the end
    status = subprocess.run([os.path.join(TOP, "bin", "caliber"), "local", "status"],
                            env=dict(env, CALIBER_HOME=str(tmp_path / "demo" / "local")),
                            capture_output=True, text=True, timeout=60)
    assert status.returncode != 0, status.stdout
