#!/bin/sh
# Benchmark: 'caliber plan --offline' against a bare 'terraform plan' of the
# same configuration in the same working directory, side by side in one run
# (hyperfine, alternating).  The figure of interest is caliber's overhead.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
runs=${BENCH_PLAN_RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CALIBER_STATE_DIR="$work/state"
args="--client Acme --plan Dedicated --env stg --subdomain acme"

# prepare the working directory (and terraform init) once, outside the timing
"$top/bin/caliber" plan --offline $args >/dev/null
dir="$work/state/stacks/acme-stg/offline"

hyperfine --style basic --runs "$runs" --warmup 1 --export-json "$work/plan.json" \
	-n "caliber plan --offline" "$top/bin/caliber plan --offline $args" \
	-n "terraform plan (bare)" "cd $dir && TF_CLI_CONFIG_FILE=$work/state/terraform.rc CHECKPOINT_DISABLE=1 AWS_EC2_METADATA_DISABLED=true terraform plan -input=false -no-color -out=bare.tfplan" \
	>/dev/null

python3 - "$work/plan.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
c, t = r["caliber plan --offline"], r["terraform plan (bare)"]
print("plan --offline of a Dedicated stack, %d runs each" % len(c["times"]))
for name, x in (("caliber plan --offline", c), ("terraform plan (bare)", t)):
    print("  %-24s mean %6.2f s  (min %.2f, max %.2f, sd %.2f)" % (name, x["mean"], x["min"], x["max"], x["stddev"]))
print("  caliber overhead: %+.1f%% of the bare plan (goal: under 10%%)" % (100 * (c["mean"] / t["mean"] - 1)))
PY
