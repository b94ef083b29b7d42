package sharedarray

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// Frames in the ring tests hold uint64 words framePattern(seq, j): any
// mix of two frames (a torn read) fails checkFrame.
func framePattern(seq uint64, j int) uint64 {
	return seq*0x9E3779B97F4A7C15 + uint64(j)*0xBF58476D1CE4E5B9
}

func fillFrame(b []byte, seq uint64) {
	for j := 0; j < len(b)/8; j++ {
		binary.LittleEndian.PutUint64(b[8*j:], framePattern(seq, j))
	}
}

// checkFrame returns the first word that does not belong to frame seq, or -1.
func checkFrame(b []byte, seq uint64) int { return checkWords(b, seq, 0) }

// checkWords checks words j0... of frame seq, held in b.
func checkWords(b []byte, seq uint64, j0 int) int {
	for j := 0; j < len(b)/8; j++ {
		if binary.LittleEndian.Uint64(b[8*j:]) != framePattern(seq, j0+j) {
			return j0 + j
		}
	}
	return -1
}

func mustRing(t *testing.T, slots, words int) (string, *RingWriter) {
	t.Helper()
	name := testName(t)
	w, err := CreateRing(name, slots, []int{words}, Uint64)
	assert.NilError(t, err)
	t.Cleanup(func() { w.Close() })
	return name, w
}

func writeFrame(t testing.TB, w *RingWriter) {
	t.Helper()
	slot, err := w.Next()
	assert.NilError(t, err)
	fillFrame(slot, w.Seq())
	assert.NilError(t, w.Publish())
}

func TestRingRoundTrip(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 4, 16)
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	assert.Equal(t, r.Geometry().Slots, 4)
	assert.DeepEqual(t, r.Geometry().FrameShape, []int{16})
	assert.Equal(t, r.Geometry().FrameBytes, 128)
	buf := make([]byte, 128)
	for i := range 10 {
		writeFrame(t, w)
		info, err := r.NextTimeout(time.Second, buf)
		assert.NilError(t, err)
		assert.Equal(t, info.Seq, uint64(i))
		assert.Equal(t, info.Overruns, uint64(0))
		assert.Equal(t, checkFrame(buf, info.Seq), -1)
		assert.Assert(t, info.Time > 0 && info.Time <= nanotime())
	}
	// Typed slot.
	slot, err := w.Next()
	assert.NilError(t, err)
	v, err := FrameAs[uint64](w.Geometry().Dtype, slot)
	assert.NilError(t, err)
	assert.Equal(t, len(v), 16)
	v[3] = 42
	assert.NilError(t, w.Publish())
	_, err = r.Read(context.Background(), func(info FrameInfo, frame []byte) error {
		f, err := FrameAs[uint64](Uint64, frame)
		assert.NilError(t, err)
		assert.Equal(t, f[3], uint64(42))
		assert.Equal(t, info.Seq, uint64(10))
		return nil
	})
	assert.NilError(t, err)
	_, err = FrameAs[float32](w.Geometry().Dtype, make([]byte, 128))
	assert.ErrorIs(t, err, ErrDtype)
	assert.ErrorIs(t, w.Write(make([]byte, 3)), ErrInvalid)
	assert.ErrorIs(t, w.Publish(), ErrInvalid)
}

// SharedArray sees the frames as an (N, *frame) array; Delete removes the
// whole ring.
func TestRingIsAnArray(t *testing.T) {
	t.Parallel()
	for _, l := range []Layout{LayoutDual, LayoutDualV30, LayoutNumPy1, LayoutNumPy2, LayoutV30} {
		t.Run(l.String(), func(t *testing.T) {
			name := testName(t)
			w, err := CreateRing(name, 3, []int{5, 7}, Float32, WithLayout(l))
			assert.NilError(t, err)
			defer w.Close()
			a, err := Attach(name)
			assert.NilError(t, err)
			defer a.Close()
			assert.DeepEqual(t, a.Shape(), []int{3, 5, 7})
			assert.Equal(t, a.Layout(), l)
			b, _ := w.Next()
			slot, _ := FrameAs[float32](w.Geometry().Dtype, b)
			slot[0] = 1.5
			assert.NilError(t, w.Publish())
			v, _ := View[float32](a)
			assert.Equal(t, v[0], float32(1.5))
			st, err := os.Stat(shmDir + "/" + name)
			assert.NilError(t, err)
			assert.Equal(t, st.Size(), int64(4096+256+3*16+16+256*32+l.TrailerSize())) // data page, control block (version 2: with the reader progress table), trailer
			assert.NilError(t, Delete(name))
			_, err = os.Stat(shmDir + "/" + name)
			assert.Assert(t, errors.Is(err, os.ErrNotExist))
		})
	}
}

