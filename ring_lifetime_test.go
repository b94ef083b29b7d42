package sharedarray

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sharedarray/sharedarray/internal/testutil"
	"gotest.tools/v3/assert"
)

// ringHostileChild runs the hostile helpers of the ring tests:
//
//	ring-rdlock PATH     take a classic whole-file read lock (l_len 0: to
//	                     the end of the file, what Python's
//	                     fcntl.lockf(fd, LOCK_SH) takes), say "ready", sleep
//	ring-truncate PATH MS  for MS milliseconds, truncate the file to 0 and
//	                     write its bytes back, over and over
func ringHostileChild(f []string) int {
	switch f[0] {
	case "ring-rdlock":
		if _, err := testutil.ReadLockWhole(f[1]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		fmt.Println("ready")
		time.Sleep(time.Minute)
		return 0
	case "ring-truncate":
		var ms int
		fmt.Sscan(f[2], &ms)
		b, err := os.ReadFile(f[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		file, err := os.OpenFile(f[1], os.O_RDWR, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		fmt.Println("ready")
		n := 0
		for end := time.Now().Add(time.Duration(ms) * time.Millisecond); time.Now().Before(end); n++ {
			file.Truncate(0)
			file.WriteAt(b, 0)
		}
		fmt.Println(n, "truncations")
		return 0
	}
	return 2
}

// mustFaultClosed writes into a stale slice under the fault guard: the
// write must fault in the quarantined reservation (ErrClosed), not land.
func mustFaultClosed(t *testing.T, stale []byte) {
	t.Helper()
	err := guarded(func() error { stale[0] = 42; return nil })
	assert.Assert(t, errors.Is(err, ErrClosed), "a slot used after Close did not fault: %v", err)
}

// A ring slot or an in-place frame kept past Close faults instead of
// writing into the array mapped next: the ring's mappings retire through
// the quarantine, as an Array's (issue 16, defect 3).
func TestRingStaleSlotFaults(t *testing.T) {
	skipIfNoFaultAddress(t)
	t.Run("writer slot", func(t *testing.T) {
		w, err := CreateRing(testName(t), 1, []int{4096}, Uint8)
		assert.NilError(t, err)
		slot, err := w.Next()
		assert.NilError(t, err)
		assert.NilError(t, w.Close())
		a := filled(t, testName(t), 4096, 0)
		defer a.Close()
		t.Logf("slot at %#x, next array at %#x", addrOf(slot), addrOf(a.Bytes()))
		mustFaultClosed(t, slot)
		assert.Assert(t, allBytes(a.Bytes(), 0), "the next array was written")
	})
	t.Run("reader frame", func(t *testing.T) {
		name := testName(t)
		w, err := CreateRing(name, 1, []int{4096}, Uint8)
		assert.NilError(t, err)
		defer w.Close()
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		assert.NilError(t, w.Write(make([]byte, 4096)))
		var kept []byte
		_, err = r.Read(context.Background(), func(_ FrameInfo, frame []byte) error { kept = frame; return nil })
		assert.NilError(t, err)
		assert.NilError(t, r.Close())
		a := filled(t, testName(t), 4096, 0)
		defer a.Close()
		mustFaultClosed(t, kept)
		assert.Assert(t, allBytes(a.Bytes(), 0), "the next array was written")
	})
}

// OpenRingWriter on a ring whose writer lives, truncated by another
// process between the mapping and the pid read: an error, never SIGBUS
// (defect 4).
func TestRingOpenWriterBusyTruncated(t *testing.T) {
	skipIfNoFaultAddress(t)
	name, _ := mustRing(t, 2, 1<<10)
	ringBusyHook = func(string) { assert.NilError(t, os.Truncate(shmDir+"/"+name, 0)) }
	defer func() { ringBusyHook = nil }()
	_, err := OpenRingWriter(name)
	t.Log(err)
	assert.ErrorIs(t, err, ErrBusy)
	assert.ErrorIs(t, err, ErrFault)
}

// Another process truncates and restores a ring over and over while this
// one opens writers and readers and stats it: every call returns (a value
// or an error), the process never dies of SIGBUS.
func TestRingOpenWhileTruncated(t *testing.T) {
	skipIfNoFaultAddress(t)
	name, w := mustRing(t, 4, 1<<10)
	writeFrame(t, w)
	cmd := child("ring-truncate " + shmDir + "/" + name + " 1500")
	startReady(t, cmd)
	kinds := map[string]int{}
	for end := time.Now().Add(time.Second); time.Now().Before(end); {
		if w2, err := OpenRingWriter(name); err == nil {
			w2.Close()
			kinds["writer opened"]++
		} else {
			kinds[errKind(err)]++
		}
		if r, err := OpenRingReader(name); err == nil {
			r.Head()
			r.Close()
			kinds["reader opened"]++
		} else {
			kinds[errKind(err)]++
		}
		if _, err := StatRing(name); err != nil {
			kinds[errKind(err)]++
		}
	}
	assert.NilError(t, cmd.Wait())
	t.Log(kinds)
}

func errKind(err error) string {
	for _, k := range []error{ErrFault, ErrBusy, ErrNotRing, ErrFormat, ErrInvalid} {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	var fe *FormatError
	if errors.As(err, &fe) {
		return "format: " + fe.Field
	}
	return err.Error()
}

// Every accessor of a reader and a writer after Close: no panic, the
// documented value (defect 5).
func TestRingAccessorsAfterClose(t *testing.T) {
	name, w := mustRing(t, 4, 2)
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	writeFrame(t, w)
	writeFrame(t, w)
	_, err = r.NextTimeout(time.Second, make([]byte, 16))
	assert.NilError(t, err)
	before := ringAccessors(r, w)
	assert.Equal(t, before["r.Head"], uint64(2))
	assert.NilError(t, r.Close())
	assert.NilError(t, w.Close())
	after := ringAccessors(r, w)
	assert.DeepEqual(t, after, before)
	_, err = r.NextTimeout(time.Millisecond, make([]byte, 16))
	assert.ErrorIs(t, err, ErrClosed)
	_, err = w.Next()
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, w.Publish(), ErrClosed)
	assert.ErrorIs(t, w.Write(make([]byte, 16)), ErrClosed)
}

// ringAccessors calls every accessor of r and w.
func ringAccessors(r *RingReader, w *RingWriter) map[string]any {
	return map[string]any{
		"r.Head": r.Head(), "r.Seq": r.Seq(), "r.Overruns": r.Overruns(), "r.Geometry": r.Geometry(),
		"w.Seq": w.Seq(), "w.Geometry": w.Geometry(),
	}
}

// Every accessor racing Close from another goroutine (run under -race),
// and an accessor in a Read callback while another goroutine closes.
func TestRingAccessorsRaceClose(t *testing.T) {
	name, w := mustRing(t, 4, 2)
	for range 50 {
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		w2, err := OpenRingReader(name) // a second reader, closed by its own goroutine
		assert.NilError(t, err)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range 200 {
					ringAccessors(r, w)
					w2.Head()
					w2.Geometry()
				}
			}()
		}
		wg.Add(2)
		go func() { defer wg.Done(); <-start; r.Close() }()
		go func() { defer wg.Done(); <-start; w2.Close() }()
		close(start)
		wg.Wait()
	}
	t.Run("in a Read callback", func(t *testing.T) {
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		writeFrame(t, w)
		want := w.Seq()
		_, err = r.Read(context.Background(), func(FrameInfo, []byte) error {
			done := make(chan struct{})
			go func() { r.Close(); close(done) }()
			<-done
			if h := r.Head(); h != want {
				return fmt.Errorf("Head %d, want %d", h, want)
			}
			return nil
		})
		assert.NilError(t, err)
	})
}

// A whole-file read lock held by another process (what any user with read
// access can take): StatRing returns at once with the true state, and
// OpenRingWriter does not claim a live writer (defect 6).
func TestRingWholeFileReadLock(t *testing.T) {
	name, w := mustRing(t, 2, 1)
	writeFrame(t, w)
	assert.NilError(t, w.Close())
	cmd := child("ring-rdlock " + shmDir + "/" + name)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, cmd.Start())
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var line [6]byte
	_, err = out.Read(line[:])
	assert.NilError(t, err)

	done := make(chan struct{})
	var info RingInfo
	go func() {
		defer close(done)
		info, err = StatRing(name)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("StatRing spins under a whole-file read lock")
	}
	assert.NilError(t, err)
	assert.Equal(t, info.Readers, 0)
	assert.Equal(t, info.WriterAlive, false)
	assert.Equal(t, info.WriterPID, 0)
	assert.Equal(t, info.Head, uint64(1))

	_, err = OpenRingWriter(name)
	t.Log(err)
	assert.Assert(t, err != nil)
	assert.Assert(t, !errors.Is(err, ErrBusy), "%v", err)
	assert.ErrorIs(t, err, syscall.EAGAIN)
	assert.ErrorContains(t, err, fmt.Sprintf("held by process %d", cmd.Process.Pid))

	// Readers work (unregistered: every lock byte is read-locked).
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	assert.Equal(t, r.regByte, 0)
}

// Reader counts are exact whatever the order readers come and go in
// (F_OFD_GETLK names the oldest conflicting lock, not the lowest: a range
// scan skipped readers below it) (defect 7).
func TestRingReaderCountChurn(t *testing.T) {
	name, _ := mustRing(t, 2, 1)
	readers := func() int {
		t.Helper()
		info, err := StatRing(name)
		assert.NilError(t, err)
		return info.Readers
	}
	open := func() *RingReader {
		t.Helper()
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		return r
	}
	r1, r2 := open(), open()
	assert.NilError(t, r1.Close())
	r3 := open()
	assert.Equal(t, readers(), 2, "open r1, r2; close r1; open r3")
	r2.Close()
	r3.Close()

	rng := rand.New(rand.NewPCG(16, 7))
	var live []*RingReader
	defer func() {
		for _, r := range live {
			r.Close()
		}
	}()
	for range 8 {
		live = append(live, open())
	}
	for step := range 300 {
		if len(live) > 0 && (len(live) == 8 || rng.IntN(2) == 0) {
			i := rng.IntN(len(live))
			assert.NilError(t, live[i].Close())
			live = append(live[:i], live[i+1:]...)
		} else {
			live = append(live, open())
		}
		assert.Equal(t, readers(), len(live), "step %d", step)
	}
}

// The accessors documented as safe after Close are all the exported
// methods of RingReader and RingWriter without an error result: a new one
// must be added to ringAccessors (and so to the tests above).
func TestRingAccessorsListed(t *testing.T) {
	covered := ringAccessors(&RingReader{ring: &ring{}}, &RingWriter{ring: &ring{}})
	for _, typ := range []reflect.Type{reflect.TypeFor[*RingReader](), reflect.TypeFor[*RingWriter]()} {
		prefix := "r."
		if typ == reflect.TypeFor[*RingWriter]() {
			prefix = "w."
		}
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			ft := m.Type
			if ft.NumIn() != 1 || ft.NumOut() != 1 || ft.Out(0) == reflect.TypeFor[error]() {
				continue
			}
			_, ok := covered[prefix+m.Name]
			assert.Assert(t, ok || strings.HasPrefix(m.Name, "Close"), "accessor %s%s not in ringAccessors", prefix, m.Name)
		}
	}
}

