#!/bin/sh
# Runbook entry point: a thin wrapper around 'caliber plan'.
exec "$(dirname "$0")/../bin/caliber" plan "$@"
