package pycompat_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	sa "github.com/sharedarray/sharedarray"
	"gotest.tools/v3/assert"
)

// Python stat() of a ring whose honest reader reads flat out while stat
// runs: a position ahead of the head stat loaded first, or a last read
// after its clock, is the reader moving on, not an impossible value, and
// is never flagged (issue 18 review).
func TestRingPythonStatRacingHonest(t *testing.T) {
	const script = `
import json, sys, time, sharedarray_ring as sr
n = bad = 0
first = ""
end = time.monotonic() + 1.0
while time.monotonic() < end:
    for e in sr.stat(sys.argv[1])["reader_list"]:
        n += 1
        if e["suspect"]:
            bad += 1
            first = first or e["suspect"]
print(json.dumps({"n": n, "bad": bad, "first": first}))
`
	b := ringBuild(t, "sa324-np2")
	for impl, env := range pyEnvs(t, b) {
		t.Run(impl, func(t *testing.T) {
			name := uniqueName(t)
			w, err := sa.CreateRing(name, 4, []int{2}, sa.Uint64)
			assert.NilError(t, err)
			defer sa.Delete(name)
			defer w.Close()
			r, err := sa.OpenRingReader(name)
			assert.NilError(t, err)
			defer r.Close()
			ctx, cancel := context.WithCancel(context.Background())
			var stop atomic.Bool
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					if _, err := w.Next(); err != nil {
						return
					}
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
			m := pyScript(t, b, env, script, name)
			stop.Store(true)
			cancel()
			wg.Wait()
			assert.Assert(t, m["n"].(float64) > 0)
			assert.Equal(t, m["bad"].(float64), float64(0), "%v", m)
		})
	}
}
