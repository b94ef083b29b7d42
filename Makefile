# sharedarray: make demo, make test, make check. Everything a target needs is installed
# by the target itself (Go modules from the module proxy, Python virtual
# environments from PyPI under $(SHAREDARRAY_VENVS)).

GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
export SHAREDARRAY_VENVS ?= $(HOME)/.cache/sharedarray/venvs
# Fuzz budgets count executions: a duration races Go 1.26's fuzz
# coordinator at the deadline (golang/go#75804) and fails with no crasher.
FUZZTIME    ?= 200000x

.PHONY: all test check unit examples race lint crossbuild arm64 fuzz pycompat venvs wheel bench ringbench gobench demo clean

all: test

## test: what a newcomer runs to know it works here: lint, the unit tests
## under -race, the cross-language matrix against the real SharedArray builds.
test: lint race pycompat

## check: everything CI runs (.ci/run): test, then the linux/arm64 tests under
## qemu, the other platforms' builds, fuzzing, and the Python wheel.
check: test arm64 crossbuild fuzz wheel

## unit: the Go unit tests.
unit:
	$(GO) test -count=1 ./...

## examples: the examples that live in modules of their own (examples/gonum:
## gonum stays out of this module's requirements).
examples:
	cd examples/gonum && $(GO) test -count=1 ./... && $(GO) vet ./...

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
## fails with errors.ErrUnsupported (docs/platforms.md): seven representative
## targets built, seven more proved to compile the same code against the same
## types (scripts/crossbuild.sh). TestUnsupported runs without cgo natively and
## on big-endian linux/s390x under qemu-s390x (qemu-user, which make arm64
## installs; under CI=true a missing qemu-s390x fails).
crossbuild:
	bash scripts/crossbuild.sh

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

## wheel: python/ built as an sdist and a wheel (python -m build), installed
## into a fresh environment beside the real SharedArray, and the Go -> Python
## ring test run through it (scripts/wheel.sh).
wheel:
	bash scripts/wheel.sh

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

## clean: remove the test, demo and benchmark leftovers in /dev/shm of
## processes that are gone (a running test's segments stay: each name
## embeds its PID; scripts/cleanshm.sh), and build outputs.
clean:
	sh scripts/cleanshm.sh
	rm -rf bin
