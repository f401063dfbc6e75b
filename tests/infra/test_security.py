"""Security properties of the planned stacks: the essential checkov/trivy rules
for these resource types (rule ids in comments; the deliberate exceptions are
listed with their reasons in docs/infra.md)."""

import pytest

from planjson import (afters, all_config_resources, changes, config_resource, count, module_config, references)

CORE = ["dedicated_stg", "dedicated_prod", "shared_stg"]
ALL = CORE + ["tenant_stg"]


@pytest.fixture(params=CORE)
def core(request, plans):
    return plans[request.param]


@pytest.fixture(params=ALL)
def any_stack(request, plans):
    return plans[request.param]


def test_postgres_is_private_encrypted_with_seven_day_backups(core):
    # CKV_AWS_16, CKV_AWS_17, CKV_AWS_133, CKV_AWS_226, CKV_AWS_161, CKV_AWS_129, CKV_AWS_118, CKV2_AWS_60
    (pg,) = afters(core, "aws_db_instance")
    assert pg["publicly_accessible"] is False
    assert pg["storage_encrypted"] is True
    assert pg["backup_retention_period"] == 7
    assert pg["auto_minor_version_upgrade"] is True
    assert pg["iam_database_authentication_enabled"] is True
    assert pg["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]
    assert pg["monitoring_interval"] == 60
    assert pg["copy_tags_to_snapshot"] is True
    cfg = config_resource(core, "aws_db_instance.this", "postgres")["expressions"]
    assert "var.kms_key_arn" in references(cfg["kms_key_id"])


def test_postgres_parameter_group_forces_tls_and_logs_statements(core):
    # CKV2_AWS_69 (encryption in transit), CKV2_AWS_30 (query logging)
    (pg,) = afters(core, "aws_db_parameter_group")
    params = {p["name"]: p["value"] for p in pg["parameter"]}
    assert params["rds.force_ssl"] == "1"
    assert params["log_statement"] == "ddl"
    assert params["log_min_duration_statement"] == "1000"
    (db,) = afters(core, "aws_db_instance")
    assert db["parameter_group_name"] == pg["name"]


def test_documentdb_is_encrypted_with_seven_day_backups_and_audit_logs(core):
    # CKV_AWS_74, CKV_AWS_182, CKV_AWS_360, CKV_AWS_85
    (dc,) = afters(core, "aws_docdb_cluster")
    assert dc["storage_encrypted"] is True
    assert dc["backup_retention_period"] == 7
    assert dc["enabled_cloudwatch_logs_exports"] == ["audit", "profiler"]
    cfg = config_resource(core, "aws_docdb_cluster.this", "documentdb")["expressions"]
    assert "var.kms_key_arn" in references(cfg["kms_key_id"])
    assert "var.security_group_id" in references(cfg["vpc_security_group_ids"])
    # private: the subnet group holds the private subnets only
    call = core["configuration"]["root_module"]["module_calls"]["documentdb"]["expressions"]
    assert "module.network[0].private_subnet_ids" in references(call["subnet_ids"])
    call = core["configuration"]["root_module"]["module_calls"]["postgres"]["expressions"]
    assert "module.network[0].private_subnet_ids" in references(call["subnet_ids"])


def test_documentdb_cluster_parameter_group_requires_tls(core):
    # CKV_AWS_90 (tls), CKV_AWS_104 (audit_logs)
    (pg,) = afters(core, "aws_docdb_cluster_parameter_group")
    params = {p["name"]: p["value"] for p in pg["parameter"]}
    assert params["tls"] == "enabled"
    assert params["audit_logs"] == "enabled"
    (dc,) = afters(core, "aws_docdb_cluster")
    assert dc["db_cluster_parameter_group_name"] == pg["name"]


def test_database_master_passwords_are_kept_by_aws_not_in_state(core):
    (pg,) = afters(core, "aws_db_instance")
    assert pg["manage_master_user_password"] is True
    assert pg["password"] is None and pg["password_wo"] is None
    (dc,) = afters(core, "aws_docdb_cluster")
    assert dc["manage_master_user_password"] is True
    assert dc["master_password"] is None and dc["master_password_wo"] is None


def test_no_secret_version_anywhere(any_stack):
    assert count(any_stack, "aws_secretsmanager_secret_version") == 0
    kinds = {r["type"] for _, r in all_config_resources(any_stack)}
    assert "aws_secretsmanager_secret_version" not in kinds
    assert not any(k.startswith("random_") for k in kinds)


def test_secrets_are_named_under_the_stack_prefix_and_encrypted_with_the_stack_key(plans):
    for name, slug, env in [("dedicated_stg", "acme", "stg"), ("dedicated_prod", "acme", "prod"),
                            ("shared_stg", "saasshared", "stg"), ("tenant_stg", "newtenant", "stg")]:
        names = sorted(s["name"] for s in afters(plans[name], "aws_secretsmanager_secret"))
        prefix = f"caliber/{slug}/{env}"
        assert names == [f"{prefix}/django-secret-key", f"{prefix}/documentdb-uri", f"{prefix}/postgresql"]
        call = plans[name]["configuration"]["root_module"]["module_calls"]["secrets"]["expressions"]
        assert "aws_kms_key.stack.arn" in references(call["kms_key_arn"])
    (key,) = afters(plans["dedicated_stg"], "aws_kms_key")
    assert key["enable_key_rotation"] is True  # CKV_AWS_7


def test_task_execution_role_reads_only_the_stack_secrets(any_stack):
    doc = config_resource(any_stack, "data.aws_iam_policy_document.execution", "api_service")
    statements = doc["expressions"]["statement"]
    for st in statements:
        actions = st["actions"]["constant_value"]
        if any(a.startswith("secretsmanager:") for a in actions):
            assert actions == ["secretsmanager:GetSecretValue"]
            assert references(st["resources"]) == ["var.secret_arns"]
        if st["resources"].get("constant_value") == ["*"]:
            # only the one action that has no resource-level permissions
            assert actions == ["ecr:GetAuthorizationToken"]
        if "kms:Decrypt" in actions:
            assert references(st["resources"]) == ["var.kms_key_arn"]
            assert st["condition"][0]["variable"]["constant_value"] == "kms:ViaService"
    # ... and var.secret_arns is the stack's own secrets module
    call = any_stack["configuration"]["root_module"]["module_calls"]["api_service"]["expressions"]
    assert references(call["secret_arns"])[0] == "module.secrets.arns"
    assert references(call["kms_key_arn"])[0] == "aws_kms_key.stack.arn"


def test_task_role_has_no_permissions(any_stack):
    roles = {rc["address"].rsplit(".", 1)[1]: rc for rc in changes(any_stack, "aws_iam_role")
             if rc["address"].startswith("module.api_service.")}
    assert set(roles) == {"execution", "task"}
    policies = [rc for rc in changes(any_stack, "aws_iam_role_policy") if rc["address"].startswith("module.api_service.")]
    assert [p["address"] for p in policies] == ["module.api_service.aws_iam_role_policy.execution"]
    for rc in changes(any_stack, "aws_iam_role_policy_attachment"):
        assert "api_service" not in rc["address"]
    task = roles["task"]["change"]["after"]
    assert task["name"].endswith("-api-task")


def test_task_definition_takes_secrets_by_arn_and_logs_to_its_log_group(any_stack):
    # CKV_AWS_249 (separate execution and task roles), CKV_AWS_336 readonly root (in the module)
    cfg = config_resource(any_stack, "aws_ecs_task_definition.this", "api_service")["expressions"]
    refs = references(cfg["container_definitions"])
    assert "local.container_secrets" in refs
    assert "aws_cloudwatch_log_group.this.name" in refs
    assert "var.environment" in refs
    assert references(cfg["execution_role_arn"])[0] == "aws_iam_role.execution.arn"
    assert references(cfg["task_role_arn"])[0] == "aws_iam_role.task.arn"
    (td,) = afters(any_stack, "aws_ecs_task_definition")
    assert td["network_mode"] == "awsvpc" and td["requires_compatibilities"] == ["FARGATE"]
    env_keys = module_config(any_stack)["module_calls"]["api_service"]["expressions"]["environment"]
    assert "PASSWORD" not in str(env_keys).upper() and "SECRET" not in str(env_keys).upper()


def test_service_tasks_run_in_private_subnets_without_public_ips(any_stack):
    # CKV_AWS_333
    (svc,) = afters(any_stack, "aws_ecs_service")
    assert svc["network_configuration"][0]["assign_public_ip"] is False
    assert svc["launch_type"] == "FARGATE"
    assert svc["enable_execute_command"] is False


def test_ecs_cluster_has_container_insights(core):
    # CKV_AWS_65
    (cl,) = afters(core, "aws_ecs_cluster")
    assert {"name": "containerInsights", "value": "enabled"} in cl["setting"]


def test_log_groups_have_retention(plans):
    for name, days in [("dedicated_stg", 30), ("dedicated_prod", 365), ("tenant_stg", 30)]:
        groups = afters(plans[name], "aws_cloudwatch_log_group")
        assert groups
        for g in groups:
            assert g["retention_in_days"] == days, g["name"]


def test_every_bucket_is_private_versioned_encrypted_and_expires_old_versions(any_stack):
    # CKV2_AWS_6, CKV_AWS_21, CKV_AWS_19/SSE, CKV2_AWS_61 (lifecycle)
    assert count(any_stack, "aws_s3_bucket") == 2
    pabs = afters(any_stack, "aws_s3_bucket_public_access_block")
    assert len(pabs) == 2
    for pab in pabs:
        for k in ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]:
            assert pab[k] is True, k
    vers = afters(any_stack, "aws_s3_bucket_versioning")
    assert [v["versioning_configuration"][0]["status"] for v in vers] == ["Enabled", "Enabled"]
    sses = afters(any_stack, "aws_s3_bucket_server_side_encryption_configuration")
    assert [s["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"] for s in sses] == ["AES256"] * 2
    owns = afters(any_stack, "aws_s3_bucket_ownership_controls")
    assert [o["rule"][0]["object_ownership"] for o in owns] == ["BucketOwnerEnforced"] * 2
    assert count(any_stack, "aws_s3_bucket_lifecycle_configuration") == 2
    assert count(any_stack, "aws_s3_bucket_policy") == 2
    assert count(any_stack, "aws_s3_bucket_acl") == 0