func TestRingNotARing(t *testing.T) {
	t.Parallel()
	name := testName(t)
	a, err := Create(name, []int{4, 4}, Uint8)
	assert.NilError(t, err)
	a.Close()
	_, err = OpenRingReader(name)
	assert.ErrorIs(t, err, ErrNotRing)
	_, err = StatRing(name)
	assert.ErrorIs(t, err, ErrNotRing)
	_, err = OpenRingReader(testName(t))
	assert.ErrorIs(t, err, ErrNotExist)
	_, err = CreateRing(testName(t), 0, []int{4}, Uint8)
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = CreateRing(testName(t), 2, []int{0}, Uint8)
	assert.ErrorIs(t, err, ErrInvalid)
}

// A reader lapped by the writer counts every lost frame, exactly.
func TestRingOverrun(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 4, 8)
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	buf := make([]byte, 64)
	for range 11 { // frames 0..10; slots hold 7..10
		writeFrame(t, w)
	}
	info, err := r.NextTimeout(time.Second, buf)
	assert.NilError(t, err)
	assert.Equal(t, info.Seq, uint64(7))
	assert.Equal(t, info.Overruns, uint64(7))
	assert.Equal(t, r.Overruns(), uint64(7))
	assert.Equal(t, checkFrame(buf, 7), -1)
	for s := uint64(8); s <= 10; s++ {
		info, err = r.NextTimeout(time.Second, buf)
		assert.NilError(t, err)
		assert.Equal(t, info.Seq, s)
		assert.Equal(t, info.Overruns, uint64(0))
	}
	// Latest skips without counting.
	for range 3 {
		writeFrame(t, w)
	}
	info, err = r.LatestTimeout(time.Second, buf)
	assert.NilError(t, err)
	assert.Equal(t, info.Seq, uint64(13))
	assert.Equal(t, r.Overruns(), uint64(7))
	assert.Equal(t, checkFrame(buf, 13), -1)
}

// A slow in-place reader against a fast writer: the callback sees torn
// frames, and every time it does Read says ErrOverrun. Copying readers
// never return a torn frame.
func TestRingTornReadDetected(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 2, 512)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			writeFrame(t, w)
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	var sawTorn, reported, accepted int
	for range 300 {
		torn := false
		var a, b int
		info, err := r.Read(context.Background(), func(info FrameInfo, frame []byte) error {
			a = checkFrame(frame[:2048], info.Seq)
			time.Sleep(20 * time.Microsecond) // the writer laps us meanwhile
			b = checkWords(frame[2048:], info.Seq, 256)
			torn = a != -1 || b != -1
			return nil
		})
		if torn && err == nil {
			t.Logf("seq %d a %d b %d head %d", info.Seq, a, b, r.Head())
		}
		if torn {
			sawTorn++
		}
		switch {
		case errors.Is(err, ErrOverrun):
			reported++
		case err != nil:
			t.Fatal(err)
		default:
			accepted++
			assert.Assert(t, !torn, "a torn frame was accepted")
		}
	}
	t.Logf("in place: %d torn seen, %d overruns reported, %d accepted", sawTorn, reported, accepted)
	assert.Assert(t, sawTorn > 0, "the test never produced a torn read")

	buf := make([]byte, r.Geometry().FrameBytes)
	var last uint64
	var gaps uint64
	first := true
	before := r.Overruns()
	for range 5000 {
		info, err := r.NextTimeout(time.Second, buf)
		assert.NilError(t, err)
		assert.Equal(t, checkFrame(buf, info.Seq), -1, "torn frame %d returned", info.Seq)
		if !first {
			assert.Assert(t, info.Seq > last)
			gaps += info.Seq - last - 1
			assert.Equal(t, info.Overruns, info.Seq-last-1)
		}
		first, last = false, info.Seq
	}
	t.Logf("copies: %d frames lost, all reported", gaps)
	assert.Equal(t, r.Overruns()-before >= gaps, true)
}

