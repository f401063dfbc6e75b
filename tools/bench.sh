#!/bin/sh
# make bench: every benchmark under bench/, one after another, figures printed.
# Benchmarks report measurements; they never fail on a threshold.
set -eu
cd "$(dirname "$0")/.."
for b in bench/*.sh; do
	echo "== $b"
	"$b"
	echo
done
