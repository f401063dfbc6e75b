"""CloudFront and Route 53 on caliberd, driven by awscli v1 and v2."""
import json

import pytest

from conftest import start_localcloud


def dist_config(ref, bucket, aliases=(), root="index.html", ttl=(0, 3600, 86400)):
    return {
        "CallerReference": ref, "Comment": "test", "Enabled": True, "DefaultRootObject": root,
        "Aliases": {"Quantity": len(aliases), "Items": list(aliases)} if aliases else {"Quantity": 0},
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "s3", "DomainName": "%s.s3.us-east-1.amazonaws.com" % bucket,
            "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": ttl[0], "DefaultTTL": ttl[1], "MaxTTL": ttl[2],
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0}},
    }


def create_dist(lc, cfg, v=1):
    return lc.aws_json("cloudfront", "create-distribution", "--distribution-config",
                       json.dumps(cfg), v=v)


def test_distribution_create_get_list_and_config_round_trip(localcloud):
    lc = localcloud
    cfg = dist_config("cf-ref-1", "cf-bucket", aliases=["www.one.hicaliber.localhost"])
    made = create_dist(lc, cfg)
    d = made["Distribution"]
    assert d["Id"].startswith("E") and d["DomainName"].endswith(".cloudfront.net")
    assert d["Status"] == "InProgress" and made["ETag"]
    for v in (1, 2):
        got = lc.aws_json("cloudfront", "get-distribution", "--id", d["Id"], v=v)
        assert got["ETag"] == made["ETag"]
        assert got["Distribution"]["Status"] == "Deployed"
        dc = got["Distribution"]["DistributionConfig"]
        assert dc["DefaultRootObject"] == "index.html"
        assert dc["Aliases"]["Items"] == ["www.one.hicaliber.localhost"]
        assert dc["DefaultCacheBehavior"]["DefaultTTL"] == 3600
        assert dc["Origins"]["Items"][0]["DomainName"] == "cf-bucket.s3.us-east-1.amazonaws.com"
    conf = lc.aws_json("cloudfront", "get-distribution-config", "--id", d["Id"])
    assert conf["ETag"] == made["ETag"] and conf["DistributionConfig"]["CallerReference"] == "cf-ref-1"
    listed = lc.aws_json("cloudfront", "list-distributions", v=2)["DistributionList"]
    item = [i for i in listed["Items"] if i["Id"] == d["Id"]][0]
    assert item["DomainName"] == d["DomainName"] and item["Aliases"]["Quantity"] == 1
    # the caller reference and the alias belong to this distribution now
    again = lc.aws("cloudfront", "create-distribution", "--distribution-config", json.dumps(cfg))
    assert "DistributionAlreadyExists" in again.stderr or "CNAMEAlreadyExists" in again.stderr
    other = dist_config("cf-ref-2", "cf-bucket", aliases=["www.one.hicaliber.localhost"])
    clash = lc.aws("cloudfront", "create-distribution", "--distribution-config", json.dumps(other))
    assert "CNAMEAlreadyExists" in clash.stderr
    missing = lc.aws("cloudfront", "get-distribution", "--id", "ENOSUCHDIST123")
    assert "NoSuchDistribution" in missing.stderr


