"""Every bad input of the provisioning commands exits 2 with a message that
names the value and says what to do, and changes nothing: no state, no
directories, no Terraform run (issue 2, item 5).

Terraform is replaced here by a recorder script named in the test's
caliber.conf, so that a test can tell whether caliber started it at all; the
real Terraform runs in tests/infra.
"""
import json
import os
import stat

import pytest

from cli_env import TOP, run_caliber

SHARED_OUTPUTS = {
    "documentdb_uri": "mongodb://saasshared-stg.cluster-c1x2.ap-southeast-2.docdb.amazonaws.com:27017/?tls=true&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false",
    "postgresql_endpoint": "saasshared-stg.c1x2.ap-southeast-2.rds.amazonaws.com:5432",
    "api_endpoint": "saasshared-stg-alb-1234567890.ap-southeast-2.elb.amazonaws.com",
    "hosted_zone_id": "Z1GM3OXH4ZPM65",
}


def tf_outputs(values):
    return {k: {"value": v, "type": "string", "sensitive": False} for k, v in values.items()}


@pytest.fixture
def sandbox(tmp_path):
    """A config whose terraform is a recorder, and an empty state directory path."""
    record = tmp_path / "terraform-ran"
    tf = tmp_path / "terraform"
    tf.write_text("#!/bin/sh\necho \"$@\" >> '%s'\n"
                  "[ \"$1\" = version ] && { echo 'Terraform v1.11.4'; exit 0; }\nexit 1\n" % record)
    tf.chmod(tf.stat().st_mode | stat.S_IXUSR)
    conf = (open(os.path.join(TOP, "caliber.conf")).read()
            .replace("terraform = terraform", "terraform = %s" % tf)
            .replace("infra_dir = infra", "infra_dir = %s/infra" % TOP))
    (tmp_path / "caliber.conf").write_text(conf)
    state = tmp_path / "state"
    env = {"CALIBER_CONFIG": str(tmp_path / "caliber.conf"), "CALIBER_STATE_DIR": str(state)}
    return {"env": env, "state": state, "record": record, "tmp": tmp_path}


def tree(path):
    """Every file under path with its content, to compare before and after."""
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            out[p] = open(p, "rb").read()
    return out


def deploy_fixture(state, name, record, outputs):
    """Stands in for an applied stack (applying needs AWS): its record and outputs."""
    d = state / "stacks" / name
    d.mkdir(parents=True)
    (d / "stack.json").write_text(json.dumps(record))
    (d / "outputs.json").write_text(json.dumps(tf_outputs(outputs)))


def refused(sb, args, *expect):
    before = tree(sb["state"])
    r = run_caliber(args, env=sb["env"])
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    for text in expect:
        assert text in r.stderr, (text, r.stderr)
    assert "Run 'caliber" in r.stderr  # says what to do next
    assert tree(sb["state"]) == before, "a refused command changed the state directory"
    if not before:
        assert not sb["state"].exists(), "a refused command created the state directory"
    assert not sb["record"].exists(), "a refused command ran terraform"
    return r


DED = ["--client", "Acme", "--plan", "Dedicated", "--env", "stg", "--subdomain", "acme"]


@pytest.mark.parametrize("cmd", ["plan", "apply", "destroy"])
def test_unknown_flag_is_refused(sandbox, cmd):
    refused(sandbox, [cmd] + DED + ["--colour", "red"], "unknown flag '--colour'")


@pytest.mark.parametrize("missing", ["--client", "--plan", "--env", "--subdomain"])
def test_missing_flag_is_named(sandbox, missing):
    args = list(DED)
    i = args.index(missing)
    del args[i:i + 2]
    refused(sandbox, ["apply"] + args, "missing " + missing)


def test_flag_without_value_is_refused(sandbox):
    refused(sandbox, ["plan", "--client"], "'--client' needs a value")


def test_stray_argument_is_refused(sandbox):
    refused(sandbox, ["plan"] + DED + ["extra"], "unexpected argument 'extra'")


def test_empty_client_name_is_refused(sandbox):
    refused(sandbox, ["apply", "--client", "", "--plan", "Dedicated", "--env", "stg", "--subdomain", "acme"],
            "client name is empty")