func TestRingWaitTimesOut(t *testing.T) {
	t.Parallel()
	name, _ := mustRing(t, 2, 1)
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	buf := make([]byte, 8)
	start := time.Now()
	_, err = r.NextTimeout(50*time.Millisecond, buf)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.Assert(t, time.Since(start) >= 50*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = r.Latest(ctx, buf)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	start = time.Now()
	_, err = r.Next(ctx, buf)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Assert(t, time.Since(start) < maxSleep, "cancellation did not wake the wait")
}

// A reader asleep in the futex is woken by Publish, and by Close.
func TestRingWakeUp(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 2, 1)
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 8)
		_, err := r.NextTimeout(10*time.Second, buf)
		done <- err
	}()
	for r.waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	writeFrame(t, w)
	select {
	case err := <-done:
		assert.NilError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Publish did not wake the reader")
	}
	assert.Equal(t, r.waiting(), uint32(0))

	go func() {
		buf := make([]byte, 8)
		_, err := r.NextTimeout(10*time.Second, buf)
		done <- err
	}()
	for r.waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	assert.NilError(t, r.Close())
	select {
	case err := <-done:
		assert.ErrorIs(t, err, ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake the reader")
	}
	_, err = r.NextTimeout(time.Millisecond, make([]byte, 8))
	assert.ErrorIs(t, err, ErrClosed)
}

func TestRingSecondWriterRefused(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 2, 1)
	assert.Equal(t, ringGeneration(t, w.name), uint64(1))
	_, err := OpenRingWriter(name)
	assert.ErrorIs(t, err, ErrBusy)
	info, err := StatRing(name)
	assert.NilError(t, err)
	assert.Equal(t, info.WriterAlive, true)
	assert.Equal(t, info.WriterPID, os.Getpid())
	writeFrame(t, w)
	assert.NilError(t, w.Close())
	w2, err := OpenRingWriter(name)
	assert.NilError(t, err)
	defer w2.Close()
	assert.Equal(t, ringGeneration(t, w2.name), uint64(2))
	assert.Equal(t, w2.Seq(), uint64(1))
}

func TestRingStatCountsReaders(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 2, 1)
	var rs []*RingReader
	for range 3 {
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		rs = append(rs, r)
	}
	writeFrame(t, w)
	info, err := StatRing(name)
	assert.NilError(t, err)
	assert.Equal(t, info.Readers, 3)
	assert.Equal(t, info.Head, uint64(1))
	assert.Equal(t, info.Slots, 2)
	rs[1].Close()
	info, _ = StatRing(name)
	assert.Equal(t, info.Readers, 2)
	rs[0].Close()
	rs[2].Close()
}

// A writer killed mid-frame: its slot stays marked in progress and is never
// returned, the kernel drops its lock, and a new writer takes over.
func TestRingWriterKilled(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 4, 64)
	assert.NilError(t, w.Close())
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	cmd := child("ring-write " + name + " 100")
	buf := make([]byte, r.Geometry().FrameBytes)
	startReady(t, cmd) // "ready\n": 100 frames published, frame 100 started
	_, err = OpenRingWriter(name)
	assert.ErrorIs(t, err, ErrBusy)
	assert.NilError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()

	assert.Equal(t, atomic.LoadUint64(r.seq(100%4)), uint64(2*100+1), "slot of frame 100 in progress")
	var got []uint64
	for {
		info, err := r.NextTimeout(100*time.Millisecond, buf)
		if errors.Is(err, ErrTimeout) {
			break
		}
		assert.NilError(t, err)
		assert.Equal(t, checkFrame(buf, info.Seq), -1)
		got = append(got, info.Seq)
	}
	// Frame 100, in progress, took the slot of frame 96.
	assert.DeepEqual(t, got, []uint64{97, 98, 99})
	assert.Equal(t, r.Overruns(), uint64(97))

	w2, err := OpenRingWriter(name)
	assert.NilError(t, err)
	defer w2.Close()
	assert.Equal(t, ringGeneration(t, w2.name), uint64(3))
	writeFrame(t, w2)
	info, err := r.NextTimeout(time.Second, buf)
	assert.NilError(t, err)
	assert.Equal(t, info.Seq, uint64(100))
	assert.Equal(t, checkFrame(buf, 100), -1)
}

