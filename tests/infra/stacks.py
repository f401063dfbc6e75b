"""Offline plans of the stack kinds, for the infra tests.

Each plan goes through `caliber plan --offline --json FILE` when the caliber
binary has a plan command; otherwise (while the CLI is being written) it
builds the stack's working directory the way caliber does and runs terraform
itself. Either way the result is the `terraform show -json` document.

Run as a script to write the four plans into a directory for inspection:
    python3 tests/infra/stacks.py OUTDIR
"""

import concurrent.futures
import configparser
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

TOP = pathlib.Path(os.environ.get("CALIBER_TOP") or pathlib.Path(__file__).resolve().parents[2])
INFRA = TOP / "infra"
BIN_DIR = pathlib.Path(os.environ.get("CALIBER_BIN_DIR") or TOP / "build" / "release")
CALIBER = BIN_DIR / "caliber"
PLUGIN_DIR = "/opt/tf-plugins"

# The test copy of caliber.conf: the format the CLI reads (inih).
CONFIG = """\
[caliber]
terraform = terraform
plugin_dir = /opt/tf-plugins
infra_dir = {infra}

[env "stg"]
cloud = aws
region = ap-southeast-2
profile =
domain = hicaliber.net
hosted_zone_id = Z0123456789ABCDEFGHIJ
availability_zones = ap-southeast-2a,ap-southeast-2b
state_backend = local
api_image = 123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/caliber-api:latest
api_cpu = 256
api_memory = 512
api_desired_count = 1
docdb_instance_class = db.t3.medium
docdb_instance_count = 1
rds_instance_class = db.t4g.micro
rds_allocated_storage = 20
rds_multi_az = false

[env "prod"]
cloud = aws
region = ap-southeast-2
profile =
domain = hicaliber.net
hosted_zone_id = Z0123456789ABCDEFGHIJ
availability_zones = ap-southeast-2a,ap-southeast-2b
state_backend = local
api_image = 123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/caliber-api:latest
api_cpu = 1024
api_memory = 2048
api_desired_count = 2
docdb_instance_class = db.r6g.large
docdb_instance_count = 2
rds_instance_class = db.m7g.large
rds_allocated_storage = 100
rds_multi_az = true
"""

# Stands in for an applied SaaSShared stack of env stg: applying it needs AWS,
# so this is what `terraform output -json` of that stack gives (ids and ARNs
# in the real formats). caliber reads it from
# <state_dir>/stacks/saasshared-stg/outputs.json for a tenant.
_ACCOUNT = "123456789012"
_REGION = "ap-southeast-2"
_ALB_DNS = "saasshared-stg-alb-1234567890.ap-southeast-2.elb.amazonaws.com"
_ALB_ZONE = "Z1GM3OXH4ZPM65"  # ELB's canonical zone in ap-southeast-2
_SECRET = f"arn:aws:secretsmanager:{_REGION}:{_ACCOUNT}:secret:caliber/saasshared/stg"
SHARED_OUTPUTS = {
    "stack": "saasshared-stg",
    "kind": "shared",
    "documentdb_uri": "mongodb://saasshared-stg-docdb.cluster-c1a2b3c4d5e6.ap-southeast-2.docdb.amazonaws.com:27017/?tls=true&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false",
    "postgresql_endpoint": "saasshared-stg-pg.c1a2b3c4d5e6.ap-southeast-2.rds.amazonaws.com:5432",
    "api_endpoint": _ALB_DNS,
    "hosted_zone_id": _ALB_ZONE,
    "lb_zone_id": _ALB_ZONE,
    "api_url": "https://saas-api.hicaliber.net",
    "frontend_url": "https://www.saas-api.hicaliber.net",
    "ecs_cluster_name": "saasshared-stg",
    "ecs_cluster_arn": f"arn:aws:ecs:{_REGION}:{_ACCOUNT}:cluster/saasshared-stg",
    "ecs_service_name": "saasshared-stg-api",
    "task_family": "saasshared-stg-api",
    "task_definition_arn": f"arn:aws:ecs:{_REGION}:{_ACCOUNT}:task-definition/saasshared-stg-api:3",
    "log_group_name": "/caliber/saasshared/stg/api",
    "frontend_bucket": "saasshared-stg-www-20261126054512345600000001",
    "cloudfront_distribution_id": "E2QWRUHAPOMQZL",
    "secret_arns": {
        "django-secret-key": f"{_SECRET}/django-secret-key-AbCdEf",
        "documentdb-uri": f"{_SECRET}/documentdb-uri-GhIjKl",
        "postgresql": f"{_SECRET}/postgresql-MnOpQr",
    },
    "secret_prefix": "caliber/saasshared/stg",
    "kms_key_arn": f"arn:aws:kms:{_REGION}:{_ACCOUNT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "rds_instance_id": "saasshared-stg-pg",
    "docdb_cluster_id": "saasshared-stg-docdb",
    "db_subnet_group_name": "saasshared-stg-pg",
    "docdb_subnet_group_name": "saasshared-stg-docdb",
    "db_security_group_ids": {"postgresql": "sg-0a1b2c3d4e5f60001", "documentdb": "sg-0a1b2c3d4e5f60002"},
    "rds_master_secret_arn": f"arn:aws:secretsmanager:{_REGION}:{_ACCOUNT}:secret:rds!db-1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809-XyZ123",
    "docdb_master_secret_arn": f"arn:aws:secretsmanager:{_REGION}:{_ACCOUNT}:secret:rds!cluster-9a8b7c6d-5e4f-3021-1a2b-3c4d5e6f7081-QwE456",
    "vpc_id": "vpc-0123456789abcdef0",
    "private_subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    "tasks_security_group_id": "sg-0a1b2c3d4e5f60003",
    "alb_security_group_id": "sg-0a1b2c3d4e5f60004",
    "https_listener_arn": f"arn:aws:elasticloadbalancing:{_REGION}:{_ACCOUNT}:listener/app/saasshared-stg-alb/50dc6c495c0c9188/f2f7dc8efc522ab2",
    "lb_arn": f"arn:aws:elasticloadbalancing:{_REGION}:{_ACCOUNT}:loadbalancer/app/saasshared-stg-alb/50dc6c495c0c9188",
    "listener_rule_priority": 4711,
}