@pytest.mark.parametrize("client", ["Ac me", "acme_co", "acme.co", "acme/..", "-acme"])
def test_client_name_outside_letters_digits_hyphen_is_refused(sandbox, client):
    refused(sandbox, ["apply", "--client", client, "--plan", "Dedicated", "--env", "stg", "--subdomain", "acme"],
            "'%s'" % client)


def test_client_name_too_long_for_load_balancer_names_says_the_limit(sandbox):
    r = refused(sandbox, ["apply", "--client", "A" * 25, "--plan", "Dedicated", "--env", "stg", "--subdomain", "acme"],
                "'%s'" % ("A" * 25), "limit is 24", "32 characters")
    # the same name fits nowhere shorter either: prod leaves one fewer
    refused(sandbox, ["apply", "--client", "A" * 24, "--plan", "Dedicated", "--env", "prod", "--subdomain", "acme"],
            "limit is 23")
    assert r.stdout == ""


def test_saas_shared_with_dedicated_plan_is_refused(sandbox):
    refused(sandbox, ["apply", "--client", "SaaSShared", "--plan", "Dedicated", "--env", "stg", "--subdomain", "saas-api"],
            "'SaaSShared'", "--plan SaaS")


def test_unknown_plan_is_refused(sandbox):
    refused(sandbox, ["apply", "--client", "Acme", "--plan", "Enterprise", "--env", "stg", "--subdomain", "acme"],
            "unknown plan 'Enterprise'", "--plan Dedicated or --plan SaaS")


def test_unknown_environment_is_refused(sandbox):
    refused(sandbox, ["apply", "--client", "Acme", "--plan", "Dedicated", "--env", "qa", "--subdomain", "acme"],
            "unknown environment 'qa'", "'stg', 'prod'")


@pytest.mark.parametrize("sub", ["acme.example", "-acme", "ac_me", "Acme", "a" * 64])
def test_subdomain_that_is_not_a_dns_label_is_refused(sandbox, sub):
    refused(sandbox, ["apply", "--client", "Acme", "--plan", "Dedicated", "--env", "stg", "--subdomain", sub],
            "'%s'" % sub)


@pytest.mark.parametrize("flag,value", [
    ("--saas-docdb-uri", SHARED_OUTPUTS["documentdb_uri"]),
    ("--saas-rds-endpoint", SHARED_OUTPUTS["postgresql_endpoint"]),
    ("--saas-api-lb-dns", SHARED_OUTPUTS["api_endpoint"]),
    ("--saas-api-lb-zone", SHARED_OUTPUTS["hosted_zone_id"]),
])
def test_saas_flags_with_dedicated_plan_are_refused(sandbox, flag, value):
    refused(sandbox, ["apply"] + DED + [flag, value], "--saas-* flags are for SaaS tenants")


TENANT = ["--client", "NewTenant", "--plan", "SaaS", "--env", "stg", "--subdomain", "customer1"]


def saas_flags(**override):
    values = {
        "--saas-docdb-uri": SHARED_OUTPUTS["documentdb_uri"],
        "--saas-rds-endpoint": SHARED_OUTPUTS["postgresql_endpoint"],
        "--saas-api-lb-dns": SHARED_OUTPUTS["api_endpoint"],
        "--saas-api-lb-zone": SHARED_OUTPUTS["hosted_zone_id"],
    }
    values.update(override)
    out = []
    for k, v in values.items():
        out += [k, v]
    return out


@pytest.mark.parametrize("flag,value,expect", [
    ("--saas-docdb-uri", "postgres://db.example.com:5432", "not a mongodb:// URI"),
    ("--saas-docdb-uri", "mongodb://admin:s3cret@db.example.com:27017", "must not carry credentials"),
    ("--saas-rds-endpoint", "db.example.com", "not HOST:PORT"),
    ("--saas-rds-endpoint", "db.example.com:99999", "not HOST:PORT"),
    ("--saas-api-lb-dns", "not a name", "not a DNS name"),
    ("--saas-api-lb-zone", "zone-1", "not a Route 53 hosted zone id"),
])
def test_malformed_saas_values_are_refused(sandbox, flag, value, expect):
    r = refused(sandbox, ["apply"] + TENANT + saas_flags(**{flag: value}), flag, expect)
    assert "s3cret" not in r.stderr + r.stdout