// ringChild runs "ring-write NAME N" (ringWriteChild) or "ring-wait NAME":
// open a reader, say "ready" and wait for a frame until killed.
func ringChild(f []string) int {
	switch f[0] {
	case "ring-write":
		return ringWriteChild(f[1:])
	case "ring-rdlock", "ring-truncate":
		return ringHostileChild(f)
	}
	r, err := OpenRingReader(f[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	fmt.Println("ready")
	r.NextTimeout(time.Minute, make([]byte, r.Geometry().FrameBytes))
	return 0
}

// ringWriteChild publishes n frames, starts one more, says "ready" and
// waits to be killed.
func ringWriteChild(args []string) int {
	n, _ := strconv.Atoi(args[1])
	w, err := OpenRingWriter(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	for range n {
		slot, _ := w.Next()
		fillFrame(slot, w.Seq())
		w.Publish()
	}
	slot, _ := w.Next()
	fillFrame(slot[:len(slot)/2], w.Seq()) // half a frame
	fmt.Println("ready")
	time.Sleep(time.Minute)
	return 0
}

// Hostile control blocks: a clear error, never a hang or a crash.
func TestRingCorrupt(t *testing.T) {
	t.Parallel()
	cases := []struct {
		field string
		off   int
		val   uint64
		size  int // bytes written
		want  error
	}{
		{"magic", offMagic, 0x41, 1, ErrNotRing},
		{"version", offVersion, 3, 4, ErrFormat},
		{"header size", offHeaderSize, 128, 4, ErrFormat},
		{"slots", offSlots, 5, 8, ErrFormat},
		{"frame bytes", offFrameBytes, 1 << 40, 8, ErrFormat},
		{"control size", offCtlSize, 1 << 20, 8, ErrFormat},
		{"max readers", offMaxReaders, 1, 4, ErrFormat},
		{"flags", offFlags, 1, 4, ErrFormat},
		{"head", offHead, 1 << 63, 8, ErrFormat},
	}
	for _, c := range cases {
		t.Run(c.field, func(t *testing.T) {
			name, w := mustRing(t, 4, 8)
			b := w.ctl[c.off : c.off+c.size]
			switch c.size {
			case 1:
				b[0] = byte(c.val)
			case 4:
				binary.LittleEndian.PutUint32(b, uint32(c.val))
			case 8:
				binary.LittleEndian.PutUint64(b, c.val)
			}
			_, err := OpenRingReader(name)
			assert.ErrorIs(t, err, c.want)
			t.Log(err)
			_, err = StatRing(name)
			assert.ErrorIs(t, err, c.want)
		})
	}
	// The head and the slots changed under an open reader.
	t.Run("slot seq behind head", func(t *testing.T) {
		name, w := mustRing(t, 4, 8)
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		defer r.Close()
		writeFrame(t, w)
		binary.LittleEndian.PutUint64(w.ctl[ringHeaderSize:], 0)
		_, err = r.NextTimeout(time.Second, make([]byte, 64))
		assert.ErrorIs(t, err, ErrFormat)
		t.Log(err)
	})
	t.Run("head out of range", func(t *testing.T) {
		name, w := mustRing(t, 4, 8)
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		defer r.Close()
		binary.LittleEndian.PutUint64(w.ctl[offHead:], 1<<62)
		_, err = r.NextTimeout(time.Second, make([]byte, 64))
		assert.ErrorIs(t, err, ErrFormat)
	})
	t.Run("head far ahead", func(t *testing.T) {
		name, w := mustRing(t, 4, 8)
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		defer r.Close()
		binary.LittleEndian.PutUint64(w.ctl[offHead:], 1<<40)
		_, err = r.NextTimeout(time.Second, make([]byte, 64))
		assert.ErrorIs(t, err, ErrFormat) // slots say frame 2^40-4 was never written
		assert.Equal(t, r.Overruns(), uint64(0), "a corrupt head counts no overruns")
	})
	t.Run("head moved back", func(t *testing.T) {
		name, w := mustRing(t, 4, 8)
		for range 20 {
			writeFrame(t, w)
		}
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		defer r.Close()
		binary.LittleEndian.PutUint64(w.ctl[offHead:], 3)
		_, err = r.NextTimeout(time.Second, make([]byte, 64))
		assert.ErrorIs(t, err, ErrFormat)
	})
	t.Run("truncated control block", func(t *testing.T) {
		name, w := mustRing(t, 4, 8)
		w.Close()
		a, err := Attach(name)
		assert.NilError(t, err)
		a.Close()
		// A SharedArray of the ring's shape with no room for the block.
		assert.NilError(t, Delete(name))
		b, err := Create(name, []int{4, 8}, Uint64)
		assert.NilError(t, err)
		b.Close()
		_, err = OpenRingWriter(name)
		assert.ErrorIs(t, err, ErrNotRing)
	})
}

func TestRingCloseRaces(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 4, 8)
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, 64)
		for {
			if _, err := r.NextTimeout(time.Second, buf); errors.Is(err, ErrClosed) {
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			if err := w.Write(make([]byte, 64)); errors.Is(err, ErrClosed) {
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	assert.NilError(t, r.Close())
	assert.NilError(t, w.Close())
	wg.Wait()
	assert.NilError(t, r.Close())
	assert.NilError(t, w.Close())
}

func BenchmarkRingPublish(b *testing.B) {
	for _, stamp := range []bool{true, false} {
		b.Run(fmt.Sprintf("time=%v", stamp), func(b *testing.B) {
			name := testName(b)
			w, err := CreateRing(name, 8, []int{8}, Uint64)
			assert.NilError(b, err)
			defer w.Close()
			w.SetPublishTime(stamp)
			b.ReportAllocs()
			for b.Loop() {
				w.Next()
				w.Publish()
			}
		})
	}
}

// 255 readers are counted; more work but are not.
func TestRingManyReaders(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 2, 1)
	var rs []*RingReader
	defer func() {
		for _, r := range rs {
			r.Close()
		}
	}()
	for range ringMaxReaders + 2 {
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		rs = append(rs, r)
	}
	info, err := StatRing(name)
	assert.NilError(t, err)
	assert.Equal(t, info.Readers, ringMaxReaders)
	writeFrame(t, w)
	last := rs[len(rs)-1]
	assert.Equal(t, last.regByte, 0)
	buf := make([]byte, 8)
	_, err = last.NextTimeout(time.Second, buf)
	assert.NilError(t, err)
	assert.Equal(t, checkFrame(buf, 0), -1)
}

// Next twice is one frame; a frame started and not published before Close
// stays unpublished and is written again by the next writer; with
// SetPublishTime(false) readers see Time 0.
func TestRingWriterEdges(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 4, 2)
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	a, err := w.Next()
	assert.NilError(t, err)
	b, err := w.Next()
	assert.NilError(t, err)
	assert.Equal(t, &a[0], &b[0])
	assert.Equal(t, w.Seq(), uint64(0))
	fillFrame(a, 0)
	assert.NilError(t, w.Close())
	assert.Equal(t, r.Head(), uint64(0))
	buf := make([]byte, 16)
	_, err = r.NextTimeout(20*time.Millisecond, buf)
	assert.ErrorIs(t, err, ErrTimeout)

	w2, err := OpenRingWriter(name)
	assert.NilError(t, err)
	defer w2.Close()
	assert.Equal(t, w2.Seq(), uint64(0))
	w2.SetPublishTime(false)
	writeFrame(t, w2)
	info, err := r.NextTimeout(time.Second, buf)
	assert.NilError(t, err)
	assert.Equal(t, info.Seq, uint64(0))
	assert.Equal(t, info.Time, int64(0))
	w2.SetPublishTime(true)
	writeFrame(t, w2)
	info, err = r.NextTimeout(time.Second, buf)
	assert.NilError(t, err)
	assert.Assert(t, info.Time > 0)
	_, err = w2.Next()
	assert.NilError(t, err)
	assert.NilError(t, w2.Close())
	_, err = w2.Next()
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, w2.Publish(), ErrClosed)
}

// A reader killed while it waits leaves its waiting bit set (the writer
// then makes a futex call per publish); the next reader to take its lock
// byte clears it.
func TestRingReaderKilledWhileWaiting(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 2, 1)
	cmd := child("ring-wait " + name)
	startReady(t, cmd)
	deadline := time.Now().Add(10 * time.Second)
	for w.waiting() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	assert.Equal(t, w.waiting(), uint32(1))
	assert.NilError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	info, err := StatRing(name)
	assert.NilError(t, err)
	assert.Equal(t, info.Readers, 0)
	assert.Equal(t, info.Waiters, uint32(1), "the dead reader's bit")
	assert.Assert(t, w.anyWaiting())
	writeFrame(t, w) // wakes nobody, harmlessly

	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	assert.Equal(t, r.regByte, 1)
	assert.Equal(t, w.waiting(), uint32(0))
	assert.Assert(t, !w.anyWaiting())
}

