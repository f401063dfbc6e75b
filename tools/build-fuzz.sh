#!/bin/sh
# make fuzz: build every tests/fuzz/fuzz-*.c as a libFuzzer binary in
# build/fuzz/, with the library compiled by clang under ASan+UBSan.
#   tools/build-fuzz.sh            build
#   tools/build-fuzz.sh run SECS   build, then run each target for SECS seconds
set -eu
cd "$(dirname "$0")/.."
out=build/fuzz
mkdir -p "$out/obj"
pkgs="libcurl jansson inih openssl libxml-2.0 sqlite3 libmicrohttpd libpq"
cflags="-std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -g -O1 -D_GNU_SOURCE -Ilib -Ilocalcloud $(pkg-config --cflags $pkgs) -fsanitize=address,undefined,fuzzer-no-link"
libs="$(pkg-config --libs $pkgs) -lm -lpthread"
objs=""
for src in $(find lib -name '*.c' | sort); do
	obj="$out/obj/$(echo "$src" | tr / _).o"
	if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ]; then
		clang $cflags -c "$src" -o "$obj"
	fi
	objs="$objs $obj"
done
# localcloud sources other than main() can be fuzzed too
for src in $(ls localcloud/*.c 2>/dev/null | grep -v '/caliberd\.c$' || true); do
	obj="$out/obj/$(echo "$src" | tr / _).o"
	if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ]; then
		clang $cflags -c "$src" -o "$obj"
	fi
	objs="$objs $obj"
done
for t in tests/fuzz/fuzz-*.c; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .c)
	# shellcheck disable=SC2086
	clang $cflags -fsanitize=fuzzer "$t" $objs $libs -o "$out/$name"
	echo "built $out/$name"
done
if [ "${1:-}" = run ]; then
	secs=${2:-5}
	for f in "$out"/fuzz-*; do
		[ -x "$f" ] || continue
		corpus="$out/corpus-$(basename "$f")"
		mkdir -p "$corpus"
		log="$out/$(basename "$f").log"
		echo "== fuzz $(basename "$f") for ${secs}s"
		# a crash is a failed test: keep libFuzzer's status, not grep's
		if ! "$f" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$out/" \
			"$corpus" >"$log" 2>&1; then
			tail -n 40 "$log"
			echo "fuzz: $(basename "$f") failed; the input is in $out/ (crash-*, leak-*, timeout-*)" >&2
			exit 1
		fi
		grep -E 'stat::number_of_executed_units' "$log" || true
	done
fi
