package sharedarray

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// setQuarantine sets the quarantine's bounds for one test; maps 0 turns it
// off, so a closed range is unmapped at once and its address can be reused
// by the next mapping.
func setQuarantine(t *testing.T, maps int, bytes int64) {
	t.Helper()
	vm.mu.Lock()
	oldMaps, oldBytes := quarantineMaps, quarantineBytes
	quarantineMaps, quarantineBytes = maps, bytes
	vm.mu.Unlock()
	t.Cleanup(func() {
		vm.mu.Lock()
		quarantineMaps, quarantineBytes = oldMaps, oldBytes
		vm.mu.Unlock()
	})
}

// setMapLimit makes the package see vm.max_map_count as limit for one test.
func setMapLimit(t *testing.T, limit int) {
	t.Helper()
	vm.mu.Lock()
	old := maxMapCountFunc
	maxMapCountFunc = func() (int, error) { return limit, nil }
	vm.counted = time.Time{} // count again at the next mapping
	vm.mu.Unlock()
	t.Cleanup(func() {
		vm.mu.Lock()
		maxMapCountFunc = old
		vm.counted = time.Time{}
		vm.mu.Unlock()
	})
}

func allBytes(b []byte, v byte) bool {
	for _, c := range b {
		if c != v {
			return false
		}
	}
	return true
}

// filled creates a named array of n bytes, every one v.
func filled(t *testing.T, name string, n int, v byte) *Array {
	t.Helper()
	a, err := Create(name, []int{n}, Uint8)
	assert.NilError(t, err)
	b := a.Bytes()
	if len(b) > 0 {
		b[0] = v
		for n := 1; n < len(b); n *= 2 {
			copy(b[n:], b[:n])
		}
	}
	return a
}

// exportWriters are the writers WriteNPY is tested with: the file path
// (write(2) from the mapping) and the buffered path, with the consumer in
// this goroutine or in another one.
var exportWriters = []struct {
	name string
	// open returns the writer and a function that closes it and returns
	// everything that was written.
	open func(t *testing.T) (io.Writer, func() []byte)
}{
	{"buffer", func(t *testing.T) (io.Writer, func() []byte) {
		var b bytes.Buffer
		return &b, func() []byte { return b.Bytes() }
	}},
	{"file", func(t *testing.T) (io.Writer, func() []byte) {
		f, err := os.Create(filepath.Join(t.TempDir(), "x.npy"))
		assert.NilError(t, err)
		return f, func() []byte {
			f.Close()
			b, err := os.ReadFile(f.Name())
			assert.NilError(t, err)
			return b
		}
	}},
	{"io.Pipe", func(t *testing.T) (io.Writer, func() []byte) {
		r, w := io.Pipe()
		done := make(chan []byte)
		go func() { b, _ := io.ReadAll(r); done <- b }()
		return w, func() []byte { w.Close(); return <-done }
	}},
	{"os.Pipe", func(t *testing.T) (io.Writer, func() []byte) {
		r, w, err := os.Pipe()
		assert.NilError(t, err)
		done := make(chan []byte)
		go func() { b, _ := io.ReadAll(r); r.Close(); done <- b }()
		return w, func() []byte { w.Close(); return <-done }
	}},
	{"bufio", func(t *testing.T) (io.Writer, func() []byte) {
		var b bytes.Buffer
		w := bufio.NewWriterSize(&b, 4096)
		return w, func() []byte { w.Flush(); return b.Bytes() }
	}},
}

// Close racing every method: each call either works on the array's own
// data or fails with ErrClosed, and a Create right after Close (which,
// with the quarantine off, gets the same address) never leaks its bytes
// into an operation of the closed array. Run with -race.
func TestCloseRacesEveryMethod(t *testing.T) {
	for _, q := range []struct {
		name string
		maps int
	}{{"quarantine-off", 0}, {"quarantine-on", 1024}} {
		t.Run(q.name, func(t *testing.T) {
			setQuarantine(t, q.maps, 64<<30)
			closeRaces(t)
		})
	}
}

