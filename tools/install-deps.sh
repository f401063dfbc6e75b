#!/bin/sh
# Install what building and testing Caliber needs on Debian 12.  Idempotent,
# and quiet when everything is already there.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev bear clang-format
libcurl4-openssl-dev libjansson-dev libinih-dev libssl-dev libxml2-dev
libsqlite3-dev libmicrohttpd-dev libpq-dev libcmocka-dev libbson-dev libmongoc-dev libpcre2-dev
postgresql-15 postgresql-client-15 postgresql-server-dev-15 nginx
python3 python3-pytest python3-botocore python3-django python3-psycopg2 python3-pymongo
awscli faketime jq curl hyperfine"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if ! command -v npm >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# The Node.js clients test_docdb_node.py runs (the official driver, mongosh) at
# package-lock.json's versions; installed again only when the lock is newer.
node_dir="$(dirname "$0")/../tests/docdb-node"
if ! [ "$node_dir/node_modules/.package-lock.json" -nt "$node_dir/package-lock.json" ]; then
	(cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error) || {
		echo "install-deps: npm ci in tests/docdb-node failed (is the npm registry reachable?)" >&2
		exit 1
	}
fi

if ! command -v terraform >/dev/null 2>&1; then
	echo "install-deps: terraform is not on PATH; install Terraform 1.11 (it is not in Debian's archive)" >&2
	exit 1
fi
exit 0
