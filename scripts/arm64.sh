#!/usr/bin/env bash
# arm64.sh: cross-build the package, the CLI and the tests for linux/arm64
# with cgo, and run the tests under qemu-user. Installs its tools with
# apt-get (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user) when
# they are missing. Without apt-get (or root) it skips with the reason,
# except under CI=true, where it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
sysroot=/usr/aarch64-linux-gnu
have() { command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null && [ -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; }
unavailable() {
	if [ "${CI:-}" = true ]; then
		echo "arm64: FAIL: $1" >&2
		exit 1
	fi
	echo "arm64: skipped: $1"
	exit 0
}
if ! have; then
	command -v apt-get >/dev/null || unavailable "no aarch64 cross compiler or qemu-aarch64, and no apt-get to install them"
	[ "$(id -u)" = 0 ] || unavailable "no aarch64 cross compiler or qemu-aarch64, and apt-get needs root"
	echo "arm64: installing gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || unavailable "apt-get update failed"
	apt-get install -y -qq gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user >/dev/null ||
		unavailable "apt-get install failed"
	have || unavailable "installed, but the tools are still missing"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=aarch64-linux-gnu-gcc
go vet . ./cmd/... ./numtype
go build -o "$out/sharedarray" ./cmd/sharedarray
go test -c -o "$out/sharedarray.test" .
go test -c -o "$out/bigcopy.test" ./internal/bigcopy
go test -c -o "$out/cli.test" ./cmd/sharedarray
go test -c -o "$out/numtype.test" ./numtype
unset GOOS GOARCH CC
aarch64-linux-gnu-gcc -O2 -o "$out/faultaddr" scripts/faultaddr.c
qemu=(qemu-aarch64 -L "$sysroot")
echo "arm64: what a SIGBUS handler sees under qemu-aarch64:"
skip=()
if ! "${qemu[@]}" "$out/faultaddr"; then
	# Go's arm64 runtime takes the fault address from the signal context:
	# the tests that need it skip, saying why.
	export SHAREDARRAY_NO_FAULT_ADDRESS=1
	echo "arm64: the emulator leaves the context's fault address 0: the fault tests skip (docs/platforms.md)"
	# An example cannot skip itself: the ones that fault on purpose (named
	# Example..._truncated) are left out here, and listed.
	skip=(-test.skip '^Example.*_truncated$')
	echo "arm64: left out, they fault on purpose: $(grep -ho '^func Example[A-Za-z0-9_]*_truncated' ./*_test.go | sed 's/^func //' | tr '\n' ' ')"
fi
# One test at a time under the emulator: qemu-user can deadlock a child
# between fork and exec when other guest threads are busy (seen: the CLI
# tests' TestQuoteShellRoundTrip stuck until the 5-minute timeout while
# parallel tests ran); these runs are for arm64 correctness, not speed.
par=(-test.parallel 1)
# The tests re-run their own binary as helper processes: through qemu too.
export SHAREDARRAY_EMULATOR="${qemu[*]}"
log="$out/test.log"
status=0
(cd . && "${qemu[@]}" "$out/sharedarray.test" -test.count=1 -test.v -test.timeout=10m "${par[@]}" "${skip[@]}" >"$log" 2>&1) || { status=$?; echo "arm64: the package's tests failed"; }
# The large-copy path: Go's copy on arm64 (bigcopy.Fast is false there).
"${qemu[@]}" "$out/bigcopy.test" -test.count=1 -test.v >>"$log" 2>&1 || { status=$?; echo "arm64: internal/bigcopy's tests failed"; }
(cd cmd/sharedarray && "${qemu[@]}" "$out/cli.test" -test.count=1 -test.v -test.timeout=5m "${par[@]}" >>"$log" 2>&1) || { status=$?; echo "arm64: the CLI's tests failed"; }
(cd numtype && "${qemu[@]}" "$out/numtype.test" -test.count=1 -test.v -test.timeout=5m >>"$log" 2>&1) || { status=$?; echo "arm64: numtype's tests failed"; }
grep -E -B1 '^--- SKIP' "$log" | grep -v -E '^(--|=== RUN.*)$' || true
if [ "$status" != 0 ]; then
	grep -E -B30 '^(--- FAIL|panic:|fatal error:)' "$log" | grep -v -E '^(=== (RUN|PAUSE|CONT)|    --- PASS|--- PASS)' | tail -150
	echo "arm64: tests failed under qemu-aarch64" >&2
	exit 1
fi
echo "arm64: $(grep -c -- '--- PASS' "$log") passed, $(grep -c -- '--- FAIL' "$log") failed, $(grep -c -- '--- SKIP' "$log") skipped"
