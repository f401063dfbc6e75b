#!/bin/sh
# Runbook entry point: a thin wrapper around 'caliber init'.
exec "$(dirname "$0")/../bin/caliber" init "$@"
