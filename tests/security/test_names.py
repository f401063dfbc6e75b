"""One bad name never freezes the edge (issue 9, finding 5).

A CNAME `_x.hicaliber.localhost`, a load balancer name of 22+ characters
(its DNS name overflowed nginx's server_names_hash_bucket_size) or a target
id `127.100.0.7:8000/#` were each accepted with 200, and from then on no
change from anyone reached nginx.  Names and ids are checked at the API as
AWS checks them (Route 53 InvalidChangeBatch, ELBv2 ValidationError), the
edge's hashes hold the longest legal name, and a site that still cannot be
served is left out with an error in caliberd's log while every other site
keeps being applied.
"""
import json
import os
import sqlite3
import subprocess
import time

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ZONE = "names.hicaliber.localhost"


def client(lc, service):
    # no client-side checks: the requests reach caliberd as an attacker sends them
    return botocore.session.get_session().create_client(
        service, region_name="us-east-1", endpoint_url=lc.endpoint,
        aws_access_key_id=lc["AWS_ACCESS_KEY_ID"], aws_secret_access_key=lc["AWS_SECRET_ACCESS_KEY"],
        config=Config(parameter_validation=False, retries={"max_attempts": 0}))


def curl(lc, host, path="/"):
    """(status, body) of https://host:<edge port>path over the edge, trusting the local CA."""
    port = lc.edge_https_port
    r = subprocess.run(["curl", "-s", "--max-time", "10", "--cacert", lc["AWS_CA_BUNDLE"],
                        "--resolve", "%s:%d:127.0.0.1" % (host, port), "-w", "\n%{http_code}",
                        "https://%s:%d%s" % (host, port, path)], capture_output=True, text=True)
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def error_code(fn, **kw):
    with pytest.raises(ClientError) as exc:
        fn(**kw)
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def site(localcloud):
    """A bucket behind a distribution, and a zone: what the attacks aim at."""
    lc = localcloud
    s3 = client(lc, "s3")
    s3.create_bucket(Bucket="names-site")
    s3.put_object(Bucket="names-site", Key="index.html", Body=b"names home",
                  ContentType="text/html")
    cfg = {
        "CallerReference": "names", "Comment": "", "Enabled": True,
        "DefaultRootObject": "index.html", "Aliases": {"Quantity": 0, "Items": []},
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "s3", "DomainName": "names-site.s3.us-east-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0}}}
    dist = client(lc, "cloudfront").create_distribution(DistributionConfig=cfg)["Distribution"]
    zone = client(lc, "route53").create_hosted_zone(
        Name=ZONE, CallerReference="names-zone")["HostedZone"]["Id"]
    return {"lc": lc, "domain": dist["DomainName"], "zone": zone}


def upsert(site, name, rtype, **rrs):
    rrs.update({"Name": name, "Type": rtype})
    return client(site["lc"], "route53").change_resource_record_sets(
        HostedZoneId=site["zone"],
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": rrs}]})


def alias(site, name):
    return upsert(site, name, "A", AliasTarget={
        "HostedZoneId": "Z2FDTNDATAQYW2", "DNSName": site["domain"], "EvaluateTargetHealth": False})


def assert_edge_still_applies_a_good_change(site, sub):
    """A later good change from someone else reaches nginx at once."""
    host = "%s.%s" % (sub, ZONE)
    change = alias(site, host)["ChangeInfo"]["Id"]
    assert curl(site["lc"], host) == (200, "names home")
    status = client(site["lc"], "route53").get_change(Id=change)["ChangeInfo"]["Status"]
    assert status == "INSYNC"


def test_a_cname_with_an_underscore_is_served_and_freezes_nothing(site):
    # Route 53 takes "_x" names, as AWS does; the edge serves them
    upsert(site, "_x." + ZONE, "CNAME", TTL=60, ResourceRecords=[{"Value": site["domain"]}])
    assert curl(site["lc"], "_x." + ZONE) == (200, "names home")
    assert_edge_still_applies_a_good_change(site, "after-underscore")


def test_a_long_load_balancer_name_is_served_and_freezes_nothing(site):
    lc, elb = site["lc"], client(site["lc"], "elbv2")
    name = "a-load-balancer-name-of-32-chars"
    assert len(name) == 32
    lb = elb.create_load_balancer(Name=name, Subnets=["subnet-a"], Type="application")
    lb = lb["LoadBalancers"][0]
    # its DNS name is over nginx's default bucket (some 46 characters)
    assert len(lb["DNSName"]) > 60
    tg = elb.create_target_group(Name="names-tg", Protocol="HTTP", Port=8000, VpcId="vpc-local",
                                 TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    # served by the edge: no healthy target yet, so 503 (a name not served fails TLS)
    assert curl(lc, lb["DNSName"])[0] == 503
    assert_edge_still_applies_a_good_change(site, "after-long-lb")


@pytest.mark.parametrize("name, why", [
    ("a-load-balancer-name-of-33-chars-", "cannot be longer than 32 characters"),
    ("internal-names", "cannot begin with 'internal-'"),
    ("-names", "cannot begin or end with a hyphen"),
    ("names-", "cannot begin or end with a hyphen"),
    ("names_lb", "only alphanumeric characters and hyphens"),
    ("names;}server{", "only alphanumeric characters and hyphens"),
    ("", "cannot be empty"),
])
def test_load_balancer_names_aws_refuses_are_refused(site, name, why):
    elb = client(site["lc"], "elbv2")
    code, message = error_code(elb.create_load_balancer, Name=name, Subnets=["subnet-a"])
    assert code == "ValidationError" and why in message
    names = [b["LoadBalancerName"] for b in elb.describe_load_balancers()["LoadBalancers"]]
    assert name not in names


@pytest.mark.parametrize("target", ["127.100.0.7:8000/#", "127.0.0.1 ;", "127.0.0.1;",
                                    "localhost", "127.0.0.1/8", " 127.0.0.1", "127.0.0.256"])
def test_a_target_id_that_is_no_ip_address_is_refused(site, target):
    elb = client(site["lc"], "elbv2")
    tg = elb.create_target_group(Name="names-ids", Protocol="HTTP", Port=8000, VpcId="vpc-local",
                                 TargetType="ip")["TargetGroups"][0]["TargetGroupArn"] \
        if not site.get("ids_tg") else site["ids_tg"]
    site["ids_tg"] = tg
    code, message = error_code(elb.register_targets, TargetGroupArn=tg,
                               Targets=[{"Id": target, "Port": 8000}])
    assert code == "ValidationError" and "is not a valid IPv4 address" in message
    assert elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"] == []
    assert_edge_still_applies_a_good_change(site, "after-target")


@pytest.mark.parametrize("name, problem", [
    ("%s.%s" % ("a" * 64, ZONE), "DomainLabelTooLong"),
    ("%s.%s" % (".".join(["a" * 60] * 4), ZONE), "DomainNameTooLong"),
    ("evil;}server{." + ZONE, "UnsupportedCharacter"),
    ("a..b." + ZONE, "DomainLabelEmpty"),
])
def test_route53_names_aws_refuses_are_invalid_change_batches(site, name, problem):
    r53 = client(site["lc"], "route53")
    code, message = error_code(r53.change_resource_record_sets, HostedZoneId=site["zone"],
                               ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                                   "Name": name, "Type": "CNAME", "TTL": 60,
                                   "ResourceRecords": [{"Value": site["domain"]}]}}]})
    assert code == "InvalidChangeBatch" and "FATAL problem: %s" % problem in message
    names = [r["Name"] for r in r53.list_resource_record_sets(
        HostedZoneId=site["zone"])["ResourceRecordSets"]]
    assert not [n for n in names if n.startswith(name[:20])]
    assert_edge_still_applies_a_good_change(site, "after-r53")


def test_a_site_that_still_cannot_be_served_is_left_out_with_an_error_in_the_log(site):
    # a record the API would refuse, as an older caliberd may have stored it
    lc = site["lc"]
    db = sqlite3.connect(os.path.join(lc.home, "caliberd.db"), timeout=10)
    with db:
        db.execute("INSERT INTO r53_record (zone_id, name, type, ttl, vals) VALUES (?, ?, 'CNAME',"
                   " 60, ?)", (site["zone"].split("/")[-1], "evil;}server{." + ZONE + ".",
                               site["domain"]))
    db.close()
    assert_edge_still_applies_a_good_change(site, "after-stored-bad")
    log = lc.log()
    assert "edge: skipping site 'evil;}server{.%s'" % ZONE in log
    with open(os.path.join(lc.home, "edge", "nginx.conf")) as f:
        assert "evil" not in f.read()
