package sharedarray

import (
	"context"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// paced publishes n frames, one every period, from another goroutine.
func paced(t *testing.T, w *RingWriter, n int, period func(k int) time.Duration) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		next := time.Now()
		for k := range n {
			next = next.Add(period(k))
			time.Sleep(time.Until(next))
			slot, err := w.Next()
			if err != nil {
				t.Error(err)
				return
			}
			fillFrame(slot, w.Seq())
			if err := w.Publish(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	return done
}

// Each wait mode reads every frame of a periodic and of an irregular
// writer, in order and whole.
func TestRingReaderWaitModes(t *testing.T) {
	modes := map[string][]Option{
		"sleep":        nil,
		"spin":         {WithSpin(200 * time.Microsecond)},
		"predict":      {WithPredict()},
		"predict+spin": {WithPredict(), WithSpin(50 * time.Microsecond)},
	}
	gaps := map[string]func(int) time.Duration{
		"periodic":  func(int) time.Duration { return time.Millisecond },
		"irregular": func(k int) time.Duration { return time.Duration(100+(k*7919)%1900) * time.Microsecond },
	}
	for mode, opts := range modes {
		for gname, gap := range gaps {
			t.Run(mode+"/"+gname, func(t *testing.T) {
				name, w := mustRing(t, 8, 16)
				r, err := OpenRingReader(name, opts...)
				assert.NilError(t, err)
				defer r.Close()
				const n = 200
				done := paced(t, w, n, gap)
				buf := make([]byte, r.Geometry().FrameBytes)
				var lost uint64
				for k := uint64(0); k < n; {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					info, err := r.Next(ctx, buf)
					cancel()
					assert.NilError(t, err)
					assert.Equal(t, checkFrame(buf, info.Seq), -1)
					assert.Equal(t, info.Seq, k+info.Overruns)
					lost += info.Overruns
					k = info.Seq + 1
				}
				<-done
				assert.Equal(t, lost, r.Overruns())
			})
		}
	}
}

// A predicting reader learns a periodic writer's period, and does not
// predict an irregular one.
func TestRingPredictLearnsPeriod(t *testing.T) {
	for _, tc := range []struct {
		name    string
		gap     func(int) time.Duration
		regular bool
	}{
		{"5ms", func(int) time.Duration { return 5 * time.Millisecond }, true},
		{"irregular", func(k int) time.Duration { return time.Duration(200+(k*7919)%3800) * time.Microsecond }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name, w := mustRing(t, 8, 2)
			r, err := OpenRingReader(name, WithPredict())
			assert.NilError(t, err)
			defer r.Close()
			const n = 60
			done := paced(t, w, n, tc.gap)
			buf := make([]byte, r.Geometry().FrameBytes)
			for k := 0; k < n; k++ {
				info, err := r.Next(context.Background(), buf)
				assert.NilError(t, err)
				if info.Seq == n-1 {
					break
				}
			}
			<-done
			_, ok := r.pred.regular()
			assert.Equal(t, ok, tc.regular, "period %v, deviation %v", time.Duration(r.pred.period), time.Duration(r.pred.dev))
			if tc.regular {
				p := time.Duration(r.pred.period)
				// The writer keeps to a 5 ms grid (absolute times); its
				// sleeps end late by the scheduler's slack.
				assert.Assert(t, p >= 4500*time.Microsecond && p < 6*time.Millisecond, "learned %v", p)
			}
		})
	}
}

// A frame published long before a predicting reader expects it still
// wakes the reader at once, and a pause longer than the period does not
// stall it.
func TestRingPredictEarlyAndLateFrames(t *testing.T) {
	name, w := mustRing(t, 8, 2)
	r, err := OpenRingReader(name, WithPredict())
	assert.NilError(t, err)
	defer r.Close()
	buf := make([]byte, r.Geometry().FrameBytes)
	for range 3 {
		writeFrame(t, w)
		_, err := r.Next(context.Background(), buf)
		assert.NilError(t, err)
	}
	// A learned regular source whose next frame is due in 50 ms (set
	// directly: a sleeping test goroutine is not regular under -race on a
	// loaded machine; TestRingPredictLearnsPeriod covers the learning).
	r.pred = predictor{have: true, lastSeq: r.Seq() - 1, grid: nanotime(), refSeq: r.Seq() - 1,
		period: int64(50 * time.Millisecond), samples: predictMinSamples}
	_, ok := r.pred.regular()
	assert.Assert(t, ok)
	// Publish one after 1 ms: the reader, asleep until shortly before
	// 50 ms, is woken by the futex at once.
	go func() {
		time.Sleep(time.Millisecond)
		writeFrame(t, w)
	}()
	t0 := time.Now()
	_, err = r.Next(context.Background(), buf)
	assert.NilError(t, err)
	assert.Assert(t, time.Since(t0) < 30*time.Millisecond, "woke after %v", time.Since(t0))
	// A frame late by 10 periods.
	go func() {
		time.Sleep(200 * time.Millisecond)
		writeFrame(t, w)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = r.Next(ctx, buf)
	assert.NilError(t, err)
}

// A spinning or predicting wait ends with its context and with Close.
func TestRingSpinEndsWithContextAndClose(t *testing.T) {
	name, _ := mustRing(t, 4, 2)
	r, err := OpenRingReader(name, WithSpin(time.Hour))
	assert.NilError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err = r.Next(ctx, make([]byte, r.Geometry().FrameBytes))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Assert(t, time.Since(t0) < 5*time.Second)
	done := make(chan error)
	go func() {
		_, err := r.Next(context.Background(), make([]byte, r.Geometry().FrameBytes))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	r.Close()
	assert.ErrorIs(t, <-done, ErrClosed)
}

// WithOldest starts a late reader at the oldest frame still in the ring.
func TestRingReaderOldest(t *testing.T) {
	name, w := mustRing(t, 4, 2)
	r0, err := OpenRingReader(name, WithOldest())
	assert.NilError(t, err)
	defer r0.Close()
	assert.Equal(t, r0.Seq(), uint64(0))
	for range 10 {
		writeFrame(t, w)
	}
	r, err := OpenRingReader(name, WithOldest())
	assert.NilError(t, err)
	defer r.Close()
	buf := make([]byte, r.Geometry().FrameBytes)
	for want := uint64(6); want < 10; want++ {
		info, err := r.Next(context.Background(), buf)
		assert.NilError(t, err)
		assert.Equal(t, info.Seq, want)
		assert.Equal(t, info.Overruns, uint64(0))
		assert.Equal(t, checkFrame(buf, want), -1)
	}
	// The reader that opened before any frame was published reads all
	// that are left and counts the rest.
	info, err := r0.Next(context.Background(), buf)
	assert.NilError(t, err)
	assert.Equal(t, info.Seq, uint64(6))
	assert.Equal(t, info.Overruns, uint64(6))
}

// WaitForRing: a reader opened before its ring exists gets it once a
// writer creates it; without a ring it ends with its context and the last
// error; other errors come at once.
func TestRingWaitForRing(t *testing.T) {
	name := testName(t)
	got := make(chan error, 1)
	var r *RingReader
	go func() {
		var err error
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, err = OpenRingReader(name, WaitForRing(ctx), WithOldest())
		got <- err
	}()
	time.Sleep(30 * time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("opened before the ring existed: %v", err)
	default:
	}
	w, err := CreateRing(name, 4, []int{2}, Uint64)
	assert.NilError(t, err)
	defer w.Close()
	writeFrame(t, w)
	assert.NilError(t, <-got)
	defer r.Close()
	info, err := r.Next(context.Background(), make([]byte, r.Geometry().FrameBytes))
	assert.NilError(t, err)
	assert.Equal(t, info.Seq, uint64(0))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = OpenRingReader(testName(t), WaitForRing(ctx))
	assert.ErrorIs(t, err, ErrNotExist)
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)

	// Not retried: a name that cannot be parsed.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	t0 := time.Now()
	_, err = OpenRingReader("bogus://x", WaitForRing(ctx2))
	assert.Assert(t, err != nil)
	assert.Assert(t, time.Since(t0) < 5*time.Second)
}
