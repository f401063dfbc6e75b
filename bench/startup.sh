#!/bin/sh
# bench/startup.sh: what start-up costs 'caliber', library by library.
#
# For each shared library the CLI links (its direct NEEDED entries), an
# empty program linked with that library alone is run RUNS times and the
# dynamic loader's own count of cycles (LD_DEBUG=statistics, "total startup
# time in dynamic loader") is reported as the median, with how many
# libraries it drags in, and the whole process's mean time (hyperfine);
# then the same for 'caliber --help' itself.  Figures only, never
# assertions.
#
#   bench/startup.sh [RUNS]      (default 30)
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
runs=${1:-30}
caliber=${CALIBER_BIN_DIR:-$top/build/release}/caliber
[ -x "$caliber" ] || { echo "bench/startup.sh: build caliber first (make)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

loader_cycles() {
	i=0
	while [ $i -lt "$runs" ]; do
		LD_DEBUG=statistics "$@" 2>&1 >/dev/null |
			sed -n 's/.*total startup time in dynamic loader: \([0-9]*\) cycles.*/\1/p' | head -1
		i=$((i + 1))
	done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

whole_ms() {
	command -v hyperfine >/dev/null || { echo "-"; return; }
	hyperfine -N --warmup 3 --runs "$runs" --export-json "$tmp/h.json" "$*" >/dev/null 2>&1
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.2f" % (r["mean"]*1e3))' "$tmp/h.json"
}

echo 'int main(void) { return 0; }' >"$tmp/empty.c"
cc -o "$tmp/empty" "$tmp/empty.c"
printf '%-22s %8s %14s %10s\n' "linked with" "objects" "loader cycles" "whole ms"
printf '%-22s %8s %14s %10s\n' "(nothing)" "$(ldd "$tmp/empty" | wc -l)" \
	"$(loader_cycles "$tmp/empty")" "$(whole_ms "$tmp/empty")"
for lib in $(readelf -d "$caliber" | sed -n 's/.*Shared library: \[lib\([^.]*\)\.so.*/\1/p'); do
	[ "$lib" = c ] && continue
	cc -o "$tmp/with-$lib" "$tmp/empty.c" -Wl,--no-as-needed -l"$lib"
	printf '%-22s %8s %14s %10s\n' "lib$lib" "$(ldd "$tmp/with-$lib" | wc -l)" \
		"$(loader_cycles "$tmp/with-$lib")" "$(whole_ms "$tmp/with-$lib")"
done
printf '%-22s %8s %14s %10s\n' "caliber --help" "$(ldd "$caliber" | wc -l)" \
	"$(loader_cycles "$caliber" --help)" "$(whole_ms "$caliber" --help)"