func closeRaces(t *testing.T) {
	const size = 1 << 20 // four export pieces
	rounds := 10
	methods := []struct {
		name string
		run  func(a *Array) error // an error other than ErrClosed fails
	}{
		{"metadata", func(a *Array) error {
			_ = a.Name() + a.String() + a.Dtype().Name() + a.Layout().String()
			if a.Len() != size || a.ndim() != 1 || len(a.Shape()) != 1 || len(a.Strides()) != 1 || !a.Writable() {
				return errors.New("metadata changed")
			}
			return nil
		}},
		{"Bytes", func(a *Array) error {
			if b := a.Bytes(); b != nil && len(b) != size {
				return fmt.Errorf("Bytes gave %d bytes", len(b))
			}
			return nil
		}},
		{"View", func(a *Array) error {
			v, err := View[uint8](a)
			if err == nil && len(v) != size {
				return fmt.Errorf("View gave %d elements", len(v))
			}
			return err
		}},
		{"ReadAt", func(a *Array) error {
			dst := make([]byte, size)
			n, err := a.ReadAt(dst, 0)
			if err == nil && (n != size || !allBytes(dst, 0xAA)) {
				return errors.New("ReadAt returned other bytes")
			}
			return err
		}},
		{"WriteAt", func(a *Array) error {
			_, err := a.WriteAt(bytes.Repeat([]byte{0xAA}, size), 0)
			return err
		}},
		{"Msync", func(a *Array) error { return a.Msync(MsyncSync) }},
		{"Mlock", func(a *Array) error {
			if err := a.Mlock(); err != nil {
				return err
			}
			return a.Munlock()
		}},
		{"SaveNPY", func(a *Array) error {
			path := filepath.Join(t.TempDir(), "a.npy")
			err := a.SaveNPY(path)
			if err == nil {
				b, rerr := os.ReadFile(path)
				if rerr != nil || len(b) < size || !allBytes(b[len(b)-size:], 0xAA) {
					return errors.New("SaveNPY wrote other bytes")
				}
			}
			return err
		}},
	}
	for _, w := range exportWriters {
		methods = append(methods, struct {
			name string
			run  func(a *Array) error
		}{"WriteNPY/" + w.name, func(a *Array) error {
			wr, finish := w.open(t)
			n, err := a.WriteNPY(wr)
			out := finish()
			hdr := len(npyHeader(Uint8, []int{size}))
			if int64(len(out)) != n && w.name != "bufio" {
				return fmt.Errorf("WriteNPY reported %d bytes, wrote %d", n, len(out))
			}
			if len(out) > hdr && !allBytes(out[hdr:], 0xAA) {
				return errors.New("WriteNPY wrote another array's bytes")
			}
			if err == nil && len(out) != hdr+size {
				return fmt.Errorf("WriteNPY wrote %d bytes and no error", len(out))
			}
			return err
		}})
	}
	reused := 0
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			var closedErrs, ok atomic.Int64
			for r := range rounds {
				a := filled(t, testName(t), size, 0xAA)
				addr := addrOf(a.Bytes())
				var wg sync.WaitGroup
				errs := make(chan error, 4)
				var stop atomic.Bool
				for range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for !stop.Load() {
							err := m.run(a)
							switch {
							case err == nil:
								ok.Add(1)
							case errors.Is(err, ErrClosed):
								closedErrs.Add(1)
								return
							default:
								errs <- err
								return
							}
						}
					}()
				}
				time.Sleep(time.Duration(r%4) * 500 * time.Microsecond)
				assert.NilError(t, a.Close())
				// Another array, quite possibly at the same address.
				b := filled(t, testName(t), size, 0xBB)
				if addrOf(b.Bytes()) == addr {
					reused++
				}
				time.Sleep(time.Millisecond)
				stop.Store(true)
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
				b.Close()
				Delete(a.Name())
				Delete(b.Name())
			}
			t.Logf("%d calls worked, %d failed with ErrClosed", ok.Load(), closedErrs.Load())
		})
	}
	t.Logf("the next array landed at the closed one's address in %d of %d rounds", reused, rounds*len(methods))
	switch {
	case quarantineMaps == 0 && len(emulator) > 0:
		// qemu-user places guest mappings itself and did not reuse
		// addresses: the lock is still exercised, the reuse is not.
	case quarantineMaps == 0:
		assert.Assert(t, reused > 0, "the address-reuse case never happened; the test proves nothing")
	default:
		assert.Equal(t, reused, 0, "a quarantined range was reused")
	}
}

// Close during a long guarded operation (64 MiB): Close waits for it, so
// it either completes on the array's own bytes or fails with ErrClosed,
// never with a fault or another array's data.
func TestCloseWaitsForOperation(t *testing.T) {
	setQuarantine(t, 0, 0) // let the next array take the address
	const size = 64 << 20
	src, dst := bytes.Repeat([]byte{0xAA}, size), make([]byte, size)
	var out bytes.Buffer
	out.Grow(size + 4096)
	ops := []struct {
		name string
		file bool
		run  func(a *Array) error
	}{
		{"ReadAt", false, func(a *Array) error {
			clear(dst)
			_, err := a.ReadAt(dst, 0)
			if err == nil && !allBytes(dst, 0xAA) {
				return errors.New("ReadAt returned other bytes")
			}
			return err
		}},
		{"WriteAt", false, func(a *Array) error {
			_, err := a.WriteAt(src, 0)
			return err
		}},
		{"Msync", true, func(a *Array) error { return a.Msync(MsyncSync) }},
		{"WriteNPY", false, func(a *Array) error {
			out.Reset()
			_, err := a.WriteNPY(&out)
			if out.Len() > 128 && !allBytes(out.Bytes()[128:], 0xAA) {
				return errors.New("WriteNPY wrote other bytes")
			}
			return err
		}},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			var worked, closed int
			for i := range 5 {
				name := testName(t)
				if op.file {
					name = "file://" + filepath.Join(t.TempDir(), "a")
				}
				a := filled(t, name, size, 0xAA)
				started, done := make(chan struct{}), make(chan error)
				go func() { close(started); done <- op.run(a) }()
				<-started
				time.Sleep(time.Duration(i) * time.Millisecond)
				assert.NilError(t, a.Close())
				b := filled(t, testName(t), size, 0xBB)
				err := <-done
				switch {
				case err == nil:
					worked++
				case errors.Is(err, ErrClosed):
					closed++
				default:
					t.Error(err)
				}
				b.Close()
				Delete(b.Name())
				Delete(name)
			}
			t.Logf("%d completed, %d failed with ErrClosed", worked, closed)
		})
	}
}

