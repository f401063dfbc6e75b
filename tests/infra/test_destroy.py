"""'caliber destroy --force' of a prod stack first applies it with allow_destroy:
that lifts deletion protection from the databases and the load balancer, and
nothing else: the final snapshots that prod keeps are still taken."""
import json

import stacks
from planjson import afters


def test_allow_destroy_lifts_deletion_protection_but_keeps_final_snapshots(tmp_path):
    config, state_dir = stacks.prepare_state_dir(tmp_path)
    flags = stacks.STACKS["dedicated_prod"]
    tf = stacks.make_workdir(flags, config, state_dir)
    tfvars = json.loads((tf / "caliber.auto.tfvars.json").read_text())
    tfvars["allow_destroy"] = True  # what cmd-destroy.c sets for its first apply
    (tf / "caliber.auto.tfvars.json").write_text(json.dumps(tfvars))
    out = tmp_path / "plan.json"
    stacks.run(["terraform", "init", "-no-color", "-input=false", f"-plugin-dir={stacks.PLUGIN_DIR}"], tf)
    stacks.run(["terraform", "plan", "-no-color", "-input=false", "-lock=false", "-out=p.tfplan"], tf)
    plan = json.loads(stacks.run(["terraform", "show", "-no-color", "-json", "p.tfplan"], tf))
    (pg,) = afters(plan, "aws_db_instance")
    assert pg["deletion_protection"] is False
    assert pg["skip_final_snapshot"] is False and pg["final_snapshot_identifier"] == "acme-prod-pg-final"
    (dc,) = afters(plan, "aws_docdb_cluster")
    assert dc["deletion_protection"] is False
    assert dc["skip_final_snapshot"] is False and dc["final_snapshot_identifier"] == "acme-prod-docdb-final"
    (lb,) = afters(plan, "aws_lb")
    assert lb["enable_deletion_protection"] is False
