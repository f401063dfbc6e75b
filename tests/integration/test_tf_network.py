"""Terraform on the local cloud: infra/modules/network, unchanged, applied by the
hashicorp/aws provider (5.100, from /opt/tf-plugins) against caliberd, re-planned
with no changes, and destroyed; then EC2's, STS's and IAM's refusals through
awscli, as AWS words them.

The provider block names every endpoint the module needs (ec2, sts, iam, logs)
and takes the credentials from the environment (never a file); nothing is
skipped that the provider would ask AWS: the account id comes from STS."""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import TOP

PLUGIN_DIR = "/opt/tf-plugins"

ROOT_MODULE = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  endpoints {
    ec2  = "%(endpoint)s"
    sts  = "%(endpoint)s"
    iam  = "%(endpoint)s"
    logs = "%(endpoint)s"
  }
}

variable "api_port" {
  type    = number
  default = 8080
}

variable "log_retention_days" {
  type    = number
  default = 7
}

module "network" {
  source             = "%(module)s"
  name               = "tfnet"
  log_group_prefix   = "/caliber/tfnet/test"
  availability_zones = ["us-east-1a", "us-east-1b"]
  api_port           = var.api_port
  log_retention_days = var.log_retention_days
}

output "vpc_id" {
  value = module.network.vpc_id
}

output "private_subnet_ids" {
  value = module.network.private_subnet_ids
}