# The stack kinds under test: name -> caliber flags.
STACKS = {
    "dedicated_stg": {"client": "Acme", "plan": "Dedicated", "env": "stg", "subdomain": "acme"},
    "dedicated_prod": {"client": "Acme", "plan": "Dedicated", "env": "prod", "subdomain": "acme"},
    "shared_stg": {"client": "SaaSShared", "plan": "SaaS", "env": "stg", "subdomain": "saas-api"},
    "tenant_stg": {"client": "NewTenant", "plan": "SaaS", "env": "stg", "subdomain": "customer1"},
}


def terraform_output_json(values):
    """values as `terraform output -json` prints them."""
    def tf_type(v):
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, (int, float)):
            return "number"
        if isinstance(v, str):
            return "string"
        if isinstance(v, list):
            return ["tuple", [tf_type(x) for x in v]]
        return ["object", {k: tf_type(x) for k, x in v.items()}]
    return {k: {"sensitive": False, "type": tf_type(v), "value": v} for k, v in values.items()}


def prepare_state_dir(root):
    """Write the test config and the applied SaaSShared outputs; returns (config, state_dir)."""
    root = pathlib.Path(root)
    config = root / "caliber.conf"
    config.write_text(CONFIG.format(infra=INFRA))
    state_dir = root / "state"
    shared = state_dir / "stacks" / "saasshared-stg"
    shared.mkdir(parents=True, exist_ok=True)
    (shared / "outputs.json").write_text(json.dumps(terraform_output_json(SHARED_OUTPUTS), indent=2))
    return config, state_dir


