package sharedarray

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
		buf := make([]byte, r.FrameBytes())
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
