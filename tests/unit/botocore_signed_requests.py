#!/usr/bin/env python3
"""Requests signed by botocore (the signer inside awscli), for test-sigv4.c.

Prints a JSON list; each item is one request as a server receives it
(method, raw path, raw query, headers, body) and whether S3's path rules
apply.  test-sigv4.c checks that sigv4_verify accepts every one with the
secret below, and refuses it with another.  Covers the protocols caliberd
speaks (JSON 1.1, Query, REST-XML, S3), encoded paths and queries, session
tokens and S3 presigned URLs.

Usage: botocore_signed_requests.py
"""
import json
import sys
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY, SECRET = "AKIDBOTOCORE", "botocore/secret+key"
BASE = "http://127.0.0.1:4566"


def emit(out, name, request, s3):
    p = request.prepare()
    u = urlsplit(p.url)
    headers = [[k, v.decode() if isinstance(v, bytes) else v] for k, v in p.headers.items()]
    headers.append(["Host", u.netloc])
    body = p.body or b""
    if isinstance(body, str):
        body = body.encode()
    out.append({"name": name, "s3": s3, "method": p.method, "path": u.path or "/",
                "query": u.query, "headers": headers, "body": body.decode()})


def main():
    plain = Credentials(KEY, SECRET)
    temp = Credentials(KEY, SECRET, "session-token/with+chars==")
    out = []
    cases = [
        ("json-1.1 ecs", "ecs", "POST", "/", b'{"cluster":"c","services":["api"]}',
         {"Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeServices"}, plain),
        ("json-1.1 secrets manager with session token", "secretsmanager", "POST", "/",
         b'{"SecretId":"caliber/acme/stg/django"}',
         {"Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": "secretsmanager.GetSecretValue"}, temp),
        ("query rds", "rds", "POST", "/",
         b"Action=DescribeDBInstances&Version=2014-10-31&DBInstanceIdentifier=acme-stg",
         {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, plain),
        ("query elbv2 get with encoded params", "elasticloadbalancing", "GET",
         "/?Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn="
         "arn%3Aaws%3Aelasticloadbalancing%3Aus-east-1%3A1%3Atargetgroup%2Fapi%2F1&"
         "Names.member.1=a%20b&Names.member.2=%E2%9C%93", b"", {}, plain),
        ("rest-xml cloudfront invalidation", "cloudfront", "POST",
         "/2020-05-31/distribution/EDFDVBD6EXAMPLE/invalidation",
         b'<?xml version="1.0"?><InvalidationBatch><Paths><Quantity>1</Quantity>'
         b"<Items><Path>/*</Path></Items></Paths><CallerReference>r1</CallerReference>"
         b"</InvalidationBatch>", {"Content-Type": "application/xml"}, plain),
        ("rest-xml route53 with colon in path", "route53", "GET",
         "/2013-04-01/hostedzone/Z1%3AX/rrset?name=www.acme.hicaliber.net.&type=A",
         b"", {}, plain),
        ("rest-json with encoded path", "lambda", "POST",
         "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/invocations",
         b"{}", {"Content-Type": "application/json"}, plain),
        ("path with dot segments and double slash", "ecs", "GET", "/a/./b//../c/", b"", {},
         plain),
    ]
    for name, service, method, target, body, headers, creds in cases:
        r = AWSRequest(method=method, url=BASE + target, data=body, headers=headers)
        SigV4Auth(creds, service, "eu-west-1").add_auth(r)
        emit(out, name, r, False)

    s3cases = [
        ("s3 list objects v2", "GET", "/acme-www/?list-type=2&prefix=static%2Fjs%2F&"
         "delimiter=%2F&continuation-token=abc%2Bdef%3D", b"", {}),
        ("s3 put object with special key", "PUT",
         "/acme-www/static/a%20b%2Bc~d%21%28e%29%2A%27.js", b"console.log(1)\n",
         {"Content-Type": "application/javascript"}),
        ("s3 delete objects", "POST", "/acme-www/?delete",
         b"<Delete><Object><Key>a</Key></Object></Delete>",
         {"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}),
        ("s3 key with dot segments kept", "GET", "/acme-www/a/../b//c", b"", {}),
    ]
    for name, method, target, body, headers in s3cases:
        r = AWSRequest(method=method, url=BASE + target, data=body, headers=headers)
        S3SigV4Auth(plain, "s3", "eu-west-1").add_auth(r)
        emit(out, name, r, True)

    r = AWSRequest(method="GET", url=BASE + "/acme-www/index.html", headers={})
    S3SigV4QueryAuth(temp, "s3", "eu-west-1", expires=900).add_auth(r)
    emit(out, "s3 presigned get with session token", r, True)

    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
