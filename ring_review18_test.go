package sharedarray

import (
	"context"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gotest.tools/v3/assert"
)

// Honest readers racing StatRing are never flagged: a reader that reads a
// frame published after StatRing loaded the head writes a position ahead
// of that head and a last-read time after StatRing's clock; neither may
// be reported as impossible (issue 18 review).
func TestRingProgressRacingHonest(t *testing.T) {
	name, w := mustRing(t, 4, 2)
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var stop atomic.Bool
	wg.Add(2)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			slot, err := w.Next()
			if err != nil {
				return
			}
			slot[0] = 1
			if w.Publish() != nil {
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		buf := make([]byte, r.Geometry().FrameBytes)
		for ctx.Err() == nil {
			if _, err := r.Next(ctx, buf); err != nil {
				return
			}
		}
	}()
	suspects, samples := 0, 0
	var first string
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		info, err := StatRing(name)
		assert.NilError(t, err)
		for _, ri := range info.ReaderList {
			samples++
			if ri.Suspect != "" {
				if suspects == 0 {
					first = ri.Suspect
				}
				suspects++
			}
		}
	}
	stop.Store(true)
	cancel()
	wg.Wait()
	assert.Assert(t, samples > 0)
	assert.Equal(t, suspects, 0, "%d of %d samples of an honest reader flagged, first: %s", suspects, samples, first)
}

// WithSpin(math.MaxInt64) spins until the frame, the context or Close:
// the spin's end was nanotime()+d, which overflowed into the past, so the
// reader did not spin at all (issue 18 review: 4 % of a core streaming at
// 1 kHz, like a sleeping reader, where WithSpin(time.Hour) took a core).
func TestRingSpinHugeBudget(t *testing.T) {
	assert.Equal(t, addNanos(5, time.Duration(math.MaxInt64)), int64(math.MaxInt64))
	assert.Equal(t, addNanos(5, 7), int64(12))
	name, _ := mustRing(t, 4, 2)
	r, err := OpenRingReader(name, WithSpin(time.Duration(math.MaxInt64)))
	assert.NilError(t, err)
	defer r.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var ru0, ru1 syscall.Rusage
	assert.NilError(t, syscall.Getrusage(unix.RUSAGE_THREAD, &ru0))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = r.Next(ctx, make([]byte, r.Geometry().FrameBytes))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NilError(t, syscall.Getrusage(unix.RUSAGE_THREAD, &ru1))
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	// Spinning for 200 ms takes what CPU this thread gets on a loaded
	// machine; a sleeping reader takes well under a millisecond.
	assert.Assert(t, cpu > 10*time.Millisecond, "the reader used %v of CPU in 200 ms: it did not spin", cpu)
}

// Read with a nil callback is an error that says so, and takes no frame
// (issue 18 review: it said "buffer is 0 bytes", about a buffer Read has
// no parameter for).
func TestRingReadNilCallback(t *testing.T) {
	name, w := mustRing(t, 4, 2)
	r, err := OpenRingReader(name, WithOldest())
	assert.NilError(t, err)
	defer r.Close()
	writeFrame(t, w)
	_, err = r.Read(context.Background(), nil)
	assert.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, "fn is nil")
	assert.Equal(t, r.Seq(), uint64(0))
}
