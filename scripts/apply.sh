#!/bin/sh
# Runbook entry point: a thin wrapper around 'caliber apply'.
exec "$(dirname "$0")/../bin/caliber" apply "$@"