def test_some_but_not_all_saas_flags_are_refused(sandbox):
    refused(sandbox, ["apply"] + TENANT + ["--saas-api-lb-zone", "Z1GM3OXH4ZPM65"],
            "all four --saas-* flags or none", "--saas-docdb-uri")


def test_saas_tenant_without_flags_or_deployed_shared_stack_is_refused(sandbox):
    refused(sandbox, ["apply"] + TENANT, "needs the shared stack", "SaaSShared")


def test_saas_tenant_with_flags_but_no_deployed_shared_stack_is_refused(sandbox):
    refused(sandbox, ["apply"] + TENANT + saas_flags(), "apply SaaSShared", "first")


SHARED_RECORD = {"client": "SaaSShared", "plan": "SaaS", "env": "stg", "subdomain": "saas-api",
                 "cloud": "aws", "status": "applied"}


@pytest.mark.parametrize("flag,output", [
    ("--saas-docdb-uri", "documentdb_uri"),
    ("--saas-rds-endpoint", "postgresql_endpoint"),
    ("--saas-api-lb-dns", "api_endpoint"),
    ("--saas-api-lb-zone", "hosted_zone_id"),
])
def test_saas_values_that_disagree_with_the_deployed_shared_stack_are_refused(sandbox, flag, output):
    deploy_fixture(sandbox["state"], "saasshared-stg", SHARED_RECORD, SHARED_OUTPUTS)
    stale = {
        "--saas-docdb-uri": "mongodb://old-cluster.example.com:27017/?tls=true",
        "--saas-rds-endpoint": "old-db.example.com:5432",
        "--saas-api-lb-dns": "old-alb-1.ap-southeast-2.elb.amazonaws.com",
        "--saas-api-lb-zone": "ZOLDZONE12345",
    }[flag]
    refused(sandbox, ["apply"] + TENANT + saas_flags(**{flag: stale}),
            flag, stale, "disagrees with the deployed SaaSShared", SHARED_OUTPUTS[output])


def test_destroy_of_prod_without_force_is_refused(sandbox):
    refused(sandbox, ["destroy", "--client", "Acme", "--plan", "Dedicated", "--env", "prod", "--subdomain", "acme"],
            "'acme-prod' is a prod stack", "--force")


def test_destroy_of_saas_shared_while_tenants_exist_is_refused(sandbox):
    deploy_fixture(sandbox["state"], "saasshared-stg", SHARED_RECORD, SHARED_OUTPUTS)
    deploy_fixture(sandbox["state"], "newtenant-stg",
                   {"client": "NewTenant", "plan": "SaaS", "env": "stg", "subdomain": "customer1",
                    "cloud": "aws", "status": "applied"}, {"api_url": "https://customer1.hicaliber.net"})
    refused(sandbox, ["destroy", "--client", "SaaSShared", "--plan", "SaaS", "--env", "stg", "--subdomain", "saas-api"],
            "still has 1 tenant", "newtenant-stg", "destroy them first")


def test_changing_the_plan_of_an_applied_stack_is_refused(sandbox):
    deploy_fixture(sandbox["state"], "acme-stg",
                   {"client": "Acme", "plan": "Dedicated", "env": "stg", "subdomain": "acme",
                    "cloud": "aws", "status": "applied"}, {"api_url": "https://acme.hicaliber.net"})
    refused(sandbox, ["apply", "--client", "Acme", "--plan", "Dedicated", "--env", "stg", "--subdomain", "acme2"],
            "was applied as --client Acme --plan Dedicated --subdomain acme")