// A slot whose sequence is ahead of anything the head allows is corrupt:
// an error for Next and Latest, not overruns counted or a spin.
func TestRingSlotSeqAhead(t *testing.T) {
	t.Parallel()
	for _, latest := range []bool{false, true} {
		t.Run(fmt.Sprintf("latest=%v", latest), func(t *testing.T) {
			name, w := mustRing(t, 4, 8)
			r, err := OpenRingReader(name)
			assert.NilError(t, err)
			defer r.Close()
			for range 3 {
				writeFrame(t, w)
			}
			for i := range 4 {
				binary.LittleEndian.PutUint64(w.ctl[ringHeaderSize+ringSlotEntry*i:], 1<<40)
			}
			buf := make([]byte, 64)
			if latest {
				_, err = r.LatestTimeout(time.Second, buf)
			} else {
				_, err = r.NextTimeout(time.Second, buf)
			}
			assert.ErrorIs(t, err, ErrFormat)
			assert.ErrorContains(t, err, "ahead of head 3")
			assert.Equal(t, r.Overruns(), uint64(0))
		})
	}
}

// Latest on a one-slot ring whose writer is filling the next frame (or
// died doing so): the newest frame is gone, so Latest waits for a newer
// one, asleep, instead of spinning on the slot being rewritten.
func TestRingLatestSlotRewritten(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 1, 8)
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	writeFrame(t, w)
	_, err = w.Next() // frame 1 in progress, in frame 0's slot
	assert.NilError(t, err)
	buf := make([]byte, 64)
	_, err = r.LatestTimeout(50*time.Millisecond, buf)
	assert.ErrorIs(t, err, ErrTimeout)
	assert.Equal(t, r.Seq(), uint64(1), "Latest waits for frame 1 (it spun on frame 0's slot)")
	assert.Equal(t, r.Overruns(), uint64(0), "skipped by Latest: not an overrun")
	go func() {
		time.Sleep(20 * time.Millisecond)
		fillFrame(w.slot(0), 1)
		w.Publish()
	}()
	info, err := r.LatestTimeout(5*time.Second, buf)
	assert.NilError(t, err)
	assert.Equal(t, info.Seq, uint64(1))
	assert.Equal(t, checkFrame(buf, 1), -1)
}

