#!/bin/sh
# cleanshm.sh: remove the /dev/shm segments our tests, examples, benchmarks
# and demos leave behind, but only those of processes that are gone. Every
# such name embeds the PID of the process that made it
# (sharedarray-test-PID-..., sharedarray-test-cli-PID-...,
# sharedarray-test-py-PID-..., sharedarray-test-example-NAME-PID,
# sharedarray-bench-[ring-]PID-..., sharedarray-demo-PID-...): its first
# all-digit field (the last for sharedarray-test-example-*, whose PID ends
# the name). A name is kept while that process lives (a test of another
# checkout running now), and a name with no such field is kept and listed.
#
#	sh scripts/cleanshm.sh [dir]   (default /dev/shm)
dir=${1:-/dev/shm}
for f in "$dir"/sharedarray-test-* "$dir"/sharedarray-demo-* "$dir"/sharedarray-bench-*; do
	[ -e "$f" ] || continue
	base=${f##*/}
	case $base in
	sharedarray-test-example-*) pick='tail -n 1' ;;
	*) pick='head -n 1' ;;
	esac
	pid=$(printf '%s\n' "$base" | tr -- '-' '\n' | grep -E '^[0-9]+$' | $pick)
	if [ -z "$pid" ]; then
		echo "cleanshm: kept $base: no PID in its name" >&2
		continue
	fi
	if [ -d "/proc/$pid" ]; then
		echo "cleanshm: kept $base: process $pid is running" >&2
		continue
	fi
	rm -f -- "$f"
done
