package pycompat_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
			w := pyRing(t, name, 4, []int{2}, sa.Uint64)
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
				buf := make([]byte, r.Geometry().FrameBytes)
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

// Degenerate waits in Python (issue 18 review): open_reader(timeout=NaN)
// on an absent ring waited forever (time.monotonic() >= NaN is never
// true); timeout="1" failed with "unsupported operand type(s) for +";
// spin=inf, and next(timeout=inf), raised OverflowError ("cannot convert
// float infinity to integer"); spin="1" was taken as one second. Now:
// NaN and non-numbers are errors naming the argument, inf (or a huge
// number) is no limit.
func TestRingPythonDegenerateWaits(t *testing.T) {
	const script = `
import json, sys, threading, time, errno, sharedarray_ring as sr
name, absent = sys.argv[1], sys.argv[2]
out = {}
def err(f):
    try:
        f()
        return "no error"
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)
out["open_nan"] = err(lambda: sr.open_reader(absent, timeout=float("nan")))
out["open_str"] = err(lambda: sr.open_reader(absent, timeout="1"))
out["spin_str"] = err(lambda: sr.open_reader(name, spin="1"))
for k, kw in (("spin_inf", dict(spin=float("inf"))), ("spin_huge", dict(spin=1e300))):
    r = sr.open_reader(name, **kw)
    out[k] = err(lambda: r.next(timeout=0.05))
    r.close()
for k, t in (("next_inf", float("inf")), ("next_huge", 1e300)):
    r = sr.open_reader(name)
    threading.Timer(0.2, r.close).start()
    t0 = time.monotonic()
    out[k] = err(lambda: r.next(timeout=t))
    out[k + "_s"] = time.monotonic() - t0
print(json.dumps(out))
`
	b := ringBuild(t, "sa324-np2")
	for impl, env := range pyEnvs(t, b) {
		t.Run(impl, func(t *testing.T) {
			name := uniqueName(t)
			pyRing(t, name, 4, []int{2}, sa.Uint64)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, b.python(), "-c", script, name, uniqueName(t))
			cmd.Env = append(os.Environ(), env...)
			out, err := cmd.CombinedOutput()
			assert.NilError(t, err, "%s", out)
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			var m map[string]any
			assert.NilError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &m), "%s", out)
			assert.Assert(t, strings.HasPrefix(m["open_nan"].(string), "ValueError: timeout"), "%v", m)
			assert.Assert(t, strings.HasPrefix(m["open_str"].(string), "TypeError: timeout"), "%v", m)
			assert.Assert(t, strings.HasPrefix(m["spin_str"].(string), "TypeError: spin"), "%v", m)
			for _, k := range []string{"spin_inf", "spin_huge"} {
				assert.Assert(t, strings.HasPrefix(m[k].(string), "TimeoutError"), "%s: %v", k, m)
			}
			for _, k := range []string{"next_inf", "next_huge"} {
				assert.Assert(t, strings.HasPrefix(m[k].(string), "RingError"), "%s: %v", k, m)
				assert.Assert(t, m[k+"_s"].(float64) < 5, "%s: %v", k, m)
			}
		})
	}
}

// read(fn) with fn not callable (issue 18 review): it took the frame and
// then failed calling it ("'int' object is not callable"), so the frame
// was lost to a typo. Now a TypeError naming fn, before any frame is
// taken: the next read gets frame 0.
func TestRingPythonReadNotCallable(t *testing.T) {
	const script = `
import json, sys, sharedarray_ring as sr
r = sr.open_reader(sys.argv[1], oldest=True)
out = {}
for k, fn in (("int", 5), ("none", None)):
    try:
        r.read(fn, timeout=1)
        out[k] = "no error"
    except Exception as e:
        out[k] = "%s: %s" % (type(e).__name__, e)
out["pos"] = r.pos
out["seq"] = r.read(lambda view, seq: seq, timeout=1)
print(json.dumps(out))
`
	b := ringBuild(t, "sa324-np2")
	for impl, env := range pyEnvs(t, b) {
		t.Run(impl, func(t *testing.T) {
			name := uniqueName(t)
			w := pyRing(t, name, 4, []int{2}, sa.Uint64)
			assert.NilError(t, w.Write(make([]byte, 16)))
			m := pyScript(t, b, env, script, name)
			for _, k := range []string{"int", "none"} {
				assert.Assert(t, strings.HasPrefix(m[k].(string), "TypeError: fn"), "%s: %v", k, m)
			}
			assert.Equal(t, m["pos"], float64(0), "%v", m)
			assert.Equal(t, m["seq"], float64(0), "%v", m)
		})
	}
}