def test_frontend_bucket_access_is_logged_to_the_log_bucket(any_stack):
    # CKV_AWS_18
    (lg,) = afters(any_stack, "aws_s3_bucket_logging")
    assert lg["target_prefix"] == "s3/www/"
    call = module_config(any_stack)["module_calls"]["static_site"]["expressions"]
    assert "module.log_bucket.bucket_ready" in references(call["log_bucket"])
    doc = config_resource(any_stack, "data.aws_iam_policy_document.this", "log_bucket")
    st = {s["sid"]["constant_value"]: s for s in doc["expressions"]["statement"]}
    assert st["S3ServerAccessLogs"]["principals"][0]["identifiers"]["constant_value"] == ["logging.s3.amazonaws.com"]
    assert st["S3ServerAccessLogs"]["condition"][0]["variable"]["constant_value"] == "aws:SourceAccount"


def test_load_balancer_access_logs_go_to_the_log_bucket(core):
    # CKV_AWS_91
    (lb,) = afters(core, "aws_lb")
    assert lb["access_logs"][0]["enabled"] is True
    assert lb["access_logs"][0]["prefix"] == "alb"
    call = module_config(core)["module_calls"]["alb"]["expressions"]
    assert "module.log_bucket.bucket_ready" in references(call["access_log_bucket"])
    assert module_config(core)["module_calls"]["log_bucket"]["expressions"]["alb_logs"]["references"] == ["local.core"]