// Close waits for a guarded operation in progress: a WriteNPY into a
// writer that blocks holds Close off only for the copy of one piece, not
// for the writer's Write; and a file export holds Close for at most one
// write(2).
func TestCloseDuringSlowExport(t *testing.T) {
	t.Parallel()
	a := filled(t, testName(t), 4<<20, 0xAA)
	release := make(chan struct{})
	first := make(chan struct{})
	var got bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) {
		if got.Len() > 0 && got.Len() < 1<<20 && got.Len()+len(p) >= 1<<20 {
			close(first)
			<-release // a slow consumer
		}
		return got.Write(p)
	})
	done := make(chan error)
	go func() { _, err := a.WriteNPY(w); done <- err }()
	<-first
	closed := make(chan error)
	go func() { closed <- a.Close() }()
	select {
	case err := <-closed:
		assert.NilError(t, err, "Close does not wait for the writer")
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for a blocked writer")
	}
	c := filled(t, testName(t), 4<<20, 0xCC) // may land where a was
	defer c.Close()
	close(release)
	err := <-done
	assert.Assert(t, errors.Is(err, ErrClosed), "%v", err)
	hdr := len(npyHeader(Uint8, []int{4 << 20}))
	assert.Assert(t, allBytes(got.Bytes()[hdr:], 0xAA), "only the closed array's bytes")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// A writer that panics, or closes the array from inside Write, leaves no
// lock held: Close and other methods go on.
func TestExportWriterMisbehaves(t *testing.T) {
	t.Parallel()
	a := filled(t, testName(t), 1<<20, 0xAA)
	calls := 0
	func() {
		defer func() { assert.Equal(t, recover(), "writer panic") }()
		a.WriteNPY(writerFunc(func(p []byte) (int, error) {
			if calls++; calls == 2 {
				panic("writer panic")
			}
			return len(p), nil
		}))
	}()
	_, err := a.ReadAt(make([]byte, 10), 0)
	assert.NilError(t, err)

	n, err := a.WriteNPY(writerFunc(func(p []byte) (int, error) {
		return len(p) + 1, nil // lies
	}))
	assert.Assert(t, errors.Is(err, io.ErrShortWrite), "%v", err)
	assert.Assert(t, n <= int64(len(npyHeader(Uint8, []int{1 << 20}))+1))

	// Close from inside Write: no deadlock, and the export stops.
	var out bytes.Buffer
	n, err = a.WriteNPY(writerFunc(func(p []byte) (int, error) {
		if out.Len() > 0 {
			assert.NilError(t, a.Close())
		}
		return out.Write(p)
	}))
	assert.Assert(t, errors.Is(err, ErrClosed), "%v", err)
	assert.Equal(t, n, int64(out.Len()))
	done := make(chan struct{})
	go func() { a.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked after a panicking writer")
	}
}

// An OnProgress callback that closes the array stops SaveNPY with
// ErrClosed (the callback runs with the mapping released), and the
// target is left as it was.
func TestSaveNPYProgressCloses(t *testing.T) {
	t.Parallel()
	a := filled(t, testName(t), 20<<20, 0xAA)
	path := filepath.Join(t.TempDir(), "a.npy")
	assert.NilError(t, os.WriteFile(path, []byte("old"), 0o644))
	err := a.SaveNPY(path, OnProgress(func(n int64) {
		if n > 1<<20 {
			assert.NilError(t, a.Close())
		}
	}))
	assert.Assert(t, errors.Is(err, ErrClosed), "%v", err)
	b, rerr := os.ReadFile(path)
	assert.NilError(t, rerr)
	assert.Equal(t, string(b), "old")
}

// A writer that keeps the slices it was given (io.Writer forbids it) holds
// copies, never the mapping: after Close, and another array mapped at the
// same address, they still read the closed array's bytes, without a fault.
func TestExportRetainingWriter(t *testing.T) {
	setQuarantine(t, 0, 0)
	a := filled(t, testName(t), 3<<20, 0xAA)
	addr := addrOf(a.Bytes())
	var kept [][]byte
	_, err := a.WriteNPY(writerFunc(func(p []byte) (int, error) {
		kept = append(kept, p)
		return len(p), nil
	}))
	assert.NilError(t, err)
	assert.NilError(t, a.Close())
	b := filled(t, testName(t), 3<<20, 0xBB)
	defer b.Close()
	t.Logf("next array at the same address: %v", addrOf(b.Bytes()) == addr)
	for _, p := range kept[1:] {
		assert.Assert(t, allBytes(p, 0xAA))
	}
}

