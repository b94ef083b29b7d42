package pycompat_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	sa "github.com/sharedarray/sharedarray"
	"github.com/sharedarray/sharedarray/internal/testutil"
)

// pyHold is a Python process of one environment that holds an array
// through the real SharedArray: it creates it ("create") or attaches it
// ("attach"), prints "ready" and keeps it until its stdin closes.
const pyHold = `
import sys, numpy as np, SharedArray as sa
mode, name = sys.argv[1], sys.argv[2]
a = sa.create(name, (16,), dtype=np.uint8) if mode == "create" else sa.attach(name)
print("ready", flush=True)
sys.stdin.read()
`

func startPyHolder(t *testing.T, b *build, mode, name string) *exec.Cmd {
	t.Helper()
	pyFor(t, b) // skips, or fails in CI, when the environment is missing
	cmd := exec.Command(b.python(), "-c", pyHold, mode, name)
	return testutil.StartHolder(t, cmd, b.venv+" holder of "+name)
}

// buildCLI builds cmd/sharedarray into a temporary directory.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sharedarray")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/sharedarray").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type lsHolder struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	Mapped  bool   `json:"mapped"`
}

type lsEntry struct {
	Name             string     `json:"name"`
	Layout           string     `json:"layout"`
	Attached         int        `json:"attached"`
	AttachedComplete bool       `json:"attached_complete"`
	Holders          []lsHolder `json:"holders"`
}

func cli(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// TestCLIHoldersAndGC: arrays held by Python processes (the real
// SharedArray) and by this Go process show as attached in ls; gc removes
// only the old ones nobody holds, including one whose Python holder was
// killed with SIGKILL, and touches SharedArray's own layouts only with
// --all-layouts.
func TestCLIHoldersAndGC(t *testing.T) {
	b := builds[2] // SharedArray 3.2.4, NumPy 2: reads dual, writes numpy2
	bin := buildCLI(t)
	goMade := func() string {
		n := uniqueName(t)
		a, err := sa.Create(n, []int{16}, sa.Uint8)
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		return n
	}
	pyHeld := goMade()      // dual, attached by Python
	pyOwn := uniqueName(t)  // numpy2, created and held by Python
	goHeld := goMade()      // dual, mapped by this process
	free := goMade()        // dual, nobody
	pyLeft := uniqueName(t) // numpy2, its Python creator exited
	pyKilled := goMade()    // dual, its Python holder is killed
	young := goMade()       // dual, nobody, but recent
	attacher := startPyHolder(t, b, "attach", pyHeld)
	owner := startPyHolder(t, b, "create", pyOwn)
	left := startPyHolder(t, b, "create", pyLeft)
	killed := startPyHolder(t, b, "attach", pyKilled)
	g, err := sa.Attach(goHeld, sa.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	old := time.Now().Add(-2 * time.Hour)
	for _, n := range []string{pyHeld, pyOwn, goHeld, free, pyLeft, pyKilled} {
		if err := os.Chtimes("/dev/shm/"+n, old, old); err != nil {
			t.Fatal(err)
		}
	}

	code, out, errs := cli(t, bin, "ls", "--json")
	if code != 0 {
		t.Fatalf("ls: %d %s", code, errs)
	}
	var entries []lsEntry
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatal(err)
	}
	got := map[string]lsEntry{}
	for _, e := range entries {
		got[e.Name] = e
	}
	for n, want := range map[string]int{pyHeld: attacher.Process.Pid, pyOwn: owner.Process.Pid, goHeld: os.Getpid(), free: 0} {
		e, ok := got[n]
		if !ok {
			t.Fatalf("%s not listed", n)
		}
		if want == 0 {
			if e.Attached != 0 {
				t.Errorf("%s: attached %d, want 0: %v", n, e.Attached, e.Holders)
			}
			continue
		}
		if e.Attached != 1 || !e.Holders[0].Mapped {
			t.Errorf("%s: attached %d, holders %v", n, e.Attached, e.Holders)
			continue
		}
		if e.Holders[0].PID != want {
			t.Errorf("%s: holder %d, want %d", n, e.Holders[0].PID, want)
		}
	}
	if c := got[pyHeld].Holders; len(c) == 1 && !strings.HasPrefix(c[0].Command, "python") {
		t.Errorf("Python holder's command is %q", c[0].Command)
	}
	if got[pyOwn].Layout != "numpy2" {
		t.Errorf("Python-made array has layout %s", got[pyOwn].Layout)
	}

	// The leftovers: a Python process that exited normally and one that was
	// killed. Both leave their arrays behind.
	left.Process.Signal(syscall.SIGTERM)
	left.Wait()
	killed.Process.Signal(syscall.SIGKILL)
	killed.Wait()

	gc := []string{"gc", "--older-than", "1h", fmt.Sprintf("%s%d-*", prefix, os.Getpid())}
	if !got[free].AttachedComplete {
		code, out, errs := cli(t, bin, gc...)
		if code != 1 || strings.Contains(out, "removed") || !strings.Contains(errs, "could not be inspected") {
			t.Fatalf("gc with uninspectable processes: %d\n%s%s", code, out, errs)
		}
		gc = append(gc, "--force")
	}
	removed := func(out string) []string {
		var ns []string
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[0] == "removed" {
				ns = append(ns, f[1])
			}
		}
		slices.Sort(ns)
		return ns
	}
	want := []string{free, pyKilled}
	slices.Sort(want)
	code, out, errs = cli(t, bin, gc...)
	if code != 0 || !slices.Equal(removed(out), want) {
		t.Fatalf("gc: %d, removed %v, want %v\n%s%s", code, removed(out), want, out, errs)
	}
	code, out, errs = cli(t, bin, append(gc, "--all-layouts")...)
	if code != 0 || !slices.Equal(removed(out), []string{pyLeft}) {
		t.Fatalf("gc --all-layouts: %d, removed %v, want %v\n%s%s", code, removed(out), []string{pyLeft}, out, errs)
	}
	for _, n := range []string{pyHeld, pyOwn, goHeld, young} {
		if _, err := os.Stat("/dev/shm/" + n); err != nil {
			t.Errorf("gc removed %s: %v", n, err)
		}
	}
}

// Create's default mode is SharedArray's (WithPerm's doc: "The default is
// 0666, as SharedArray"): under the same umask, an array Go creates
// without WithPerm has the permission bits of one each SharedArray build
// creates.
func TestDefaultModeAsSharedArray(t *testing.T) {
	for _, b := range builds {
		t.Run(b.venv, func(t *testing.T) {
			pyFor(t, b)
			py, gon := uniqueName(t), uniqueName(t)
			out, err := exec.Command(b.python(), "-c", "import sys, SharedArray as sa; a = sa.create(sys.argv[1], (4,)); del a", py).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			a, err := sa.Create(gon, []int{4}, sa.Float64)
			if err != nil {
				t.Fatal(err)
			}
			a.Close()
			pst, err := os.Stat("/dev/shm/" + py)
			if err != nil {
				t.Fatal(err)
			}
			gst, err := os.Stat("/dev/shm/" + gon)
			if err != nil {
				t.Fatal(err)
			}
			if gst.Mode().Perm() != pst.Mode().Perm() {
				t.Fatalf("Go's default mode %v, SharedArray %s's %v", gst.Mode().Perm(), b.version, pst.Mode().Perm())
			}
		})
	}
}