def test_bucket_policy_lets_only_this_distribution_read_and_denies_plain_http(any_stack):
    doc = config_resource(any_stack, "data.aws_iam_policy_document.bucket", "static_site")
    st = {s["sid"]["constant_value"]: s for s in doc["expressions"]["statement"]}
    read = st["CloudFrontReadsObjects"]
    assert read["actions"]["constant_value"] == ["s3:GetObject"]
    assert read["principals"][0]["identifiers"]["constant_value"] == ["cloudfront.amazonaws.com"]
    assert read["condition"][0]["variable"]["constant_value"] == "AWS:SourceArn"
    assert "aws_cloudfront_distribution.this.arn" in references(read["condition"][0]["values"])
    deny = st["DenyPlainHttp"]
    assert deny["effect"]["constant_value"] == "Deny"
    assert deny["condition"][0]["variable"]["constant_value"] == "aws:SecureTransport"


def test_cloudfront_serves_www_over_https_only_through_origin_access_control(plans):
    for name, host in [("dedicated_stg", "www.acme.hicaliber.net"), ("tenant_stg", "www.customer1.hicaliber.net")]:
        plan = plans[name]
        (cf,) = afters(plan, "aws_cloudfront_distribution")
        assert cf["aliases"] == [host]
        assert cf["default_root_object"] == "index.html"  # CKV_AWS_305
        assert cf["default_cache_behavior"][0]["viewer_protocol_policy"] == "redirect-to-https"  # CKV_AWS_34
        assert cf["default_cache_behavior"][0]["response_headers_policy_id"]  # CKV2_AWS_32
        vc = cf["viewer_certificate"][0]
        assert vc["minimum_protocol_version"] == "TLSv1.2_2021"  # CKV_AWS_174
        assert vc["ssl_support_method"] == "sni-only"
        assert not vc["cloudfront_default_certificate"]  # CKV2_AWS_42
        (oac,) = afters(plan, "aws_cloudfront_origin_access_control")
        assert oac["origin_access_control_origin_type"] == "s3" and oac["signing_behavior"] == "always"
        cfg = config_resource(plan, "aws_cloudfront_distribution.this", "static_site")["expressions"]
        origin = cfg["origin"][0]
        assert "aws_cloudfront_origin_access_control.this.id" in references(origin["origin_access_control_id"])  # CKV2_AWS_46
        assert "aws_s3_bucket.this.bucket_regional_domain_name" in references(origin["domain_name"])


