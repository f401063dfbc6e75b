"""api-mini: the smallest HTTP API the local cloud's ECS tests deploy.

GET /health/ answers 200 "ok"; GET / answers {"app": "api-mini", "version": ...}
with the version read from the VERSION file next to this script (so pushing
the directory again with another VERSION makes a new image).  It listens on
$CALIBER_TASK_HOST (the task's own loopback address, 127.0.0.1 by default)
and $PORT (8000 by default), logs one line per request to stderr, and stops
cleanly on SIGTERM.
"""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))


def read_version():
    try:
        with open(os.path.join(HERE, "VERSION"), encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return "unknown"


VERSION = read_version()


class Handler(BaseHTTPRequestHandler):
    def _send(self, status, body, ctype):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health/":
            self._send(200, "ok\n", "text/plain")
        elif self.path == "/":
            self._send(200, json.dumps({"app": "api-mini", "version": VERSION}) + "\n",
                       "application/json")
        else:
            self._send(404, "not found\n", "text/plain")

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))
        sys.stderr.flush()


def on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main():
    host = os.environ.get("CALIBER_TASK_HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    server = ThreadingHTTPServer((host, port), Handler)
    signal.signal(signal.SIGTERM, on_sigterm)
    print("api-mini %s listening on %s:%d" % (VERSION, host, port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    print("api-mini stopping", flush=True)


if __name__ == "__main__":
    main()