// A truncation by another process during an export is an error matching
// ErrFault for every kind of writer, including a consumer in another
// goroutine (io.Pipe), never a dead process; a slow consumer too.
func TestExportTruncatedAnyWriter(t *testing.T) {
	t.Parallel()
	skipIfNoFaultAddress(t)
	slow := struct {
		name string
		open func(t *testing.T) (io.Writer, func() []byte)
	}{"slow", func(t *testing.T) (io.Writer, func() []byte) {
		var b bytes.Buffer
		return writerFunc(func(p []byte) (int, error) {
			time.Sleep(time.Millisecond)
			return b.Write(p)
		}), func() []byte { return b.Bytes() }
	}}
	for _, w := range append(exportWriters, slow) {
		for _, when := range []string{"before", "during"} {
			t.Run(w.name+"/"+when, func(t *testing.T) {
				name := testName(t)
				const size = 16 << 20
				a := filled(t, name, size, 0xAA)
				defer a.Close()
				wr, finish := w.open(t)
				// truncate -c: never create the file. The truncation
				// "during" the export runs in another goroutine, which
				// the test waits for before it returns: when the export
				// finished first (the subtest is skipped), a truncate
				// without -c, still to come, recreated the removed name
				// after the cleanup and left an 8192-byte file in
				// /dev/shm.
				truncated := make(chan struct{})
				if when == "before" {
					out, err := runCmd("truncate", "-c", "-s", "8192", shmDir+"/"+name)
					assert.NilError(t, err, "%s", out)
					close(truncated)
				} else { // another process truncates once the export is under way
					go func() {
						defer close(truncated)
						time.Sleep(2 * time.Millisecond)
						runCmd("truncate", "-c", "-s", "8192", shmDir+"/"+name)
					}()
				}
				_, err := a.WriteNPY(wr)
				out := finish()
				<-truncated
				if when == "during" && err == nil {
					t.Skip("the export finished before the truncation")
				}
				assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
				hdr := len(npyHeader(Uint8, []int{size}))
				if len(out) > hdr {
					assert.Assert(t, allBytes(out[hdr:min(len(out), hdr+8192)], 0xAA))
				}
			})
		}
	}
}

func runCmd(name string, args ...string) ([]byte, error) {
	return osexec.Command(name, args...).CombinedOutput()
}

// A slice kept past Close faults (SIGSEGV) instead of writing into the
// array mapped next; shown in a child process. The next array is intact.
func TestStaleSliceFaults(t *testing.T) {
	t.Parallel()
	skipIfNoFaultAddress(t)
	for _, how := range []string{"bytes", "view", "read"} {
		t.Run(how, func(t *testing.T) {
			a, b := testName(t), testName(t)
			out, err := child(fmt.Sprintf("stale-%s %s %s", how, a, b)).CombinedOutput()
			assertFaulted(t, err, out, "SIGSEGV")
			assert.Assert(t, !strings.Contains(string(out), "stale access returned"), "%s", out)
			arr, err := Attach(b)
			assert.NilError(t, err)
			defer arr.Close()
			assert.Assert(t, allBytes(arr.Bytes(), 0), "the next array was not written")
		})
	}
}

// lifetimeChild runs the child helpers of this file (see runChild).
//
//	stale-bytes A B   create A, keep Bytes, Close, create B, write the slice
//	stale-view A B    the same with a View[float64]
//	stale-read A B    the same, reading
//	map-exhaust NAME  attach NAME until refused, then grow the runtime
func lifetimeChild(f []string) (int, bool) {
	switch f[0] {
	case "stale-bytes", "stale-view", "stale-read":
		a, err := Create(f[1], []int{512}, Float64)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3, true
		}
		defer Delete(f[1])
		stale := a.Bytes()
		view, _ := View[float64](a)
		a.Close()
		b, err := Create(f[2], []int{512}, Float64)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3, true
		}
		fmt.Fprintf(os.Stderr, "closed at %#x, next array at %#x\n", addrOf(stale), addrOf(b.Bytes()))
		switch f[0] {
		case "stale-bytes":
			stale[8] = 1
		case "stale-view":
			view[1] = 1
		case "stale-read":
			fmt.Fprintln(os.Stderr, "stale access returned", stale[8])
		}
		fmt.Fprintln(os.Stderr, "stale access returned")
		return 0, true
	case "rlimit-as":
		// Address space for the process as it is plus 1 GiB, then 4 GiB
		// of arrays created and closed 256 MiB at a time: the quarantine
		// must give way.
		limit := uint64(vmSizeOf()) + 1<<30
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3, true
		}
		for i := range 16 {
			a, err := Create(f[1], []int{256 << 20}, Uint8, Sparse())
			if err != nil {
				fmt.Fprintln(os.Stderr, "create", i, err)
				return 8, true
			}
			a.Close()
			Delete(f[1])
		}
		fmt.Println("16 arrays of 256 MiB under RLIMIT_AS")
		return 0, true
	case "mlock-limit":
		// As nobody (no CAP_IPC_LOCK), under an RLIMIT_MEMLOCK of 64 KiB,
		// lock a 1 MiB array: the error must name the limit.
		if err := syscall.Setrlimit(rlimitMemlock, &syscall.Rlimit{Cur: 64 << 10, Max: 64 << 10}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3, true
		}
		a, err := Attach(f[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3, true
		}
		err = a.Mlock()
		fmt.Println(err)
		if !errors.Is(err, syscall.ENOMEM) || !strings.Contains(err.Error(), "RLIMIT_MEMLOCK (65536 bytes") {
			return 7, true
		}
		return 0, true
	case "map-exhaust":
		n := 0
		var err error
		for {
			if _, err = Attach(f[1]); err != nil {
				break
			}
			n++
		}
		fmt.Printf("%d attaches, then: %v\n", n, err)
		if !errors.Is(err, syscall.ENOMEM) || !strings.Contains(err.Error(), "vm.max_map_count") {
			return 7, true
		}
		// The runtime still has room: grow the heap and start threads.
		var keep [][]byte
		for range 256 {
			keep = append(keep, make([]byte, 1<<20))
		}
		var wg sync.WaitGroup
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				time.Sleep(10 * time.Millisecond)
				keep := make([]byte, 1<<20)
				_ = keep
			}()
		}
		wg.Wait()
		runtime.GC()
		fmt.Printf("runtime fine: %d MiB kept\n", len(keep))
		return 0, true
	}
	return 0, false
}