// Close called by a Read callback (or by another goroutine while it runs)
// returns at once; the Read finishes and unmaps.
func TestRingCloseInReadCallback(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 4, 8)
	t.Run("same goroutine", func(t *testing.T) {
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		writeFrame(t, w)
		done := make(chan error, 1)
		go func() {
			_, err := r.Read(context.Background(), func(FrameInfo, []byte) error { return r.Close() })
			done <- err
		}()
		select {
		case err := <-done:
			assert.NilError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("Close in a Read callback deadlocked")
		}
		assert.Assert(t, r.mem == nil, "unmapped")
		_, err = r.NextTimeout(time.Millisecond, make([]byte, 64))
		assert.ErrorIs(t, err, ErrClosed)
	})
	t.Run("other goroutine", func(t *testing.T) {
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		writeFrame(t, w)
		inFn, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := r.Read(context.Background(), func(_ FrameInfo, b []byte) error {
				close(inFn)
				<-release
				_ = b[0] // still mapped
				return nil
			})
			done <- err
		}()
		<-inFn
		assert.NilError(t, r.Close())
		close(release)
		assert.NilError(t, <-done)
		assert.Assert(t, r.mem == nil, "unmapped")
	})
	t.Run("callback panics", func(t *testing.T) {
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		writeFrame(t, w)
		func() {
			defer func() { assert.Equal(t, recover(), "boom") }()
			r.Read(context.Background(), func(FrameInfo, []byte) error { panic("boom") })
		}()
		assert.NilError(t, r.Close())
		assert.Assert(t, r.mem == nil, "Close after a panicking callback unmaps")
	})
}

