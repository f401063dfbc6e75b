"""What each stack kind contains (runbook section 1), read from its offline plan."""

import hashlib

import pytest

import stacks
from planjson import afters, changes, config_resource, count, module_config, output_value

CORE = ["dedicated_stg", "dedicated_prod", "shared_stg"]
ALL = CORE + ["tenant_stg"]


@pytest.fixture(params=CORE)
def core(request, plans):
    return plans[request.param]


@pytest.fixture(params=ALL)
def any_stack(request, plans):
    return request.param, plans[request.param]


def test_core_stack_has_one_vpc_over_two_zones_with_public_and_private_subnets(core):
    assert count(core, "aws_vpc") == 1
    subnets = afters(core, "aws_subnet")
    assert len(subnets) == 4
    tiers = sorted((s["tags"]["tier"], s["availability_zone"]) for s in subnets)
    assert tiers == [
        ("private", "ap-southeast-2a"), ("private", "ap-southeast-2b"),
        ("public", "ap-southeast-2a"), ("public", "ap-southeast-2b"),
    ]
    assert all(s["map_public_ip_on_launch"] is False for s in subnets)


def test_core_stack_has_exactly_one_nat_gateway(core):
    assert count(core, "aws_nat_gateway") == 1
    assert count(core, "aws_eip") == 1
    assert count(core, "aws_internet_gateway") == 1


def test_core_stack_has_s3_gateway_and_ecr_logs_secrets_interface_endpoints(core):
    eps = {e["service_name"].split("ap-southeast-2.")[1]: e for e in afters(core, "aws_vpc_endpoint")}
    assert sorted(eps) == ["ecr.api", "ecr.dkr", "logs", "s3", "secretsmanager"]
    assert eps["s3"]["vpc_endpoint_type"] == "Gateway"
    for name in ["ecr.api", "ecr.dkr", "logs", "secretsmanager"]:
        assert eps[name]["vpc_endpoint_type"] == "Interface"
        assert eps[name]["private_dns_enabled"] is True


def test_core_stack_has_one_documentdb_cluster_one_postgres_one_ecs_cluster_one_alb(core):
    assert count(core, "aws_docdb_cluster") == 1
    assert count(core, "aws_db_instance") == 1
    assert count(core, "aws_ecs_cluster") == 1
    assert count(core, "aws_lb") == 1
    assert count(core, "aws_lb_listener") == 2


def test_every_stack_has_its_own_service_frontend_and_three_secrets(any_stack):
    _, plan = any_stack
    assert count(plan, "aws_ecs_service") == 1
    assert count(plan, "aws_ecs_task_definition") == 1
    assert count(plan, "aws_lb_target_group") == 1
    assert count(plan, "aws_lb_listener_rule") == 1
    assert sorted(b["bucket_prefix"].rsplit("-", 2)[1] for b in afters(plan, "aws_s3_bucket")) == ["logs", "www"]
    assert count(plan, "aws_cloudfront_distribution") == 1
    assert count(plan, "aws_secretsmanager_secret") == 3
    assert count(plan, "aws_kms_key") == 1


def test_tenant_has_no_vpc_database_cluster_or_load_balancer(tenant_stg):
    for rtype in ["aws_vpc", "aws_subnet", "aws_nat_gateway", "aws_vpc_endpoint", "aws_security_group",
                  "aws_docdb_cluster", "aws_docdb_cluster_instance", "aws_db_instance", "aws_ecs_cluster",
                  "aws_lb", "aws_lb_listener"]:
        assert count(tenant_stg, rtype) == 0, rtype


def test_tenant_service_runs_on_shared_cluster_behind_shared_https_listener(tenant_stg):
    shared = stacks.SHARED_OUTPUTS
    (svc,) = afters(tenant_stg, "aws_ecs_service")
    assert svc["cluster"] == shared["ecs_cluster_arn"]
    assert svc["network_configuration"][0]["subnets"] == shared["private_subnet_ids"]
    assert svc["network_configuration"][0]["security_groups"] == [shared["tasks_security_group_id"]]
    (rule,) = afters(tenant_stg, "aws_lb_listener_rule")
    assert rule["listener_arn"] == shared["https_listener_arn"]
    assert rule["condition"][0]["host_header"][0]["values"] == ["customer1.hicaliber.net"]
    (tg,) = afters(tenant_stg, "aws_lb_target_group")
    assert tg["vpc_id"] == shared["vpc_id"]
    (cert,) = afters(tenant_stg, "aws_lb_listener_certificate")
    assert cert["listener_arn"] == shared["https_listener_arn"]


