#!/usr/bin/python3
"""Local stand-ins for the AWS endpoints that hand out credentials.

AWS itself cannot be reached from the tests, so test-credentials.c runs
this server on a loopback port and points the resolver at it (through
AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_SSO, AWS_CONTAINER_CREDENTIALS_FULL_URI
and AWS_EC2_METADATA_SERVICE_ENDPOINT).  The responses follow the shapes
AWS documents:

- STS AssumeRole and GetCallerIdentity (Query protocol, POST /; the
  latter so that awscli can be run against it): the request's SigV4 signature is
  checked here with an independent implementation, against the secrets of
  the keys this server knows (the long-term test key and every key it
  issued); the XML AssumeRoleResponse or an ErrorResponse.
- IAM Identity Center portal GetRoleCredentials
  (GET /federation/credentials?role_name=&account_id=, header
  x-amz-sso_bearer_token): {"roleCredentials": {..., "expiration": ms}}.
- Container credentials (GET /container/..., Authorization header):
  {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "RoleArn"}.
- EC2 instance metadata, IMDSv2 only (PUT /latest/api/token, then GETs
  under /latest/meta-data/iam/security-credentials/ with the token).

Test control, not AWS: GET /_stats returns what was received;
POST /_config sets behaviour (JSON); POST /_reset clears both.

Usage: fake_aws_endpoints.py PORT_FILE
"""
import datetime
import hashlib
import hmac
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LONG_TERM_KEYS = {"AKIASOURCEKEY": "source-secret-key"}
SSO_TOKEN = "sso-access-token-1"
IMDS_TOKEN = "imds-session-token-1"

lock = threading.Lock()
state = {}


def reset():
    with lock:
        state.clear()
        state.update({
            "keys": dict(LONG_TERM_KEYS),
            "counts": {},
            "last": {},
            "config": {"imds_role": "web-role", "container_token": None},
            "issued": 0,
        })


def expiry(seconds=3600):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def issue(prefix):
    """New temporary credentials the server will recognise when they sign."""
    with lock:
        state["issued"] += 1
        n = state["issued"]
        key = "ASIA%s%04d" % (prefix, n)
        secret = "issued-secret-%d" % n
        state["keys"][key] = secret
    return key, secret, "issued-session-token-%d-%s" % (n, "x" * 300)


def sigv4_check(method, path, query, headers, body):
    """Verify the Authorization header; returns (ok, reason)."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return False, "no AWS4-HMAC-SHA256 authorization"
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    key, date, region, service, term = parts["Credential"].split("/")
    secret = state["keys"].get(key)
    if secret is None:
        return False, "unknown key %s" % key
    signed = parts["SignedHeaders"].split(";")
    if "host" not in signed or "x-amz-date" not in signed:
        return False, "host and x-amz-date must be signed"
    if "x-amz-security-token" in headers and "x-amz-security-token" not in signed:
        return False, "session token not signed"
    amz_date = headers["x-amz-date"]
    canon_headers = "".join(
        "%s:%s\n" % (h, " ".join(headers.get(h, "").split())) for h in signed)
    pairs = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    canon_query = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"),
                                      urllib.parse.quote(v, safe="-_.~")) for k, v in pairs)
    creq = "\n".join([method, urllib.parse.quote(path, safe="/-_.~"), canon_query,
                      canon_headers, parts["SignedHeaders"], hashlib.sha256(body).hexdigest()])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, "/".join([date, region, service, term]),
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (date, region, service, term):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, parts["Signature"]):
        return False, "signature mismatch"
    return True, key


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, name, **info):
        with lock:
            state["counts"][name] = state["counts"].get(name, 0) + 1
            state["last"][name] = info

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def headers_lower(self):
        return {k.lower(): v for k, v in self.headers.items()}

    def do_PUT(self):
        self.body()
        if self.path == "/latest/api/token":
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            self.record("imds-token", ttl=ttl)
            if not ttl:
                return self.reply(400, "missing ttl", "text/plain")
            return self.reply(200, IMDS_TOKEN, "text/plain")
        self.reply(404, "not found", "text/plain")

    def do_POST(self):
        body = self.body()
        if self.path == "/_reset":
            reset()
            return self.reply(200, "{}")
        if self.path == "/_config":
            with lock:
                state["config"].update(json.loads(body))
            return self.reply(200, "{}")
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/":
            return self.sts(url, body)
        self.reply(404, "{}")

    def sts(self, url, body):
        headers = self.headers_lower()
        form = dict(urllib.parse.parse_qsl(body.decode()))
        ok, who = sigv4_check("POST", url.path, url.query, headers, body)
        self.record("sts-%s" % form.get("Action"), action=form.get("Action"), role_arn=form.get("RoleArn"),
                    session_name=form.get("RoleSessionName"),
                    external_id=form.get("ExternalId"),
                    duration=form.get("DurationSeconds"), signed_by=who if ok else None,
                    reason=None if ok else who,
                    content_type=headers.get("content-type"))
        if not ok:
            return self.reply(403, error_xml("Sender", "SignatureDoesNotMatch", who),
                              "text/xml")
        if form.get("Action") == "GetCallerIdentity" and form.get("Version") == "2011-06-15":
            return self.reply(200, f"""<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::123456789012:assumed-role/signer/{who}</Arn>
    <UserId>AROACALLER:{who}</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