def test_saas_tenant_without_flags_takes_the_deployed_shared_endpoints(sandbox):
    """The positive case: validation passes and the shared outputs reach Terraform's variables."""
    deploy_fixture(sandbox["state"], "saasshared-stg", SHARED_RECORD, SHARED_OUTPUTS)
    env = dict(sandbox["env"], AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="example")
    r = run_caliber(["plan"] + TENANT, env=env)
    # the recorder fails 'terraform init', so the command fails after validation
    assert r.returncode == 1, (r.stdout, r.stderr)
    ran = sandbox["record"].read_text()
    assert "version" in ran and "init" in ran
    tfvars = json.loads((sandbox["state"] / "stacks" / "newtenant-stg" / "tf" / "caliber.auto.tfvars.json").read_text())
    assert tfvars["saas_docdb_uri"] == SHARED_OUTPUTS["documentdb_uri"]
    assert tfvars["saas_api_lb_zone"] == SHARED_OUTPUTS["hosted_zone_id"]
    assert tfvars["saas_shared"]["api_endpoint"] == SHARED_OUTPUTS["api_endpoint"]
    assert tfvars["slug"] == "newtenant" and tfvars["plan"] == "SaaS"


@pytest.mark.parametrize("cmd", ["init", "plan", "apply", "destroy", "outputs"])
def test_every_command_has_help(sandbox, cmd):
    r = run_caliber([cmd, "--help"], env=sandbox["env"])
    assert r.returncode == 0
    assert r.stdout.startswith("usage: caliber " + cmd)
    assert "Exit status" in r.stdout


@pytest.mark.parametrize("script,cmd", [("init", "init"), ("plan", "plan"), ("apply", "apply"), ("destroy", "destroy")])
def test_runbook_scripts_are_thin_wrappers(sandbox, script, cmd):
    path = os.path.join(TOP, "scripts", script + ".sh")
    body = open(path).read()
    assert 'exec "$(dirname "$0")/../bin/caliber" %s "$@"' % cmd in body


def no_credentials_env(sb):
    """An environment where no credential source can answer."""
    home = sb["tmp"] / "home"
    home.mkdir(exist_ok=True)
    env = dict(sb["env"])
    env.update({"HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": str(home / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials")})
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
              "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        env[k] = None
    return env


@pytest.mark.parametrize("cmd", ["apply", "destroy"])
def test_without_credentials_apply_and_destroy_stop_before_terraform(sandbox, cmd):
    env = no_credentials_env(sandbox)
    r = run_caliber([cmd] + DED, env=env)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "before Terraform starts" in r.stderr
    assert "tried" in r.stderr and "environment" in r.stderr and "EC2 instance metadata" in r.stderr
    assert not sandbox["record"].exists(), "terraform ran without credentials"


def test_terraform_gets_the_identity_caliber_resolved(sandbox, tmp_path):
    """A profile from the shared credentials file reaches Terraform as plain
    environment credentials, with no profile left for the provider to prefer."""
    env = no_credentials_env(sandbox)
    home = tmp_path / "home"
    (home / "credentials").write_text("[ops]\naws_access_key_id = AKIAOPSEXAMPLE0001\n"
                                      "aws_secret_access_key = opsSecretExampleKey0000000000000000000000\n")
    conf = tmp_path / "caliber.conf"
    conf.write_text(conf.read_text().replace("profile =\n", "profile = ops\n", 1))
    tf = tmp_path / "terraform"
    tf.write_text("#!/bin/sh\necho \"$1 key=$AWS_ACCESS_KEY_ID profile=${AWS_PROFILE-unset} region=$AWS_REGION\" >> '%s'\n"
                  "[ \"$1\" = version ] && { echo 'Terraform v1.11.4'; exit 0; }\nexit 1\n" % sandbox["record"])
    r = run_caliber(["apply"] + DED, env=env)
    assert r.returncode == 1  # the stand-in terraform fails init
    assert "credentials: shared-credentials-file (access key ...0001)" in r.stderr
    assert "opsSecretExampleKey" not in r.stdout + r.stderr
    ran = sandbox["record"].read_text()
    assert "init key=AKIAOPSEXAMPLE0001 profile=unset region=ap-southeast-2" in ran
    tfvars = json.loads((sandbox["state"] / "stacks" / "acme-stg" / "tf" / "caliber.auto.tfvars.json").read_text())
    assert tfvars["aws_profile"] == ""