def test_distribution_update_needs_if_match_and_delete_needs_disabled(localcloud):
    lc = localcloud
    cfg = dist_config("cf-upd-ref", "upd-bucket", aliases=["www.upd.hicaliber.localhost"])
    made = create_dist(lc, cfg)
    did, etag = made["Distribution"]["Id"], made["ETag"]
    busy = lc.aws("cloudfront", "delete-distribution", "--id", did, "--if-match", etag)
    assert "DistributionNotDisabled" in busy.stderr
    cfg["Enabled"] = False
    cfg["DefaultRootObject"] = "home.html"
    stale = lc.aws("cloudfront", "update-distribution", "--id", did, "--if-match", "WRONG",
                   "--distribution-config", json.dumps(cfg))
    assert "PreconditionFailed" in stale.stderr
    upd = lc.aws_json("cloudfront", "update-distribution", "--id", did, "--if-match", etag,
                      "--distribution-config", json.dumps(cfg), v=2)
    assert upd["ETag"] != etag
    assert upd["Distribution"]["DistributionConfig"]["DefaultRootObject"] == "home.html"
    assert upd["Distribution"]["DistributionConfig"]["Enabled"] is False
    old = lc.aws("cloudfront", "delete-distribution", "--id", did, "--if-match", etag)
    assert "PreconditionFailed" in old.stderr
    assert lc.aws("cloudfront", "delete-distribution", "--id", did, "--if-match",
                  upd["ETag"]).returncode == 0
    gone = lc.aws("cloudfront", "get-distribution", "--id", did)
    assert "NoSuchDistribution" in gone.stderr


def test_invalidations_go_in_progress_then_completed_and_are_listed(localcloud):
    lc = localcloud
    d = create_dist(lc, dist_config("cf-inv-ref", "inv-bucket"), v=2)["Distribution"]
    inv = lc.aws_json("cloudfront", "create-invalidation", "--distribution-id", d["Id"],
                      "--paths", "/index.html", "/assets/*")["Invalidation"]
    assert inv["Status"] == "InProgress"
    assert sorted(inv["InvalidationBatch"]["Paths"]["Items"]) == ["/assets/*", "/index.html"]
    for v in (1, 2):
        got = lc.aws_json("cloudfront", "get-invalidation", "--distribution-id", d["Id"], "--id",
                          inv["Id"], v=v)["Invalidation"]
        assert got["Status"] == "Completed"
    r = lc.aws("cloudfront", "wait", "invalidation-completed", "--distribution-id", d["Id"],
               "--id", inv["Id"])
    assert r.returncode == 0, r.stderr
    listed = lc.aws_json("cloudfront", "list-invalidations", "--distribution-id", d["Id"])
    assert [i["Id"] for i in listed["InvalidationList"]["Items"]] == [inv["Id"]]
    bad = lc.aws("cloudfront", "create-invalidation", "--distribution-id", d["Id"], "--paths", "no-slash")
    assert "InvalidArgument" in bad.stderr
    nodist = lc.aws("cloudfront", "create-invalidation", "--distribution-id", "ENOPE", "--paths", "/x")
    assert "NoSuchDistribution" in nodist.stderr


def test_hosted_zones_are_created_listed_by_name_and_found(localcloud):
    lc = localcloud
    made = lc.aws_json("route53", "create-hosted-zone", "--name", "zeta.hicaliber.localhost",
                       "--caller-reference", "zr-1")
    zid = made["HostedZone"]["Id"]
    assert zid.startswith("/hostedzone/Z") and made["HostedZone"]["Name"] == "zeta.hicaliber.localhost."
    assert made["ChangeInfo"]["Status"] == "PENDING" and len(made["DelegationSet"]["NameServers"]) == 2
    lc.aws_json("route53", "create-hosted-zone", "--name", "alpha.hicaliber.localhost.",
                "--caller-reference", "zr-2", v=2)
    dup = lc.aws("route53", "create-hosted-zone", "--name", "x.localhost", "--caller-reference", "zr-1")
    assert "HostedZoneAlreadyExists" in dup.stderr
    zones = lc.aws_json("route53", "list-hosted-zones", v=2)["HostedZones"]
    names = [z["Name"] for z in zones]
    assert "zeta.hicaliber.localhost." in names and "alpha.hicaliber.localhost." in names
    by = lc.aws_json("route53", "list-hosted-zones-by-name", "--dns-name", "zeta.hicaliber.localhost")
    assert by["HostedZones"][0]["Name"] == "zeta.hicaliber.localhost."
    got = lc.aws_json("route53", "get-hosted-zone", "--id", zid)
    assert got["HostedZone"]["ResourceRecordSetCount"] == 2
    change = lc.aws_json("route53", "get-change", "--id", made["ChangeInfo"]["Id"], v=2)
    assert change["ChangeInfo"]["Status"] == "INSYNC"