""", "text/xml")
        if form.get("Action") != "AssumeRole" or form.get("Version") != "2011-06-15":
            return self.reply(400, error_xml("Sender", "InvalidAction", "bad action"),
                              "text/xml")
        arn = form.get("RoleArn", "")
        if "denied" in arn:
            return self.reply(403, error_xml(
                "Sender", "AccessDenied",
                "User: %s is not authorized to perform: sts:AssumeRole on resource: %s"
                % (who, arn)), "text/xml")
        key, secret, token = issue("ROLE")
        account = arn.split(":")[4] if arn.count(":") >= 5 else "123456789012"
        role = arn.rsplit("/", 1)[-1]
        xml = f"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity>caliber</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::{account}:assumed-role/{role}/{form.get("RoleSessionName")}</Arn>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:{form.get("RoleSessionName")}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{key}</AccessKeyId>
      <SecretAccessKey>{secret}</SecretAccessKey>
      <SessionToken>{token}</SessionToken>
      <Expiration>{iso(expiry(int(form.get("DurationSeconds") or 3600)))}</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
"""
        self.reply(200, xml, "text/xml")

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        headers = self.headers_lower()
        if url.path == "/_stats":
            with lock:
                return self.reply(200, json.dumps({"counts": state["counts"],
                                                   "last": state["last"]}))
        if url.path == "/federation/credentials":
            q = dict(urllib.parse.parse_qsl(url.query))
            token = headers.get("x-amz-sso_bearer_token")
            self.record("sso", role_name=q.get("role_name"), account_id=q.get("account_id"),
                        token_ok=token == SSO_TOKEN)
            if token != SSO_TOKEN:
                return self.reply(401, json.dumps({"message": "Session token not found or invalid"}))
            key, secret, tok = issue("SSO")
            exp_ms = int(expiry().timestamp() * 1000)
            return self.reply(200, json.dumps({"roleCredentials": {
                "accessKeyId": key, "secretAccessKey": secret, "sessionToken": tok,
                "expiration": exp_ms}}))
        if url.path.startswith("/container/"):
            want = state["config"].get("container_token")
            got = headers.get("authorization")
            self.record("container", path=url.path, authorization_ok=got == want)
            if want is not None and got != want:
                return self.reply(401, json.dumps({"code": "AccessDenied"}))
            key, secret, tok = issue("CTR")
            return self.reply(200, json.dumps({
                "AccessKeyId": key, "SecretAccessKey": secret, "Token": tok,
                "Expiration": iso(expiry(state["config"].get("container_lifetime", 3600))),
                "RoleArn": "arn:aws:iam::123456789012:role/task-role"}))
        if url.path.startswith("/latest/meta-data/iam/security-credentials/"):
            role = state["config"].get("imds_role")
            name = url.path[len("/latest/meta-data/iam/security-credentials/"):]
            token_ok = headers.get("x-aws-ec2-metadata-token") == IMDS_TOKEN
            self.record("imds", role=name, token_ok=token_ok)
            if not token_ok:
                return self.reply(401, "", "text/plain")
            if role is None:
                return self.reply(404, "", "text/plain")
            if name == "":
                return self.reply(200, role, "text/plain")
            if name != role:
                return self.reply(404, "", "text/plain")
            key, secret, tok = issue("IMDS")
            return self.reply(200, json.dumps({
                "Code": "Success", "LastUpdated": iso(expiry(0)), "Type": "AWS-HMAC",
                "AccessKeyId": key, "SecretAccessKey": secret, "Token": tok,
                "Expiration": iso(expiry(6 * 3600))}, indent=2), "text/plain")
        self.reply(404, "{}")


def error_xml(kind, code, message):
    return f"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>{kind}</Type>
    <Code>{code}</Code>
    <Message>{message}</Message>
  </Error>
  <RequestId>4e6f1d2a-0000-0000-0000-000000000000</RequestId>
</ErrorResponse>
"""


def main():
    reset()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_file = sys.argv[1]
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
