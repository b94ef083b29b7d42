package pycompat_test

import (
	"bufio"
	"context"
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

// pyScript runs a Python script with env, returning its last output line
// parsed as JSON.
func pyScript(t *testing.T, b *build, env []string, script string, args ...string) map[string]any {
	t.Helper()
	cmd := exec.Command(b.python(), append([]string{"-c", script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	assert.NilError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var m map[string]any
	assert.NilError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &m), "%s", out)
	return m
}

func TestRingPythonAccelerated(t *testing.T) {
	for _, venv := range ringBuilds {
		t.Run(venv, func(t *testing.T) {
			b := ringBuild(t, venv)
			for impl, env := range pyEnvs(t, b) {
				m := pyScript(t, b, env, `import json, sharedarray_ring as sr; print(json.dumps({"accelerated": sr.accelerated}))`)
				assert.Equal(t, m["accelerated"], impl == "fast", impl)
			}
		})
	}
}

// Every wait mode, in both implementations, accounts for every frame of a
// Go writer: read whole, or counted as an overrun.
func TestRingPythonWaitModes(t *testing.T) {
	const n = 3000
	for _, venv := range ringBuilds {
		t.Run(venv, func(t *testing.T) {
			b := ringBuild(t, venv)
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
}

// The C extension's writer publishes checksummed frames a Go reader reads
// whole, and a Go writer's frames reach the C extension's reader whole,
// with every gap counted (the pure paths: TestRingPythonToGo,
// TestRingGoToPython).
func TestRingPythonFastBothWays(t *testing.T) {
	const n = 20_000
	for _, venv := range ringBuilds {
		t.Run(venv, func(t *testing.T) {
			b := ringBuild(t, venv)
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
			buf := make([]byte, r.FrameBytes())
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
	for _, venv := range ringBuilds {
		t.Run(venv, func(t *testing.T) {
			b := ringBuild(t, venv)
			for impl, env := range pyEnvs(t, b) {
				t.Run(impl, func(t *testing.T) {
					name := uniqueName(t)
					cmd := exec.Command(b.python(), "-c", script, name)
					cmd.Env = append(os.Environ(), env...)
					stderr := &strings.Builder{}
					cmd.Stderr = stderr
					out, err := cmd.StdoutPipe()
					assert.NilError(t, err)
					assert.NilError(t, cmd.Start())
					defer cmd.Wait()
					defer cmd.Process.Kill()
					sc := bufio.NewScanner(out)
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
		})
	}
}

// nextTimeout is r.Next with a timeout.
func nextTimeout(r *sa.RingReader, d time.Duration, buf []byte) (sa.FrameInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return r.Next(ctx, buf)
}
