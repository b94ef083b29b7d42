package pycompat_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	sa "github.com/sharedarray/sharedarray"
)

// Frame rings across languages: Go writers and the Python module in
// python/ (sharedarray_ring, on PYTHONPATH) over the real SharedArray
// builds, 100,000 checksummed frames each way.

const ringFrames = 100_000

const ringWorkerEnv = "SHAREDARRAY_RING_WORKER"

// A test binary started with ringWorkerEnv is a Go ring writer, killed by
// the test (see TestRingGoWriterKilled).
func init() {
	if spec := os.Getenv(ringWorkerEnv); spec != "" {
		os.Exit(ringWorker(spec))
	}
}

func framePattern(seq uint64, j int) uint64 {
	return seq*0x9E3779B97F4A7C15 + uint64(j)*0xBF58476D1CE4E5B9
}

func fillFrame(b []byte, seq uint64) {
	for j := 0; j < len(b)/8; j++ {
		binary.LittleEndian.PutUint64(b[8*j:], framePattern(seq, j))
	}
}

func frameOK(b []byte, seq uint64) bool {
	for j := 0; j < len(b)/8; j++ {
		if binary.LittleEndian.Uint64(b[8*j:]) != framePattern(seq, j) {
			return false
		}
	}
	return true
}

// ringWorker writes frames until killed, printing "started" after 100.
func ringWorker(name string) int {
	w, err := sa.OpenRingWriter(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	for n := 1; ; n++ {
		slot, _ := w.Next()
		fillFrame(slot[:len(slot)/2], w.Seq())
		time.Sleep(20 * time.Microsecond) // killed here most of the time
		fillFrame(slot, w.Seq())
		w.Publish()
		if n == 100 {
			fmt.Println("started")
		}
	}
}

// ringBuilds run the full cross-language tests; 3.0.0 gets TestRingV30Python.
var ringBuilds = []string{"sa324-np1", "sa324-np2"}

func ringBuild(t *testing.T, venv string) *build {
	t.Helper()
	for _, b := range builds {
		if b.venv == venv {
			if _, err := os.Stat(b.python()); err != nil {
				if required() {
					t.Fatalf("no Python environment %s: %v", venv, err)
				}
				t.Skipf("no Python environment %s", venv)
			}
			return b
		}
	}
	t.Fatalf("unknown build %s", venv)
	return nil
}

// ringPythonEnv names an interpreter that has sharedarray_ring installed
// (scripts/wheel.sh: from the wheel, in a fresh environment): the Python
// side of the ring tests then runs there, without python/ on PYTHONPATH.
const ringPythonEnv = "SHAREDARRAY_RING_PYTHON"

// ringPy starts ring_helper.py with the python/ package on PYTHONPATH.
func ringPy(t *testing.T, b *build, args ...string) (*exec.Cmd, *bufio.Scanner, *strings.Builder) {
	t.Helper()
	return ringPyEnv(t, b, nil, args...)
}

func ringPyEnv(t *testing.T, b *build, env []string, args ...string) (*exec.Cmd, *bufio.Scanner, *strings.Builder) {
	t.Helper()
	pkg, err := filepath.Abs("../python")
	assert.NilError(t, err)
	cmd := exec.Command(b.python(), append([]string{"ring_helper.py"}, args...)...)
	cmd.Env = append(append(os.Environ(), "PYTHONPATH="+pkg), env...)
	if py := os.Getenv(ringPythonEnv); py != "" {
		// The module as installed from the wheel (scripts/wheel.sh), not python/.
		cmd = exec.Command(py, append([]string{"ring_helper.py"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
	}
	sc, stderr := startPy(t, cmd)
	return cmd, sc, stderr
}

// pyRing creates the ring name; it is closed, then deleted, when the test
// ends.
func pyRing(t *testing.T, name string, slots int, frameShape []int, dtype sa.Dtype) *sa.RingWriter {
	t.Helper()
	w, err := sa.CreateRing(name, slots, frameShape, dtype)
	assert.NilError(t, err)
	t.Cleanup(func() { w.Close(); sa.Delete(name) })
	return w
}

// startPy starts cmd, a Python child whose stdin (if the caller wants it)
// is already piped, collecting its stderr and reading its stdout line by
// line. The child is killed and waited for when the test ends.
func startPy(t *testing.T, cmd *exec.Cmd) (*bufio.Scanner, *strings.Builder) {
	t.Helper()
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	return sc, stderr
}

// line reads the helper's next line, failing the test if it died.
func line(t *testing.T, sc *bufio.Scanner, stderr *strings.Builder) string {
	t.Helper()
	if !sc.Scan() {
		t.Fatalf("ring helper ended: %v; stderr: %s", sc.Err(), stderr)
	}
	return sc.Text()
}

func jsonLine(t *testing.T, sc *bufio.Scanner, stderr *strings.Builder) map[string]any {
	t.Helper()
	var m map[string]any
	l := line(t, sc, stderr)
	assert.NilError(t, json.Unmarshal([]byte(l), &m), "%s", l)
	if e, ok := m["error"]; ok {
		t.Fatalf("ring helper: %v", e)
	}
	return m
}

func num(m map[string]any, k string) int {
	f, _ := m[k].(float64)
	return int(f)
}

func ringRun(t *testing.T, b *build, args ...string) map[string]any {
	t.Helper()
	cmd, sc, stderr := ringPy(t, b, args...)
	m := jsonLine(t, sc, stderr)
	assert.NilError(t, cmd.Wait(), "stderr: %s", stderr)
	return m
}

// goWrite publishes frames, sleeping 100 µs every pause frames, so the
// reader keeps up some of the time and is lapped the rest.
func goWrite(t *testing.T, w *sa.RingWriter, n int, pause int) {
	t.Helper()
	for range n {
		slot, err := w.Next()
		assert.NilError(t, err)
		fillFrame(slot, w.Seq())
		assert.NilError(t, w.Publish())
		if pause > 0 && w.Seq()%uint64(pause) == 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// checkAccount: every frame was either read (checksum good) or counted as
// an overrun, and the overruns are exactly the gaps.
func checkAccount(t *testing.T, m map[string]any, total int) {
	t.Helper()
	t.Logf("%v", m)
	assert.Equal(t, num(m, "torn_accepted"), 0, "torn frames accepted")
	assert.Equal(t, num(m, "frames")+num(m, "overruns"), total)
	assert.Equal(t, num(m, "gaps"), num(m, "overruns"))
	assert.Equal(t, num(m, "last"), total-1)
}

func TestRingGoToPython(t *testing.T) {
	eachBuild(t, func(t *testing.T, b *build) {
		for _, mode := range []string{"copy", "inplace", "poll"} {
			t.Run(mode, func(t *testing.T) {
				name := uniqueName(t)
				w, err := sa.CreateRing(name, 8, []int{512}, sa.Uint64)
				assert.NilError(t, err)
				defer w.Close()
				n, pause := ringFrames, 64
				var env []string
				switch mode {
				case "inplace":
					n, pause = 20_000, 16
				case "poll": // no futex: the polling fallback
					n, pause, mode = 20_000, 64, "copy"
					env = []string{"SHAREDARRAY_RING_POLL=1"}
				}
				cmd, sc, stderr := ringPyEnv(t, b, env, "read", name, strconv.Itoa(n), mode)
				assert.Equal(t, line(t, sc, stderr), "ready")
				goWrite(t, w, n, pause)
				m := jsonLine(t, sc, stderr)
				assert.NilError(t, cmd.Wait())
				checkAccount(t, m, n)
				if mode == "inplace" {
					assert.Assert(t, num(m, "torn_seen_and_refused") > 0, "the slow callback never saw a torn frame: the test proves nothing")
				}
				assert.Assert(t, num(m, "frames") > 0)
			})
		}
	})
}

func TestRingPythonToGo(t *testing.T) {
	eachBuild(t, func(t *testing.T, b *build) {
		name := uniqueName(t)
		m := ringRun(t, b, "write", name, "0", "0", "create", "8", "512")
		assert.Equal(t, num(m, "generation"), 1)
		a, err := sa.Attach(name)
		assert.NilError(t, err)
		assert.DeepEqual(t, a.Shape(), []int{8, 512})
		a.Close()

		r, err := sa.OpenRingReader(name)
		assert.NilError(t, err)
		defer r.Close()
		cmd, sc, stderr := ringPy(t, b, "write", name, strconv.Itoa(ringFrames), "256")
		buf := make([]byte, r.Geometry().FrameBytes)
		var frames, gaps uint64
		next := uint64(0)
		for r.Seq() < ringFrames {
			info, err := nextTimeout(r, 5*time.Second, buf)
			assert.NilError(t, err, "stderr: %s", stderr)
			assert.Assert(t, frameOK(buf, info.Seq), "torn frame %d accepted", info.Seq)
			assert.Equal(t, info.Overruns, info.Seq-next, "frame %d", info.Seq)
			gaps += info.Seq - next
			next = info.Seq + 1
			frames++
		}
		wm := jsonLine(t, sc, stderr)
		assert.NilError(t, cmd.Wait())
		t.Logf("Python writer %v; Go reader: %d frames, %d overruns", wm, frames, r.Overruns())
		assert.Equal(t, gaps, r.Overruns())
		assert.Equal(t, frames+r.Overruns(), uint64(ringFrames))
		assert.Equal(t, num(wm, "generation"), 2)
	})
}

// SharedArray sees a ring as its (N, *frame) array, in every build that can
// attach the layout, and SharedArray.delete removes the whole ring.
func TestRingSeenBySharedArray(t *testing.T) {
	for _, bl := range builds {
		t.Run(bl.venv, func(t *testing.T) {
			b := ringBuild(t, bl.venv)
			name := uniqueName(t)
			w, err := sa.CreateRing(name, 6, []int{4, 5}, sa.Int16, sa.WithLayout(b.goDefault()))
			assert.NilError(t, err)
			w.Close()
			m := ringRun(t, b, "attach", name)
			assert.DeepEqual(t, m["shape"], []any{6.0, 4.0, 5.0})
			assert.Equal(t, m["dtype"], "<i2")
			ringRun(t, b, "delete", name)
			_, err = os.Stat("/dev/shm/" + name)
			assert.Assert(t, errors.Is(err, os.ErrNotExist), "delete left %s", name)
		})
	}
}

func TestRingPythonTimesOut(t *testing.T) {
	eachBuild(t, func(t *testing.T, b *build) {
		name := uniqueName(t)
		w, err := sa.CreateRing(name, 2, []int{8}, sa.Uint64)
		assert.NilError(t, err)
		defer w.Close()
		m := ringRun(t, b, "timeout", name, "0.3")
		assert.Equal(t, m["timed_out"], true)
		assert.Equal(t, m["futex"], true)
		assert.Assert(t, m["waited"].(float64) >= 0.3)
		st := ringRun(t, b, "stat", name)
		assert.Equal(t, st["writer_alive"], true)
		assert.Equal(t, num(st, "writer_pid"), os.Getpid())
		assert.Equal(t, num(st, "slots"), 2)
	})
}

// A Python writer killed with SIGKILL mid-stream: the Go reader times out,
// never takes its half-written frame, and a new writer takes over.
func TestRingPythonWriterKilled(t *testing.T) {
	eachBuild(t, func(t *testing.T, b *build) {
		name := uniqueName(t)
		w, err := sa.CreateRing(name, 4, []int{256}, sa.Uint64)
		assert.NilError(t, err)
		assert.NilError(t, w.Close())
		r, err := sa.OpenRingReader(name)
		assert.NilError(t, err)
		defer r.Close()
		cmd, sc, stderr := ringPy(t, b, "write-forever", name)
		assert.Equal(t, line(t, sc, stderr), "started")
		_, err = sa.OpenRingWriter(name)
		assert.ErrorIs(t, err, sa.ErrBusy, "a second writer was not refused")
		buf := make([]byte, r.Geometry().FrameBytes)
		for range 50 {
			info, err := nextTimeout(r, time.Second, buf)
			assert.NilError(t, err)
			assert.Assert(t, frameOK(buf, info.Seq))
		}
		assert.NilError(t, cmd.Process.Signal(syscall.SIGKILL))
		cmd.Wait()
		for {
			info, err := nextTimeout(r, 200*time.Millisecond, buf)
			if errors.Is(err, context.DeadlineExceeded) {
				break
			}
			assert.NilError(t, err)
			assert.Assert(t, frameOK(buf, info.Seq), "torn frame %d accepted", info.Seq)
		}
		head := r.Head()
		st, err := sa.StatRing(name)
		assert.NilError(t, err)
		assert.Equal(t, st.WriterAlive, false)

		// A new Python writer takes over where the dead one stopped.
		m := ringRun(t, b, "write", name, "1000", "0")
		assert.Equal(t, num(m, "generation"), 3)
		assert.Equal(t, num(m, "head"), int(head)+1000)
		var last uint64
		for r.Seq() < head+1000 {
			info, err := nextTimeout(r, time.Second, buf)
			assert.NilError(t, err)
			assert.Assert(t, frameOK(buf, info.Seq), "torn frame %d accepted", info.Seq)
			assert.Assert(t, info.Seq >= head)
			last = info.Seq
		}
		assert.Equal(t, last, head+999)
	})
}

// A Go writer killed with SIGKILL mid-stream: the Python reader survives
// (waits time out), never accepts the half-written frame, and reads the
// frames of the writer that takes over.
func TestRingGoWriterKilled(t *testing.T) {
	eachBuild(t, func(t *testing.T, b *build) {
		name := uniqueName(t)
		w, err := sa.CreateRing(name, 4, []int{256}, sa.Uint64)
		assert.NilError(t, err)
		assert.NilError(t, w.Close())
		const total = 20_000
		pyCmd, sc, stderr := ringPy(t, b, "read", name, strconv.Itoa(total), "copy")
		assert.Equal(t, line(t, sc, stderr), "ready")

		goCmd := exec.Command(os.Args[0], "-test.run=^$")
		goCmd.Env = append(os.Environ(), ringWorkerEnv+"="+name)
		goCmd.Stderr = os.Stderr
		out, err := goCmd.StdoutPipe()
		assert.NilError(t, err)
		assert.NilError(t, goCmd.Start())
		var started [8]byte
		_, err = io.ReadAtLeast(out, started[:], 8)
		assert.NilError(t, err)
		time.Sleep(50 * time.Millisecond)
		assert.NilError(t, goCmd.Process.Signal(syscall.SIGKILL))
		goCmd.Wait()
		time.Sleep(1500 * time.Millisecond) // the reader times out at least once

		w2, err := sa.OpenRingWriter(name)
		assert.NilError(t, err)
		defer w2.Close()
		st, err := sa.StatRing(name)
		assert.NilError(t, err)
		assert.Equal(t, st.Generation, uint64(3))
		goWrite(t, w2, total-int(w2.Seq()), 32)
		m := jsonLine(t, sc, stderr)
		assert.NilError(t, pyCmd.Wait())
		checkAccount(t, m, total)
		assert.DeepEqual(t, m["generations"], []any{1.0, 2.0, 3.0})
	})
}

func TestRingPythonLatestAndBusy(t *testing.T) {
	eachBuild(t, func(t *testing.T, b *build) {
		name := uniqueName(t)
		w, err := sa.CreateRing(name, 4, []int{64}, sa.Uint64)
		assert.NilError(t, err)
		defer w.Close()
		m := ringRun(t, b, "open-writer", name)
		assert.Equal(t, m["busy"], true, "Python became a second writer")
		t.Log(m["msg"])

		m = ringRun(t, b, "as-arm64", name)
		for _, what := range []string{"reader", "writer", "create"} {
			msg, _ := m[what].(string)
			assert.Assert(t, strings.HasPrefix(msg, "RingError errno 95: "), "%s on arm64: %v", what, m[what])
		}
		_, err = os.Stat("/dev/shm/" + name + "-new")
		assert.Assert(t, errors.Is(err, os.ErrNotExist), "create on arm64 made a segment")

		cmd, sc, stderr := ringPy(t, b, "latest", name, "10")
		assert.Equal(t, line(t, sc, stderr), "ready")
		goWrite(t, w, 10, 0)
		m = jsonLine(t, sc, stderr)
		assert.NilError(t, cmd.Wait())
		assert.Equal(t, num(m, "seq"), 9)
		assert.Equal(t, m["ok"], true)
		assert.Equal(t, num(m, "overruns"), 0, "frames skipped by latest are not overruns")
	})
}

// A corrupt or foreign control block is a clear RingError in Python too,
// never a hang or a crash.
func TestRingPythonCorrupt(t *testing.T) {
	b := ringBuild(t, "sa324-np2")
	const ctl = 4096 // a 4-slot ring of 8 uint64 words: the data fits one page
	cases := []struct {
		field string
		off   int64
		val   []byte
		want  string
	}{
		{"magic", 0, []byte("X"), "not a frame ring"},
		{"version", 8, []byte{3}, "version"},
		{"slots", 16, []byte{9}, "slots"},
		{"frame bytes", 24, []byte{1}, "frame bytes"},
		{"control size", 32, []byte{0, 0, 0, 1}, "control size"},
		{"flags", 44, []byte{1}, "flags"},
		{"head", 128 + 7, []byte{0x40}, "head"},
		{"slot seq", 256, nil, "slots[0].seq"},
		{"slot seq ahead", 256, nil, "slots[0].seq = 256: ahead of head 1"},
		{"slot seq ahead, latest", 256, nil, "slots[0].seq = 256: ahead of head 1"},
	}
	for _, c := range cases {
		t.Run(c.field, func(t *testing.T) {
			name := uniqueName(t)
			w, err := sa.CreateRing(name, 4, []int{8}, sa.Uint64)
			assert.NilError(t, err)
			defer w.Close()
			f, err := os.OpenFile("/dev/shm/"+name, os.O_RDWR, 0)
			assert.NilError(t, err)
			defer f.Close()
			slotCase := strings.HasPrefix(c.field, "slot seq")
			if !slotCase {
				_, err = f.WriteAt(c.val, ctl+c.off)
				assert.NilError(t, err)
			}
			args := []string{"open-reader", name, "2"}
			if strings.HasSuffix(c.field, "latest") {
				args = append(args, "latest")
			}
			cmd, sc, stderr := ringPy(t, b, args...)
			assert.Equal(t, line(t, sc, stderr), "ready")
			if strings.HasPrefix(c.field, "slot seq ahead") {
				// Slot 0 claims frame 127, the head says 1 frame is out.
				_, err = f.WriteAt([]byte{1}, ctl+256+1)
				assert.NilError(t, err)
			}
			if slotCase {
				// The head says frame 0 is out; its slot says it was
				// never written (or, above, is far ahead).
				_, err = f.WriteAt([]byte{1}, ctl+128)
				assert.NilError(t, err)
			}
			kill := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() }) // a spinning reader fails the test
			defer kill.Stop()
			m := jsonLine(t, sc, stderr)
			assert.NilError(t, cmd.Wait())
			res := m["result"].(map[string]any)
			t.Log(res["msg"])
			assert.Equal(t, res["error"], "RingError", "corrupt %s", c.field)
			assert.Assert(t, strings.Contains(res["msg"].(string), c.want), res["msg"])
		})
	}
}

// SharedArray 3.0.0 (288-byte trailer, no base.size) reads a ring made
// with LayoutDualV30 through the Python module too.
func TestRingV30Python(t *testing.T) {
	b := ringBuild(t, "sa300-np1")
	name := uniqueName(t)
	w, err := sa.CreateRing(name, 8, []int{512}, sa.Uint64, sa.WithLayout(sa.LayoutDualV30))
	assert.NilError(t, err)
	defer w.Close()
	const n = 10_000
	cmd, sc, stderr := ringPy(t, b, "read", name, strconv.Itoa(n), "copy")
	assert.Equal(t, line(t, sc, stderr), "ready")
	goWrite(t, w, n, 32)
	m := jsonLine(t, sc, stderr)
	assert.NilError(t, cmd.Wait())
	checkAccount(t, m, n)
}

// A Python reader says it waits (the writer sees its bit and wakes it);
// killed while waiting it leaves the bit, and the next reader on its lock
// byte clears it.
func TestRingPythonWaitingBit(t *testing.T) {
	eachBuild(t, func(t *testing.T, b *build) {
		name := uniqueName(t)
		w, err := sa.CreateRing(name, 2, []int{8}, sa.Uint64)
		assert.NilError(t, err)
		defer w.Close()
		waiting := func(want uint32) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for {
				st, err := sa.StatRing(name)
				assert.NilError(t, err)
				if st.Waiters == want || time.Now().After(deadline) {
					assert.Equal(t, st.Waiters, want)
					return
				}
				time.Sleep(time.Millisecond)
			}
		}
		cmd, sc, stderr := ringPy(t, b, "open-reader", name, "30")
		assert.Equal(t, line(t, sc, stderr), "ready")
		waiting(1)
		start := time.Now()
		goWrite(t, w, 1, 0)
		m := jsonLine(t, sc, stderr)
		assert.NilError(t, cmd.Wait())
		assert.Equal(t, m["result"].(map[string]any)["error"], nil)
		assert.Assert(t, time.Since(start) < 2*time.Second)
		waiting(0)

		cmd, sc, stderr = ringPy(t, b, "open-reader", name, "30")
		assert.Equal(t, line(t, sc, stderr), "ready")
		waiting(1)
		assert.NilError(t, cmd.Process.Signal(syscall.SIGKILL))
		cmd.Wait()
		waiting(1)                                               // the dead reader's bit stays...
		cmd, sc, stderr = ringPy(t, b, "open-reader", name, "0") // never sleeps: only its open clears the bit
		assert.Equal(t, line(t, sc, stderr), "ready")
		m = jsonLine(t, sc, stderr)
		assert.NilError(t, cmd.Wait())
		assert.Equal(t, m["result"].(map[string]any)["error"], "TimeoutError")
		waiting(0) // ...until a reader takes its lock byte
	})
}

// Python latest on a one-slot ring whose writer is filling the next frame:
// the newest frame is gone, so latest waits, asleep, and times out (it
// used to spin on the slot being rewritten, never looking at the clock).
func TestRingPythonLatestSlotRewritten(t *testing.T) {
	b := ringBuild(t, "sa324-np2")
	name := uniqueName(t)
	w, err := sa.CreateRing(name, 1, []int{8}, sa.Uint64)
	assert.NilError(t, err)
	defer w.Close()
	f, err := os.OpenFile("/dev/shm/"+name, os.O_RDWR, 0)
	assert.NilError(t, err)
	defer f.Close()
	const ctl = 4096
	cmd, sc, stderr := ringPy(t, b, "open-reader", name, "0.3", "latest")
	assert.Equal(t, line(t, sc, stderr), "ready")
	// What a writer leaves when it published frame 0 and started frame 1
	// while the reader slept: slot 0 holds frame 1 in progress (seq 3),
	// then the head says 1 frame is out.
	_, err = f.WriteAt([]byte{3}, ctl+256)
	assert.NilError(t, err)
	_, err = f.WriteAt([]byte{1}, ctl+128)
	assert.NilError(t, err)
	kill := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer kill.Stop()
	m := jsonLine(t, sc, stderr)
	assert.NilError(t, cmd.Wait())
	assert.Equal(t, m["result"].(map[string]any)["error"], "TimeoutError")
}

// Misuse of the Python module is a clear outcome: a reader its own read
// callback closes returns the callback's result (it raised TypeError), a
// closed writer raises RingError (TypeError), and a corrupt head counts no
// overruns (it counted 2^40).
func TestRingPythonMisuse(t *testing.T) {
	b := ringBuild(t, "sa324-np2")
	name := uniqueName(t)
	w, err := sa.CreateRing(name, 4, []int{8}, sa.Uint64)
	assert.NilError(t, err)
	assert.NilError(t, w.Close())
	m := ringRun(t, b, "misuse", name)
	t.Log(m)
	assert.Equal(t, m["close_in_read"], float64(0)) // frame 0, not an exception name
	assert.Equal(t, m["next"], "RingError")
	assert.Equal(t, m["publish"], "RingError")
	assert.Equal(t, m["head_ahead"], "RingError")
	assert.Equal(t, num(m, "head_ahead_overruns"), 0)
	assert.Assert(t, strings.Contains(fmt.Sprint(m["exhausted"]), "sequence exhausted"), m["exhausted"])
	assert.Equal(t, m["readable"], strconv.FormatUint(1<<62-1, 10), "the last frame leaves the ring readable")
}

// A Python read callback that raises consumes its frame, as a Go Read
// whose callback fails does: before, the reader stayed where it was, so a
// lapped reader counted the same lost frames again on the next call
// (overruns 3 became 6) and got the failed frame back. A wrong out is
// refused (TypeError naming out) before any frame is taken.
func TestRingPythonReadRaises(t *testing.T) {
	b := ringBuild(t, "sa324-np2")
	name := uniqueName(t)
	m := ringRun(t, b, "read-raises", name)
	assert.Equal(t, m["raised"], true)
	assert.Equal(t, num(m, "overruns_after_raise"), 3)
	assert.Assert(t, strings.HasPrefix(fmt.Sprint(m["bad_out"]), "TypeError: out must have"), "%v", m["bad_out"])
	assert.Equal(t, num(m, "next_seq"), 4, "the frame after the one whose callback raised")
	assert.Equal(t, num(m, "next_overruns"), 0)
	assert.Equal(t, num(m, "overruns"), 3, "lost frames counted once")
}

// Python create refuses what Go's CreateRing refuses, naming the
// argument, before SharedArray.create runs: a negative or overflowing
// dimension (SharedArray segfaulted, leaving a junk file at the name), a
// float slot count (truncated), a shape that is not a sequence, an object
// dtype (pointers of one process, which crash a reader in another).
func TestRingPythonBadCreate(t *testing.T) {
	b := ringBuild(t, "sa324-np2")
	for c, want := range map[string]string{
		"negative":    "ValueError: frame_shape",
		"overflow":    "ValueError: frame_shape",
		"float-slots": "TypeError: slots",
		"int-shape":   "TypeError: frame_shape",
		"object":      "TypeError: dtype",
		"empty":       "ValueError: frame_shape",
	} {
		t.Run(c, func(t *testing.T) {
			name := uniqueName(t)
			m := ringRun(t, b, "bad-create", name, c)
			assert.Assert(t, strings.HasPrefix(fmt.Sprint(m["refused"]), want), "%v", m["refused"])
			assert.Equal(t, m["exists"], false)
		})
	}
}

// A Python reader given timeout=NaN (or a string, a list) raises at once,
// naming the argument: NaN waited forever (every deadline comparison is
// false), a string raised TypeError about float + str.
func TestRingPythonBadTimeout(t *testing.T) {
	b := ringBuild(t, "sa324-np2")
	name := uniqueName(t)
	w, err := sa.CreateRing(name, 2, []int{8}, sa.Uint64)
	assert.NilError(t, err)
	defer w.Close()
	m := ringRun(t, b, "bad-timeout", name)
	for _, call := range []string{"next", "latest", "read"} {
		assert.Assert(t, strings.HasPrefix(fmt.Sprint(m["nan/"+call]), "ValueError: timeout "), "%s: %v", call, m["nan/"+call])
		assert.Assert(t, strings.HasPrefix(fmt.Sprint(m["str/"+call]), "TypeError: timeout "), "%s: %v", call, m["str/"+call])
		assert.Assert(t, strings.HasPrefix(fmt.Sprint(m["list/"+call]), "TypeError: timeout "), "%s: %v", call, m["list/"+call])
	}
}

// The Python module opens a ring of a million slots without an object per
// slot (it made two ctypes objects per slot: about 300 bytes each, and
// seconds per million), and creates no more slots than Go opens (2^24).
func TestRingPythonManySlots(t *testing.T) {
	b := ringBuild(t, "sa324-np2")
	name := uniqueName(t)
	w, err := sa.CreateRing(name, 1<<20, []int{1}, sa.Uint8)
	assert.NilError(t, err)
	defer w.Close()
	m := ringRun(t, b, "big", name)
	t.Log(m)
	assert.Equal(t, num(m, "slots"), 1<<20)
	assert.Assert(t, num(m, "rss_kib") < 32<<10, "opening took %d KiB", num(m, "rss_kib"))
	assert.Assert(t, strings.Contains(fmt.Sprint(m["over"]), "slots must be 1..16777216"), m["over"])
}

// 0-d frames (frame_shape ()) both ways: a Go writer to Python readers
// (copy and in place), and a Python writer, through next() and write(),
// to a Go reader. The Python writer's next() returned a NumPy scalar copy,
// so filling it did nothing (issue 16, defect 8).
func TestRingZeroD(t *testing.T) {
	eachBuild(t, func(t *testing.T, b *build) {
		name := uniqueName(t)
		w, err := sa.CreateRing(name, 4, []int{}, sa.Uint64)
		assert.NilError(t, err)
		defer w.Close()
		const n = 2000
		for i, mode := range []string{"copy", "inplace"} {
			count := (i + 1) * n // the helper reads until frame count-1
			cmd, sc, stderr := ringPy(t, b, "read", name, strconv.Itoa(count), mode)
			assert.Equal(t, line(t, sc, stderr), "ready")
			goWrite(t, w, n, 8)
			m := jsonLine(t, sc, stderr)
			assert.NilError(t, cmd.Wait())
			t.Log(mode, m)
			assert.Equal(t, num(m, "torn_accepted"), 0, mode)
			assert.Equal(t, num(m, "last"), count-1, mode)
		}
		assert.NilError(t, w.Close())

		r, err := sa.OpenRingReader(name)
		assert.NilError(t, err)
		defer r.Close()
		cmd, sc, stderr := ringPy(t, b, "zerod", name, strconv.Itoa(n))
		buf := make([]byte, 8)
		frames, first := 0, uint64(0)
		for {
			info, err := nextTimeout(r, 3*time.Second, buf)
			if errors.Is(err, context.DeadlineExceeded) {
				break
			}
			assert.NilError(t, err)
			if frames == 0 {
				first = info.Seq
			}
			assert.Assert(t, frameOK(buf, info.Seq), "0-d frame %d from Python holds %x", info.Seq, buf)
			frames++
			if info.Seq == first+n-1 {
				break
			}
		}
		m := jsonLine(t, sc, stderr)
		assert.NilError(t, cmd.Wait())
		t.Log(m, frames, r.Overruns())
		assert.DeepEqual(t, m["slot_shapes"], []any{"()"})
		assert.Equal(t, uint64(frames)+r.Overruns(), uint64(n))

		m = ringRun(t, b, "bad-write", name)
		t.Log(m)
		assert.Equal(t, m["dtype"], "TypeError")
		assert.Equal(t, m["python int"], "TypeError")
		assert.Equal(t, m["shape"], "ValueError")
		assert.Equal(t, m["unchanged"], true, "a failed write changed the ring")
	})
}

// A whole-file read lock from Python (fcntl.lockf(fd, LOCK_SH), which any
// user with read access can take): Go's StatRing and Python's stat()
// return at once with the true state (they spun at 100 % CPU), and neither
// language's writer open claims a live writer.
func TestRingPythonWholeFileLock(t *testing.T) {
	eachBuild(t, func(t *testing.T, b *build) {
		name := uniqueName(t)
		w, err := sa.CreateRing(name, 4, []int{8}, sa.Uint64)
		assert.NilError(t, err)
		goWrite(t, w, 3, 0)
		assert.NilError(t, w.Close())
		holder, sc, stderr := ringPy(t, b, "lockf", name)
		assert.Equal(t, line(t, sc, stderr), "ready")

		done := make(chan struct{})
		var st sa.RingInfo
		go func() { defer close(done); st, err = sa.StatRing(name) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("StatRing spins under a Python lockf")
		}
		assert.NilError(t, err)
		assert.Equal(t, st.Readers, 0)
		assert.Equal(t, st.WriterAlive, false)
		assert.Equal(t, st.Head, uint64(3))

		cmd, sc2, stderr2 := ringPy(t, b, "stat", name)
		kill := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() }) // a spinning stat fails the test
		m := jsonLine(t, sc2, stderr2)
		kill.Stop()
		assert.NilError(t, cmd.Wait())
		t.Log(m)
		assert.Equal(t, num(m, "readers"), 0)
		assert.Equal(t, m["writer_alive"], false)
		assert.Equal(t, num(m, "head"), 3)

		m = ringRun(t, b, "open-writer", name)
		t.Log(m)
		assert.Equal(t, m["busy"], false)
		assert.Equal(t, m["raised"], "RingError")
		assert.Equal(t, num(m, "errno"), int(syscall.EAGAIN))
		assert.Assert(t, strings.Contains(m["msg"].(string), fmt.Sprintf("held by process %d", holder.Process.Pid)), m["msg"])
		_, err = sa.OpenRingWriter(name)
		assert.Assert(t, err != nil && !errors.Is(err, sa.ErrBusy), "%v", err)
		assert.ErrorIs(t, err, syscall.EAGAIN)
	})
}

// Python's stat() counts readers exactly under churn (it skipped readers
// below the oldest lock), and Go counts the Python readers exactly.
func TestRingPythonReaderChurn(t *testing.T) {
	b := ringBuild(t, "sa324-np2")
	name := uniqueName(t)
	w, err := sa.CreateRing(name, 2, []int{1}, sa.Uint64)
	assert.NilError(t, err)
	defer w.Close()
	_, sc, stderr := ringPy(t, b, "churn", name, "200")
	m := jsonLine(t, sc, stderr)
	t.Log(m)
	assert.DeepEqual(t, m["mismatches"], []any{})
	st, err := sa.StatRing(name)
	assert.NilError(t, err)
	assert.Equal(t, st.Readers, num(m, "open"))
}

// The Python module opens the ring file by name for its locks and
// SharedArray attaches it by name again: a file renamed over the name in
// between is refused (the locks would guard another file), and create
// never grows, writes or deletes a file that replaced the one
// SharedArray.create made.
func TestRingPythonNameReplaced(t *testing.T) {
	b := ringBuild(t, "sa324-np2")
	name, other := uniqueName(t), uniqueName(t)
	for _, n := range []string{name, other} {
		w, err := sa.CreateRing(n, 2, []int{4}, sa.Uint8)
		assert.NilError(t, err)
		assert.NilError(t, w.Close())
	}
	t.Cleanup(func() { os.Remove("/dev/shm/" + name + "-c") })
	m := ringRun(t, b, "replaced", name, other)
	t.Log(m)
	assert.Assert(t, strings.Contains(fmt.Sprint(m["open"]), "the file changed while it was opened"), m["open"])
	assert.Assert(t, strings.Contains(fmt.Sprint(m["create"]), "the file was replaced"), m["create"])
	assert.Equal(t, m["replacement_intact"], true)
	assert.Assert(t, strings.Contains(fmt.Sprint(m["create_writer"]), "the file was replaced"), m["create_writer"])
	assert.Equal(t, m["replacement_intact_2"], true)
}
