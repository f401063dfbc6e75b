"""S3 on caliberd, driven by real awscli v1 (`aws`) and v2 (`/usr/bin/aws`) and by raw
SigV4-signed requests where the CLI cannot send what is being tested (traversal paths,
aws-chunked bodies, bad checksums, malformed XML)."""
import base64
import hashlib
import time
import hmac
import json
import os
import zlib
import urllib.parse

import pytest

from conftest import start_localcloud


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def s3req(lc, method, path, body=b"", headers=None, content_sha=None, host=None):
    """A raw S3 request signed as botocore signs S3 (path sent and signed as given, no
    dot-segment removal); x-amz-content-sha256 is the body's hash unless given."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    import http.client

    if isinstance(body, str):
        body = body.encode()
    hdrs = dict(headers or {})
    hdrs["x-amz-content-sha256"] = content_sha or hashlib.sha256(body).hexdigest()
    url = lc.endpoint + path if host is None else "http://%s:%d%s" % (host, lc.port, path)
    if host is not None:
        hdrs["Host"] = "%s:%d" % (host, lc.port)
    req = AWSRequest(method=method, url=url, data=body, headers=hdrs)
    S3SigV4Auth(Credentials(lc["AWS_ACCESS_KEY_ID"], lc["AWS_SECRET_ACCESS_KEY"]), "s3",
                lc["AWS_DEFAULT_REGION"]).add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", lc.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=dict(req.headers.items()))
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def mb(lc, bucket, v=1):
    r = lc.aws("s3", "mb", "s3://" + bucket, v=v)
    assert r.returncode == 0, r.stderr


def test_sync_uploads_a_tree_and_a_second_sync_uploads_nothing(localcloud, tmp_path):
    lc = localcloud
    src = tmp_path / "site"
    for d in ("", "assets", "assets/img", "docs"):
        (src / d).mkdir(parents=True, exist_ok=True)
    files = {"index.html": b"<h1>hi</h1>", "assets/app.js": b"console.log(1)",
             "assets/img/logo.svg": b"<svg/>", "docs/a b+c.txt": b"space and plus"}
    for name, data in files.items():
        (src / name).write_bytes(data)
    for v, bucket in ((1, "sync-v1"), (2, "sync-v2")):
        mb(lc, bucket, v=v)
        r = lc.aws("s3", "sync", str(src), "s3://%s/" % bucket, v=v)
        assert r.returncode == 0, r.stderr
        assert r.stdout.count("upload:") == len(files)
        again = lc.aws("s3", "sync", str(src), "s3://%s/" % bucket, v=v)
        assert again.returncode == 0, again.stderr
        assert "upload:" not in again.stdout
        listed = lc.aws_json("s3api", "list-objects-v2", "--bucket", bucket, v=v)
        assert sorted(o["Key"] for o in listed["Contents"]) == sorted(files)
        html = lc.aws_json("s3api", "head-object", "--bucket", bucket, "--key", "index.html", v=v)
        assert html["ContentType"] == "text/html"
        down = tmp_path / ("down-%d" % v)
        r = lc.aws("s3", "sync", "s3://%s/" % bucket, str(down), v=v)
        assert r.returncode == 0, r.stderr
        for name, data in files.items():
            assert (down / name).read_bytes() == data


@pytest.mark.parametrize("v", [1, 2])
def test_cp_of_20mb_goes_multipart_and_comes_back_identical(localcloud, tmp_path, v):
    lc = localcloud
    bucket = "big-v%d" % v
    mb(lc, bucket, v=v)
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        f.write(os.urandom(20 * 1000 * 1000))
    r = lc.aws("s3", "cp", str(src), "s3://%s/big.bin" % bucket, "--only-show-errors", v=v)
    assert r.returncode == 0, r.stderr
    head = lc.aws_json("s3api", "head-object", "--bucket", bucket, "--key", "big.bin", v=v)
    assert head["ContentLength"] == 20 * 1000 * 1000
    # a multipart ETag: MD5 of the parts' MD5s and the part count
    assert head["ETag"].strip('"').split("-")[1].isdigit()
    out = tmp_path / "back.bin"
    r = lc.aws("s3", "cp", "s3://%s/big.bin" % bucket, str(out), "--only-show-errors", v=v)
    assert r.returncode == 0, r.stderr
    assert sha256_file(out) == sha256_file(src)


def test_bucket_operations_and_their_errors(localcloud):
    lc = localcloud
    assert lc.aws_json("s3api", "create-bucket", "--bucket", "ops-bucket")["Location"] == "/ops-bucket"
    eu = lc.aws_json("s3api", "create-bucket", "--bucket", "ops-eu", "--create-bucket-configuration",
                     "LocationConstraint=eu-west-1", v=2)
    assert eu["Location"] == "/ops-eu"
    loc = lc.aws_json("s3api", "get-bucket-location", "--bucket", "ops-eu")
    assert loc["LocationConstraint"] == "eu-west-1"
    again = lc.aws("s3api", "create-bucket", "--bucket", "ops-eu", "--create-bucket-configuration",
                   "LocationConstraint=eu-west-1")
    assert "BucketAlreadyOwnedByYou" in again.stderr
    bad = lc.aws("s3api", "create-bucket", "--bucket", "Bad_Name")
    assert bad.returncode != 0 and "InvalidBucketName" in bad.stderr
    assert lc.aws("s3api", "head-bucket", "--bucket", "ops-bucket").returncode == 0
    missing = lc.aws("s3api", "head-bucket", "--bucket", "no-such-bucket-x")
    assert missing.returncode != 0 and "404" in missing.stderr
    names = [b["Name"] for b in lc.aws_json("s3api", "list-buckets", v=2)["Buckets"]]
    assert "ops-bucket" in names and names == sorted(names)
    lc.aws_json("s3api", "put-object", "--bucket", "ops-bucket", "--key", "k", "--body", __file__)
    busy = lc.aws("s3api", "delete-bucket", "--bucket", "ops-bucket")
    assert "BucketNotEmpty" in busy.stderr
    lc.aws_json("s3api", "delete-object", "--bucket", "ops-bucket", "--key", "k")
    assert lc.aws("s3api", "delete-bucket", "--bucket", "ops-bucket").returncode == 0
    gone = lc.aws("s3api", "list-objects-v2", "--bucket", "ops-bucket")
    assert "NoSuchBucket" in gone.stderr


def test_virtual_hosted_requests_name_the_bucket_in_the_host(localcloud):
    lc = localcloud
    mb(lc, "vhost-bucket")
    for host in ("vhost-bucket.s3.localhost", "vhost-bucket.localhost",
                 "vhost-bucket.s3.us-east-1.amazonaws.com"):
        status, headers, body = s3req(lc, "PUT", "/dir/k.txt", body=b"via " + host.encode(),
                                      headers={"Content-Type": "text/plain"}, host=host)
        assert status == 200, body
        status, headers, body = s3req(lc, "GET", "/dir/k.txt", host=host)
        assert status == 200 and body == b"via " + host.encode()
        status, _, body = s3req(lc, "GET", "/?list-type=2&prefix=dir%2F", host=host)
        assert status == 200 and b"<Key>dir/k.txt</Key>" in body
    # the path-style view of the same object
    status, _, body = s3req(lc, "GET", "/vhost-bucket/dir/k.txt")
    assert body == b"via vhost-bucket.s3.us-east-1.amazonaws.com"
    status, _, body = s3req(lc, "GET", "/", host="s3.localhost")
    assert status == 200 and b"<Name>vhost-bucket</Name>" in body


def test_put_object_keeps_type_cache_control_and_metadata(localcloud, tmp_path):
    lc = localcloud
    mb(lc, "attrs-bucket")
    body = tmp_path / "page.html"
    body.write_bytes(b"<p>page</p>")
    put = lc.aws_json("s3api", "put-object", "--bucket", "attrs-bucket", "--key", "p/page.html",
                      "--body", str(body), "--content-type", "text/html; charset=utf-8",
                      "--cache-control", "max-age=300", "--metadata", "owner=caliber", v=2)
    assert put["ETag"] == '"%s"' % hashlib.md5(b"<p>page</p>").hexdigest()
    for v in (1, 2):
        head = lc.aws_json("s3api", "head-object", "--bucket", "attrs-bucket", "--key",
                           "p/page.html", v=v)
        assert head["ContentType"] == "text/html; charset=utf-8"
        assert head["CacheControl"] == "max-age=300"
        assert head["Metadata"] == {"owner": "caliber"}
        assert head["ContentLength"] == 11
        assert head["ETag"] == put["ETag"]
    out = tmp_path / "out.html"
    got = lc.aws_json("s3api", "get-object", "--bucket", "attrs-bucket", "--key", "p/page.html",
                      str(out))
    assert out.read_bytes() == b"<p>page</p>" and got["ContentType"] == "text/html; charset=utf-8"
    miss = lc.aws("s3api", "get-object", "--bucket", "attrs-bucket", "--key", "nope", str(out))
    assert "NoSuchKey" in miss.stderr


def test_range_get_answers_206_with_the_bytes_asked_for(localcloud, tmp_path):
    lc = localcloud
    mb(lc, "range-bucket")
    data = bytes(range(256)) * 40
    src = tmp_path / "r.bin"
    src.write_bytes(data)
    lc.aws_json("s3api", "put-object", "--bucket", "range-bucket", "--key", "r.bin", "--body", str(src))
    for rng, want in (("bytes=10-19", data[10:20]), ("bytes=10000-", data[10000:]),
                      ("bytes=-5", data[-5:])):
        out = tmp_path / "part"
        got = lc.aws_json("s3api", "get-object", "--bucket", "range-bucket", "--key", "r.bin",
                          "--range", rng, str(out), v=2)
        assert out.read_bytes() == want
        assert got["ContentRange"].startswith("bytes ") and got["ContentRange"].endswith("/10240")
    status, headers, _ = s3req(lc, "GET", "/range-bucket/r.bin", headers={"Range": "bytes=20000-"})
    assert status == 416 and headers["content-range"] == "bytes */10240"


def test_conditional_get_answers_304_and_412(localcloud, tmp_path):
    lc = localcloud
    mb(lc, "cond-bucket")
    lc.aws_json("s3api", "put-object", "--bucket", "cond-bucket", "--key", "c", "--body", __file__)
    head = lc.aws_json("s3api", "head-object", "--bucket", "cond-bucket", "--key", "c")
    out = tmp_path / "c"
    r = lc.aws("s3api", "get-object", "--bucket", "cond-bucket", "--key", "c", "--if-none-match",
               head["ETag"], str(out))
    assert r.returncode != 0 and "304" in r.stderr
    status, headers, body = s3req(lc, "GET", "/cond-bucket/c", headers={"If-None-Match": head["ETag"]})
    assert status == 304 and body == b"" and headers["etag"] == head["ETag"]
    status, _, _ = s3req(lc, "GET", "/cond-bucket/c",
                         headers={"If-Modified-Since": head["LastModified"]})
    assert status == 304
    status, _, _ = s3req(lc, "GET", "/cond-bucket/c",
                         headers={"If-Modified-Since": "Thu, 01 Jan 2015 00:00:00 GMT"})
    assert status == 200
    status, _, body = s3req(lc, "GET", "/cond-bucket/c", headers={"If-Match": '"0000"'})
    assert status == 412 and b"PreconditionFailed" in body


def test_list_objects_v2_orders_groups_pages_and_url_encodes(localcloud):
    lc = localcloud
    mb(lc, "list-bucket")
    keys = ["a/1", "a/2", "a/b/3", "b", "c d/e", "B", "z&x"]
    for k in keys:
        lc.aws_json("s3api", "put-object", "--bucket", "list-bucket", "--key", k)
    full = lc.aws_json("s3api", "list-objects-v2", "--bucket", "list-bucket", "--page-size", "2", v=2)
    assert [o["Key"] for o in full["Contents"]] == sorted(keys, key=lambda s: s.encode())
    grouped = lc.aws_json("s3api", "list-objects-v2", "--bucket", "list-bucket", "--delimiter", "/")
    assert [o["Key"] for o in grouped["Contents"]] == ["B", "b", "z&x"]
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["a/", "c d/"]
    # raw paging: max-keys counts keys and prefixes; tokens resume after either
    seen, token, raw = [], None, ""
    while True:
        q = "list-type=2&delimiter=%2F&max-keys=2&encoding-type=url"
        if token:
            q += "&continuation-token=" + urllib.parse.quote(token, safe="")
        status, _, body = s3req(lc, "GET", "/list-bucket?" + q)
        assert status == 200, body
        text = body.decode()
        raw += text
        import xml.etree.ElementTree as ET
        root = ET.fromstring(text)
        ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
        assert root.find("s:EncodingType", ns).text == "url"
        seen += [urllib.parse.unquote(k.text) for k in root.findall("s:Contents/s:Key", ns)]
        seen += [urllib.parse.unquote(p.text) for p in root.findall("s:CommonPrefixes/s:Prefix", ns)]
        assert int(root.find("s:KeyCount", ns).text) <= 2
        if root.find("s:IsTruncated", ns).text == "false":
            break
        token = root.find("s:NextContinuationToken", ns).text
    assert sorted(seen) == sorted(["B", "b", "z&x", "a/", "c d/"])
    assert "<Prefix>c%20d/</Prefix>" in raw and "<Key>z%26x</Key>" in raw
    pref = lc.aws_json("s3api", "list-objects-v2", "--bucket", "list-bucket", "--prefix", "a/",
                       "--start-after", "a/1")
    assert [o["Key"] for o in pref["Contents"]] == ["a/2", "a/b/3"]


def test_raw_query_characters_verify_as_aws_canonicalises_them(localcloud):
    """A client may send '/', ':', ',', '@', '=', '~' and '+' raw in a query value (curl does);
    the signature covers AWS's canonical form (each name and value decoded, then only the
    unreserved characters left bare; a raw '+' is a space).  botocore signs that form
    from params while the wire carries the raw string."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    import http.client
    import xml.etree.ElementTree as ET

    lc = localcloud
    mb(lc, "rawq-bucket")
    lc.aws_json("s3api", "put-object", "--bucket", "rawq-bucket", "--key", "dir/a:b,c@d=e~f g")
    creds = Credentials(lc["AWS_ACCESS_KEY_ID"], lc["AWS_SECRET_ACCESS_KEY"])

    def get(wire, params):
        url = lc.endpoint + wire.split("?")[0]
        req = AWSRequest(method="GET", url=url if params else lc.endpoint + wire, params=params,
                         headers={"x-amz-content-sha256": hashlib.sha256(b"").hexdigest()})
        S3SigV4Auth(creds, "s3", lc["AWS_DEFAULT_REGION"]).add_auth(req)
        conn = http.client.HTTPConnection("127.0.0.1", lc.port, timeout=30)
        try:
            conn.request("GET", wire, headers=dict(req.headers.items()))
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        finally:
            conn.close()

    ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
    for prefix, raw in (("dir/", "dir/"), ("dir/a:b,c@d=e~f g", "dir/a:b,c@d=e~f+g")):
        status, body = get("/rawq-bucket?list-type=2&prefix=" + raw,
                           {"list-type": "2", "prefix": prefix})
        assert status == 200, body
        root = ET.fromstring(body)
        assert root.find("s:Prefix", ns).text == prefix
        assert [k.text for k in root.findall("s:Contents/s:Key", ns)] == ["dir/a:b,c@d=e~f g"]
    # signed over the raw string itself (botocore on the same URL, curl 7.88): AWS refuses it too
    status, body = get("/rawq-bucket?list-type=2&prefix=dir/", None)
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body
    status, body = get("/rawq-bucket?list-type=2&prefix=dir%2F", None)
    assert status == 200, body


