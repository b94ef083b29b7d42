// Package pycompat_test proves that arrays made by package sharedarray and
// by the real Python SharedArray (from PyPI, in each build users run) are
// one and the same: every dtype, shape and layout, both directions, values
// checked byte by byte. scripts/setup_venvs.sh builds the environments; make
// pycompat runs both.
package pycompat_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	sa "github.com/sharedarray/sharedarray"
)

// build is one SharedArray build in its own virtual environment.
type build struct {
	venv     string    // directory name under the venvs directory
	version  string    // SharedArray version installed
	numpy    string    // NumPy major version at run time
	layout   sa.Layout // what it writes
	maxDims  int       // NPY_MAXDIMS of the headers it was built with
	flexible bool      // can share S, U and V arrays
	ro       bool      // attach(name, ro=True) exists
	reads    []sa.Layout
}

var builds = []*build{
	{venv: "sa300-np1", version: "3.0.0", numpy: "1", layout: sa.LayoutV30, maxDims: 32, reads: []sa.Layout{sa.LayoutV30, sa.LayoutDualV30}},
	{venv: "sa324-np1", version: "3.2.4", numpy: "1", layout: sa.LayoutNumPy1, maxDims: 32, flexible: true, ro: true, reads: []sa.Layout{sa.LayoutDual, sa.LayoutNumPy1}},
	{venv: "sa324-np2", version: "3.2.4", numpy: "2", layout: sa.LayoutNumPy2, maxDims: 64, flexible: true, ro: true, reads: []sa.Layout{sa.LayoutDual, sa.LayoutNumPy2, sa.LayoutDualV30}},
}

// goDefault is the layout Go writes for a build when none is asked.
func (b *build) goDefault() sa.Layout { return b.reads[0] }

func venvsDir() string {
	if d := os.Getenv("SHAREDARRAY_VENVS"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "sharedarray", "venvs")
}

// required: in CI (or when asked) a missing environment is a failure.
func required() bool {
	return os.Getenv("CI") != "" || os.Getenv("SHAREDARRAY_REQUIRE_PYTHON") != ""
}

func (b *build) python() string { return filepath.Join(venvsDir(), b.venv, "bin", "python") }

// py is a running helper.py serve process.
type py struct {
	b      *build
	cmd    *exec.Cmd
	in     *json.Encoder
	out    *bufio.Scanner
	stderr *bytes.Buffer
	mu     sync.Mutex
}

var (
	pyMu    sync.Mutex
	running = map[string]*py{}
)

