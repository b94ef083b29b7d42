package pycompat_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	sa "github.com/sharedarray/sharedarray"
	"gotest.tools/v3/assert"
)

// shapeRuleCases are shapes at the edge of NumPy's rule: itemsize × the
// product of the non-zero dims must fit in int64, even when a zero dim
// makes the array empty.
var shapeRuleCases = []struct {
	shape []int
	dt    sa.Dtype
}{
	{[]int{0, 1 << 62, 1 << 62}, sa.Float64},
	{[]int{0, 1 << 60, 8}, sa.Int8},
	{[]int{0, 1<<60 - 1, 8}, sa.Int8},
	{[]int{0, math.MaxInt64}, sa.Int8},
	{[]int{0, math.MaxInt64}, sa.Int16},
	{[]int{1 << 61, 0}, sa.Int32},
	{[]int{1<<61 - 1, 0}, sa.Int32},
	{[]int{3, 0, 4}, sa.Float64},
	{[]int{0}, sa.Bool},
	{[]int{2, 3, 0}, sa.Complex128},
	{[]int{0, 1 << 59}, mustDtype("S16")},
	{[]int{0, 1 << 59}, mustDtype("S17")},
	{[]int{0, 1 << 40, 1 << 20}, mustDtype("U2")},
}

// TestShapeRuleMatchesNumPy: Go accepts exactly the shapes NumPy accepts;
// SharedArray attaches every empty array Go creates, with the shape and
// strides Go reports (NumPy zeroes the strides of the empty arrays it
// allocates itself, np.empty, but not of arrays over existing memory such
// as SharedArray's); numpy.load reads every one SaveNPY writes. (SharedArray itself
// checks nothing: attaching a segment whose shape NumPy refuses crashes
// the Python process, which is why Go must never write one.)
func TestShapeRuleMatchesNumPy(t *testing.T) {
	for _, b := range npyBuilds() {
		t.Run(b.venv, func(t *testing.T) {
			p := pyFor(t, b)
			var cases [][]any
			for _, c := range shapeRuleCases {
				cases = append(cases, []any{c.shape, c.dt.String()})
			}
			res := p.call(t, map[string]any{"op": "shape_rule", "cases": cases})["results"].([]any)
			dir := t.TempDir()
			accepted := 0
			for i, c := range shapeRuleCases {
				r := res[i].(map[string]any)
				label := fmt.Sprintf("%v %s", c.shape, c.dt)
				name := uniqueName(t)
				a, err := sa.Create(name, c.shape, c.dt)
				if r["ok"] != true {
					assert.Assert(t, strings.Contains(fmt.Sprint(r["msg"]), "array is too big"), "%s: numpy: %v", label, r["msg"])
					assert.Assert(t, errors.Is(err, sa.ErrInvalid), "%s: NumPy refuses it, Go: %v", label, err)
					assert.ErrorContains(t, err, "array is too big")
					continue
				}
				accepted++
				assert.NilError(t, err, "%s: NumPy accepts it", label)
				got := p.call(t, map[string]any{"op": "attach_shape", "name": name})
				assert.Equal(t, fmt.Sprint(got["shape"]), fmt.Sprint(floats(c.shape)), label)
				assert.Equal(t, fmt.Sprint(got["strides"]), fmt.Sprint(floats(a.Strides())), label)
				path := filepath.Join(dir, fmt.Sprintf("%d.npy", i))
				assert.NilError(t, a.SaveNPY(path))
				got = p.call(t, map[string]any{"op": "npy_shape", "path": path})
				assert.Equal(t, fmt.Sprint(got["shape"]), fmt.Sprint(floats(c.shape)), label)
				a.Close()
				assert.NilError(t, sa.Delete(name))
			}
			assert.Assert(t, accepted > 0 && accepted < len(shapeRuleCases))
		})
	}
}

// floats is how JSON numbers come back from Python.
func floats(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// TestSharedArrayCrashesOnRefusedShape shows why the rule matters: a
// segment whose shape NumPy refuses (a zero dim hiding an overflow), which
// sharedarray never writes, kills the Python process that attaches it. The
// segment is crafted by hand and attached in a throwaway subprocess.
func TestSharedArrayCrashesOnRefusedShape(t *testing.T) {
	for _, b := range npyBuilds() {
		t.Run(b.venv, func(t *testing.T) {
			pyFor(t, b) // skips when the environment is missing
			path := filepath.Join(t.TempDir(), "bad.seg")
			// The build's own trailer: float64, shape (0, 2^62, 2^62), no data.
			tr := make([]byte, b.layout.TrailerSize())
			copy(tr, "[SharedArray]")
			binary.LittleEndian.PutUint32(tr[24:], 12) // float64
			binary.LittleEndian.PutUint32(tr[28:], 8)
			binary.LittleEndian.PutUint32(tr[32:], 3)
			binary.LittleEndian.PutUint64(tr[44:], 1<<62)
			binary.LittleEndian.PutUint64(tr[52:], 1<<62)
			assert.NilError(t, os.WriteFile(path, tr, 0o644))
			_, err := sa.Attach("file://" + path)
			assert.Assert(t, errors.Is(err, sa.ErrFormat), "%v", err)
			cmd := exec.Command(b.python(), "-c", "import SharedArray, sys; a = SharedArray.attach(sys.argv[1]); print(a.shape, a.strides)", "file://"+path)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			assert.Assert(t, errors.As(err, &ee), "SharedArray attached it: %s", out)
			ws, _ := ee.Sys().(syscall.WaitStatus)
			assert.Assert(t, ws.Signaled() && ws.Signal() == syscall.SIGSEGV, "not a SIGSEGV: %v: %s", err, out)
			t.Logf("SharedArray %s: %v: %s", b.version, err, strings.TrimSpace(string(out)))
		})
	}
}