def test_alb_redirects_http_to_https_and_uses_tls12_or_later(core):
    # CKV_AWS_2, CKV2_AWS_20, CKV_AWS_103, CKV_AWS_131
    listeners = {x["port"]: x for x in afters(core, "aws_lb_listener")}
    assert set(listeners) == {80, 443}
    http = listeners[80]["default_action"][0]
    assert http["type"] == "redirect"
    assert http["redirect"][0]["protocol"] == "HTTPS"
    assert http["redirect"][0]["port"] == "443"
    assert http["redirect"][0]["status_code"] == "HTTP_301"
    assert listeners[443]["protocol"] == "HTTPS"
    assert listeners[443]["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    (lb,) = afters(core, "aws_lb")
    assert lb["drop_invalid_header_fields"] is True
    assert lb["internal"] is False  # deliberate: the public API (docs/infra.md)


def test_production_has_deletion_protection_and_final_snapshots(dedicated_prod):
    # CKV_AWS_293, CKV_AWS_150
    (pg,) = afters(dedicated_prod, "aws_db_instance")
    assert pg["deletion_protection"] is True
    assert pg["skip_final_snapshot"] is False
    assert pg["final_snapshot_identifier"] == "acme-prod-pg-final"
    (dc,) = afters(dedicated_prod, "aws_docdb_cluster")
    assert dc["deletion_protection"] is True
    assert dc["skip_final_snapshot"] is False
    assert dc["final_snapshot_identifier"] == "acme-prod-docdb-final"
    (lb,) = afters(dedicated_prod, "aws_lb")
    assert lb["enable_deletion_protection"] is True
    assert [b["force_destroy"] for b in afters(dedicated_prod, "aws_s3_bucket")] == [False, False]


@pytest.mark.parametrize("name", ["dedicated_stg", "shared_stg"])
def test_staging_can_be_destroyed_without_snapshots(plans, name):
    plan = plans[name]
    (pg,) = afters(plan, "aws_db_instance")
    assert pg["deletion_protection"] is False and pg["skip_final_snapshot"] is True
    assert pg["final_snapshot_identifier"] is None
    (dc,) = afters(plan, "aws_docdb_cluster")
    assert dc["deletion_protection"] is False and dc["skip_final_snapshot"] is True
    (lb,) = afters(plan, "aws_lb")
    assert lb["enable_deletion_protection"] is False
    assert [b["force_destroy"] for b in afters(plan, "aws_s3_bucket")] == [True, True]


def _rules(plan, kind):
    return [(rc["address"], rc["change"]["after"]) for rc in changes(plan, f"aws_vpc_security_group_{kind}_rule")]


def test_database_ports_are_open_only_to_the_tasks_security_group(core):
    net = module_config(core, "network")
    by_addr = {r["address"]: r for r in net["resources"]}
    for sg in ["documentdb", "postgres"]:
        ingress = [r for r in net["resources"] if r["type"] == "aws_vpc_security_group_ingress_rule"
                   and references(r["expressions"]["security_group_id"])[0] == f"aws_security_group.{sg}.id"]
        assert len(ingress) == 1, sg
        (rule,) = ingress
        assert references(rule["expressions"]["referenced_security_group_id"])[0] == "aws_security_group.tasks.id"
        assert "cidr_ipv4" not in rule["expressions"] and "cidr_ipv6" not in rule["expressions"]
    assert by_addr["aws_vpc_security_group_ingress_rule.postgres_from_tasks"]["expressions"]["from_port"]["constant_value"] == 5432
    assert by_addr["aws_vpc_security_group_ingress_rule.documentdb_from_tasks"]["expressions"]["from_port"]["constant_value"] == 27017
    # the security groups the databases use are those groups
    call = core["configuration"]["root_module"]["module_calls"]
    assert "module.network[0].postgres_security_group_id" in references(call["postgres"]["expressions"]["security_group_id"])
    assert "module.network[0].documentdb_security_group_id" in references(call["documentdb"]["expressions"]["security_group_id"])


def test_only_the_load_balancer_accepts_traffic_from_the_internet(core):
    # CKV_AWS_24/25 (no 22/3389), CKV_AWS_260 (port 80: deliberate, redirect only)
    open_ingress = sorted((a.rsplit(".", 1)[1], r["from_port"]) for a, r in _rules(core, "ingress")
                          if r.get("cidr_ipv4") == "0.0.0.0/0" or r.get("cidr_ipv6") == "::/0")
    assert open_ingress == [("alb_http", 80), ("alb_https", 443)]


def test_no_security_group_allows_all_traffic_out(core):
    # CKV_AWS_382
    for addr, r in _rules(core, "egress"):
        assert r["ip_protocol"] != "-1", addr
        if r.get("cidr_ipv4") == "0.0.0.0/0":
            assert (r["from_port"], r["to_port"]) == (443, 443), addr


def test_every_security_group_and_rule_has_a_description(core):
    # CKV_AWS_23
    for sg in afters(core, "aws_security_group"):
        assert sg["description"], sg["name"]
    for kind in ["ingress", "egress"]:
        for addr, r in _rules(core, kind):
            assert r["description"], addr


def test_default_security_group_is_closed_and_flow_logs_are_on(core):
    # CKV2_AWS_12, CKV2_AWS_11
    (dsg,) = afters(core, "aws_default_security_group")
    assert not dsg.get("ingress") and not dsg.get("egress")
    (fl,) = afters(core, "aws_flow_log")
    assert fl["traffic_type"] == "ALL"


def test_no_data_source_calls_aws_at_plan_time(any_stack):
    # aws_elb_service_account is a per-region table inside the provider
    allowed = {"aws_region", "aws_partition", "aws_iam_policy_document", "aws_elb_service_account"}
    for path, r in all_config_resources(any_stack):
        if r["mode"] == "data":
            assert r["type"] in allowed, (path, r["address"])
    # and no argument takes a value from a variable the tests do not know: the
    # whole plan is complete offline
    assert any_stack.get("errored") is False
    assert any_stack.get("complete", True) is True


def test_plan_holds_no_secret_value(any_stack):
    text = str(any_stack["planned_values"])
    assert "offline-plan-dummy-secret-key" not in text
    for rc in changes(any_stack):
        after = rc["change"]["after"] or {}
        for attr in ["password", "master_password", "secret_string", "secret_binary"]:
            assert not after.get(attr), (rc["address"], attr)
