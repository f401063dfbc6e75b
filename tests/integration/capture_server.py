"""capture_server.py: a local HTTP endpoint that records every request and
answers with a reply the test chose (a canned, model-shaped response or an
error).  Used by the conformance tests to compare what awscli and
`caliber api` send, and by the benchmark as a fast endpoint.

Run standalone: python3 capture_server.py PORT_FILE [REPLY_JSON_FILE]
(writes the port it bound to PORT_FILE; replies with REPLY_JSON_FILE's
{"status", "headers", "body"} to every request).
"""
import http.server
import json
import sys
import threading


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _handle(self):
        srv = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        elif length:
            body = self.rfile.read(length)
        if self.headers.get("Expect", "").lower() == "100-continue":
            pass
        with srv.lock:
            srv.requests.append({
                "method": self.command,
                "target": self.path,
                "headers": [(k, v) for k, v in self.headers.items()],
                "body": body,
            })
            replies = srv.replies
            reply = replies.pop(0) if len(replies) > 1 else replies[0]
        status, headers, rbody = reply["status"], reply.get("headers", {}), reply.get("body", b"")
        if isinstance(rbody, str):
            rbody = rbody.encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if self.command == "HEAD":
            self.send_header("Content-Length", str(reply.get("head_length", 0)))
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(rbody)))
        self.end_headers()
        self.wfile.write(rbody)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

    def log_message(self, *args):
        pass


class CaptureServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests = []
        self.replies = [{"status": 200, "headers": {}, "body": b""}]
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()

    def reply_with(self, *replies):
        """Answer the next requests with these replies (the last one repeats)."""
        with self.lock:
            self.replies = list(replies)
            self.requests = []

    def take(self):
        with self.lock:
            reqs, self.requests = self.requests, []
        return reqs


if __name__ == "__main__":
    srv = CaptureServer()
    if len(sys.argv) > 2:
        with open(sys.argv[2]) as f:
            srv.replies = [json.load(f)]
    with open(sys.argv[1], "w") as f:
        f.write(str(srv.server_address[1]))
    srv.serve_forever()
