package shmatomic

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// A file mapping truncated and restored by another goroutine, over and
// over, while every operation runs on it under debug.SetPanicOnFault: a
// SIGBUS is a recovered panic, never the death of the process. Under the
// race detector sync/atomic fails this: the race runtime probes the
// address, then accesses it in C on the system stack, and a truncation
// between the two kills the process with "traceback did not unwind
// completely" (what made go test -race of the package flaky in
// TestRingOpenWhileTruncated). Without the race detector it checks that
// nothing else broke.
func TestFaultsRecoverable(t *testing.T) {
	if os.Getenv("SHAREDARRAY_NO_FAULT_ADDRESS") != "" {
		// qemu-user (make arm64) delivers SIGBUS without the address,
		// which the runtime then reports as a nil dereference.
		t.Skip("signals carry no fault address here (docs/platforms.md)")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "page"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const size = 4096
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	p32 := (*uint32)(unsafe.Pointer(&mem[64]))
	p64 := (*uint64)(unsafe.Pointer(&mem[128]))
	ops := []func(){
		func() { Load32(p32) },
		func() { Load64(p64) },
		func() { Store32(p32, 1) },
		func() { Store64(p64, 1) },
		func() { Add32(p32, 1) },
		func() { Add64(p64, 1) },
		func() { And32(p32, 1) },
		func() { Or32(p32, 2) },
	}
	faulted := make([]int, len(ops))
	try := func(op func()) (fault bool) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(interface{ Addr() uintptr }); !ok {
					panic(r)
				}
				fault = true
			}
		}()
		op()
		return false
	}

	var stop atomic.Bool
	done := make(chan error)
	go func() {
		var err error
		for err == nil && !stop.Load() {
			if err = f.Truncate(0); err == nil {
				err = f.Truncate(size)
			}
		}
		done <- err
	}()
	calls := 0
	for end := time.Now().Add(time.Second); time.Now().Before(end) || calls < 100000; calls++ {
		i := calls % len(ops)
		if try(ops[i]) {
			faulted[i]++
		}
	}
	stop.Store(true)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d calls; faults per operation: %v", calls, faulted)
	for i, n := range faulted {
		if n == 0 {
			t.Errorf("operation %d never faulted: the test did not test it", i)
		}
	}
}
