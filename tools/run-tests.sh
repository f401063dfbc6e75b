#!/bin/sh
# Run every test: C unit tests, infra (offline Terraform plans), integration,
# security (attacks) and end-to-end tests against real binaries and services;
# short fuzz runs; then the unit, integration and security tests again with
# the ASan+UBSan build (the infra tests exercise Terraform's plans, and the
# e2e suite the same binaries as integration, so they run once; the
# integration tests that drive Terraform run in the sanitizer pass only).
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

# A suite named here must exist and hold tests: a missing or empty one fails
# the run (pytest's own exit status 5, "no tests collected", fails it too).
run_suite() {
	name=$1
	bindir=$2
	label=$3
	if ! ls "tests/$name"/test_*.py >/dev/null 2>&1; then
		echo "run-tests: the $name suite has no tests (tests/$name/test_*.py)" >&2
		exit 1
	fi
	shift 3
	echo "== $label"
	run_pytest "$bindir" "tests/$name" "$@"
}

# Terraform's runs (test_tf_*.py) are mostly the provider's own start-up and
# fixed waits, not caliberd's work: they run once, in the sanitizer pass,
# where they also look for memory errors in the handlers they drive.
once_in_asan=
for f in tests/integration/test_tf_*.py; do
	[ -e "$f" ] && once_in_asan="$once_in_asan --ignore=$f"
done

make -s -j"$jobs" all
case $what in
unit)
	run_unit build/release
	exit 0
	;;
esac

run_unit build/release
run_suite infra "$top/build/release" "infra: offline plans"
# shellcheck disable=SC2086
run_suite integration "$top/build/release" "integration" $once_in_asan
run_suite security "$top/build/release" "security: attacks on caliberd"
run_suite e2e "$top/build/release" "e2e: the demo and the runbook's procedures"

echo "== fuzz targets (short runs)"
tools/build-fuzz.sh run "${FUZZ_SECONDS:-5}"

echo "== ASan+UBSan build"
make -s -j"$jobs" asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_unit build/asan
# the sanitizers look for memory errors: 3 rollouts of the 20 are enough for them
CALIBER_ROLLOUTS=3
export CALIBER_ROLLOUTS
run_suite integration "$top/build/asan" "integration (ASan+UBSan)"
unset CALIBER_ROLLOUTS
run_suite security "$top/build/asan" "security (ASan+UBSan)"
echo "== all tests passed"
