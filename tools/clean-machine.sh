#!/bin/sh
# Remove what caliber leaves on a machine outside the checkout, so that CI
# (.ci/run) sees what a fresh machine sees:
#
#   - leftover local clouds: caliberd, its nginx (master and workers) and the
#     PostgreSQL servers it runs as 'caliber-db-<hash>' (one user per DB
#     instance, in the group 'caliber-db');
#   - /var/cache/caliber-edge (the edge workers' directories),
#     /tmp/caliber-task-addresses (the task address blocks' locks) and
#     /var/lib/caliber (database servers of local clouds whose home the
#     servers' user cannot reach);
#   - the system users and groups caliberd creates: 'caliber' (nginx's
#     workers), 'caliber-db' (the database servers' group) and the DB
#     instances' 'caliber-db-<hash>', and any other whose name starts with
#     'caliber-' and that is a system account (uid < 1000).
#
#   tools/clean-machine.sh            do it (root)
#   tools/clean-machine.sh --dry-run  print what it would do, change nothing
#
# It stops only processes that are caliber's: caliberd by its executable
# name, and processes owned by caliber's system users. Exit 0 when the
# machine is clean afterwards; 1, naming what is left, otherwise.
set -u
dry=0
case ${1:-} in
--dry-run) dry=1 ;;
"") ;;
*)
	echo "usage: tools/clean-machine.sh [--dry-run]" >&2
	exit 2
	;;
esac

run() {
	echo "clean-machine: $*"
	[ "$dry" -eq 1 ] || "$@"
}

users=$(awk -F: '($1 == "caliber" || $1 ~ /^caliber-/) && $3 < 1000 { print $1 }' /etc/passwd)
groups=$(awk -F: '($1 == "caliber" || $1 ~ /^caliber-/) && $3 < 1000 { print $1 }' /etc/group)

if [ "$dry" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
	if [ -n "$users$groups" ] || [ -e /var/cache/caliber-edge ] || [ -e /var/lib/caliber ]; then
		echo "clean-machine: caliber's machine-wide state is there and only root can remove it" >&2
		exit 1
	fi
	exit 0
fi

# caliberd first (a clean stop of its children), then what is left of it.
pids=$(pgrep -x caliberd || true)
if [ -n "$pids" ]; then
	run kill -TERM $pids
	if [ "$dry" -eq 0 ]; then
		i=0
		while [ $i -lt 100 ] && pgrep -x caliberd >/dev/null; do
			sleep 0.1
			i=$((i + 1))
		done
		pids=$(pgrep -x caliberd || true)
		[ -z "$pids" ] || run kill -KILL $pids
	fi
fi
# nginx masters run as root with caliber's prefix; workers and database
# servers run as caliber's users.
for pid in $(pgrep -x nginx || true); do
	if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -e '/edge' -e 'caliber'; then
		run kill -KILL "$pid"
	fi
done
for u in $users; do
	if pgrep -u "$u" >/dev/null 2>&1; then
		run pkill -KILL -u "$u"
	fi
done
if [ "$dry" -eq 0 ] && [ -n "$users" ]; then
	i=0
	for u in $users; do
		while [ $i -lt 100 ] && pgrep -u "$u" >/dev/null 2>&1; do
			sleep 0.1
			i=$((i + 1))
		done
	done
fi

for d in /var/cache/caliber-edge /var/lib/caliber /tmp/caliber-task-addresses; do
	[ ! -e "$d" ] || run rm -rf "$d"
done
for u in $users; do
	run userdel "$u"
done
for g in $groups; do
	# userdel removed a user's own group; others are removed here
	if [ "$dry" -eq 1 ] || getent group "$g" >/dev/null; then
		run groupdel "$g"
	fi
done

[ "$dry" -eq 0 ] || exit 0
left=""
for d in /var/cache/caliber-edge /var/lib/caliber /tmp/caliber-task-addresses; do
	[ ! -e "$d" ] || left="$left $d"
done
left="$left$(awk -F: '($1 == "caliber" || $1 ~ /^caliber-/) && $3 < 1000 { printf " user:%s", $1 }' /etc/passwd)"
if [ -n "$left" ]; then
	echo "clean-machine: still there:$left" >&2
	exit 1
fi
echo "clean-machine: no caliber state outside the checkout"
