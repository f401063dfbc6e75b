#!/bin/sh
# Runbook entry point: a thin wrapper around 'caliber destroy'.
exec "$(dirname "$0")/../bin/caliber" destroy "$@"
