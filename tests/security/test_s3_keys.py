"""Keys are stored exactly or refused (issue 9, finding 8).

A NUL in an S3 key (`index.html%00.bak`) once cut the key short: a PUT
overwrote index.html, and DELETE of `b.txt%00zzz` deleted b.txt.  A decoded
NUL byte in a path, a query parameter or a Query form parameter is refused
with 400 and changes nothing.
"""
import hashlib
import urllib.parse


def s3(lc, method, path, body=b"", headers=None):
    hdrs = {"x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    hdrs.update(headers or {})
    return lc.request(method, path, body=body, service="s3", headers=hdrs)


def test_a_key_with_an_encoded_nul_neither_overwrites_nor_deletes_another(localcloud):
    lc = localcloud
    assert s3(lc, "PUT", "/nul-keys")[0] == 200
    assert s3(lc, "PUT", "/nul-keys/index.html", b"the real index")[0] == 200
    assert s3(lc, "PUT", "/nul-keys/b.txt", b"bee")[0] == 200

    status, _, body = s3(lc, "PUT", "/nul-keys/index.html%00.bak", b"evil")
    assert status == 400, body
    assert b"<Code>InvalidArgument</Code>" in body
    status, _, body = s3(lc, "DELETE", "/nul-keys/b.txt%00zzz")
    assert status == 400, body

    assert s3(lc, "GET", "/nul-keys/index.html")[2] == b"the real index"
    assert s3(lc, "GET", "/nul-keys/b.txt")[2] == b"bee"
    listed = s3(lc, "GET", "/nul-keys?list-type=2")[2]
    assert listed.count(b"<Key>") == 2


def test_a_query_parameter_with_an_encoded_nul_is_refused(localcloud):
    status, _, body = s3(localcloud, "GET", "/nul-keys?list-type=2&prefix=b.txt%00x")
    assert status == 400, body


def test_a_query_protocol_parameter_with_an_encoded_nul_is_refused(localcloud):
    form = "Action=DescribeDBInstances&Version=2014-10-31&DBInstanceIdentifier=" + \
        urllib.parse.quote("db\x00other")
    status, _, body = localcloud.request(
        "POST", "/", body=form, service="rds",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert status == 400, body
    assert b"InvalidParameterValue" in body
