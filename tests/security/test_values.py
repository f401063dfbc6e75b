"""Values AWS refuses are refused (issue 9, finding 12).

A SigV4 scope region `;}<x>&` (then written into ARNs and DNS names),
CloudFront aliases like `evil;}server{`, RDS master usernames `public` and
`none` (the instance later went `failed`), negative health check intervals
and empty log messages were all accepted.  Each is refused with the error
AWS gives, and nothing is created.  Route 53 labels over 63 characters and
target ids with spaces or `;` are in test_names.py.
"""
import json
import time
import urllib.parse

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

BAD_REGION = ";}<x>&"


def client(lc, service, region="us-east-1"):
    # no client-side checks: the requests reach caliberd as an attacker sends them
    return botocore.session.get_session().create_client(
        service, region_name=region, endpoint_url=lc.endpoint,
        aws_access_key_id=lc["AWS_ACCESS_KEY_ID"], aws_secret_access_key=lc["AWS_SECRET_ACCESS_KEY"],
        config=Config(parameter_validation=False, retries={"max_attempts": 0}))


def error_of(fn, **kw):
    with pytest.raises(ClientError) as exc:
        fn(**kw)
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


# -- the credential scope's region ------------------------------------------

def test_a_query_request_scoped_to_no_region_is_refused_and_creates_nothing(localcloud):
    lc = localcloud
    body = urllib.parse.urlencode({"Action": "CreateLoadBalancer", "Version": "2015-12-01",
                                   "Name": "scope-lb", "Subnets.member.1": "subnet-a"})
    status, _, data = lc.request(
        "POST", "/", body=body, service="elasticloadbalancing", region=BAD_REGION,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert status == 403, data
    assert b"<Code>SignatureDoesNotMatch</Code>" in data
    assert b"Credential should be scoped to a valid region." in data
    lbs = client(lc, "elbv2").describe_load_balancers()["LoadBalancers"]
    assert not [b for b in lbs if b["LoadBalancerName"] == "scope-lb"]


def test_a_json_request_scoped_to_no_region_is_refused_and_creates_nothing(localcloud):
    lc = localcloud
    status, _, data = lc.request(
        "POST", "/", body=json.dumps({"Name": "scope-secret", "SecretString": "x"}),
        service="secretsmanager", target="secretsmanager.CreateSecret", region=BAD_REGION)
    assert status == 400, data
    err = json.loads(data)
    assert err["__type"].endswith("InvalidSignatureException")
    assert err["message"] == "Credential should be scoped to a valid region."
    names = [s["Name"] for s in client(lc, "secretsmanager").list_secrets()["SecretList"]]
    assert "scope-secret" not in names


def test_an_s3_request_scoped_to_no_region_is_refused_and_creates_nothing(localcloud):
    lc = localcloud
    status, _, data = lc.request("PUT", "/scope-bucket", service="s3", region=BAD_REGION,
                                 headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert status == 400, data
    assert b"<Code>AuthorizationHeaderMalformed</Code>" in data
    buckets = [b["Name"] for b in client(lc, "s3").list_buckets()["Buckets"]]
    assert "scope-bucket" not in buckets


@pytest.mark.parametrize("region", ["eu-west-1", "us-gov-west-1", "ap-southeast-2"])
def test_real_regions_are_still_taken_and_name_the_arns(localcloud, region):
    sm = client(localcloud, "secretsmanager", region=region)
    arn = sm.create_secret(Name="scope-ok-" + region, SecretString="x")["ARN"]
    assert arn.startswith("arn:aws:secretsmanager:%s:" % region)


# -- CloudFront aliases -----------------------------------------------------

def distribution_config(ref, aliases):
    return {
        "CallerReference": ref, "Comment": "", "Enabled": True,
        "Aliases": {"Quantity": len(aliases), "Items": aliases},
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "s3", "DomainName": "values.s3.us-east-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0, "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0}}}


@pytest.mark.parametrize("alias", ["evil;}server{", "a b.example.com", "x" * 64 + ".example.com",
                                   "a..example.com", "", "evil.example.com\n}"])
def test_a_cloudfront_alias_that_is_no_domain_name_is_refused(localcloud, alias):
    cf = client(localcloud, "cloudfront")
    code, message = error_of(cf.create_distribution,
                             DistributionConfig=distribution_config("values-%d" % len(alias), [alias]))
    assert code == "InvalidArgument"
    assert message == "The parameter CNAME contains one or more illegal characters."
    items = cf.list_distributions()["DistributionList"].get("Items", [])
    assert not [d for d in items if alias in d["Aliases"].get("Items", [])]


