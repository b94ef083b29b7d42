# sharedarray: make demo, make test. Everything a target needs is installed
# by the target itself (Go modules from the module proxy, Python virtual
# environments from PyPI under $(SHAREDARRAY_VENVS)).

GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
export SHAREDARRAY_VENVS ?= $(HOME)/.cache/sharedarray/venvs
# Fuzz budgets count executions: a duration races Go 1.26's fuzz
# coordinator at the deadline (golang/go#75804) and fails with no crasher.
FUZZTIME    ?= 200000x

.PHONY: all test unit race lint crossbuild arm64 fuzz pycompat venvs bench ringbench gobench demo clean

all: test

## test: everything CI runs: lint, the other platforms' builds, the arm64 tests, unit tests with -race, fuzzing, the Python matrix.
test: lint arm64 crossbuild race fuzz pycompat

## unit: the Go unit tests.
unit:
	$(GO) test -count=1 ./...

## race: the Go unit tests under the race detector.
race:
	$(GO) test -count=1 -race $$($(GO) list ./... | grep -v /pycompat_test)

## lint: gofmt, go vet and staticcheck.
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## crossbuild: the package and the CLI build and vet without cgo, for the other
## systems and for 32-bit and big-endian Linux, where every segment operation
## fails with errors.ErrUnsupported (docs/platforms.md). TestUnsupported runs
## without cgo natively and on big-endian linux/s390x under qemu-s390x
## (qemu-user, which make arm64 installs: run that first; under CI=true a
## missing qemu-s390x fails).
CROSS_TARGETS = darwin/amd64 darwin/arm64 freebsd/amd64 openbsd/amd64 netbsd/amd64 \
	windows/amd64 js/wasm wasip1/wasm linux/386 linux/arm linux/riscv64 \
	linux/ppc64le linux/s390x linux/mips
crossbuild:
	CGO_ENABLED=0 $(GO) build . ./cmd/...
	CGO_ENABLED=0 $(GO) vet . ./cmd/...
	CGO_ENABLED=0 $(GO) test -count=1 -run '^TestUnsupported$$' .
	# The tests are 64-bit Linux tests: elsewhere vet the files that build
	# there (go list's GoFiles for that target), not the _test.go files.
	for t in $(CROSS_TARGETS); do \
		export CGO_ENABLED=0 GOOS=$${t%/*} GOARCH=$${t#*/}; \
		echo "crossbuild: $$t"; \
		$(GO) build . ./cmd/... || exit 1; \
		for pkg in . ./cmd/sharedarray; do \
			$(GO) vet $$($(GO) list -f '{{range .GoFiles}}{{$$.Dir}}/{{.}} {{end}}' $$pkg) || exit 1; \
		done; \
	done
	@if command -v qemu-s390x >/dev/null; then \
		t=$$(mktemp -d) && trap 'rm -rf "$$t"' EXIT && \
		CGO_ENABLED=0 GOARCH=s390x $(GO) test -c -o $$t/s390x.test . || exit 1; \
		qemu-s390x $$t/s390x.test -test.count=1 -test.run '^TestUnsupported$$' -test.v >$$t/log 2>&1; \
		rc=$$?; tail -3 $$t/log; exit $$rc; \
	elif [ "$${CI:-}" = true ]; then \
		echo "crossbuild: FAIL: no qemu-s390x for the big-endian test (make arm64 installs qemu-user)" >&2; exit 1; \
	else \
		echo "crossbuild: skipped the big-endian test: no qemu-s390x (make arm64 installs qemu-user)"; \
	fi

## arm64: the package, CLI and tests cross-built for linux/arm64 with cgo, the
## tests run under qemu-aarch64 (installs its tools with apt-get).
arm64:
	bash scripts/arm64.sh

## fuzz: each fuzz target for $(FUZZTIME).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeTrailer$$' -fuzztime $(FUZZTIME) .
	$(GO) test -run '^$$' -fuzz '^FuzzParseName$$' -fuzztime $(FUZZTIME) .
	$(GO) test -run '^$$' -fuzz '^FuzzParseNPYHeader$$' -fuzztime $(FUZZTIME) .
	$(GO) test -run '^$$' -fuzz '^FuzzLocateCgroup$$' -fuzztime $(FUZZTIME) .

## venvs: the three SharedArray builds (3.0.0, 3.2.4/NumPy 1, 3.2.4/NumPy 2).
venvs:
	bash scripts/setup_venvs.sh

## pycompat: the cross-language matrix against the real SharedArray.
pycompat: venvs
	bash scripts/pycompat.sh

## bench: every operation against its C, Python and NumPy baselines (docs/performance.md).
bench:
	bash scripts/bench.sh

## ringbench: the frame-ring figures only (docs/ring.md §7): latency per
## language pair and wait mode beside C futex pairs and iceoryx2.
ringbench:
	bash scripts/ringbench.sh

## gobench: the Go benchmarks (go test -bench) beside their C baselines.
gobench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 .

## demo: Go and Python (real SharedArray) sharing arrays, step by step; then a
## frame ring streaming from a Go writer to a Python reader.
demo: venvs
	$(GO) run ./examples/demo
	$(GO) run ./examples/ringdemo

## clean: remove test leftovers in /dev/shm and build outputs.
clean:
	rm -f /dev/shm/sharedarray-test-* /dev/shm/sharedarray-demo-* /dev/shm/sharedarray-bench-*
	rm -rf bin
