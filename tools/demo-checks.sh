# demo-checks.sh: the assertions of the demo (tools/demo-local.sh), sourced.
# Each prints "ok: WHAT (value)" when it holds, and otherwise prints
# "demo: FAILED: WHAT: expected ..., got ..." on standard error and exits 1,
# so the demo stops at the first check that does not hold, saying which.
# tests/e2e/test_demo.py runs these functions on their own as well.

demo_fail() {
	printf 'demo: FAILED: %s\n' "$*" >&2
	exit 1
}

# expect WHAT ACTUAL WANT: ACTUAL is exactly WANT
expect() {
	if [ "$2" = "$3" ]; then
		printf 'ok: %s (%s)\n' "$1" "$2"
	else
		demo_fail "$1: expected '$3', got '$2'"
	fi
}

# expect_http WHAT URL STATUS TEXT [CURL_ARGS...]: GET URL answers STATUS
# with a body that contains TEXT; the body is left in $http_body
expect_http() {
	what=$1 url=$2 want_status=$3 want_text=$4
	shift 4
	http_body=""
	if ! http_status=$(curl -sS --max-time 10 -o "$work/http-body" -w '%{http_code}' "$@" "$url" 2>"$work/http-err"); then
		demo_fail "$what: GET $url failed: $(cat "$work/http-err")"
	fi
	http_body=$(cat "$work/http-body")
	if [ "$http_status" != "$want_status" ]; then
		demo_fail "$what: GET $url: expected HTTP $want_status, got $http_status: $(printf '%s' "$http_body" | head -c 300)"
	fi
	case $http_body in
	*"$want_text"*) ;;
	*) demo_fail "$what: GET $url: expected a body with '$want_text', got: $(printf '%s' "$http_body" | head -c 300)" ;;
	esac
	printf 'ok: %s (HTTP %s, %s)\n' "$what" "$http_status" "$(printf '%s' "$http_body" | tr -d '\n' | head -c 100)"
}