output "tasks_security_group_id" {
  value = module.network.tasks_security_group_id
}
"""


def terraform_bin():
    tf = shutil.which("terraform")
    if tf is None or not os.path.isdir(PLUGIN_DIR):
        pytest.fail("terraform and %s are needed: the Terraform tests never download a provider"
                    % PLUGIN_DIR)
    return tf


def tf_env(lc, workdir):
    env = dict(lc)
    env.update({"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1",
                "TF_DATA_DIR": os.path.join(workdir, ".terraform")})
    return env


def tf(lc, workdir, *args, timeout=600):
    return subprocess.run([terraform_bin(), *args, "-no-color"], cwd=workdir, env=tf_env(lc, workdir),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def applied(localcloud, tmp_path_factory):
    """The network module applied once; the tests below read what it made."""
    lc = localcloud
    workdir = str(tmp_path_factory.mktemp("tf-network"))
    with open(os.path.join(workdir, "main.tf"), "w") as f:
        f.write(ROOT_MODULE % {"endpoint": lc.endpoint,
                               "module": os.path.join(TOP, "infra", "modules", "network")})
    r = tf(lc, workdir, "init", "-input=false", "-plugin-dir=" + PLUGIN_DIR)
    assert r.returncode == 0, r.stdout + r.stderr
    started = time.monotonic()
    r = tf(lc, workdir, "apply", "-auto-approve", "-input=false")
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-6000:]
    apply_s = time.monotonic() - started
    out = json.loads(tf(lc, workdir, "output", "-json").stdout)
    return {"lc": lc, "dir": workdir, "outputs": {k: v["value"] for k, v in out.items()},
            "apply_s": apply_s}


def test_network_module_applies_replans_clean_and_destroys(applied):
    lc, workdir, outputs = applied["lc"], applied["dir"], applied["outputs"]
    vpc = outputs["vpc_id"]
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", vpc)

    # what the module asked for, described back
    attrs = {a: lc.aws_json("ec2", "describe-vpc-attribute", "--vpc-id", vpc, "--attribute", a, v=2)
             for a in ("enableDnsSupport", "enableDnsHostnames")}
    assert attrs["enableDnsSupport"]["EnableDnsSupport"]["Value"] is True
    assert attrs["enableDnsHostnames"]["EnableDnsHostnames"]["Value"] is True
    subnets = lc.aws_json("ec2", "describe-subnets", "--filters", "Name=vpc-id,Values=" + vpc)["Subnets"]
    assert sorted(s["CidrBlock"] for s in subnets) == ["10.40.0.0/20", "10.40.128.0/20",
                                                        "10.40.144.0/20", "10.40.16.0/20"]
    assert {s["AvailabilityZone"] for s in subnets} == {"us-east-1a", "us-east-1b"}
    tiers = lc.aws_json("ec2", "describe-subnets", "--filters", "Name=tag:tier,Values=private",
                        "Name=vpc-id,Values=" + vpc, v=2)["Subnets"]
    assert sorted(s["SubnetId"] for s in tiers) == sorted(outputs["private_subnet_ids"])

    nat = lc.aws_json("ec2", "describe-nat-gateways", "--filter", "Name=vpc-id,Values=" + vpc)["NatGateways"]
    assert [n["State"] for n in nat] == ["available"]
    private_rt = lc.aws_json("ec2", "describe-route-tables", "--filters", "Name=tag:Name,Values=tfnet-private",
                             v=2)["RouteTables"][0]
    routes = {r.get("DestinationCidrBlock") or r.get("DestinationPrefixListId"): r for r in private_rt["Routes"]}
    assert routes["0.0.0.0/0"]["NatGatewayId"] == nat[0]["NatGatewayId"]
    assert routes["10.40.0.0/16"]["GatewayId"] == "local"
    # the S3 gateway endpoint routes its prefix list through the private table, as on AWS
    s3 = lc.aws_json("ec2", "describe-vpc-endpoints", "--filters",
                     "Name=service-name,Values=com.amazonaws.us-east-1.s3")["VpcEndpoints"][0]
    pl = [r for r in private_rt["Routes"] if r.get("GatewayId") == s3["VpcEndpointId"]]
    assert len(pl) == 1 and pl[0]["DestinationPrefixListId"].startswith("pl-")
    assert len(private_rt["Associations"]) == 2

    # the rules are what the module wrote, and Terraform removed the default egress
    tasks = outputs["tasks_security_group_id"]
    rules = lc.aws_json("ec2", "describe-security-group-rules", "--filters",
                        "Name=group-id,Values=" + tasks, v=2)["SecurityGroupRules"]
    assert sorted((r["IsEgress"], r["FromPort"]) for r in rules) == [
        (False, 8080), (True, 443), (True, 5432), (True, 27017)]
    default = lc.aws_json("ec2", "describe-security-groups", "--filters", "Name=vpc-id,Values=" + vpc,
                          "Name=group-name,Values=default")["SecurityGroups"][0]
    assert default["IpPermissions"] == [] and default["IpPermissionsEgress"] == []
    assert {t["Key"]: t["Value"] for t in default["Tags"]} == {"Name": "tfnet-default-unused"}

    flow = lc.aws_json("ec2", "describe-flow-logs", "--filter", "Name=resource-id,Values=" + vpc)["FlowLogs"]
    assert len(flow) == 1 and flow[0]["LogGroupName"] == "/caliber/tfnet/test/vpc-flow-logs"
    assert flow[0]["DeliverLogsPermissionArn"] == "arn:aws:iam::000000000000:role/tfnet-flow-logs"
    role = lc.aws_json("iam", "get-role", "--role-name", "tfnet-flow-logs", v=2)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "vpc-flow-logs.amazonaws.com"}

    # a second plan: nothing to change (no perpetual diff)
    r = tf(lc, workdir, "plan", "-detailed-exitcode", "-input=false")
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-6000:]

    # a changed port and retention apply as updates (ModifySecurityGroupRules,
    # PutRetentionPolicy), not replacements, and then plan clean again
    changed = ("-var", "api_port=8081", "-var", "log_retention_days=14")
    r = tf(lc, workdir, "apply", "-auto-approve", "-input=false", *changed)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-6000:]
    assert "0 added, 3 changed, 0 destroyed" in r.stdout, r.stdout[-3000:]
    rules = lc.aws_json("ec2", "describe-security-group-rules", "--filters",
                        "Name=group-id,Values=" + tasks, v=2)["SecurityGroupRules"]
    assert [r["FromPort"] for r in rules if not r["IsEgress"]] == [8081]
    groups = lc.aws_json("logs", "describe-log-groups", "--log-group-name-prefix", "/caliber/tfnet/")
    assert groups["logGroups"][0]["retentionInDays"] == 14
    r = tf(lc, workdir, "plan", "-detailed-exitcode", "-input=false", *changed)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-6000:]

    started = time.monotonic()
    r = tf(lc, workdir, "destroy", "-auto-approve", "-input=false", *changed)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-6000:]
    destroy_s = time.monotonic() - started
    print("apply %.1f s, destroy %.1f s" % (applied["apply_s"], destroy_s))
    assert lc.aws_json("ec2", "describe-vpcs", "--filters", "Name=tag:Name,Values=tfnet")["Vpcs"] == []
    assert lc.aws_json("ec2", "describe-subnets", "--filters", "Name=vpc-id,Values=" + vpc)["Subnets"] == []
    r = lc.aws("ec2", "describe-vpcs", "--vpc-ids", vpc, v=2)
    assert r.returncode != 0 and "InvalidVpcID.NotFound" in r.stderr
    r = lc.aws("iam", "get-role", "--role-name", "tfnet-flow-logs", v=2)
    assert r.returncode != 0 and "NoSuchEntity" in r.stderr


def test_sts_names_the_account_every_arn_uses(localcloud):
    ident = localcloud.aws_json("sts", "get-caller-identity", v=2)
    assert ident["Account"] == "000000000000"
    assert ident["Arn"] == "arn:aws:iam::000000000000:root"
    assert ident["UserId"] == localcloud["AWS_ACCESS_KEY_ID"]


def err(r, code):
    assert r.returncode != 0, r.stdout
    assert "(%s)" % code in r.stderr, r.stderr
    return r.stderr


def test_vpc_cidrs_are_checked_as_aws_checks_them(localcloud):
    lc = localcloud
    assert "not a valid CIDR block" in err(lc.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.1/16", v=2),
                                           "InvalidParameterValue")
    err(lc.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/8", v=2), "InvalidVpc.Range")
    # what the local cloud cannot realise is refused, never recorded as done
    assert "AmazonProvidedIpv6CidrBlock" in err(
        lc.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16", "--amazon-provided-ipv6-cidr-block", v=2),
        "UnsupportedOperation")
    err(lc.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16", "--dry-run", v=2), "DryRunOperation")
    assert lc.aws_json("ec2", "describe-vpcs", "--filters", "Name=cidr,Values=10.0.0.0/16")["Vpcs"] == []
    vpc = lc.aws_json("ec2", "create-vpc", "--cidr-block", "10.9.0.0/16")["Vpc"]["VpcId"]
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", vpc)
    err(lc.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.10.0.0/24", v=2),
        "InvalidSubnet.Range")
    sub = lc.aws_json("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.9.0.0/24",
                      "--availability-zone", "us-east-1b")["Subnet"]
    assert sub["AvailabilityZoneId"] == "use1-az2" and sub["AvailableIpAddressCount"] == 251
    err(lc.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.9.0.128/25", v=2),
        "InvalidSubnet.Conflict")
    assert "us-east-1a, us-east-1b, us-east-1c" in err(
        lc.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.9.1.0/24",
               "--availability-zone", "us-east-1z", v=2), "InvalidParameterValue")
    # a VPC with a subnet in it stays; without, it goes with its default resources
    assert "has dependencies" in err(lc.aws("ec2", "delete-vpc", "--vpc-id", vpc, v=2), "DependencyViolation")
    lc.aws_json("ec2", "delete-subnet", "--subnet-id", sub["SubnetId"])
    err(lc.aws("ec2", "delete-subnet", "--subnet-id", sub["SubnetId"], v=2), "InvalidSubnetID.NotFound")
    lc.aws_json("ec2", "delete-vpc", "--vpc-id", vpc)
    for what, key in (("route-tables", "RouteTables"), ("security-groups", "SecurityGroups"),
                      ("network-acls", "NetworkAcls")):
        assert lc.aws_json("ec2", "describe-" + what, "--filters", "Name=vpc-id,Values=" + vpc)[key] == []
    err(lc.aws("ec2", "delete-vpc", "--vpc-id", vpc, v=2), "InvalidVpcID.NotFound")


def test_gateways_and_routes_refuse_what_aws_refuses(localcloud):
    lc = localcloud
    vpc = lc.aws_json("ec2", "create-vpc", "--cidr-block", "10.8.0.0/16")["Vpc"]["VpcId"]
    sub = lc.aws_json("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.8.0.0/24")["Subnet"]["SubnetId"]
    igw = lc.aws_json("ec2", "create-internet-gateway")["InternetGateway"]["InternetGatewayId"]
    rtb = lc.aws_json("ec2", "create-route-table", "--vpc-id", vpc)["RouteTable"]["RouteTableId"]
    eip = lc.aws_json("ec2", "allocate-address", "--domain", "vpc")["AllocationId"]
    # a route to a gateway not attached to the VPC, a public NAT gateway without one
    assert "belong to different networks" in err(
        lc.aws("ec2", "create-route", "--route-table-id", rtb, "--destination-cidr-block", "0.0.0.0/0",
               "--gateway-id", igw, v=2), "InvalidParameterValue")
    err(lc.aws("ec2", "create-nat-gateway", "--subnet-id", sub, "--allocation-id", eip, v=2),
        "Gateway.NotAttached")
    lc.aws_json("ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc)
    err(lc.aws("ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc, v=2),
        "Resource.AlreadyAssociated")
    lc.aws_json("ec2", "create-route", "--route-table-id", rtb, "--destination-cidr-block", "0.0.0.0/0",
                "--gateway-id", igw)
    err(lc.aws("ec2", "create-route", "--route-table-id", rtb, "--destination-cidr-block", "0.0.0.0/0",
               "--gateway-id", igw, v=2), "RouteAlreadyExists")
    nat = lc.aws_json("ec2", "create-nat-gateway", "--subnet-id", sub, "--allocation-id", eip)["NatGateway"]
    assert nat["State"] == "pending"
    err(lc.aws("ec2", "create-nat-gateway", "--subnet-id", sub, "--allocation-id", eip, v=2),
        "Resource.AlreadyAssociated")
    time.sleep(1.2)
    assert lc.aws_json("ec2", "describe-nat-gateways", "--nat-gateway-ids",
                       nat["NatGatewayId"])["NatGateways"][0]["State"] == "available"
    # the NAT gateway maps a public address through the gateway, and holds its subnet
    assert "mapped public address" in err(
        lc.aws("ec2", "detach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc, v=2),
        "DependencyViolation")
    err(lc.aws("ec2", "delete-subnet", "--subnet-id", sub, v=2), "DependencyViolation")
    err(lc.aws("ec2", "release-address", "--allocation-id", eip, v=2), "InvalidIPAddress.InUse")
    assoc = lc.aws_json("ec2", "associate-route-table", "--route-table-id", rtb, "--subnet-id", sub)
    assert assoc["AssociationState"]["State"] == "associated"
    err(lc.aws("ec2", "associate-route-table", "--route-table-id", rtb, "--subnet-id", sub, v=2),
        "Resource.AlreadyAssociated")
    err(lc.aws("ec2", "delete-route-table", "--route-table-id", rtb, v=2), "DependencyViolation")
    # moving the association to another table gives it a new id, as on AWS
    rtb2 = lc.aws_json("ec2", "create-route-table", "--vpc-id", vpc)["RouteTable"]["RouteTableId"]
    moved = lc.aws_json("ec2", "replace-route-table-association", "--association-id",
                        assoc["AssociationId"], "--route-table-id", rtb2)["NewAssociationId"]
    assert moved != assoc["AssociationId"] and moved.startswith("rtbassoc-")
    err(lc.aws("ec2", "disassociate-route-table", "--association-id", assoc["AssociationId"], v=2),
        "InvalidAssociationID.NotFound")
    lc.aws_json("ec2", "delete-route-table", "--route-table-id", rtb)
    lc.aws_json("ec2", "disassociate-route-table", "--association-id", moved)
    lc.aws_json("ec2", "delete-route-table", "--route-table-id", rtb2)
    lc.aws_json("ec2", "delete-nat-gateway", "--nat-gateway-id", nat["NatGatewayId"])
    time.sleep(1.2)
    assert lc.aws_json("ec2", "describe-nat-gateways", "--nat-gateway-ids",
                       nat["NatGatewayId"])["NatGateways"][0]["State"] == "deleted"
    lc.aws_json("ec2", "release-address", "--allocation-id", eip)
    err(lc.aws("ec2", "delete-internet-gateway", "--internet-gateway-id", igw, v=2), "DependencyViolation")
    lc.aws_json("ec2", "detach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc)
    err(lc.aws("ec2", "detach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc, v=2),
        "Gateway.NotAttached")
    lc.aws_json("ec2", "delete-internet-gateway", "--internet-gateway-id", igw)
    lc.aws_json("ec2", "delete-subnet", "--subnet-id", sub)
    lc.aws_json("ec2", "delete-vpc", "--vpc-id", vpc)


def test_security_groups_and_rules_are_kept_as_aws_keeps_them(localcloud):
    lc = localcloud
    vpc = lc.aws_json("ec2", "create-vpc", "--cidr-block", "10.7.0.0/16")["Vpc"]["VpcId"]
    a = lc.aws_json("ec2", "create-security-group", "--group-name", "a", "--description", "A",
                    "--vpc-id", vpc)["GroupId"]
    b = lc.aws_json("ec2", "create-security-group", "--group-name", "b", "--description", "B",
                    "--vpc-id", vpc, "--tag-specifications",
                    "ResourceType=security-group,Tags=[{Key=team,Value=api}]")["GroupId"]
    err(lc.aws("ec2", "create-security-group", "--group-name", "a", "--description", "again",
               "--vpc-id", vpc, v=2), "InvalidGroup.Duplicate")
    # a new group allows all egress until told otherwise
    g = lc.aws_json("ec2", "describe-security-groups", "--group-ids", a)["SecurityGroups"][0]
    assert g["IpPermissionsEgress"][0]["IpProtocol"] == "-1"
    assert g["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    made = lc.aws_json("ec2", "authorize-security-group-ingress", "--group-id", a, "--ip-permissions",
                       json.dumps([{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                    "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "web"}],
                                    "UserIdGroupPairs": [{"GroupId": b}]}]), v=2)
    assert len(made["SecurityGroupRules"]) == 2
    assert all(re.fullmatch(r"sgr-[0-9a-f]{17}", r["SecurityGroupRuleId"]) for r in made["SecurityGroupRules"])
    assert "already exists" in err(
        lc.aws("ec2", "authorize-security-group-ingress", "--group-id", a, "--protocol", "tcp",
               "--port", "443", "--cidr", "0.0.0.0/0", v=2), "InvalidPermission.Duplicate")
    g = lc.aws_json("ec2", "describe-security-groups", "--group-ids", a)["SecurityGroups"][0]
    # one permission for the port, both peers in it, as AWS merges them
    assert len(g["IpPermissions"]) == 1
    assert g["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0", "Description": "web"}]
    assert g["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == b
    # b is referenced by a's rule; the default group is never deleted
    assert "dependent object" in err(lc.aws("ec2", "delete-security-group", "--group-id", b, v=2),
                                     "DependencyViolation")
    default = lc.aws_json("ec2", "describe-security-groups", "--filters", "Name=vpc-id,Values=" + vpc,
                          "Name=group-name,Values=default")["SecurityGroups"][0]["GroupId"]
    err(lc.aws("ec2", "delete-security-group", "--group-id", default, v=2), "CannotDelete")
    err(lc.aws("ec2", "revoke-security-group-egress", "--group-id", a, "--ip-permissions",
               json.dumps([{"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]), v=2),
        "InvalidPermission.NotFound")
    lc.aws_json("ec2", "revoke-security-group-ingress", "--group-id", a, "--security-group-rule-ids",
                *[r["SecurityGroupRuleId"] for r in made["SecurityGroupRules"]])
    tagged = lc.aws_json("ec2", "describe-tags", "--filters", "Name=resource-id,Values=" + b)["Tags"]
    assert tagged == [{"Key": "team", "ResourceId": b, "ResourceType": "security-group", "Value": "api"}]
    err(lc.aws("ec2", "describe-security-groups", "--filters", "Name=no-such-filter,Values=x", v=2),
        "InvalidParameterValue")
    err(lc.aws("ec2", "delete-vpc", "--vpc-id", vpc, v=2), "DependencyViolation")
    lc.aws_json("ec2", "delete-security-group", "--group-id", b)
    lc.aws_json("ec2", "delete-security-group", "--group-id", a)
    err(lc.aws("ec2", "describe-security-groups", "--group-ids", a, v=2), "InvalidGroup.NotFound")
    lc.aws_json("ec2", "delete-vpc", "--vpc-id", vpc)


def test_iam_roles_refuse_what_iam_refuses(localcloud):
    lc = localcloud
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]})
    role = lc.aws_json("iam", "create-role", "--role-name", "r1", "--assume-role-policy-document", trust,
                       "--tags", "Key=a,Value=b")["Role"]
    assert re.fullmatch(r"AROA[A-Z2-7]{17}", role["RoleId"])
    assert role["Arn"] == "arn:aws:iam::000000000000:role/r1"
    err(lc.aws("iam", "create-role", "--role-name", "r1", "--assume-role-policy-document", trust, v=2),
        "EntityAlreadyExists")
    err(lc.aws("iam", "create-role", "--role-name", "r2", "--assume-role-policy-document", "{nope", v=2),
        "MalformedPolicyDocument")
    lc.aws_json("iam", "put-role-policy", "--role-name", "r1", "--policy-name", "p",
                "--policy-document", json.dumps({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}))
    assert lc.aws_json("iam", "list-role-policies", "--role-name", "r1")["PolicyNames"] == ["p"]
    doc = lc.aws_json("iam", "get-role-policy", "--role-name", "r1", "--policy-name", "p", v=2)["PolicyDocument"]
    assert doc["Statement"][0]["Action"] == "logs:PutLogEvents"
    assert lc.aws_json("iam", "list-role-tags", "--role-name", "r1")["Tags"] == [{"Key": "a", "Value": "b"}]
    err(lc.aws("iam", "delete-role", "--role-name", "r1", v=2), "DeleteConflict")
    lc.aws_json("iam", "delete-role-policy", "--role-name", "r1", "--policy-name", "p")
    lc.aws_json("iam", "delete-role", "--role-name", "r1")
    err(lc.aws("iam", "get-role", "--role-name", "r1", v=2), "NoSuchEntity")


def test_log_group_tags_are_kept_until_the_group_goes(localcloud):
    lc = localcloud
    lc.aws_json("logs", "create-log-group", "--log-group-name", "/tf/tags", "--tags", "team=api,env=stg")
    arn = "arn:aws:logs:us-east-1:000000000000:log-group:/tf/tags"
    assert lc.aws_json("logs", "list-tags-for-resource", "--resource-arn", arn, v=2)["tags"] == {
        "team": "api", "env": "stg"}
    lc.aws_json("logs", "tag-resource", "--resource-arn", arn, "--tags", "env=prod,owner=ops")
    lc.aws_json("logs", "untag-resource", "--resource-arn", arn, "--tag-keys", "team")
    assert lc.aws_json("logs", "list-tags-for-resource", "--resource-arn", arn + ":*")["tags"] == {
        "env": "prod", "owner": "ops"}
    lc.aws_json("logs", "delete-log-group", "--log-group-name", "/tf/tags")
    err(lc.aws("logs", "list-tags-for-resource", "--resource-arn", arn, v=2), "ResourceNotFoundException")
    # a group of the same name made again starts without the old one's tags
    lc.aws_json("logs", "create-log-group", "--log-group-name", "/tf/tags")
    assert lc.aws_json("logs", "list-tags-log-group", "--log-group-name", "/tf/tags")["tags"] == {}