// Many Create/Close cycles keep the process's mappings and address space
// bounded: the quarantine keeps at most quarantineMaps ranges and about
// quarantineBytes of address space.
func TestQuarantineBounded(t *testing.T) {
	maps0 := processMaps(t)
	cycles := 3 * quarantineMaps
	name := testName(t)
	for i := range cycles {
		a, err := Create(name, []int{i%64 + 1}, Float64)
		assert.NilError(t, err)
		assert.NilError(t, a.Close())
		assert.NilError(t, Delete(name))
	}
	maps1 := processMaps(t)
	t.Logf("%d cycles: %d mappings before, %d after (quarantine: %d)", cycles, maps0, maps1, quarantineMaps)
	assert.Assert(t, maps1-maps0 <= quarantineMaps+64, "%d -> %d", maps0, maps1)

	// Address space: 40 closes of 64 MiB (2.5 GiB) with a 256 MiB budget.
	setQuarantine(t, 1024, 256<<20)
	vsz0 := vmSize(t)
	for range 40 {
		a, err := Create(name, []int{64 << 20}, Uint8, Sparse())
		assert.NilError(t, err)
		assert.NilError(t, a.Close())
		assert.NilError(t, Delete(name))
	}
	vsz1 := vmSize(t)
	t.Logf("40 closes of 64 MiB: VmSize %d MiB -> %d MiB", vsz0>>20, vsz1>>20)
	assert.Assert(t, vsz1-vsz0 <= 256<<20+128<<20, "%d -> %d", vsz0, vsz1)

	// A range larger than the whole budget is kept alone.
	a, err := Create(name, []int{300 << 20}, Uint8, Sparse())
	assert.NilError(t, err)
	stale := a.Bytes()
	assert.NilError(t, a.Close())
	assert.NilError(t, Delete(name))
	assert.Assert(t, quarantined(addrOf(stale)))
	vm.mu.Lock()
	kept := vm.n
	vm.mu.Unlock()
	assert.Equal(t, kept, 1)
}

// processMaps counts every mapping of this process.
func processMaps(t *testing.T) int {
	n, err := countProcessMaps()
	assert.NilError(t, err)
	return n
}

func vmSize(t *testing.T) int64 {
	n := vmSizeOf()
	assert.Assert(t, n > 0, "no VmSize")
	return n
}

// vmSizeOf returns the process's address space (VmSize), 0 if unknown.
func vmSizeOf() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmSize:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Quarantined reservations count against RLIMIT_AS: under a limit the
// quarantine keeps at most an eighth of it and gives way when a mapping
// does not fit, so closed arrays never make a new one fail.
func TestQuarantineUnderRlimitAS(t *testing.T) {
	t.Parallel()
	if raceEnabled || len(emulator) > 0 {
		t.Skip("the race detector and qemu reserve address space of their own")
	}
	name := testName(t)
	out, err := child("rlimit-as " + name).CombinedOutput()
	assert.NilError(t, err, "%s", out)
	assert.Assert(t, strings.Contains(string(out), "16 arrays"), "%s", out)
}

// After Close the range is an inaccessible reservation with no file, and
// the next mapping lands elsewhere.
func TestCloseLeavesReservation(t *testing.T) {
	a := filled(t, testName(t), 1<<20, 0xAA)
	addr := addrOf(a.Bytes())
	assert.NilError(t, a.Close())
	b := filled(t, testName(t), 1<<20, 0xBB)
	defer b.Close()
	assert.Assert(t, addrOf(b.Bytes()) != addr)
	maps, err := os.ReadFile("/proc/self/maps")
	assert.NilError(t, err)
	found := false
	for _, line := range strings.Split(string(maps), "\n") {
		var lo, hi uintptr
		var perm string
		if _, err := fmt.Sscanf(line, "%x-%x %s", &lo, &hi, &perm); err != nil {
			continue
		}
		if lo <= addr && addr < hi {
			found = true
			assert.Equal(t, perm, "---p", "%s", line)
			assert.Assert(t, !strings.Contains(line, shmDir), "%s", line)
		}
	}
	assert.Assert(t, found, "the range is still reserved")
	assert.Assert(t, a.Bytes() == nil)
	_, err = View[uint8](a)
	assert.Assert(t, errors.Is(err, ErrClosed))
	for _, err := range []error{a.Msync(MsyncSync), a.Mlock(), a.Munlock(), a.SaveNPY(filepath.Join(t.TempDir(), "x"))} {
		assert.Assert(t, errors.Is(err, ErrClosed), "%v", err)
	}
	_, err = a.WriteNPY(io.Discard)
	assert.Assert(t, errors.Is(err, ErrClosed), "%v", err)
}