def change(lc, zid, changes, v=1):
    return lc.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zid,
                  "--change-batch", json.dumps({"Changes": changes}), v=v)


def rr(name, rtype, values=None, ttl=300, alias=None):
    s = {"Name": name, "Type": rtype}
    if alias:
        s["AliasTarget"] = {"HostedZoneId": "Z2FDTNDATAQYW2", "DNSName": alias,
                            "EvaluateTargetHealth": False}
    else:
        s["TTL"] = ttl
        s["ResourceRecords"] = [{"Value": v} for v in values]
    return s


def test_record_sets_create_upsert_delete_with_aws_errors_and_order(localcloud):
    lc = localcloud
    zid = lc.aws_json("route53", "create-hosted-zone", "--name", "rr.hicaliber.localhost",
                      "--caller-reference", "rr-zone")["HostedZone"]["Id"]
    r = change(lc, zid, [
        {"Action": "CREATE", "ResourceRecordSet": rr("www.rr.hicaliber.localhost", "A", ["127.0.0.1"])},
        {"Action": "CREATE", "ResourceRecordSet": rr("rr.hicaliber.localhost", "TXT", ['"v=1"'])},
        {"Action": "CREATE", "ResourceRecordSet": rr("api.rr.hicaliber.localhost", "AAAA", ["::1"])},
        {"Action": "CREATE", "ResourceRecordSet": rr("cdn.rr.hicaliber.localhost", "CNAME", ["www.rr.hicaliber.localhost"])},
        {"Action": "CREATE", "ResourceRecordSet": rr("a.www.rr.hicaliber.localhost", "A",
                                                     alias="dexample.cloudfront.net")},
    ])
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)["ChangeInfo"]
    assert info["Status"] == "PENDING"
    assert lc.aws_json("route53", "get-change", "--id", info["Id"])["ChangeInfo"]["Status"] == "INSYNC"
    dup = change(lc, zid, [{"Action": "CREATE", "ResourceRecordSet":
                            rr("www.rr.hicaliber.localhost", "A", ["127.0.0.2"])}], v=2)
    assert "InvalidChangeBatch" in dup.stderr
    assert "Tried to create resource record set [name='www.rr.hicaliber.localhost.', type='A'] but it already exists" in dup.stderr
    gone = change(lc, zid, [{"Action": "DELETE", "ResourceRecordSet":
                             rr("nope.rr.hicaliber.localhost", "A", ["127.0.0.1"])}])
    assert "Tried to delete resource record set [name='nope.rr.hicaliber.localhost.', type='A'] but it was not found" in gone.stderr
    outside = change(lc, zid, [{"Action": "CREATE", "ResourceRecordSet": rr("www.other.localhost", "A", ["127.0.0.1"])}])
    assert "InvalidChangeBatch" in outside.stderr and "not permitted in zone" in outside.stderr
    cname_clash = change(lc, zid, [{"Action": "CREATE", "ResourceRecordSet":
                                    rr("cdn.rr.hicaliber.localhost", "TXT", ['"x"'])}])
    assert "InvalidChangeBatch" in cname_clash.stderr
    # a failing batch changes nothing, even its valid changes
    mixed = change(lc, zid, [
        {"Action": "CREATE", "ResourceRecordSet": rr("new.rr.hicaliber.localhost", "A", ["127.0.0.9"])},
        {"Action": "DELETE", "ResourceRecordSet": rr("nope.rr.hicaliber.localhost", "A", ["127.0.0.1"])}])
    assert mixed.returncode != 0
    r = change(lc, zid, [{"Action": "UPSERT", "ResourceRecordSet":
                          rr("www.rr.hicaliber.localhost", "A", ["127.0.0.3", "127.0.0.4"], ttl=60)}])
    assert r.returncode == 0, r.stderr
    sets = lc.aws_json("route53", "list-resource-record-sets", "--hosted-zone-id", zid, v=2)["ResourceRecordSets"]
    order = [(s["Name"], s["Type"]) for s in sets]
    assert order == [
        ("rr.hicaliber.localhost.", "NS"), ("rr.hicaliber.localhost.", "SOA"),
        ("rr.hicaliber.localhost.", "TXT"), ("api.rr.hicaliber.localhost.", "AAAA"),
        ("cdn.rr.hicaliber.localhost.", "CNAME"), ("www.rr.hicaliber.localhost.", "A"),
        ("a.www.rr.hicaliber.localhost.", "A")]
    www = [s for s in sets if s["Name"] == "www.rr.hicaliber.localhost."][0]
    assert www["TTL"] == 60 and [x["Value"] for x in www["ResourceRecords"]] == ["127.0.0.3", "127.0.0.4"]
    alias = [s for s in sets if s["Name"].startswith("a.www")][0]
    assert alias["AliasTarget"]["DNSName"] == "dexample.cloudfront.net."
    wrong = change(lc, zid, [{"Action": "DELETE", "ResourceRecordSet":
                              rr("www.rr.hicaliber.localhost", "A", ["127.0.0.3"], ttl=60)}])
    assert "values provided do not match the current values" in wrong.stderr
    r = change(lc, zid, [{"Action": "DELETE", "ResourceRecordSet":
                          rr("www.rr.hicaliber.localhost", "A", ["127.0.0.3", "127.0.0.4"], ttl=60)}], v=2)
    assert r.returncode == 0, r.stderr
    page = lc.aws_json("route53", "list-resource-record-sets", "--hosted-zone-id", zid,
                       "--max-items", "2")
    assert len(page["ResourceRecordSets"]) == 2 and page.get("NextToken")
    busy = lc.aws("route53", "delete-hosted-zone", "--id", zid)
    assert "HostedZoneNotEmpty" in busy.stderr


