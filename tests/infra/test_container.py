"""The API container definition. In a stack plan it holds the ARNs of secrets
created by the same apply, so it is unknown offline; here the api_service
module is planned on its own with ARNs that already exist, which makes the
whole definition visible."""

import json
import os
import shutil
import subprocess

import pytest

import stacks

ARN = "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:caliber/acme/stg"
SECRETS = {
    "django-secret-key": f"{ARN}/django-secret-key-AbCdEf",
    "documentdb-uri": f"{ARN}/documentdb-uri-GhIjKl",
    "postgresql": f"{ARN}/postgresql-MnOpQr",
}

ROOT = """
provider "aws" {
  region = "ap-southeast-2"
}

module "api_service" {
  source             = "./modules/api_service"
  name               = "acme-stg"
  cluster_arn        = "arn:aws:ecs:ap-southeast-2:123456789012:cluster/acme-stg"
  vpc_id             = "vpc-0123456789abcdef0"
  subnet_ids         = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]
  security_group_id  = "sg-0a1b2c3d4e5f60003"
  listener_arn       = "arn:aws:elasticloadbalancing:ap-southeast-2:123456789012:listener/app/acme-stg-alb/50dc6c495c0c9188/f2f7dc8efc522ab2"
  listener_priority  = 10555
  host_name          = "acme.hicaliber.net"
  image              = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/caliber-api:1.2.3"
  cpu                = 256
  memory             = 512
  desired_count      = 1
  container_port     = 8000
  health_path        = "/health/"
  log_group_name     = "/caliber/acme/stg/api"
  log_retention_days = 30
  secret_arns        = jsondecode(%s)
  kms_key_arn        = "arn:aws:kms:ap-southeast-2:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
  environment        = { DJANGO_ALLOWED_HOSTS = "acme.hicaliber.net" }
}

output "image_repository_arn" {
  value = module.api_service.image_repository_arn
}
"""


def run(cmd, cwd):
    env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r.stdout


@pytest.fixture(scope="module")
def module_plan(tmp_path_factory):
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH: the infra tests need terraform 1.11 and /opt/tf-plugins")
    tf = tmp_path_factory.mktemp("api-service")
    (tf / "modules").symlink_to(stacks.INFRA / "modules")
    (tf / "provider_override.tf").symlink_to(stacks.INFRA / "offline" / "provider_override.tf")
    (tf / "main.tf").write_text(ROOT % json.dumps(json.dumps(SECRETS)))
    # the override file also names the us_east_1 alias, which needs a block to override
    (tf / "alias.tf").write_text('provider "aws" {\n  alias  = "us_east_1"\n  region = "us-east-1"\n}\n')
    run(["terraform", "init", "-no-color", "-input=false", f"-plugin-dir={stacks.PLUGIN_DIR}"], tf)
    run(["terraform", "plan", "-no-color", "-input=false", "-lock=false", "-out=p"], tf)
    return json.loads(run(["terraform", "show", "-no-color", "-json", "p"], tf))


@pytest.fixture(scope="module")
def container(module_plan):
    (td,) = [rc for rc in module_plan["resource_changes"] if rc["type"] == "aws_ecs_task_definition"]
    defs = json.loads(td["change"]["after"]["container_definitions"])
    assert len(defs) == 1
    return defs[0], td["change"]["after"]


def test_container_root_filesystem_is_read_only_with_a_writable_tmp(container):
    c, td = container
    assert c["readonlyRootFilesystem"] is True  # CKV_AWS_336
    assert c["mountPoints"] == [{"containerPath": "/tmp", "readOnly": False, "sourceVolume": "tmp"}]
    assert [v["name"] for v in td["volume"]] == ["tmp"]
    assert not c.get("privileged")


def test_container_secrets_come_from_the_stack_secrets_by_arn(container):
    c, _ = container
    got = {s["name"]: s["valueFrom"] for s in c["secrets"]}
    pg = SECRETS["postgresql"]
    assert got == {
        "DJANGO_SECRET_KEY": SECRETS["django-secret-key"],
        "DOCUMENTDB_URI": SECRETS["documentdb-uri"],
        "POSTGRES_HOST": f"{pg}:host::",
        "POSTGRES_PORT": f"{pg}:port::",
        "POSTGRES_DB": f"{pg}:dbname::",
        "POSTGRES_USER": f"{pg}:username::",
        "POSTGRES_PASSWORD": f"{pg}:password::",
    }
    # nothing secret in the plain environment
    assert c["environment"] == [{"name": "DJANGO_ALLOWED_HOSTS", "value": "acme.hicaliber.net"}]


def test_container_logs_to_its_cloudwatch_log_group(container):
    c, _ = container
    assert c["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": "/caliber/acme/stg/api",
            "awslogs-region": "ap-southeast-2",
            "awslogs-stream-prefix": "api",
        },
    }


def test_container_listens_on_the_api_port_and_stops_within_20s(container):
    c, _ = container
    assert c["name"] == "api" and c["essential"] is True
    assert c["portMappings"] == [{"containerPort": 8000, "protocol": "tcp"}]
    assert c["stopTimeout"] == 20
    assert c["image"] == "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/caliber-api:1.2.3"


def test_execution_role_may_pull_only_the_api_image_repository(module_plan):
    # from the image 123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/caliber-api:1.2.3
    arn = module_plan["planned_values"]["outputs"]["image_repository_arn"]["value"]
    assert arn == "arn:aws:ecr:ap-southeast-2:123456789012:repository/caliber-api"
