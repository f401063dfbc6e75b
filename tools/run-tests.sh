#!/bin/sh
# Run every test: C unit tests, infra (offline Terraform plans), integration
# and end-to-end tests against real binaries and services; then the unit and
# integration tests again with the ASan+UBSan build.
#
#   tools/run-tests.sh            everything
#   tools/run-tests.sh unit       only the C unit tests (release build)
#
# Integration tests are pytest files; they find the binaries through
# CALIBER_BIN_DIR, so the same tests run against the sanitizer build.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
what=${1:-all}
jobs=$(nproc 2>/dev/null || echo 2)

run_unit() {
	dir=$1
	n=0
	for src in tests/unit/test-*.c; do
		t=$dir/tests/unit/$(basename "$src" .c)
		n=$((n + 1))
		echo "== unit: $(basename "$t")"
		(cd "$top" && "$t")
	done
	echo "== unit: $n test programs passed ($dir)"
}

run_pytest() {
	bindir=$1
	shift
	CALIBER_BIN_DIR=$bindir CALIBER_TOP=$top /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@"
}

make -s -j"$jobs" all
case $what in
unit)
	run_unit build/release
	exit 0
	;;
esac

run_unit build/release
if ls tests/infra/test_*.py >/dev/null 2>&1; then
	echo "== infra: offline plans"
	run_pytest "$top/build/release" tests/infra
fi
if ls tests/integration/test_*.py >/dev/null 2>&1; then
	echo "== integration"
	run_pytest "$top/build/release" tests/integration
fi
if ls tests/e2e/test_*.py >/dev/null 2>&1; then
	echo "== e2e"
	run_pytest "$top/build/release" tests/e2e
fi

echo "== fuzz targets (short runs)"
tools/build-fuzz.sh run "${FUZZ_SECONDS:-5}"

echo "== ASan+UBSan build"
make -s -j"$jobs" asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_unit build/asan
if ls tests/integration/test_*.py >/dev/null 2>&1; then
	echo "== integration (ASan+UBSan)"
	run_pytest "$top/build/asan" tests/integration
fi
echo "== all tests passed"