def test_delete_objects_and_copy_object(localcloud):
    lc = localcloud
    mb(lc, "del-bucket")
    for k in ("d1", "d2", "d3"):
        lc.aws_json("s3api", "put-object", "--bucket", "del-bucket", "--key", k, "--body", __file__,
                    "--content-type", "text/x-python")
    res = lc.aws_json("s3api", "delete-objects", "--bucket", "del-bucket", "--delete",
                      json.dumps({"Objects": [{"Key": "d1"}, {"Key": "d2"}, {"Key": "never"}]}), v=2)
    assert sorted(d["Key"] for d in res["Deleted"]) == ["d1", "d2", "never"]
    left = lc.aws_json("s3api", "list-objects-v2", "--bucket", "del-bucket")
    assert [o["Key"] for o in left["Contents"]] == ["d3"]
    cp = lc.aws_json("s3api", "copy-object", "--bucket", "del-bucket", "--key", "copy of d3",
                     "--copy-source", "del-bucket/d3")
    head = lc.aws_json("s3api", "head-object", "--bucket", "del-bucket", "--key", "copy of d3")
    assert head["ContentType"] == "text/x-python" and head["ETag"] == cp["CopyObjectResult"]["ETag"]
    lc.aws_json("s3api", "copy-object", "--bucket", "del-bucket", "--key", "replaced",
                "--copy-source", "del-bucket/copy of d3", "--metadata-directive", "REPLACE",
                "--content-type", "text/plain", v=2)
    head = lc.aws_json("s3api", "head-object", "--bucket", "del-bucket", "--key", "replaced")
    assert head["ContentType"] == "text/plain"
    same = lc.aws("s3api", "copy-object", "--bucket", "del-bucket", "--key", "d3",
                  "--copy-source", "del-bucket/d3")
    assert "InvalidRequest" in same.stderr