def test_tenant_outputs_pass_the_shared_endpoints_through(tenant_stg):
    shared = stacks.SHARED_OUTPUTS
    for key in ["documentdb_uri", "postgresql_endpoint", "api_endpoint", "hosted_zone_id",
                "ecs_cluster_name", "rds_instance_id", "docdb_cluster_id", "db_subnet_group_name"]:
        assert output_value(tenant_stg, key) == shared[key], key
    assert output_value(tenant_stg, "api_url") == "https://customer1.hicaliber.net"
    assert output_value(tenant_stg, "frontend_url") == "https://www.customer1.hicaliber.net"
    assert output_value(tenant_stg, "secret_prefix") == "caliber/newtenant/stg"
    assert output_value(tenant_stg, "task_family") == "newtenant-stg-api"


def test_every_stack_output_key_is_declared(any_stack):
    _, plan = any_stack
    declared = set(plan["configuration"]["root_module"]["outputs"])
    for key in ["documentdb_uri", "postgresql_endpoint", "api_endpoint", "api_url", "frontend_url",
                "hosted_zone_id", "ecs_cluster_name", "ecs_service_name", "task_family", "frontend_bucket",
                "cloudfront_distribution_id", "secret_arns", "secret_prefix", "rds_instance_id",
                "docdb_cluster_id", "db_subnet_group_name", "db_security_group_ids", "log_group_name",
                "rds_master_secret_arn", "https_listener_arn", "ecs_cluster_arn", "vpc_id",
                "private_subnet_ids", "tasks_security_group_id", "alb_security_group_id", "lb_zone_id"]:
        assert key in declared, key


def test_shared_stack_hosted_zone_id_is_the_load_balancer_zone(shared_stg):
    outputs = shared_stg["configuration"]["root_module"]["outputs"]
    assert "local.lb_zone_id" in outputs["hosted_zone_id"]["expression"]["references"]
    assert "local.lb_dns_name" in outputs["api_endpoint"]["expression"]["references"]
    root = shared_stg["configuration"]["root_module"]
    # local.lb_zone_id is module.alb[0].zone_id for a stack with its own load balancer
    alb_outputs = root["module_calls"]["alb"]["module"]["outputs"]
    assert "aws_lb.this.zone_id" in alb_outputs["zone_id"]["expression"]["references"]


def test_shared_https_listener_answers_unknown_hosts_with_404(shared_stg):
    (https,) = [x for x in afters(shared_stg, "aws_lb_listener") if x["port"] == 443]
    action = https["default_action"][0]
    assert action["type"] == "fixed-response"
    assert action["fixed_response"][0]["status_code"] == "404"


def test_documentdb_uri_is_built_from_the_cluster_endpoint_without_credentials(core):
    # the cluster endpoint is unknown until apply: the expression is checked
    outputs = module_config(core, "documentdb")["outputs"]
    # only the endpoint goes in: no username or password reference
    assert outputs["uri"]["expression"]["references"] == ["aws_docdb_cluster.this.endpoint", "aws_docdb_cluster.this"]


def test_api_and_www_records_alias_the_load_balancer_and_cloudfront(dedicated_stg):
    records = {(r["name"], r["type"]): r for r in afters(dedicated_stg, "aws_route53_record")
               if r.get("alias")}
    assert set(records) == {("acme.hicaliber.net", "A"), ("www.acme.hicaliber.net", "A"),
                            ("www.acme.hicaliber.net", "AAAA")}
    for r in records.values():
        assert r["zone_id"] == "Z0123456789ABCDEFGHIJ"
    api = [rc for rc in changes(dedicated_stg, "aws_route53_record") if rc["address"] == "aws_route53_record.api"][0]
    assert api["change"]["after_unknown"]["alias"][0]["name"] is True  # the ALB's DNS name, known after apply
    api_cfg = config_resource(dedicated_stg, "aws_route53_record.api")
    assert "local.lb_dns_name" in api_cfg["expressions"]["alias"][0]["name"]["references"]
    www_cfg = config_resource(dedicated_stg, "aws_route53_record.www", "static_site")
    assert "aws_cloudfront_distribution.this.domain_name" in www_cfg["expressions"]["alias"][0]["name"]["references"]
    assert "aws_cloudfront_distribution.this.hosted_zone_id" in www_cfg["expressions"]["alias"][0]["zone_id"]["references"]