// pyFor returns the helper of build b, starting it on first use; it skips
// (or in CI fails) the test when the environment is missing.
func pyFor(t *testing.T, b *build) *py {
	t.Helper()
	pyMu.Lock()
	defer pyMu.Unlock()
	if p := running[b.venv]; p != nil {
		return p
	}
	if _, err := os.Stat(b.python()); err != nil {
		msg := fmt.Sprintf("no Python environment %s (run scripts/setup_venvs.sh): %v", b.venv, err)
		if required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cmd := exec.Command(b.python(), "helper.py", "serve")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &py{b: b, cmd: cmd, in: json.NewEncoder(stdin), stderr: &bytes.Buffer{}}
	cmd.Stderr = p.stderr
	p.out = bufio.NewScanner(stdout)
	p.out.Buffer(make([]byte, 1<<20), 64<<20)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	running[b.venv] = p
	return p
}

func stopHelpers() {
	pyMu.Lock()
	defer pyMu.Unlock()
	for _, p := range running {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

type reply map[string]any

// call sends one request and returns the reply; a Python exception or a
// dead helper fails the test.
func (p *py) call(t *testing.T, req map[string]any) reply {
	t.Helper()
	r, err := p.try(req)
	if err != nil {
		t.Fatalf("%s: %v", p.b.venv, err)
	}
	return r
}

// try is call without failing: a Python exception comes back as an error.
func (p *py) try(req map[string]any) (reply, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.in.Encode(req); err != nil {
		return nil, fmt.Errorf("helper gone: %v; stderr: %s", err, p.stderr)
	}
	if !p.out.Scan() {
		return nil, fmt.Errorf("helper died on %v: %v; stderr: %s", req["op"], p.out.Err(), p.stderr)
	}
	var r reply
	if err := json.Unmarshal(p.out.Bytes(), &r); err != nil {
		return nil, err
	}
	if r["ok"] != true {
		return r, fmt.Errorf("python %s on %v: %s: %s", req["op"], req["name"], r["exc"], r["msg"])
	}
	return r, nil
}

var seq atomic.Int64

const prefix = "sharedarray-test-py-"

// uniqueName returns a fresh shm name and removes it when the test ends.
func uniqueName(t *testing.T) string {
	name := fmt.Sprintf("%s%d-%d", prefix, os.Getpid(), seq.Add(1))
	t.Cleanup(func() { os.Remove("/dev/shm/" + name) })
	return name
}

func TestMain(m *testing.M) {
	if w := os.Getenv("SHAREDARRAY_PYCOMPAT_WORKER"); w != "" {
		os.Exit(goWorker(w))
	}
	code := m.Run()
	stopHelpers()
	if missing := missingVenvs(); len(missing) == len(builds) && !required() {
		// go test prints only "ok" for a passing package; this line makes it
		// print "ok ... [no tests to run]", and -v shows the reason.
		fmt.Printf("\ntesting: warning: no tests to run\n"+
			"pycompat_test: SKIPPED: no SharedArray environment in %s (run make venvs); nothing was compared with Python (with CI=true this fails)\n", venvsDir())
	}
	os.Exit(code)
}

// missingVenvs lists the builds whose environment is not there.
func missingVenvs() []string {
	var missing []string
	for _, b := range builds {
		if _, err := os.Stat(b.python()); err != nil {
			missing = append(missing, b.venv)
		}
	}
	return missing
}

// errorsOf returns the "errors" list of a verify reply.
func errorsOf(r reply) []string {
	var out []string
	if l, ok := r["errors"].([]any); ok {
		for _, e := range l {
			out = append(out, fmt.Sprint(e))
		}
	}
	return out
}

func joinErrs(errs []string) string { return strings.Join(errs, "; ") }

// Without any Python environment these tests say so: each skips with the
// reason, the run ends with go test's "[no tests to run]" marker and a
// line saying nothing was compared; with CI=true the same run fails.
func TestNoPythonIsLoud(t *testing.T) {
	if os.Getenv("SHAREDARRAY_PYCOMPAT_LOUD_CHILD") != "" {
		t.Skip("the child's own run")
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CI=") && !strings.HasPrefix(kv, "SHAREDARRAY_REQUIRE_PYTHON=") && !strings.HasPrefix(kv, "SHAREDARRAY_VENVS=") {
			env = append(env, kv)
		}
	}
	env = append(env, "SHAREDARRAY_VENVS="+filepath.Join(t.TempDir(), "none"), "SHAREDARRAY_PYCOMPAT_LOUD_CHILD=1")
	run := func(extra ...string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^(TestRingGoToPython|TestDefaultModeAsSharedArray)$", "-test.v")
		cmd.Env = append(append([]string{}, env...), extra...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run()
	if err != nil {
		t.Fatalf("without Python and without CI: %v\n%s", err, out)
	}
	for _, want := range []string{"--- SKIP: TestDefaultModeAsSharedArray", "no Python environment", "\ntesting: warning: no tests to run\n", "pycompat_test: SKIPPED: no SharedArray environment in "} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing:\n%s", want, out)
		}
	}
	out, err = run("CI=true")
	if err == nil || !strings.Contains(out, "--- FAIL") {
		t.Fatalf("with CI=true it must fail: %v\n%s", err, out)
	}
}
