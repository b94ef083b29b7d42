#!/usr/bin/env bash
# crossbuild.sh: the package and the CLI build and vet without cgo for the
# other systems and for 32-bit and big-endian Linux (docs/platforms.md).
#
# Building a target costs one build of the standard library for it (about
# 20 s of CPU with a cold build cache), so it builds and vets seven
# representative targets and the native one without cgo, and proves that
# each of the seven others would
# compile the same code against the same types: same files of ours
# (go list), same types of every system-call struct field the code reads
# (go doc of golang.org/x/sys/unix for that target), same pointer size and
# byte order. A stand-in that differs fails the run: add it to REPS.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=0

# representative targets
REPS="darwin/arm64 freebsd/amd64 windows/amd64 wasip1/wasm js/wasm linux/386 linux/mips linux/s390x"
# stand-in=representative
STANDS="darwin/amd64=freebsd/amd64 openbsd/amd64=freebsd/amd64 netbsd/amd64=freebsd/amd64
linux/arm=linux/386 linux/riscv64=linux/amd64 linux/ppc64le=linux/amd64"
# linux/amd64 here is the native build without cgo, which runs first.

# word size and byte order of each GOARCH used here (Go's architecture table)
arch() {
	case $1 in
	386 | arm) echo 32le ;;
	mips) echo 32be ;;
	s390x) echo 64be ;;
	*) echo 64le ;;
	esac
}

# signature TARGET: what decides whether our code compiles there. Only
# Linux files read Stat_t's Dev/Ino/Mode and Statfs_t (holders, space,
# limits); elsewhere only the CLI's os_unix.go reads Stat_t.Ctim.
signature() {
	local os=${1%/*} a=${1#*/} fields='Ctim|Sec|Nsec'
	[ "$os" = linux ] && fields='Dev|Ino|Mode|Ctim|Type|Bsize|Blocks|Bavail|Sec|Nsec'
	GOOS=$os GOARCH=$a go list -f '{{.ImportPath}}: {{join .GoFiles " "}}' . ./cmd/sharedarray
	for ty in Stat_t Statfs_t Timespec; do
		GOOS=$os GOARCH=$a go doc golang.org/x/sys/unix.$ty 2>/dev/null |
			grep -E "^\s+($fields)\s" | awk -v ty=$ty '{print ty, $1, $2}' | sort || true
	done
}

for s in $STANDS; do
	t=${s%%=*} r=${s#*=}
	if ! diff <(signature "$t") <(signature "$r") >/dev/null; then
		echo "crossbuild: $t no longer compiles what $r does:" >&2
		diff <(signature "$t") <(signature "$r") >&2 || true
		exit 1
	fi
	at=$(arch "${t#*/}") ar=$(arch "${r#*/}")
	if [ "$at" != "$ar" ]; then
		echo "crossbuild: $t is $at, its representative $r is $ar" >&2
		exit 1
	fi
	echo "crossbuild: $t is stood in for by $r (same files, same struct field types, $at)"
done

go build . ./cmd/...
go vet . ./cmd/...
go test -count=1 -run '^TestUnsupported$' .
# The tests are 64-bit Linux tests: elsewhere vet the files that build there
# (go list's GoFiles for that target), not the _test.go files.
for t in $REPS; do
	export GOOS=${t%/*} GOARCH=${t#*/}
	echo "crossbuild: $t"
	go build . ./cmd/...
	for pkg in . ./cmd/sharedarray; do
		go vet $(go list -f '{{range .GoFiles}}{{$.Dir}}/{{.}} {{end}}' $pkg)
	done
done
unset GOOS GOARCH

# big-endian at run time: TestUnsupported under qemu-s390x
if command -v qemu-s390x >/dev/null; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	GOARCH=s390x go test -c -o "$tmp/s390x.test" .
	rc=0
	qemu-s390x "$tmp/s390x.test" -test.count=1 -test.run '^TestUnsupported$' -test.v >"$tmp/log" 2>&1 || rc=$?
	tail -3 "$tmp/log"
	exit $rc
elif [ "${CI:-}" = true ]; then
	echo "crossbuild: FAIL: no qemu-s390x for the big-endian test (make arm64 installs qemu-user)" >&2
	exit 1
else
	echo "crossbuild: skipped the big-endian test: no qemu-s390x (make arm64 installs qemu-user)"
fi
