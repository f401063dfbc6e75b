"""Static checks of infra/: formatting, validation, the working-directory
layout caliber uses, and the tenant's guard against stale shared outputs."""

import json
import os
import pathlib
import shutil
import subprocess

import pytest

import stacks


def run(cmd, cwd, check=True):
    env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and r.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


@pytest.fixture(scope="module")
def terraform():
    path = shutil.which("terraform")
    if path is None:
        pytest.fail("terraform is not on PATH: the infra tests need terraform 1.11 and /opt/tf-plugins")
    return path


def test_terraform_files_are_formatted(terraform):
    r = run([terraform, "fmt", "-check", "-recursive", "-diff", str(stacks.INFRA)], stacks.TOP, check=False)
    assert r.returncode == 0, f"terraform fmt would change:\n{r.stdout}{r.stderr}"


def test_configuration_is_valid(terraform, tmp_path):
    scratch = tmp_path / "validate"
    shutil.copytree(stacks.INFRA, scratch, symlinks=True)
    run([terraform, "init", "-no-color", "-input=false", "-backend=false", f"-plugin-dir={stacks.PLUGIN_DIR}"], scratch)
    r = run([terraform, "validate", "-no-color", "-json"], scratch)
    result = json.loads(r.stdout)
    assert result["valid"] is True
    assert result["warning_count"] == 0, result["diagnostics"]


def test_infra_has_no_backend_block_and_pins_the_provider():
    text = "".join(p.read_text() for p in stacks.INFRA.glob("*.tf"))
    assert 'backend "' not in text
    versions = (stacks.INFRA / "versions.tf").read_text()
    assert 'required_version = ">= 1.11"' in versions
    assert 'version = "~> 5.100"' in versions


def test_tenant_plan_refuses_load_balancer_inputs_that_differ_from_the_shared_stack(terraform, tmp_path):
    config, state_dir = stacks.prepare_state_dir(tmp_path)
    flags = stacks.STACKS["tenant_stg"]
    tf = stacks.make_workdir(flags, config, state_dir)
    tfvars = json.loads((tf / "caliber.auto.tfvars.json").read_text())
    tfvars["saas_api_lb_dns"] = "stale-alb-1111111111.ap-southeast-2.elb.amazonaws.com"
    (tf / "caliber.auto.tfvars.json").write_text(json.dumps(tfvars))
    run([terraform, "init", "-no-color", "-input=false", f"-plugin-dir={stacks.PLUGIN_DIR}"], tf)
    r = run([terraform, "plan", "-no-color", "-input=false", "-lock=false"], tf, check=False)
    assert r.returncode != 0
    assert "do not match the outputs of the deployed SaaSShared stack" in r.stderr


def test_stack_names_longer_than_28_characters_are_refused(terraform, tmp_path):
    config, state_dir = stacks.prepare_state_dir(tmp_path)
    # 25 + "-stg" = 29 characters: "<stack>-alb" would be 33
    flags = dict(stacks.STACKS["dedicated_stg"], client="Abcdefghijklmnopqrstuvwxy")
    tf = stacks.make_workdir(flags, config, state_dir)
    run([terraform, "init", "-no-color", "-input=false", f"-plugin-dir={stacks.PLUGIN_DIR}"], tf)
    r = run([terraform, "plan", "-no-color", "-input=false", "-lock=false"], tf, check=False)
    assert r.returncode != 0
    assert "must be at most 28 characters" in r.stderr