// A slice of a closed array handed to a guarded copy is reported as
// ErrClosed, not as a truncation.
func TestGuardedStaleSliceIsErrClosed(t *testing.T) {
	t.Parallel()
	skipIfNoFaultAddress(t)
	a := filled(t, testName(t), 1<<16, 0xAA)
	stale := a.Bytes()
	assert.NilError(t, a.Close())
	b := filled(t, testName(t), 1<<16, 0xBB)
	defer b.Close()
	_, err := b.WriteAt(stale, 0)
	assert.Assert(t, errors.Is(err, ErrClosed), "%v", err)
	assert.Assert(t, !errors.Is(err, ErrFault), "%v", err)
	_, err = b.ReadAt(stale, 0)
	assert.Assert(t, errors.Is(err, ErrClosed), "%v", err)
	assert.Assert(t, allBytes(b.Bytes(), 0xBB))
}

// Near vm.max_map_count, Create and Attach fail with an error naming the
// limit and how to raise it, and leave the runtime its headroom; closing
// arrays makes room again.
func TestMapLimit(t *testing.T) {
	flushQuarantine()
	base := processMaps(t)
	limit := base + 40 + 64 // headroom is 64 at such a limit
	setMapLimit(t, limit)
	name := testName(t)
	var arrays []*Array
	defer func() {
		for _, a := range arrays {
			a.Close()
		}
	}()
	var err error
	for range 200 {
		var a *Array
		if a, err = Create(fmt.Sprintf("%s-%d", name, len(arrays)), []int{8}, Float64); err != nil {
			break
		}
		t.Cleanup(func() { Delete(a.Name()) })
		arrays = append(arrays, a)
	}
	t.Logf("%d arrays, then: %v", len(arrays), err)
	assert.Assert(t, errors.Is(err, syscall.ENOMEM), "%v", err)
	assert.Assert(t, strings.Contains(err.Error(), fmt.Sprintf("vm.max_map_count is %d", limit)), "%v", err)
	assert.Assert(t, strings.Contains(err.Error(), "sysctl -w vm.max_map_count=262144"), "%v", err)
	assert.Assert(t, len(arrays) >= 20 && len(arrays) <= 40, "%d", len(arrays))
	_, serr := os.Stat(fmt.Sprintf("%s/%s-%d", shmDir, name, len(arrays)))
	assert.Assert(t, os.IsNotExist(serr), "the refused Create left nothing")
	_, err = Attach(arrays[0].Name())
	assert.Assert(t, errors.Is(err, syscall.ENOMEM), "%v", err)
	_, err = LoadNPYFrom(name+"-npy", bytes.NewReader(npyOf(t, arrays[0])))
	assert.Assert(t, errors.Is(err, syscall.ENOMEM), "%v", err)

	// Closing one makes room for one (its reservation is given up).
	assert.NilError(t, arrays[0].Close())
	b, err := Attach(arrays[1].Name())
	assert.NilError(t, err)
	b.Close()
}

func npyOf(t *testing.T, a *Array) []byte {
	var b bytes.Buffer
	_, err := a.WriteNPY(&b)
	assert.NilError(t, err)
	return b.Bytes()
}

// The real limit, in a child process: attaching until refused gives the
// error, and the Go runtime can still grow afterwards (without the check it
// dies with "fatal error: out of memory").
func TestMapLimitChild(t *testing.T) {
	t.Parallel()
	limit, err := readMaxMapCount()
	assert.NilError(t, err)
	if limit > 262144 {
		t.Skipf("vm.max_map_count is %d: too many mappings to make in a test", limit)
	}
	if len(emulator) > 0 {
		t.Skipf("under %s the limit counts the emulator's own mappings, which the child cannot see", strings.Join(emulator, " "))
	}
	name := testName(t)
	a := mustCreate(t, name, []int{1}, Uint8)
	a.Close()
	out, err := child("map-exhaust " + name).CombinedOutput()
	t.Logf("%s", out)
	assert.NilError(t, err, "%s", out)
	assert.Assert(t, strings.Contains(string(out), "runtime fine"), "%s", out)
}