def test_multipart_operations_through_s3api(localcloud, tmp_path):
    lc = localcloud
    mb(lc, "mpu-bucket")
    p1, p2 = tmp_path / "p1", tmp_path / "p2"
    p1.write_bytes(b"a" * (5 * 1024 * 1024))
    p2.write_bytes(b"tail")
    up = lc.aws_json("s3api", "create-multipart-upload", "--bucket", "mpu-bucket", "--key", "m",
                     "--content-type", "application/x-tar")
    uid = up["UploadId"]
    e1 = lc.aws_json("s3api", "upload-part", "--bucket", "mpu-bucket", "--key", "m",
                     "--upload-id", uid, "--part-number", "1", "--body", str(p1))["ETag"]
    e2 = lc.aws_json("s3api", "upload-part", "--bucket", "mpu-bucket", "--key", "m",
                     "--upload-id", uid, "--part-number", "2", "--body", str(p2), v=2)["ETag"]
    parts = lc.aws_json("s3api", "list-parts", "--bucket", "mpu-bucket", "--key", "m",
                        "--upload-id", uid)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * 1024 * 1024), (2, 4)]
    bad = lc.aws("s3api", "complete-multipart-upload", "--bucket", "mpu-bucket", "--key", "m",
                 "--upload-id", uid, "--multipart-upload",
                 json.dumps({"Parts": [{"PartNumber": 1, "ETag": e2}, {"PartNumber": 2, "ETag": e2}]}))
    assert "InvalidPart" in bad.stderr
    done = lc.aws_json("s3api", "complete-multipart-upload", "--bucket", "mpu-bucket", "--key", "m",
                       "--upload-id", uid, "--multipart-upload",
                       json.dumps({"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]}))
    md5s = bytes.fromhex(e1.strip('"')) + bytes.fromhex(e2.strip('"'))
    assert done["ETag"] == '"%s-2"' % hashlib.md5(md5s).hexdigest()
    head = lc.aws_json("s3api", "head-object", "--bucket", "mpu-bucket", "--key", "m")
    assert head["ContentLength"] == 5 * 1024 * 1024 + 4 and head["ContentType"] == "application/x-tar"
    up2 = lc.aws_json("s3api", "create-multipart-upload", "--bucket", "mpu-bucket", "--key", "m2", v=2)
    lc.aws_json("s3api", "abort-multipart-upload", "--bucket", "mpu-bucket", "--key", "m2",
                "--upload-id", up2["UploadId"], v=2)
    gone = lc.aws("s3api", "list-parts", "--bucket", "mpu-bucket", "--key", "m2", "--upload-id",
                  up2["UploadId"])
    assert "NoSuchUpload" in gone.stderr


def test_traversal_keys_are_plain_keys_that_stay_inside_the_store(localcloud, tmp_path):
    lc = localcloud
    mb(lc, "trav-bucket")
    passwd = open("/etc/passwd", "rb").read()
    lc.aws_json("s3api", "put-object", "--bucket", "trav-bucket", "--key", "../../etc/passwd",
                "--body", __file__)
    status, _, body = s3req(lc, "PUT", "/trav-bucket/../../../../../tmp/caliber-escape", body=b"x")
    assert status == 200, body
    lc.aws_json("s3api", "put-object", "--bucket", "trav-bucket", "--key", "../../escape2", v=2)
    keys = [o["Key"] for o in lc.aws_json("s3api", "list-objects-v2", "--bucket", "trav-bucket")["Contents"]]
    assert sorted(keys) == sorted(["../../etc/passwd", "../../../../../tmp/caliber-escape", "../../escape2"])
    out = tmp_path / "p"
    lc.aws_json("s3api", "get-object", "--bucket", "trav-bucket", "--key", "../../etc/passwd", str(out))
    assert out.read_bytes() == open(__file__, "rb").read()
    assert open("/etc/passwd", "rb").read() == passwd
    assert not os.path.exists("/tmp/caliber-escape")
    home_parent = os.path.dirname(lc.home)
    assert not os.path.exists(os.path.join(home_parent, "escape2"))
    assert not os.path.exists(os.path.join(lc.home, "escape2"))


def test_bad_content_md5_and_bad_checksums_are_refused_and_store_nothing(localcloud):
    lc = localcloud
    mb(lc, "digest-bucket")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    r = lc.aws("s3api", "put-object", "--bucket", "digest-bucket", "--key", "k", "--body", __file__,
               "--content-md5", wrong)
    assert r.returncode != 0 and "BadDigest" in r.stderr
    status, _, body = s3req(lc, "PUT", "/digest-bucket/k2", body=b"data",
                            headers={"Content-MD5": "notbase64!"})
    assert status == 400 and b"InvalidDigest" in body
    good_crc = base64.b64encode(zlib.crc32(b"data").to_bytes(4, "big")).decode()
    status, headers, _ = s3req(lc, "PUT", "/digest-bucket/k3", body=b"data",
                               headers={"x-amz-checksum-crc32": good_crc})
    assert status == 200 and headers["x-amz-checksum-crc32"] == good_crc
    for name, value in (("x-amz-checksum-crc32", "AAAAAA=="), ("x-amz-checksum-crc32c", "AAAAAA=="),
                        ("x-amz-checksum-sha1", base64.b64encode(hashlib.sha1(b"x").digest()).decode()),
                        ("x-amz-checksum-sha256", base64.b64encode(hashlib.sha256(b"x").digest()).decode())):
        status, _, body = s3req(lc, "PUT", "/digest-bucket/k4", body=b"data", headers={name: value})
        assert status == 400 and b"BadDigest" in body, (name, body)
    good_sha = base64.b64encode(hashlib.sha256(b"data").digest()).decode()
    status, _, _ = s3req(lc, "PUT", "/digest-bucket/k5", body=b"data",
                         headers={"x-amz-checksum-sha256": good_sha})
    assert status == 200
    keys = [o["Key"] for o in lc.aws_json("s3api", "list-objects-v2", "--bucket", "digest-bucket")["Contents"]]
    assert keys == ["k3", "k5"]


def chunked_unsigned(data, trailer_name, trailer_value):
    body = b""
    for i in range(0, len(data), 7):
        piece = data[i:i + 7]
        body += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return body + b"0\r\n" + ("%s:%s\r\n\r\n" % (trailer_name, trailer_value)).encode()


def test_aws_chunked_body_with_trailing_checksum_is_decoded_and_checked(localcloud):
    lc = localcloud
    mb(lc, "chunk-bucket")
    data = b"hello aws-chunked world, more than one chunk"
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    hdrs = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
            "x-amz-trailer": "x-amz-checksum-crc32", "Content-Type": "text/plain"}
    status, _, body = s3req(lc, "PUT", "/chunk-bucket/ok", body=chunked_unsigned(data, "x-amz-checksum-crc32", crc),
                            headers=hdrs, content_sha="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert status == 200, body
    status, headers, got = s3req(lc, "GET", "/chunk-bucket/ok")
    assert got == data and headers["content-type"] == "text/plain"
    assert "content-encoding" not in headers
    status, _, body = s3req(lc, "PUT", "/chunk-bucket/bad", body=chunked_unsigned(data, "x-amz-checksum-crc32", "AAAAAA=="),
                            headers=hdrs, content_sha="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert status == 400 and b"BadDigest" in body
    status, _, body = s3req(lc, "PUT", "/chunk-bucket/bad2", body=b"5\r\nab",
                            headers=hdrs, content_sha="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert status == 400 and b"IncompleteBody" in body


def test_signed_aws_chunked_body_checks_every_chunk_signature(localcloud):
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD: signed with botocore, chunks signed here."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    import http.client

    lc = localcloud
    mb(lc, "signed-chunks")
    chunks = [b"x" * 100, b"y" * 50]

    def send(key, tamper):
        sizes = sum(len(b"%x;chunk-signature=" % len(c)) + 64 + 4 + len(c) for c in chunks)
        total = sizes + len(b"0;chunk-signature=") + 64 + 4
        hdrs = {"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                "Content-Encoding": "aws-chunked",
                "x-amz-decoded-content-length": str(sum(map(len, chunks))),
                "Content-Length": str(total)}
        req = AWSRequest(method="PUT", url=lc.endpoint + "/signed-chunks/" + key, headers=hdrs)
        creds = Credentials(lc["AWS_ACCESS_KEY_ID"], lc["AWS_SECRET_ACCESS_KEY"])
        region = lc["AWS_DEFAULT_REGION"]
        SigV4Auth(creds, "s3", region).add_auth(req)
        signed = dict(req.headers.items())
        seed = signed["Authorization"].split("Signature=")[1]
        amz_date = signed["X-Amz-Date"]
        scope = "%s/%s/s3/aws4_request" % (amz_date[:8], region)
        k = ("AWS4" + lc["AWS_SECRET_ACCESS_KEY"]).encode()
        for part in (amz_date[:8], region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        prev, body = seed, b""
        for c in chunks + [b""]:
            sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev,
                             hashlib.sha256(b"").hexdigest(), hashlib.sha256(c).hexdigest()])
            prev = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
            sent = c.replace(b"y", b"z") if tamper and c else c
            body += b"%x;chunk-signature=%s\r\n" % (len(c), prev.encode()) + sent + b"\r\n"
        assert len(body) == total
        conn = http.client.HTTPConnection("127.0.0.1", lc.port, timeout=30)
        conn.request("PUT", "/signed-chunks/" + key, body=body, headers=signed)
        resp = conn.getresponse()
        out = resp.status, resp.read()
        conn.close()
        return out

    status, body = send("good", False)
    assert status == 200, body
    status, _, got = s3req(lc, "GET", "/signed-chunks/good")
    assert got == b"".join(chunks)
    status, body = send("tampered", True)
    assert status == 403 and b"SignatureDoesNotMatch" in body
    status, _, _ = s3req(lc, "HEAD", "/signed-chunks/tampered")
    assert status == 404


def test_malformed_xml_bodies_get_malformedxml_and_the_daemon_goes_on(localcloud):
    lc = localcloud
    mb(lc, "xml-bucket")
    up = lc.aws_json("s3api", "create-multipart-upload", "--bucket", "xml-bucket", "--key", "m")
    bodies = [b"<Delete><Object><Key>a</Key>", b"not xml at all", b"<Other/>",
              b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;'>]><Delete><Object><Key>&b;</Key></Object></Delete>",
              b"\x00\xff\xfe<<<>>>", b""]
    for body in bodies:
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        status, _, resp = s3req(lc, "POST", "/xml-bucket?delete", body=body, headers={"Content-MD5": md5})
        assert status in (200, 400), resp
        if status == 400:
            assert b"MalformedXML" in resp
        status, _, resp = s3req(lc, "POST", "/xml-bucket/m?uploadId=" + up["UploadId"], body=body)
        assert status == 400 and b"MalformedXML" in resp
        status, _, resp = s3req(lc, "PUT", "/xml-bucket-two", body=body or b"<x")
        assert status == 400 and b"MalformedXML" in resp
    assert lc.healthy()


def test_objects_survive_restart_and_kill_9(tmp_path):
    with start_localcloud(tmp_path) as lc:
        mb(lc, "durable-bucket")
        src = tmp_path / "f"
        src.write_bytes(os.urandom(300000))
        lc.aws_json("s3api", "put-object", "--bucket", "durable-bucket", "--key", "f", "--body", str(src))
        lc.stop()
        lc.start()
        out = tmp_path / "o1"
        lc.aws_json("s3api", "get-object", "--bucket", "durable-bucket", "--key", "f", str(out))
        assert out.read_bytes() == src.read_bytes()
        lc.aws_json("s3api", "put-object", "--bucket", "durable-bucket", "--key", "g", "--body", str(src), v=2)
        lc.kill9()
        lc.start()
        out2 = tmp_path / "o2"
        lc.aws_json("s3api", "get-object", "--bucket", "durable-bucket", "--key", "g", str(out2), v=2)
        assert out2.read_bytes() == src.read_bytes()
        keys = [o["Key"] for o in lc.aws_json("s3api", "list-objects-v2", "--bucket", "durable-bucket")["Contents"]]
        assert keys == ["f", "g"]
        # kill -9 in the middle of an upload: neither the partial object nor its bytes stay
        import socket
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        total = 8 * 1024 * 1024
        hdrs = {"x-amz-content-sha256": "UNSIGNED-PAYLOAD", "Content-Length": str(total)}
        req = AWSRequest(method="PUT", url=lc.endpoint + "/durable-bucket/g", headers=hdrs)
        S3SigV4Auth(Credentials(lc["AWS_ACCESS_KEY_ID"], lc["AWS_SECRET_ACCESS_KEY"]), "s3",
                    lc["AWS_DEFAULT_REGION"]).add_auth(req)
        sock = socket.create_connection(("127.0.0.1", lc.port))
        head = "PUT /durable-bucket/g HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % lc.port
        head += "".join("%s: %s\r\n" % kv for kv in req.headers.items()) + "\r\n"
        sock.sendall(head.encode() + b"x" * (total // 2))
        time.sleep(0.5)
        lc.kill9()
        sock.close()
        lc.start()
        out3 = tmp_path / "o3"
        lc.aws_json("s3api", "get-object", "--bucket", "durable-bucket", "--key", "g", str(out3))
        assert out3.read_bytes() == src.read_bytes()
        store_tmp = os.path.join(lc.home, "objects", "s3", "tmp")
        assert os.listdir(store_tmp) == []
