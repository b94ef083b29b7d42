package pycompat_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	sa "github.com/sharedarray/sharedarray"
)

// The Python helper's two implementations (the C extension _fast, built
// here as pip builds it at install, and the pure-Python fallback), its
// wait modes, and the ways to start a reader: before the ring exists,
// at the oldest frame, by iteration.

// ringPkg returns a PYTHONPATH holding sharedarray_ring with its C
// extension compiled for b's Python (what `pip install ./python` builds).
func ringPkg(t *testing.T, b *build) string {
	t.Helper()
	src, err := filepath.Abs("../python/sharedarray_ring")
	assert.NilError(t, err)
	dir := t.TempDir()
	pkg := filepath.Join(dir, "sharedarray_ring")
	assert.NilError(t, os.Mkdir(pkg, 0o755))
	files, _ := filepath.Glob(filepath.Join(src, "*.py"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		assert.NilError(t, err)
		assert.NilError(t, os.WriteFile(filepath.Join(pkg, filepath.Base(f)), data, 0o644))
	}
	out, err := exec.Command(b.python(), "-c", "import sysconfig; print(sysconfig.get_paths()['include']); print(sysconfig.get_config_var('EXT_SUFFIX'))").Output()
	assert.NilError(t, err)
	f := strings.Fields(string(out))
	assert.Equal(t, len(f), 2, "%s", out)
	cc := exec.Command("cc", "-O2", "-Wall", "-Werror", "-shared", "-fPIC", "-I"+f[0], "-o", filepath.Join(pkg, "_fast"+f[1]), filepath.Join(src, "_fast.c"))
	msg, err := cc.CombinedOutput()
	if err != nil {
		if _, lerr := exec.LookPath("cc"); lerr != nil && !required() {
			t.Skip("no C compiler: the C extension cannot be built here")
		}
		t.Fatalf("cc: %v: %s", err, msg)
	}
	return dir
}

// pyEnvs are the two implementations: the C extension, and pure Python
// (SHAREDARRAY_RING_PURE=1) from the same directory.
func pyEnvs(t *testing.T, b *build) map[string][]string {
	dir := ringPkg(t, b)
	return map[string][]string{
		"fast": {"PYTHONPATH=" + dir},
		"pure": {"PYTHONPATH=" + dir, "SHAREDARRAY_RING_PURE=1"},
	}
}

// eachBuildImpl runs f as a subtest per ring build (venv) and, within it,
// per implementation of the Python ring module (fast, pure).
func eachBuildImpl(t *testing.T, f func(t *testing.T, b *build, env []string)) {
	eachBuild(t, func(t *testing.T, b *build) {
		for impl, env := range pyEnvs(t, b) {
			t.Run(impl, func(t *testing.T) { f(t, b, env) })
		}
	})
}

// eachBuild runs f as a subtest per ring build (venv), b built there.
func eachBuild(t *testing.T, f func(t *testing.T, b *build)) {
	for _, venv := range ringBuilds {
		t.Run(venv, func(t *testing.T) { f(t, ringBuild(t, venv)) })
	}
}

// pyCmd is the command that runs a Python script with env added to this
// process's environment.
func pyCmd(b *build, env []string, script string, args ...string) *exec.Cmd {
	cmd := exec.Command(b.python(), append([]string{"-c", script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// pyScript runs a Python script with env, returning its last output line
// parsed as JSON.
func pyScript(t *testing.T, b *build, env []string, script string, args ...string) map[string]any {
	t.Helper()
	out, err := pyCmd(b, env, script, args...).CombinedOutput()
	assert.NilError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var m map[string]any
	assert.NilError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &m), "%s", out)
	return m
}

func TestRingPythonAccelerated(t *testing.T) {
	eachBuild(t, func(t *testing.T, b *build) {
		for impl, env := range pyEnvs(t, b) {
			m := pyScript(t, b, env, `import json, sharedarray_ring as sr; print(json.dumps({"accelerated": sr.accelerated}))`)
			assert.Equal(t, m["accelerated"], impl == "fast", impl)
		}
	})
}

// Every wait mode, in both implementations, accounts for every frame of a
// Go writer: read whole, or counted as an overrun.
func TestRingPythonWaitModes(t *testing.T) {
	const n = 3000
	eachBuild(t, func(t *testing.T, b *build) {
		for impl, env := range pyEnvs(t, b) {
			for _, mode := range []string{"copy", "copy-spin", "copy-predict"} {
				t.Run(impl+"/"+mode, func(t *testing.T) {
					name := uniqueName(t)
					w, err := sa.CreateRing(name, 8, []int{64}, sa.Uint64)
					assert.NilError(t, err)
					defer w.Close()
					cmd, sc, stderr := ringPyEnv(t, b, append(env, "RING_WAIT_MODE="+mode), "read", name, strconv.Itoa(n), "copy")
					assert.Equal(t, line(t, sc, stderr), "ready")
					for range n {
						slot, err := w.Next()
						assert.NilError(t, err)
						fillFrame(slot, w.Seq())
						assert.NilError(t, w.Publish())
						time.Sleep(50 * time.Microsecond)
					}
					m := jsonLine(t, sc, stderr)
					assert.NilError(t, cmd.Wait())
					checkAccount(t, m, n)
					assert.Assert(t, num(m, "frames") > 0)
				})
			}
		}
	})
}

// The C extension's writer publishes checksummed frames a Go reader reads
// whole, and a Go writer's frames reach the C extension's reader whole,
// with every gap counted (the pure paths: TestRingPythonToGo,
// TestRingGoToPython).
func TestRingPythonFastBothWays(t *testing.T) {
	const n = 20_000
	eachBuild(t, func(t *testing.T, b *build) {
		env := pyEnvs(t, b)["fast"]
		name := uniqueName(t)
		w, err := sa.CreateRing(name, 8, []int{512}, sa.Uint64)
		assert.NilError(t, err)
		cmd, sc, stderr := ringPyEnv(t, b, env, "read", name, strconv.Itoa(n), "copy")
		assert.Equal(t, line(t, sc, stderr), "ready")
		goWrite(t, w, n, 64)
		m := jsonLine(t, sc, stderr)
		assert.NilError(t, cmd.Wait())
		checkAccount(t, m, n)
		w.Close()

		r, err := sa.OpenRingReader(name)
		assert.NilError(t, err)
		defer r.Close()
		cmd, _, stderr = ringPyEnv(t, b, env, "write", name, strconv.Itoa(n), "256")
		buf := make([]byte, r.Geometry().FrameBytes)
		next := r.Seq()
		end := next + n
		var frames, gaps uint64
		for r.Seq() < end {
			info, err := nextTimeout(r, 5*time.Second, buf)
			assert.NilError(t, err, "stderr: %s", stderr)
			assert.Assert(t, frameOK(buf, info.Seq), "torn frame %d accepted", info.Seq)
			assert.Equal(t, info.Overruns, info.Seq-next)
			gaps += info.Seq - next
			next = info.Seq + 1
			frames++
		}
		assert.NilError(t, cmd.Wait(), "stderr: %s", stderr)
		assert.Equal(t, frames+r.Overruns(), uint64(n))
		assert.Equal(t, gaps, r.Overruns())
	})
}

// open_reader(timeout=...) waits for a ring a Go writer creates later;
// oldest=True starts at the oldest frame in the ring; iteration yields
// frames in order; the reader is a context manager.
func TestRingPythonStartsInAnyOrder(t *testing.T) {
	const script = `
import json, sys, time, sharedarray_ring as sr
name = sys.argv[1]
print("waiting", flush=True)
with sr.open_reader(name, timeout=10, oldest=True) as r:
    seqs = []
    for f in r:
        seqs.append(f.seq)
        assert f.time_ns <= time.monotonic_ns()
        if len(seqs) == 4:
            break
try:
    sr.open_reader(name + "-absent", timeout=0.05)
    absent = "opened"
except FileNotFoundError:
    absent = "FileNotFoundError"
print(json.dumps({"seqs": seqs, "absent": absent}))
`
	eachBuildImpl(t, func(t *testing.T, b *build, env []string) {
		name := uniqueName(t)
		sc, stderr := startPy(t, pyCmd(b, env, script, name))
		// The reader is in open_reader (or about to be) before
		// the ring exists.
		assert.Equal(t, line(t, sc, stderr), "waiting")
		time.Sleep(50 * time.Millisecond)
		// Created after the reader started; 10 frames into 4
		// slots before any reader could open (the ring is
		// created full under no name, then linked).
		w, err := sa.CreateRing(name, 4, []int{2}, sa.Uint64)
		assert.NilError(t, err)
		defer w.Close()
		defer sa.Delete(name)
		for range 10 {
			slot, _ := w.Next()
			fillFrame(slot, w.Seq())
			assert.NilError(t, w.Publish())
		}
		m := jsonLine(t, sc, stderr)
		var seqs []int
		for _, s := range m["seqs"].([]any) {
			seqs = append(seqs, int(s.(float64)))
		}
		// The reader may open before the 10 frames: it then
		// starts at 0 and is lapped, or after: it starts at 6.
		assert.Equal(t, len(seqs), 4)
		for i := 1; i < 4; i++ {
			assert.Assert(t, seqs[i] > seqs[i-1], "%v", seqs)
		}
		assert.Equal(t, m["absent"], "FileNotFoundError")
	})
}

// nextTimeout is r.Next with a timeout.
func nextTimeout(r *sa.RingReader, d time.Duration, buf []byte) (sa.FrameInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return r.Next(ctx, buf)
}

// Python readers at different speeds write their progress into a version 2
// ring: what StatRing and Python's stat() report agrees with what each
// reader counted itself. A version 1 ring is still read by Python and
// reported as version 1.
func TestRingPythonProgress(t *testing.T) {
	const reader = `
import json, sys, time, sharedarray_ring as sr
name, delay = sys.argv[1], float(sys.argv[2])
r = sr.open_reader(name)
print("ready", flush=True)
while True:
    try:
        f = r.next(timeout=0.5)
    except TimeoutError:
        break
    time.sleep(delay)
print(json.dumps({"pos": r.pos, "overruns": r.overruns, "byte": r.registered}), flush=True)
sys.stdin.readline()
`
	const stat = `
import json, sys, sharedarray_ring as sr
st = sr.stat(sys.argv[1])
print(json.dumps({"version": st["version"], "head": st["head"], "reader_list": st["reader_list"]}))
`
	eachBuildImpl(t, func(t *testing.T, b *build, env []string) {
		name := uniqueName(t)
		w, err := sa.CreateRing(name, 8, []int{64}, sa.Uint64)
		assert.NilError(t, err)
		defer w.Close()
		type proc struct {
			cmd *exec.Cmd
			sc  *bufio.Scanner
			in  interface{ Close() error }
			err *strings.Builder
		}
		var procs []proc
		for _, delay := range []string{"0", "0.002"} {
			cmd := pyCmd(b, env, reader, name, delay)
			in, err := cmd.StdinPipe()
			assert.NilError(t, err)
			sc, stderr := startPy(t, cmd)
			p := proc{cmd, sc, in, stderr}
			assert.Equal(t, line(t, p.sc, stderr), "ready")
			procs = append(procs, p)
		}
		for range 400 {
			slot, err := w.Next()
			assert.NilError(t, err)
			fillFrame(slot, w.Seq())
			assert.NilError(t, w.Publish())
			time.Sleep(200 * time.Microsecond)
		}
		own := map[int]map[string]any{}
		for _, p := range procs {
			m := jsonLine(t, p.sc, p.err)
			own[num(m, "byte")] = m
		}
		assert.Equal(t, len(own), 2)
		info, err := sa.StatRing(name)
		assert.NilError(t, err)
		assert.Equal(t, info.Version, 2)
		assert.Equal(t, len(info.ReaderList), 2)
		slowLost := 0
		for _, ri := range info.ReaderList {
			m, ok := own[ri.LockByte]
			assert.Assert(t, ok, "byte %d", ri.LockByte)
			assert.Equal(t, ri.Language, "python")
			assert.Equal(t, int(ri.Pos), num(m, "pos"))
			assert.Equal(t, int(ri.Overruns), num(m, "overruns"))
			assert.Equal(t, ri.Lag, info.Head-ri.Pos)
			assert.Equal(t, ri.Suspect, "")
			slowLost = max(slowLost, int(ri.Overruns))
		}
		assert.Assert(t, slowLost > 0, "the slow reader lost nothing: the test proves little")
		ps := pyScript(t, b, env, stat, name)
		assert.Equal(t, num(ps, "version"), 2)
		list := ps["reader_list"].([]any)
		assert.Equal(t, len(list), 2)
		for _, x := range list {
			e := x.(map[string]any)
			m := own[num(e, "lock_byte")]
			assert.Equal(t, num(e, "pos"), num(m, "pos"))
			assert.Equal(t, num(e, "overruns"), num(m, "overruns"))
			assert.Equal(t, e["language"], "python")
		}
		for _, p := range procs {
			p.in.Close()
		}
	})
}

func TestRingPythonReadsVersion1(t *testing.T) {
	const script = `
import json, sys, sharedarray_ring as sr
r = sr.open_reader(sys.argv[1], oldest=True)
f = r.next(timeout=5)
st = sr.stat(sys.argv[1])
print(json.dumps({"seq": f.seq, "version": st["version"], "list": st["reader_list"]}))
`
	eachBuild(t, func(t *testing.T, b *build) {
		name := uniqueName(t)
		w, err := sa.CreateRing(name, 4, []int{8}, sa.Uint64)
		assert.NilError(t, err)
		w.Close()
		// A version 1 header, as the previous release wrote it: the
		// bytes after its shorter control block are ignored.
		f, err := os.OpenFile("/dev/shm/"+name, os.O_RDWR, 0)
		assert.NilError(t, err)
		ctlOff := int64(4096) // 4 frames of 64 bytes: one page of data
		var b4 [4]byte
		var b8 [8]byte
		b4[0] = 1
		_, err = f.WriteAt(b4[:], ctlOff+8)
		assert.NilError(t, err)
		binary.LittleEndian.PutUint64(b8[:], (256+4*16+63)/64*64)
		_, err = f.WriteAt(b8[:], ctlOff+32)
		assert.NilError(t, err)
		_, err = f.WriteAt(make([]byte, 8), ctlOff+48)
		assert.NilError(t, err)
		f.Close()
		w, err = sa.OpenRingWriter(name)
		assert.NilError(t, err)
		defer w.Close()
		slot, _ := w.Next()
		fillFrame(slot, w.Seq())
		assert.NilError(t, w.Publish())
		m := pyScript(t, b, pyEnvs(t, b)["fast"], script, name)
		assert.Equal(t, num(m, "version"), 1)
		assert.Equal(t, num(m, "seq"), 0)
		assert.Assert(t, m["list"] == nil)
		info, err := sa.StatRing(name)
		assert.NilError(t, err)
		assert.Equal(t, info.Version, 1)
	})
}

// Frames read in place (read(fn)) are recorded in the progress entry too;
// a reader closed inside its callback does not write the entry (its lock
// byte may be another reader's by then).
func TestRingPythonProgressInPlace(t *testing.T) {
	const script = `
import json, sys, sharedarray_ring as sr
r = sr.open_reader(sys.argv[1], oldest=True)
for _ in range(3):
    r.read(lambda view, seq: None, timeout=5)
print(json.dumps({"pos": r.pos, "byte": r.registered}), flush=True)
sys.stdin.readline()
r.read(lambda view, seq: r.close(), timeout=5)
print(json.dumps({"closed": True}), flush=True)
sys.stdin.readline()
`
	b := ringBuild(t, "sa324-np2")
	for impl, env := range pyEnvs(t, b) {
		t.Run(impl, func(t *testing.T) {
			name := uniqueName(t)
			w, err := sa.CreateRing(name, 8, []int{8}, sa.Uint64)
			assert.NilError(t, err)
			defer w.Close()
			for range 5 {
				slot, _ := w.Next()
				fillFrame(slot, w.Seq())
				assert.NilError(t, w.Publish())
			}
			cmd := pyCmd(b, env, script, name)
			in, err := cmd.StdinPipe()
			assert.NilError(t, err)
			sc, stderr := startPy(t, cmd)
			m := jsonLine(t, sc, stderr)
			assert.Equal(t, num(m, "pos"), 3)
			info, err := sa.StatRing(name)
			assert.NilError(t, err)
			assert.Equal(t, len(info.ReaderList), 1)
			assert.Equal(t, info.ReaderList[0].Pos, uint64(3))
			assert.Equal(t, info.ReaderList[0].LockByte, num(m, "byte"))
			// Another reader takes the byte the Python reader frees in its
			// callback; its entry must stay its own.
			in.Write([]byte("\n"))
			jsonLine(t, sc, stderr)
			r, err := sa.OpenRingReader(name)
			assert.NilError(t, err)
			defer r.Close()
			info, err = sa.StatRing(name)
			assert.NilError(t, err)
			assert.Equal(t, len(info.ReaderList), 1)
			assert.Equal(t, info.ReaderList[0].Language, "go")
			assert.Equal(t, info.ReaderList[0].Pos, r.Seq())
			in.Close()
		})
	}
}

// A reader closed from another thread while next() runs (the C extension
// copies with the GIL released) never writes its progress entry after
// close returns (the lock byte, and so the entry, may be another reader's
// by then), nor touches the unmapped ring: close waits for the call,
// which then raises RingError (EBADF), or returns the frame it had.
func TestRingPythonCloseDuringNext(t *testing.T) {
	const script = `
import ctypes, json, os, random, sys, threading, time, sharedarray_ring as sr
name = sys.argv[1]
w = sr.open_writer(name)
stop = False
def write():
    while not stop:
        w.next(); w.publish()
wt = threading.Thread(target=write); wt.start()
probe = sr._Ring(name)
changed = ended = 0
for k in range(40):
    r = sr.open_reader(name)
    b = r.registered
    exc = []
    def read():
        try:
            while True:
                r.next(timeout=5)
        except sr.RingError as e:
            exc.append(e.errno)
    rt = threading.Thread(target=read); rt.start()
    time.sleep(random.uniform(0, 0.01))
    r.close()
    e = probe._prog + sr.PROG_ENTRY * b
    before = ctypes.string_at(e, 24)
    time.sleep(0.02)
    if ctypes.string_at(e, 24) != before:
        changed += 1
    rt.join(5)
    ended += not rt.is_alive() and exc == [9]
stop = True; wt.join()
print(json.dumps({"accelerated": sr.accelerated, "changed": changed, "ended": ended}), flush=True)
`
	b := ringBuild(t, "sa324-np2")
	for impl, env := range pyEnvs(t, b) {
		t.Run(impl, func(t *testing.T) {
			name := uniqueName(t)
			w, err := sa.CreateRing(name, 4, []int{1 << 20}, sa.Uint64) // 8 MiB frames: long copies
			assert.NilError(t, err)
			assert.NilError(t, w.Close())
			defer sa.Delete(name)
			m := pyScript(t, b, env, script, name)
			assert.Equal(t, m["accelerated"], impl == "fast")
			assert.Equal(t, num(m, "changed"), 0, "progress entries written after close returned")
			assert.Equal(t, num(m, "ended"), 40, "readers that ended with RingError EBADF")
		})
	}
}

// Python's predictor (sharedarray_ring._wait, the policy of the Go
// reader's WithPredict) classifies the synthetic sources of the Go
// TestRingPredictClassifies alike: jittered periodic sources and a Go
// time.Sleep writer's sawtooth are predicted, with their frames mostly in
// the polling window; irregular sources are not; a pause restarts it.
func TestRingPythonPredictClassifies(t *testing.T) {
	const ms, n, warm = int64(time.Millisecond), 600, 100
	var seed uint64
	rnd := func(m int64) int64 {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int64(seed>>33) % m
	}
	gen := func(f func(k int) int64) []int64 {
		seed = 1
		ts := make([]int64, n)
		for k := range ts {
			ts[k] = int64(time.Hour) + f(k)
		}
		return ts
	}
	irregular := make([]int64, n)
	tm := int64(time.Hour)
	for k := range irregular {
		tm += int64(200+(k*7919)%1601) * 1000
		irregular[k] = tm
	}
	paused := gen(func(k int) int64 {
		if k >= 300 {
			return int64(k)*ms + 2*int64(time.Second)
		}
		return int64(k) * ms
	})
	cases := []struct {
		Name      string
		Times     []int64
		regular   bool
		minCaught float64
	}{
		{"steady", gen(func(k int) int64 { return int64(k) * ms }), true, 0.99},
		{"jitter 100µs", gen(func(k int) int64 { return int64(k)*ms + rnd(100_000) }), true, 0.8},
		{"Go time.Sleep sawtooth", gen(func(k int) int64 { return int64(k)*ms + int64(k%11)*90_000 + rnd(20_000) }), true, 0.8},
		{"irregular", irregular, false, 0},
		{"jitter 700µs", gen(func(k int) int64 { return int64(k)*ms + rnd(700_000) }), false, 0},
	}
	data, err := json.Marshal(map[string]any{"cases": cases, "paused": paused})
	assert.NilError(t, err)
	file := filepath.Join(t.TempDir(), "times.json")
	assert.NilError(t, os.WriteFile(file, data, 0o644))
	const script = `
import json, sys
from sharedarray_ring._wait import Waiter
d = json.load(open(sys.argv[1]))
out = {}
for c in d["cases"]:
    w = Waiter(predict=True)
    pred = caught = 0
    for i, t in enumerate(c["Times"]):
        win = w.regular()  # learns the frame observed before
        if i >= 100:
            if win is not None:
                pred += 1
                caught += win[0] + w.lead() <= t <= win[1]
        w.observe(i, t)
    out[c["Name"]] = [pred, caught]
w = Waiter(predict=True)
seen = []
for i, t in enumerate(d["paused"]):
    win = w.regular()
    if i in (299, 301, 320):
        seen.append(win is not None)
    w.observe(i, t)
out["paused"] = seen
print(json.dumps(out))
`
	for _, venv := range ringBuilds[:1] {
		b := ringBuild(t, venv)
		for impl, env := range pyEnvs(t, b) {
			m := pyScript(t, b, env, script, file)
			for _, c := range cases {
				got := m[c.Name].([]any)
				predicted, caught := int(got[0].(float64)), int(got[1].(float64))
				if !c.regular {
					assert.Assert(t, predicted < (n-warm)/10, "%s %s: predicted %d", impl, c.Name, predicted)
					continue
				}
				assert.Assert(t, predicted > (n-warm)*9/10, "%s %s: predicted %d", impl, c.Name, predicted)
				assert.Assert(t, float64(caught) >= c.minCaught*float64(predicted), "%s %s: caught %d of %d", impl, c.Name, caught, predicted)
			}
			// Regular before the pause, not right after it, again 19 frames on.
			assert.DeepEqual(t, m["paused"], []any{true, false, true})
		}
	}
}