// BenchmarkStatRing: the bounded, exact count (256 one-byte lock probes)
// with 8 readers registered.
func BenchmarkStatRing(b *testing.B) {
	name := testName(b)
	w, err := CreateRing(name, 2, []int{1}, Uint64)
	assert.NilError(b, err)
	defer w.Close()
	for range 8 {
		r, err := OpenRingReader(name)
		assert.NilError(b, err)
		defer r.Close()
	}
	for b.Loop() {
		if info, err := StatRing(name); err != nil || info.Readers != 8 {
			b.Fatal(info, err)
		}
	}
}

// CreateRing opens the writer of the file it created, not of whatever
// another process renamed over the name in between (REVIEW item 1): the
// other ring is left alone, its generation unchanged.
func TestCreateRingNameReplaced(t *testing.T) {
	name, other := testName(t), testName(t)
	ow, err := CreateRing(other, 2, []int{3}, Uint8)
	assert.NilError(t, err)
	assert.NilError(t, ow.Close())
	ringCreateHook = func(n string) { assert.NilError(t, os.Rename(shmDir+"/"+other, shmDir+"/"+n)) }
	defer func() { ringCreateHook = nil }()
	_, err = CreateRing(name, 4, []int{8}, Uint64)
	t.Log(err)
	assert.ErrorIs(t, err, syscall.ESTALE)
	info, err := StatRing(name)
	assert.NilError(t, err)
	assert.Equal(t, info.Generation, uint64(1), "the other ring was taken over")
	assert.Equal(t, info.Slots, 2)
}

// Close called from another goroutine while a Read callback runs returns
// at once; that goroutine may then read Seq and Overruns (the shutdown
// pattern: close, then log the counters) while the Read still finishes.
// Before, Seq and Overruns read plain fields that the Read then wrote: a
// data race (go test -race). They return the values as the last call
// left them, and the Read's once it returns.
func TestRingCountersCloseInReadCallback(t *testing.T) {
	name, w := mustRing(t, 2, 8)
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	in := make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := r.Read(context.Background(), func(FrameInfo, []byte) error {
			close(in)
			// No synchronisation with the closing goroutine after
			// this point, so that the race detector sees its reads
			// and the Read's updates as concurrent.
			time.Sleep(50 * time.Millisecond)
			return nil
		})
		done <- err
	}()
	writeFrame(t, w)
	<-in
	assert.NilError(t, r.Close())
	seq, over := r.Seq(), r.Overruns() // the Read is (most likely) still inside its callback
	assert.NilError(t, <-done)
	assert.Assert(t, seq <= 1, "%d", seq)
	assert.Equal(t, over, uint64(0))
	assert.Equal(t, r.Seq(), uint64(1), "the Read's frame, once it returned")
	assert.Equal(t, r.Overruns(), uint64(0))
}
