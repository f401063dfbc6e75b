#!/bin/sh
# bench/infra-plans.sh: offline plans of the four stack kinds (Dedicated stg and prod, SaaSShared
# stg, a tenant stg), two at a time, as tests/infra makes them: through
# `caliber plan --offline` when the binary has it, else terraform directly.
# Prints each plan's resource count and time, and the total.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
command -v terraform >/dev/null || { echo "plan.sh: terraform is not on PATH" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== offline plans of the four stack kinds (2 in parallel)"
CALIBER_TOP=$top CALIBER_BIN_DIR=${CALIBER_BIN_DIR:-$top/build/release} \
	/usr/bin/python3 "$top/tests/infra/stacks.py" "$tmp"
