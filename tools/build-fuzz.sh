#!/bin/sh
# make fuzz: build every tests/fuzz/fuzz-*.c as a libFuzzer binary in
# build/fuzz/, with the library compiled by clang under ASan+UBSan.
#   tools/build-fuzz.sh                 build
#   tools/build-fuzz.sh run SECS        build, then run each target for SECS seconds
#   tools/build-fuzz.sh run SECS JOBS   the same, JOBS targets at a time (make fuzz-long)
#
# Each target starts from its committed seed corpus (tests/fuzz/corpus/NAME/,
# real inputs) and keeps what it finds in build/fuzz/corpus-NAME.  An object
# is rebuilt when its source or any header it includes changed (clang -MMD).
# A crash, leak or timeout fails the run; its input is left in build/fuzz/.
set -eu
cd "$(dirname "$0")/.."
out=build/fuzz
mkdir -p "$out/obj"
pkgs="libcurl jansson inih openssl libxml-2.0 sqlite3 libmicrohttpd libpq libbson-1.0 libpcre2-8"
cflags="-std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -g -O1 -D_GNU_SOURCE -Ilib -Ilocalcloud $(pkg-config --cflags $pkgs) -fsanitize=address,undefined,fuzzer-no-link"
libs="$(pkg-config --libs $pkgs) -lm -lpthread"

# stale OBJ SRC: the object is missing, or older than its source or a dependency
stale() {
	[ -e "$1" ] && [ -e "$1.d" ] || return 0
	[ "$2" -nt "$1" ] && return 0
	for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$1.d"); do
		[ -e "$dep" ] || return 0
		[ "$dep" -nt "$1" ] && return 0
	done
	return 1
}

# compile SRC... : the object of each (rebuilt when stale); prints their paths
compile() {
	for src in "$@"; do
		obj="$out/obj/$(echo "$src" | tr / _).o"
		if stale "$obj" "$src"; then
			clang $cflags -MMD -MF "$obj.d" -c "$src" -o "$obj"
		fi
		echo "$obj"
	done
}

lib_objs=$(compile $(find lib -name '*.c' | sort))
# liblocalcloud.a's sources (localcloud/ but main(), the RDS guard and
# caliber-docdb, a program of its own)
lc_objs=$(compile $(find localcloud -name '*.c' ! -path localcloud/caliberd.c \
	! -path 'localcloud/rds/guard/*' ! -path 'localcloud/docdb/*' | sort))
# caliber-docdb's sources but its main(), and the CA it links: for fuzz-docdb-*
docdb_objs=$(compile $(find localcloud/docdb -name '*.c' ! -name main.c | sort) localcloud/core/ca.c)
for t in tests/fuzz/fuzz-*.c; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .c)
	case $name in
	fuzz-docdb-*) objs="$docdb_objs $lib_objs" ;;
	*) objs="$lc_objs $lib_objs" ;;
	esac
	# shellcheck disable=SC2086
	clang $cflags -fsanitize=fuzzer "$t" $objs $libs -o "$out/$name"
	echo "built $out/$name"
done
[ "${1:-}" = run ] || exit 0
secs=${2:-5}
jobs=${3:-1}

# fuzz_one TARGET: run it for $secs seconds; 0 when nothing was found
fuzz_one() {
	f=$1
	name=$(basename "$f")
	corpus="$out/corpus-$name"
	seeds="tests/fuzz/corpus/$name"
	mkdir -p "$corpus"
	log="$out/$name.log"
	if [ ! -d "$seeds" ]; then
		echo "fuzz: $name has no seed corpus in $seeds/" >&2
		return 1
	fi
	echo "== fuzz $name for ${secs}s"
	# a crash is a failed test: keep libFuzzer's status, not grep's
	if ! "$f" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$out/" \
		"$corpus" "$seeds" >"$log" 2>&1; then
		tail -n 40 "$log"
		echo "fuzz: $name failed; the input is in $out/ (crash-*, leak-*, timeout-*)" >&2
		return 1
	fi
	echo "$name: $(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}') runs," \
		"$(ls "$corpus" | wc -l) inputs in its corpus"
}

failed=0
set --
for f in "$out"/fuzz-*; do
	[ -x "$f" ] && [ -f "$f" ] || continue
	case $f in *.log) continue ;; esac
	set -- "$@" "$f"
done
while [ $# -gt 0 ]; do
	pids=""
	i=0
	while [ $i -lt "$jobs" ] && [ $# -gt 0 ]; do
		fuzz_one "$1" &
		pids="$pids $!"
		shift
		i=$((i + 1))
	done
	for p in $pids; do
		wait "$p" || failed=1
	done
done
if [ "$failed" -ne 0 ]; then
	echo "fuzz: at least one target failed" >&2
	exit 1
fi