def cli_has_plan():
    """True once the caliber binary implements `plan` (then the tests use it)."""
    if not os.access(CALIBER, os.X_OK):
        return False
    r = subprocess.run([str(CALIBER), "plan", "--help"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    return r.returncode == 0


def cli_args(flags):
    args = ["--client", flags["client"], "--plan", flags["plan"], "--env", flags["env"],
            "--subdomain", flags["subdomain"]]
    if flags["plan"] == "SaaS" and flags["client"] != "SaaSShared":
        # The runbook's section 1.3 flags, with the shared stack's values.
        args += ["--saas-docdb-uri", SHARED_OUTPUTS["documentdb_uri"],
                 "--saas-rds-endpoint", SHARED_OUTPUTS["postgresql_endpoint"],
                 "--saas-api-lb-dns", SHARED_OUTPUTS["api_endpoint"],
                 "--saas-api-lb-zone", SHARED_OUTPUTS["hosted_zone_id"]]
    return args


def plan_with_cli(flags, config, state_dir, out):
    env = dict(os.environ, CALIBER_STATE_DIR=str(state_dir), CALIBER_CONFIG=str(config))
    cmd = [str(CALIBER), "plan", "--offline", "--json", str(out)] + cli_args(flags)
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")


def tfvars(flags, config, state_dir):
    """caliber.auto.tfvars.json as caliber builds it from flags and config."""
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string(pathlib.Path(config).read_text())
    e = cp[f'env "{flags["env"]}"']
    slug = flags["client"].lower()
    v = {
        "client": flags["client"], "slug": slug, "plan": flags["plan"], "env": flags["env"],
        "subdomain": flags["subdomain"], "domain": e["domain"], "hosted_zone_id": e["hosted_zone_id"],
        "aws_region": e["region"], "aws_profile": e.get("profile", ""),
        "availability_zones": e["availability_zones"].split(","),
        "api_image": e["api_image"], "api_cpu": int(e["api_cpu"]), "api_memory": int(e["api_memory"]),
        "api_desired_count": int(e["api_desired_count"]), "api_health_path": "/health/",
        "api_container_port": 8000,
        "docdb_instance_class": e["docdb_instance_class"],
        "docdb_instance_count": int(e["docdb_instance_count"]),
        "rds_instance_class": e["rds_instance_class"],
        "rds_allocated_storage": int(e["rds_allocated_storage"]),
        "rds_multi_az": e.getboolean("rds_multi_az"),
        "saas_docdb_uri": "", "saas_rds_endpoint": "", "saas_api_lb_dns": "", "saas_api_lb_zone": "",
        "saas_shared": None,
    }
    if flags["plan"] == "SaaS" and flags["client"] != "SaaSShared":
        path = pathlib.Path(state_dir) / "stacks" / f"saasshared-{flags['env']}" / "outputs.json"
        shared = {k: o["value"] for k, o in json.loads(path.read_text()).items()}
        v.update(saas_docdb_uri=shared["documentdb_uri"], saas_rds_endpoint=shared["postgresql_endpoint"],
                 saas_api_lb_dns=shared["api_endpoint"], saas_api_lb_zone=shared["hosted_zone_id"],
                 saas_shared=shared)
    return v


def make_workdir(flags, config, state_dir):
    """The stack's working directory for an offline plan, laid out as caliber lays it out."""
    slug = flags["client"].lower()
    tf = pathlib.Path(state_dir) / "stacks" / f"{slug}-{flags['env']}" / "offline"
    if tf.exists():
        shutil.rmtree(tf)
    tf.mkdir(parents=True)
    for entry in INFRA.iterdir():
        if entry.name == "offline" or entry.name.startswith("."):
            continue
        if entry.suffix == ".tf" or entry.name == "modules":
            (tf / entry.name).symlink_to(entry)
    (tf / "provider_override.tf").symlink_to(INFRA / "offline" / "provider_override.tf")
    (tf / "backend.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    (tf / "caliber.auto.tfvars.json").write_text(json.dumps(tfvars(flags, config, state_dir), indent=2))
    return tf


def run(cmd, cwd):
    env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} in {cwd} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def plan_with_terraform(flags, config, state_dir, out):
    tf = make_workdir(flags, config, state_dir)
    run(["terraform", "init", "-no-color", "-input=false", f"-plugin-dir={PLUGIN_DIR}"], tf)
    run(["terraform", "plan", "-no-color", "-input=false", "-lock=false", "-out=offline.tfplan"], tf)
    pathlib.Path(out).write_text(run(["terraform", "show", "-no-color", "-json", "offline.tfplan"], tf))


def plan_all(root, use_cli=None, workers=2):
    """Plans every stack in STACKS; returns ({name: plan}, {name: seconds}, total, how)."""
    config, state_dir = prepare_state_dir(root)
    if use_cli is None:
        # the tests go through caliber: a caliber without a working 'plan' must fail them,
        # never fall back to terraform (plan_with_terraform stays for stacks.py's own use)
        use_cli = True
        if not cli_has_plan():
            raise RuntimeError(f"{CALIBER} plan --help failed: build caliber first (make)")
    planner = plan_with_cli if use_cli else plan_with_terraform

    def one(name):
        start = time.monotonic()
        out = pathlib.Path(root) / f"{name}.plan.json"
        planner(STACKS[name], config, state_dir, out)
        return name, json.loads(out.read_text()), time.monotonic() - start

    start = time.monotonic()
    plans, seconds = {}, {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for name, plan, secs in pool.map(one, STACKS):
            plans[name], seconds[name] = plan, secs
    return plans, seconds, time.monotonic() - start, "caliber plan --offline" if use_cli else "terraform (fallback)"


if __name__ == "__main__":
    outdir = pathlib.Path(sys.argv[1])
    outdir.mkdir(parents=True, exist_ok=True)
    plans, seconds, total, how = plan_all(outdir)
    for name, plan in plans.items():
        print(f"{name}: {len(plan['resource_changes'])} resource changes, {seconds[name]:.1f} s")
    print(f"total {total:.1f} s via {how}")
