#!/bin/sh
# The main job (make demo).  Until the local cloud can provision a whole
# stack, it is in two parts: the runbook's first step for a Dedicated client
# (runbook 1.1) planned offline against AWS (no credentials, no network,
# printed as a summary); then the runbook's operations with its own aws
# commands on the local cloud (tools/demo-local.sh).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
out=${CALIBER_DEMO_DIR:-$top/.caliber/demo}
mkdir -p "$out"

echo "== ./scripts/init.sh"
./scripts/init.sh
echo
echo "== ./scripts/plan.sh --client Acme --plan Dedicated --env stg --subdomain acme --offline --json $out/acme-stg.plan.json"
./scripts/plan.sh --client Acme --plan Dedicated --env stg --subdomain acme \
	--offline --json "$out/acme-stg.plan.json"
echo
echo "== what the plan builds (from $out/acme-stg.plan.json)"
jq -r '
  def mods: ., (.child_modules[]? | mods);
  [.planned_values.root_module | mods | .resources[]?] as $r
  | "DNS records:           " + ([$r[] | select(.type=="aws_route53_record" and .values.type=="A") | .values.name] | unique | join(", ")),
    "CloudFront aliases:    " + ([$r[] | select(.type=="aws_cloudfront_distribution") | .values.aliases[]] | join(", ")),
    "VPCs / NAT gateways:   " + ([$r[] | select(.type=="aws_vpc")] | length | tostring) + " / " + ([$r[] | select(.type=="aws_nat_gateway")] | length | tostring),
    "VPC endpoints:         " + ([$r[] | select(.type=="aws_vpc_endpoint") | .values.service_name | split(".") | last] | join(", ")),
    "DocumentDB:            " + ([$r[] | select(.type=="aws_docdb_cluster") | "encrypted=\(.values.storage_encrypted) backups=\(.values.backup_retention_period)d"] | join(", ")),
    "PostgreSQL:            " + ([$r[] | select(.type=="aws_db_instance") | "\(.values.engine) \(.values.instance_class) public=\(.values.publicly_accessible) encrypted=\(.values.storage_encrypted) backups=\(.values.backup_retention_period)d"] | join(", ")),
    "ECS services:          " + ([$r[] | select(.type=="aws_ecs_service") | "\(.values.name) (\(.values.launch_type), desired \(.values.desired_count))"] | join(", ")),
    "Secrets (empty):       " + ([$r[] | select(.type=="aws_secretsmanager_secret") | .values.name] | join(", "))
' "$out/acme-stg.plan.json"

echo
echo "== the runbook's operations on the local cloud (tools/demo-local.sh)"
tools/demo-local.sh
