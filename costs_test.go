//go:build linux && cgo && !(ppc64 || s390x || mips || mips64)

package sharedarray

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sharedarray/sharedarray/internal/cbench"
	"golang.org/x/sys/unix"
)

// TestPerCallCosts measures, alternating in one process, what each part of
// Create + Close + Delete costs against the same system calls in C: the
// figures in docs/performance.md ("Per-call overhead"). It is a
// measurement (in thread CPU time), not a check: it runs only with SHAREDARRAY_COSTS=1 and
// prints medians of 15 batches (SHAREDARRAY_COSTS_REPS=N: N) of 300.
//
//	SHAREDARRAY_COSTS=1 go test -run TestPerCallCosts -v .
func TestPerCallCosts(t *testing.T) {
	if os.Getenv("SHAREDARRAY_COSTS") == "" {
		t.Skip("a measurement: SHAREDARRAY_COSTS=1 runs it")
	}
	const ops = 300
	reps := 15
	if n, err := strconv.Atoi(os.Getenv("SHAREDARRAY_COSTS_REPS")); err == nil && n > 0 {
		reps = n
	}
	name := testName(t)
	shape := []int{10}
	size := int64(80 + LayoutDual.TrailerSize())
	goCycle := func(opts ...Option) func() error {
		return func() error {
			a, err := Create(name, shape, Float64, opts...)
			if err != nil {
				return err
			}
			a.Close()
			return Delete(name)
		}
	}
	createClose := func(name string) error {
		a, err := Create(name, shape, Float64, Sparse())
		if err == nil {
			err = a.Close()
		}
		return err
	}
	type variant struct {
		label string
		setup func()
		op    func() error
		times []time.Duration
	}
	noQuarantine := func() { flushQuarantineForTest(); quarantineMaps = 0 }
	vs := []*variant{
		{label: "go, sparse", op: goCycle(Sparse())},
		{label: "go, sparse, no quarantine", setup: noQuarantine, op: goCycle(Sparse())},
		{label: "c-same-work, sparse", op: func() error { return cbench.CreateCloseDeleteSafe(name, size, false) }},
		{label: "c, sparse", op: func() error { return cbench.CreateCloseDelete(name, size, false) }},
		{label: "go, reserved", op: goCycle()},
		{label: "c-same-work, reserved", op: func() error { return cbench.CreateCloseDeleteSafe(name, size, true) }},
		{label: "go Create+Close, sparse", op: func() error {
			a, err := Create(name, shape, Float64, Sparse())
			if err != nil {
				return err
			}
			a.Close()
			return os.Remove(shmDir + "/" + name)
		}},
		{label: "c-same-work Create+Close, sparse", op: func() error {
			if err := cbench.CreateCloseSafe(name, size, false); err != nil {
				return err
			}
			return os.Remove(shmDir + "/" + name)
		}},
		{label: "go Delete", op: func() error {
			if err := createClose(name); err != nil {
				return err
			}
			return Delete(name)
		}},
		{label: "c Delete, directory fd", op: func() error {
			if err := createClose(name); err != nil {
				return err
			}
			return cbench.DeleteSafe(name, false)
		}},
		{label: "c Delete, paths from AT_FDCWD", op: func() error {
			if err := createClose(name); err != nil {
				return err
			}
			return cbench.DeleteSafe(name, true)
		}},
	}
	runtime.LockOSThread() // the thread's CPU time is the goroutine's
	defer runtime.UnlockOSThread()
	saved := quarantineMaps
	defer func() { quarantineMaps = saved }()
	for rep := range reps {
		for k := range vs {
			v := vs[(rep+k)%len(vs)]
			flushQuarantineForTest()
			quarantineMaps = saved
			if v.setup != nil {
				v.setup()
			}
			t0 := threadCPU()
			for range ops {
				if err := v.op(); err != nil {
					t.Fatalf("%s: %v", v.label, err)
				}
			}
			v.times = append(v.times, (threadCPU()-t0)/ops)
		}
	}
	med := func(v *variant) time.Duration {
		s := slices.Clone(v.times)
		slices.Sort(s)
		return s[len(s)/2]
	}
	for _, v := range vs {
		t.Logf("%-34s %s", v.label, fmt.Sprintf("%6.2f µs", float64(med(v))/1e3))
	}
	// Each ratio is the median of the per-repetition ratios: the two
	// batches of a repetition ran close together.
	ratio := func(a, b int) {
		var r []float64
		for i := range vs[a].times {
			r = append(r, float64(vs[a].times[i])/float64(vs[b].times[i]))
		}
		slices.Sort(r)
		t.Logf("%s / %s: %.2f× (quartiles %.2f–%.2f)", vs[a].label, vs[b].label, r[len(r)/2], r[len(r)/4], r[3*len(r)/4])
	}
	ratio(0, 2)
	ratio(0, 3)
	ratio(1, 2)
	ratio(0, 1)
	ratio(4, 5)
	ratio(6, 7)
	ratio(8, 9)
	ratio(8, 10)
	ratio(10, 9)

	// The memory check of a Create of 64 MiB or more (statfs, the
	// cgroup's files, /proc/meminfo), alone.
	t0 := threadCPU()
	for range ops {
		if err := checkSpace(shmDir, 1<<30); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("memory check (checkSpace, 1 GiB): %.1f µs", float64((threadCPU()-t0)/ops)/1e3)
}

// threadCPU is the calling thread's CPU time (user and system): less
// disturbed than wall time by the other work of a shared machine, though
// it leaves out the Go runtime's other threads (GC, sysmon).
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}

// flushQuarantineForTest unmaps every quarantined reservation.
func flushQuarantineForTest() {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if vm.n > 0 {
		evictOldest(vm.n)
	}
}