def test_tenant_api_record_aliases_the_shared_load_balancer(tenant_stg):
    (api,) = [r for r in afters(tenant_stg, "aws_route53_record") if r.get("name") == "customer1.hicaliber.net"]
    assert api["alias"][0]["name"] == stacks.SHARED_OUTPUTS["api_endpoint"]
    assert api["alias"][0]["zone_id"] == stacks.SHARED_OUTPUTS["hosted_zone_id"]


def test_certificates_are_validated_by_dns_in_the_hosted_zone(any_stack):
    name, plan = any_stack
    sub = stacks.STACKS[name]["subdomain"]
    certs = sorted(c["domain_name"] for c in afters(plan, "aws_acm_certificate"))
    assert certs == [f"{sub}.hicaliber.net", f"www.{sub}.hicaliber.net"]
    assert all(c["validation_method"] == "DNS" for c in afters(plan, "aws_acm_certificate"))
    assert count(plan, "aws_acm_certificate_validation") == 2
    # CloudFront takes certificates from us-east-1 only; the API's is in the stack's region
    cf_cert = module_config(plan, "static_site", "certificate")["resources"]
    assert {r["provider_config_key"] for r in cf_cert} == {"aws.us_east_1"}
    api_cert = module_config(plan, "api_certificate")["resources"]
    assert {r["provider_config_key"] for r in api_cert} == {"aws"}
    assert plan["configuration"]["provider_config"]["aws.us_east_1"]["expressions"]["region"]["constant_value"] == "us-east-1"


def test_listener_rule_priority_is_derived_from_the_slug(any_stack):
    name, plan = any_stack
    slug = stacks.STACKS[name]["client"].lower()
    expected = int(hashlib.sha1(slug.encode()).hexdigest()[:4], 16) % 49999 + 1
    (rule,) = afters(plan, "aws_lb_listener_rule")
    assert rule["priority"] == expected


def test_load_balancer_and_target_group_names_derive_from_the_stack(any_stack):
    name, plan = any_stack
    f = stacks.STACKS[name]
    stack = f"{f['client'].lower()}-{f['env']}"
    for lb in afters(plan, "aws_lb"):
        assert lb["name"] == f"{stack}-alb"
    (tg,) = afters(plan, "aws_lb_target_group")
    assert tg["name"] == f"{stack}-api"
    (svc,) = afters(plan, "aws_ecs_service")
    assert svc["name"] == f"{stack}-api"
    (td,) = afters(plan, "aws_ecs_task_definition")
    assert td["family"] == f"{stack}-api"


def test_every_resource_is_tagged_with_client_env_plan_and_stack(any_stack):
    name, plan = any_stack
    f = stacks.STACKS[name]
    want = {"client": f["client"], "env": f["env"], "plan": f["plan"], "stack": f"{f['client'].lower()}-{f['env']}"}
    tagged = set()
    for rc in changes(plan):
        after = rc["change"]["after"] or {}
        if "tags_all" in after:
            tagged.add(rc["type"])
            for k, v in want.items():
                assert after["tags_all"].get(k) == v, (rc["address"], k)
    assert {"aws_ecs_service", "aws_ecs_task_definition", "aws_lb_target_group", "aws_s3_bucket",
            "aws_cloudfront_distribution", "aws_secretsmanager_secret", "aws_kms_key", "aws_iam_role",
            "aws_cloudwatch_log_group", "aws_acm_certificate"} <= tagged


def test_production_sizes_come_from_the_configuration(dedicated_prod, dedicated_stg):
    (pg,) = afters(dedicated_prod, "aws_db_instance")
    assert pg["multi_az"] is True and pg["instance_class"] == "db.m7g.large"
    assert count(dedicated_prod, "aws_docdb_cluster_instance") == 2
    (svc,) = afters(dedicated_prod, "aws_ecs_service")
    assert svc["desired_count"] == 2
    (pg,) = afters(dedicated_stg, "aws_db_instance")
    assert pg["multi_az"] is False and pg["instance_class"] == "db.t4g.micro"
    assert count(dedicated_stg, "aws_docdb_cluster_instance") == 1
