"""Signatures cover the request (issue 9, findings 2 and 13).

A presigned PUT URL (SignedHeaders=host) plus an unsigned
`x-amz-copy-source` once copied a private object into the URL's key, and
unsigned `x-amz-meta-*` was stored.  AWS answers 403 AccessDenied "There
were headers present in the request which were not signed", for presigned
URLs and Authorization headers alike.  An expired presigned URL says
"Request has expired"; an unsigned Route 53 request gets Route 53's
MissingAuthenticationToken, not S3's AccessDenied.
"""
import hashlib
import time
import urllib.error
import urllib.request

EMPTY = hashlib.sha256(b"").hexdigest()


def s3(lc, method, path, body=b"", headers=None):
    hdrs = {"x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    hdrs.update(headers or {})
    return lc.request(method, path, body=body, service="s3", headers=hdrs)


def raw(url, method="GET", body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def presign(lc, op, params, expires):
    """A SigV4 presigned URL (Debian's botocore presigns S3 with SigV2 by default)."""
    import botocore.session
    from botocore.config import Config

    client = botocore.session.get_session().create_client(
        "s3", region_name=lc["AWS_DEFAULT_REGION"], endpoint_url=lc.endpoint,
        aws_access_key_id=lc["AWS_ACCESS_KEY_ID"], aws_secret_access_key=lc["AWS_SECRET_ACCESS_KEY"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    url = client.generate_presigned_url(op, Params=params, ExpiresIn=expires)
    assert "X-Amz-Signature=" in url and "X-Amz-SignedHeaders=host" in url, url
    return url


def setup_buckets(lc):
    for b in ("sign-public", "sign-private"):
        assert s3(lc, "PUT", "/" + b)[0] == 200
    assert s3(lc, "PUT", "/sign-private/private/secret.txt", b"the secret")[0] == 200


def test_presigned_put_with_an_unsigned_copy_source_is_refused(localcloud):
    setup_buckets(localcloud)
    url = presign(localcloud, "put_object", {"Bucket": "sign-public", "Key": "upload.txt"}, 300)
    status, body = raw(url, "PUT", b"",
                       {"x-amz-copy-source": "sign-private/private/secret.txt"})
    assert status == 403, body
    assert b"<Code>AccessDenied</Code>" in body
    assert b"There were headers present in the request which were not signed" in body
    # nothing was copied
    status, _, _ = s3(localcloud, "GET", "/sign-public/upload.txt")
    assert status == 404
    # the URL itself still works for what it signs
    status, body = raw(url, "PUT", b"hello")
    assert status == 200, body


def test_presigned_put_with_unsigned_metadata_is_refused(localcloud):
    url = presign(localcloud, "put_object", {"Bucket": "sign-public", "Key": "meta.txt"}, 300)
    status, body = raw(url, "PUT", b"x", {"x-amz-meta-owner": "mallory"})
    assert status == 403, body
    assert b"There were headers present in the request which were not signed" in body
    assert s3(localcloud, "HEAD", "/sign-public/meta.txt")[0] == 404


def test_header_signature_with_an_unsigned_amz_header_is_refused(localcloud):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    import http.client

    path = "/sign-public/header.txt"
    req = AWSRequest(method="PUT", url=localcloud.endpoint + path, data=b"x",
                     headers={"x-amz-content-sha256": hashlib.sha256(b"x").hexdigest()})
    SigV4Auth(Credentials(localcloud["AWS_ACCESS_KEY_ID"], localcloud["AWS_SECRET_ACCESS_KEY"]),
              "s3", localcloud["AWS_DEFAULT_REGION"]).add_auth(req)
    hdrs = dict(req.headers.items())
    hdrs["x-amz-copy-source"] = "sign-private/private/secret.txt"   # added after signing
    conn = http.client.HTTPConnection("127.0.0.1", localcloud.port, timeout=30)
    conn.request("PUT", path, body=b"x", headers=hdrs)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status == 403, body
    assert b"There were headers present in the request which were not signed" in body
    assert s3(localcloud, "HEAD", path)[0] == 404


def test_an_expired_presigned_url_says_request_has_expired(localcloud):
    assert s3(localcloud, "PUT", "/sign-public/expiring.txt", b"soon gone")[0] == 200
    url = presign(localcloud, "get_object", {"Bucket": "sign-public", "Key": "expiring.txt"}, 1)
    deadline = time.time() + 30
    while True:
        status, body = raw(url)
        if status != 200 or time.time() > deadline:
            break
        time.sleep(0.5)
    assert status == 403, body
    assert b"<Code>AccessDenied</Code>" in body
    assert b"Request has expired" in body


def test_an_unsigned_route53_request_gets_route53s_error(localcloud):
    status, _, body = localcloud.request("GET", "/2013-04-01/hostedzone", service="route53",
                                         sign=False)
    assert status == 403, body
    assert b"MissingAuthenticationToken" in body
    assert b"AccessDenied" not in body