// A ring truncated by another process: waiting readers, in-place reads and
// the writer get an error matching ErrFault, never SIGBUS.
func TestRingTruncated(t *testing.T) {
	t.Parallel()
	skipIfNoFaultAddress(t)
	setup := func(t *testing.T) (string, *RingWriter, *RingReader) {
		name := testName(t)
		w, err := CreateRing(name, 4, []int{1 << 13}, Uint64)
		assert.NilError(t, err)
		t.Cleanup(func() { w.Close() })
		r, err := OpenRingReader(name)
		assert.NilError(t, err)
		t.Cleanup(func() { r.Close() })
		return shmDir + "/" + name, w, r
	}
	t.Run("waiting reader", func(t *testing.T) {
		path, _, r := setup(t)
		go func() {
			time.Sleep(20 * time.Millisecond)
			os.Truncate(path, 0)
		}()
		_, err := r.NextTimeout(10*time.Second, make([]byte, 1<<16))
		assert.ErrorIs(t, err, ErrFault)
	})
	t.Run("in-place read", func(t *testing.T) {
		path, w, r := setup(t)
		writeFrame(t, w)
		_, err := r.Read(context.Background(), func(_ FrameInfo, b []byte) error {
			assert.NilError(t, os.Truncate(path, 4096))
			_ = checkFrame(b, 0) // the callback's own loads fault too
			return nil
		})
		assert.ErrorIs(t, err, ErrFault)
		_, err = r.NextTimeout(time.Millisecond, make([]byte, 1<<16))
		assert.ErrorIs(t, err, ErrFault)
	})
	t.Run("writer", func(t *testing.T) {
		path, w, _ := setup(t)
		_, err := w.Next()
		assert.NilError(t, err)
		assert.NilError(t, os.Truncate(path, 0))
		assert.ErrorIs(t, w.Publish(), ErrFault)
		assert.ErrorIs(t, w.Write(make([]byte, 1<<16)), ErrFault)
		_, err = StatRing(path[len(shmDir)+1:])
		assert.Assert(t, err != nil)
		assert.NilError(t, w.Close())
	})
}

// The writer stops before the head would reach 2^62, which readers refuse
// as corrupt: the last frame it publishes leaves the ring readable.
func TestRingSequenceExhausted(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 4, 1)
	binary.LittleEndian.PutUint64(w.ctl[offHead:], ringMaxSeq-2)
	assert.NilError(t, w.Close())
	w, err := OpenRingWriter(name)
	assert.NilError(t, err)
	defer w.Close()
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	assert.NilError(t, w.Write(make([]byte, 8))) // frame 2^62-2: head 2^62-1
	info, err := r.NextTimeout(time.Second, make([]byte, 8))
	assert.NilError(t, err)
	assert.Equal(t, info.Seq, uint64(ringMaxSeq-2))
	assert.ErrorIs(t, w.Write(make([]byte, 8)), ErrInvalid)
	assert.ErrorContains(t, w.Write(make([]byte, 8)), "exhausted")
	_, err = StatRing(name)
	assert.NilError(t, err)
	_, err = r.NextTimeout(time.Millisecond, make([]byte, 8))
	assert.ErrorIs(t, err, ErrTimeout)
}

// Writer and reader descriptors are close-on-exec, so an exec'd child
// does not keep the writer role (docs/ring.md §3.4).
func TestRingCloseOnExec(t *testing.T) {
	t.Parallel()
	name, w := mustRing(t, 2, 1)
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	for _, fd := range []int{w.fd, r.fd} {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		assert.NilError(t, err)
		assert.Assert(t, flags&unix.FD_CLOEXEC != 0, "fd %d is inherited across exec", fd)
	}
}