def test_cloudfront_wildcard_and_ordinary_aliases_are_taken(localcloud):
    cf = client(localcloud, "cloudfront")
    d = cf.create_distribution(DistributionConfig=distribution_config(
        "values-ok", ["*.values.example.com", "www.values.example.com"]))["Distribution"]
    assert d["DistributionConfig"]["Aliases"]["Quantity"] == 2


# -- RDS master usernames ---------------------------------------------------

@pytest.mark.parametrize("user", ["public", "none", "NONE", "select", "user", "current_user",
                                  "rdsadmin"])
def test_an_rds_master_username_the_engine_reserves_is_refused(localcloud, user):
    rds = client(localcloud, "rds")
    code, message = error_of(rds.create_db_instance, DBInstanceIdentifier="values-db",
                             Engine="postgres", DBInstanceClass="db.t3.micro",
                             MasterUsername=user, MasterUserPassword="Correct-Horse-9")
    assert code == "InvalidParameterValue"
    assert message == ("MasterUsername %s cannot be used as it is a reserved word used by the "
                       "engine" % user)
    ids = [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]]
    assert "values-db" not in ids


# -- ELBv2 health checks ----------------------------------------------------

@pytest.mark.parametrize("settings, member, bound", [
    ({"HealthCheckIntervalSeconds": -5}, "healthCheckIntervalSeconds", "greater than or equal to 5"),
    ({"HealthCheckIntervalSeconds": 4}, "healthCheckIntervalSeconds", "greater than or equal to 5"),
    ({"HealthCheckIntervalSeconds": 301}, "healthCheckIntervalSeconds", "less than or equal to 300"),
    ({"HealthCheckTimeoutSeconds": 1}, "healthCheckTimeoutSeconds", "greater than or equal to 2"),
    ({"HealthCheckTimeoutSeconds": 121}, "healthCheckTimeoutSeconds", "less than or equal to 120"),
    ({"HealthyThresholdCount": 1}, "healthyThresholdCount", "greater than or equal to 2"),
    ({"UnhealthyThresholdCount": 11}, "unhealthyThresholdCount", "less than or equal to 10"),
    ({"Port": 0}, "port", "greater than or equal to 1"),
])
def test_health_check_settings_out_of_aws_ranges_are_refused(localcloud, settings, member, bound):
    elb = client(localcloud, "elbv2")
    kw = {"Name": "values-tg", "Protocol": "HTTP", "Port": 8000, "VpcId": "vpc-local",
          "TargetType": "ip"}
    kw.update(settings)
    code, message = error_of(elb.create_target_group, **kw)
    assert code == "ValidationError"
    assert "at '%s' failed to satisfy constraint: Member must have value %s" % (member, bound) \
        in message
    groups = [g["TargetGroupName"] for g in elb.describe_target_groups()["TargetGroups"]]
    assert "values-tg" not in groups


def test_a_timeout_not_below_the_interval_is_refused_but_a_short_interval_alone_is_not(localcloud):
    elb = client(localcloud, "elbv2")
    kw = {"Name": "values-tg2", "Protocol": "HTTP", "Port": 8000, "VpcId": "vpc-local",
          "TargetType": "ip", "HealthCheckIntervalSeconds": 5}
    code, message = error_of(elb.create_target_group, HealthCheckTimeoutSeconds=5, **kw)
    assert code == "ValidationError"
    assert "must be smaller than the interval" in message
    # the interval alone (the runbook's and the demo's way): the default timeout yields
    tg = elb.create_target_group(**kw)["TargetGroups"][0]
    assert tg["HealthCheckIntervalSeconds"] == 5
    assert tg["HealthCheckTimeoutSeconds"] < 5
    elb.delete_target_group(TargetGroupArn=tg["TargetGroupArn"])


# -- CloudWatch Logs --------------------------------------------------------

def test_an_empty_log_message_is_refused_and_the_batch_is_not_stored(localcloud):
    logs = client(localcloud, "logs")
    logs.create_log_group(logGroupName="values")
    logs.create_log_stream(logGroupName="values", logStreamName="s")
    now = int(time.time() * 1000)
    code, message = error_of(logs.put_log_events, logGroupName="values", logStreamName="s",
                             logEvents=[{"timestamp": now, "message": "first"},
                                        {"timestamp": now, "message": ""}])
    assert code == "InvalidParameterException"
    assert "Value '' at 'logEvents.2.member.message' failed to satisfy constraint: Member " \
        "must have length greater than or equal to 1" in message
    events = logs.get_log_events(logGroupName="values", logStreamName="s")["events"]
    assert events == []