// The cost of counting the process's mappings, done at most once a second
// by Create and Attach (and when near the limit).
func BenchmarkCountProcessMaps(b *testing.B) {
	for _, extra := range []int{0, 10000} {
		b.Run(fmt.Sprintf("+%d", extra), func(b *testing.B) {
			var arrays []*Array
			if extra > 0 {
				name := testName(b)
				a, err := Create(name, []int{1}, Uint8)
				if err != nil {
					b.Fatal(err)
				}
				arrays = append(arrays, a)
				defer Delete(name)
				for range extra {
					c, err := Attach(name)
					if err != nil {
						b.Fatal(err)
					}
					arrays = append(arrays, c)
				}
			}
			defer func() {
				for _, a := range arrays {
					a.Close()
				}
			}()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := countProcessMaps(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCloseQuarantine: Attach + Close with the quarantine (Close
// reserves the range, and past the bound unmaps the oldest one) and
// without it (Close unmaps), in one run.
func BenchmarkCloseQuarantine(b *testing.B) {
	name := testName(b)
	a, err := Create(name, []int{10}, Float64)
	if err != nil {
		b.Fatal(err)
	}
	a.Close()
	defer Delete(name)
	for _, q := range []struct {
		label string
		maps  int
	}{{"on", 1024}, {"off", 0}} {
		b.Run(q.label, func(b *testing.B) {
			vm.mu.Lock()
			old := quarantineMaps
			quarantineMaps = q.maps
			vm.mu.Unlock()
			defer func() {
				vm.mu.Lock()
				quarantineMaps = old
				vm.mu.Unlock()
			}()
			b.ReportAllocs()
			for b.Loop() {
				a, err := Attach(name)
				if err != nil {
					b.Fatal(err)
				}
				a.Close()
			}
		})
	}
}

// SaveNPY writes to its file straight from the mapping, OnProgress or
// not: one report per 8 MiB chunk (plus the header), not one per 256 KiB
// piece of the buffered path; the last report is the file's size.
func TestSaveNPYProgressDirect(t *testing.T) {
	t.Parallel()
	a := filled(t, testName(t), 20<<20, 0xAA)
	defer a.Close()
	path := filepath.Join(t.TempDir(), "a.npy")
	var reports []int64
	assert.NilError(t, a.SaveNPY(path, OnProgress(func(n int64) { reports = append(reports, n) })))
	st, err := os.Stat(path)
	assert.NilError(t, err)
	assert.Equal(t, len(reports), 4, "%v", reports)
	assert.Equal(t, reports[len(reports)-1], st.Size())
	for i := 1; i < len(reports); i++ {
		assert.Assert(t, reports[i] > reports[i-1], "%v", reports)
	}
}

// A writer that takes part of the header, or lies about it, is an error
// (io.ErrShortWrite), as it is for the data: never a nil error on an
// export missing bytes. The count returned is never more than the writer
// took, never negative.
func TestExportHeaderShortWrite(t *testing.T) {
	t.Parallel()
	a := filled(t, testName(t), 4096, 0xAA)
	defer a.Close()
	for _, c := range []struct {
		name string
		n    func(p []byte) int
		want int64
	}{
		{"short", func(p []byte) int { return 3 }, 3},
		{"zero", func(p []byte) int { return 0 }, 0},
		{"too many", func(p []byte) int { return len(p) + 100 }, 0},
		{"negative", func(p []byte) int { return -5 }, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			n, err := a.WriteNPY(writerFunc(func(p []byte) (int, error) {
				if calls++; calls == 1 {
					return c.n(p), nil
				}
				return len(p), nil
			}))
			assert.Assert(t, errors.Is(err, io.ErrShortWrite), "%v", err)
			assert.Equal(t, n, c.want)
			assert.Equal(t, calls, 1, "the export went on after a short header")
			var pe *fs.PathError
			assert.Assert(t, errors.As(err, &pe) && pe.Op == "export" && pe.Path == a.Name(), "%v", err)
		})
	}
}

// A fault in the caller's slice (read-only memory, or another mapping
// truncated) is not blamed on this array's mapping: the error matches
// ErrFault and says which slice; a fault in the mapping names its address,
// not a "nil pointer dereference".
func TestGuardFaultOutsideMapping(t *testing.T) {
	t.Parallel()
	skipIfNoFaultAddress(t)
	name := testName(t)
	a := filled(t, name, 8192, 0xAA)
	defer a.Close()
	ro, err := Attach(name, ReadOnly())
	assert.NilError(t, err)
	defer ro.Close()
	_, err = a.ReadAt(ro.Bytes(), 0)
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
	assert.Assert(t, !errors.Is(err, ErrClosed), "%v", err)
	assert.ErrorContains(t, err, "in the destination slice, outside this array's mapping")

	// A source slice from another array that another process truncated.
	other := testName(t)
	b := filled(t, other, 64<<10, 0xBB)
	defer b.Close()
	assert.NilError(t, os.Truncate(shmDir+"/"+other, 4096))
	_, err = a.WriteAt(b.Bytes()[8192:], 0)
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
	assert.ErrorContains(t, err, "in the source slice")

	// A fault in the array's own mapping.
	_, err = b.ReadAt(make([]byte, 64<<10), 0)
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
	assert.ErrorContains(t, err, "memory fault in the mapping")
	assert.Assert(t, !strings.Contains(err.Error(), "nil pointer"), "%v", err)
	_, err = b.WriteNPY(io.Discard)
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
	assert.Assert(t, !strings.Contains(err.Error(), "nil pointer"), "%v", err)
}

// vmLocked returns the process's locked memory (VmLck), in bytes.
func vmLocked(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	assert.NilError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmLck:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			assert.NilError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmLck in /proc/self/status")
	return 0
}

// Mlock locks the data pages only, not the page holding the trailer;
// Munlock and Close unlock them.
func TestMlockDataOnlyCloseUnlocks(t *testing.T) {
	page := os.Getpagesize()
	a := filled(t, testName(t), 3*page, 1) // the trailer is on a fourth page
	before := vmLocked(t)
	assert.NilError(t, a.Mlock())
	assert.Equal(t, vmLocked(t)-before, 3*page)
	assert.NilError(t, a.Munlock())
	assert.Equal(t, vmLocked(t), before)
	assert.NilError(t, a.Mlock())
	assert.NilError(t, a.Close())
	assert.Equal(t, vmLocked(t), before, "Close did not unlock")
}

// Mlock past RLIMIT_MEMLOCK (a child as nobody, without CAP_IPC_LOCK)
// fails with ENOMEM and an error naming the limit.
func TestMlockRlimit(t *testing.T) {
	name := testName(t)
	mustCreate(t, name, []int{1 << 20}, Uint8, WithPerm(0o666))
	assert.NilError(t, os.Chmod(shmDir+"/"+name, 0o666))
	assert.Equal(t, asNobody(t, "mlock-limit "+name), 0)
}

// mapsEntry returns the /proc/self/maps line of the mapping holding addr,
// or "".
func mapsEntry(t *testing.T, addr uintptr) string {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	assert.NilError(t, err)
	for _, line := range strings.Split(string(maps), "\n") {
		var lo, hi uintptr
		if _, err := fmt.Sscanf(line, "%x-%x", &lo, &hi); err == nil && lo <= addr && addr < hi {
			return line
		}
	}
	return ""
}

// The quarantine's guarantee, exactly as documented: a closed range stays
// reserved (PROT_NONE, no file) while fewer than quarantineMaps ranges have
// been closed after it, and while it and the later ones fit the address
// space budget; past the budget the oldest go.
func TestQuarantineKeepsRecent(t *testing.T) {
	reserved := func(addr uintptr) bool {
		line := mapsEntry(t, addr)
		return quarantined(addr) && strings.Contains(line, " ---p ") && !strings.Contains(line, shmDir)
	}
	name := testName(t)
	a := filled(t, testName(t), 4096, 1)
	addr := addrOf(a.Bytes())
	assert.NilError(t, a.Close())
	reused := 0 // later arrays mapped at the closed one's address
	for i := range quarantineMaps - 1 {
		b, err := Create(name, []int{i%64 + 1}, Float64)
		assert.NilError(t, err)
		if addrOf(b.Bytes())-addr < 4096 {
			reused++
		}
		assert.NilError(t, b.Close())
		assert.NilError(t, Delete(name))
	}
	assert.Equal(t, reused, 0, "the closed range was given to a later array")
	assert.Assert(t, reserved(addr), "evicted after %d later closes: %s", quarantineMaps-1, mapsEntry(t, addr))

	// Bytes: ranges of 64 MiB and a trailer page under a budget of four
	// of them. Three more keep the first; a fourth pushes it out.
	setQuarantine(t, 1024, 4*(64<<20+int64(os.Getpagesize())))
	close64 := func() uintptr {
		b, err := Create(name, []int{64 << 20}, Uint8, Sparse())
		assert.NilError(t, err)
		addr := addrOf(b.Bytes())
		assert.NilError(t, b.Close())
		assert.NilError(t, Delete(name))
		return addr
	}
	first := close64()
	for range 3 {
		assert.Assert(t, close64() != first, "the closed range was given to a later array")
	}
	assert.Assert(t, reserved(first), "%s", mapsEntry(t, first))
	close64()
	assert.Assert(t, !quarantined(first))
}

// WriteNPY to a block device (a loop device over a file) writes straight
// from the mapping, as to a regular file: the export reads back identical,
// and a truncation by another process is ErrFault ("bad address" from
// write(2)), never a signal. Skips where no loop device can be set up.
func TestExportBlockDevice(t *testing.T) {
	t.Parallel()
	skipIfNoFaultAddress(t)
	back := filepath.Join(t.TempDir(), "back")
	assert.NilError(t, os.WriteFile(back, nil, 0o600))
	assert.NilError(t, os.Truncate(back, 40<<20))
	out, err := runCmd("losetup", "-f", "--show", back)
	if err != nil {
		t.Skipf("no loop device: %s", out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { runCmd("losetup", "-d", dev) })
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	assert.NilError(t, err)
	defer f.Close()
	st, err := f.Stat()
	assert.NilError(t, err)
	assert.Assert(t, st.Mode()&os.ModeDevice != 0 && st.Mode()&os.ModeCharDevice == 0)
	w, _ := exportFile(f)
	assert.Assert(t, w == f, "a block device takes the direct path")

	name := testName(t)
	const size = 32 << 20
	a := filled(t, name, size, 0xAA)
	defer a.Close()
	n, err := a.WriteNPY(f)
	assert.NilError(t, err)
	hdr := len(npyHeader(Uint8, []int{size}))
	assert.Equal(t, n, int64(hdr+size))
	got := make([]byte, n)
	_, err = f.ReadAt(got, 0)
	assert.NilError(t, err)
	assert.Assert(t, allBytes(got[hdr:], 0xAA))

	_, err = f.Seek(0, io.SeekStart)
	assert.NilError(t, err)
	assert.NilError(t, os.Truncate(shmDir+"/"+name, 8192))
	n, err = a.WriteNPY(f)
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
	assert.Assert(t, n < int64(hdr+size))
}