def test_malformed_xml_to_cloudfront_and_route53_gets_malformedxml(localcloud):
    lc = localcloud
    zid = lc.aws_json("route53", "create-hosted-zone", "--name", "mal.localhost",
                      "--caller-reference", "mal")["HostedZone"]["Id"].split("/")[-1]
    for body in (b"<DistributionConfig><Origins>", b"garbage", b"\xff\xfe", b"<Other/>"):
        status, _, resp = lc.request("POST", "/2020-05-31/distribution", body=body, service="cloudfront")
        assert status == 400 and b"MalformedXML" in resp, resp
        status, _, resp = lc.request("POST", "/2013-04-01/hostedzone/%s/rrset/" % zid, body=body,
                                     service="route53")
        assert status == 400 and b"MalformedXML" in resp, resp
        status, _, resp = lc.request("POST", "/2013-04-01/hostedzone", body=body, service="route53")
        assert status == 400 and b"MalformedXML" in resp, resp
    assert lc.healthy()


def test_cloudfront_and_route53_survive_kill_9(tmp_path):
    with start_localcloud(tmp_path) as lc:
        d = create_dist(lc, dist_config("durable-cf", "durable-b"))["Distribution"]
        zid = lc.aws_json("route53", "create-hosted-zone", "--name", "dur.localhost",
                          "--caller-reference", "dur")["HostedZone"]["Id"]
        assert change(lc, zid, [{"Action": "CREATE", "ResourceRecordSet":
                                 rr("www.dur.localhost", "A", alias=d["DomainName"])}]).returncode == 0
        lc.kill9()
        lc.start()
        assert lc.aws_json("cloudfront", "get-distribution", "--id", d["Id"])["Distribution"]["Id"] == d["Id"]
        sets = lc.aws_json("route53", "list-resource-record-sets", "--hosted-zone-id", zid)["ResourceRecordSets"]
        assert any(s["Name"] == "www.dur.localhost." for s in sets)
