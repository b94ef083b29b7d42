package pycompat_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sa "github.com/sharedarray/sharedarray"
	"gotest.tools/v3/assert"
)

// dtypeCase is one dtype in the matrix: how Go names it and how NumPy
// spells it (typenum 9/10 are NumPy-only spellings Go reads as int64).
type dtypeCase struct {
	dt  sa.Dtype
	np  string // NumPy spelling for Python's create
	num int    // dtype.num Python must see
}

func dtypeCases(b *build) []dtypeCase {
	var out []dtypeCase
	for _, dt := range []sa.Dtype{sa.Bool, sa.Int8, sa.Uint8, sa.Int16, sa.Uint16, sa.Int32, sa.Uint32, sa.Int64,
		sa.Uint64, sa.Float16, sa.Float32, sa.Float64, sa.LongDouble, sa.Complex64, sa.Complex128,
		sa.CLongDouble, sa.Datetime64, sa.Timedelta64, mustDtype("S7"), mustDtype("U3"), mustDtype("V12")} {
		if dt.IsFlexible() && !b.flexible {
			continue // SharedArray 3.0.0 cannot share S, U or V arrays
		}
		out = append(out, dtypeCase{dt, dt.String(), dt.Typenum()})
	}
	return append(out, dtypeCase{sa.Int64, "q", 9}, dtypeCase{sa.Uint64, "Q", 10})
}

func ones(n int, first ...int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
	}
	copy(s, first)
	return s
}

// shapes are the shapes every dtype is tried with, for a layout whose
// bound is maxDims.
// maxDims is each layout's dimension limit, from docs/format.md: a Go
// segment of that many dimensions is the largest each build must attach.
var maxDims = map[sa.Layout]int{sa.LayoutV30: 32, sa.LayoutNumPy1: 32, sa.LayoutNumPy2: 64, sa.LayoutDual: 27, sa.LayoutDualV30: 28}

// carries reports whether SharedArray builds reading layout l attach
// dtype d: 3.0.0's layouts have no S, U or V.
func carries(l sa.Layout, d sa.Dtype) bool {
	return !d.IsFlexible() || (l != sa.LayoutV30 && l != sa.LayoutDualV30)
}

func shapes(maxDims int) [][]int {
	return [][]int{{}, {5}, {2, 3, 4}, {3, 0, 2}, ones(maxDims, 2, 1, 3)}
}

func shapeLabel(shape []int) string {
	if len(shape) > 4 {
		return fmt.Sprintf("%dd", len(shape))
	}
	return strings.ReplaceAll(fmt.Sprint(shape), " ", "x")
}

func dtypeJSON(c dtypeCase) map[string]any {
	return map[string]any{"np": c.np, "num": c.num, "itemsize": c.dt.ItemSize()}
}

// goToPython: Go creates with layout l and seed s1; Python attaches,
// checks every byte, writes s2; Go checks s2.
func goToPython(t *testing.T, p *py, l sa.Layout, c dtypeCase, shape []int, s1, s2 int, ro bool) {
	t.Helper()
	name := uniqueName(t)
	full := "shm://" + name
	a, err := sa.Create(full, shape, c.dt, sa.WithLayout(l))
	assert.NilError(t, err)
	defer a.Close()
	assert.NilError(t, fillArray(a, s1))
	req := map[string]any{"op": "verify", "name": full, "dtype": dtypeJSON(c), "shape": shape, "seed": s1, "ro": ro}
	if !ro {
		req["write_seed"] = s2
	}
	r := p.call(t, req)
	if errs := errorsOf(r); len(errs) > 0 {
		t.Fatalf("%s: Go %s %v in layout %s: python sees: %s", p.b.venv, c.dt, shape, l, joinErrs(errs))
	}
	assert.Equal(t, r["base_name"], full, "base.name is the name as passed")
	if ro {
		assert.Equal(t, r["writeable"], false)
		assert.NilError(t, checkArray(a, s1))
		return
	}
	assert.NilError(t, checkArray(a, s2), "%s: Go does not see Python's writes to %s %v", p.b.venv, c.dt, shape)
	assert.NilError(t, sa.Delete(full))
}

// pythonToGo: Python creates with seed s1; Go attaches, checks, writes
// s2; Python checks s2 on its own mapping.
func pythonToGo(t *testing.T, p *py, c dtypeCase, shape []int, s1, s2 int) {
	t.Helper()
	name := uniqueName(t)
	r := p.call(t, map[string]any{"op": "create", "name": name, "dtype": dtypeJSON(c), "shape": shape, "seed": s1})
	assert.Equal(t, int(r["num"].(float64)), c.num, "python made typenum %v", r["num"])
	defer p.call(t, map[string]any{"op": "release", "name": name})
	a, err := sa.Attach(name)
	assert.NilError(t, err, "%s: python's %s %v", p.b.venv, c.np, shape)
	defer a.Close()
	assert.Equal(t, a.Name(), name)
	assert.Equal(t, a.Layout(), p.b.layout)
	assert.Equal(t, a.Dtype(), c.dt)
	assert.DeepEqual(t, a.Shape(), shape)
	assert.NilError(t, checkArray(a, s1), "%s: python's %s %v", p.b.venv, c.np, shape)
	assert.NilError(t, fillArray(a, s2))
	r = p.call(t, map[string]any{"op": "verify", "held": true, "name": name, "dtype": dtypeJSON(c), "shape": shape, "seed": s2})
	if errs := errorsOf(r); len(errs) > 0 {
		t.Fatalf("%s: python does not see Go's writes to %s %v: %s", p.b.venv, c.np, shape, joinErrs(errs))
	}
	assert.NilError(t, sa.Delete(name))
}

// TestBuilds checks each environment is the build it claims: the trailer
// size it writes.
func TestBuilds(t *testing.T) {
	for _, b := range builds {
		t.Run(b.venv, func(t *testing.T) {
			p := pyFor(t, b)
			v := p.call(t, map[string]any{"op": "info"})
			t.Logf("%s: SharedArray %s, NumPy %s", b.venv, v["sharedarray"], v["numpy"])
			assert.Equal(t, v["sharedarray"], b.version)
			assert.Assert(t, strings.HasPrefix(v["numpy"].(string), b.numpy+"."), "NumPy %s", v["numpy"])
			name := uniqueName(t)
			p.call(t, map[string]any{"op": "create", "name": name, "dtype": map[string]any{"np": "<i4"}, "shape": []int{3, 4}, "seed": 1})
			r := p.call(t, map[string]any{"op": "trailer_size", "name": name, "path": "/dev/shm/" + name})
			p.call(t, map[string]any{"op": "release", "name": name})
			assert.Equal(t, int(r["size"].(float64)), b.layout.TrailerSize(), "%s writes the wrong trailer", b.venv)
			info, err := sa.Stat(name)
			assert.NilError(t, err)
			assert.Equal(t, info.Layout, b.layout)
			assert.NilError(t, sa.Delete(name))
		})
	}
}

// TestMatrix: every dtype × shape, both directions, for each build and
// each Go layout the build reads.
func TestMatrix(t *testing.T) {
	for _, b := range builds {
		t.Run(b.venv, func(t *testing.T) {
			p := pyFor(t, b)
			seed := 0
			for _, c := range dtypeCases(b) {
				for _, l := range b.reads {
					if c.np == "q" || c.np == "Q" || !carries(l, c.dt) {
						continue // Go always writes typenum 7/8; dual-v30 has no S/U/V
					}
					for _, shape := range shapes(maxDims[l]) {
						seed += 2
						t.Run(fmt.Sprintf("go-%s-%s-%s", l, c.np, shapeLabel(shape)), func(t *testing.T) {
							goToPython(t, p, l, c, shape, seed, seed+1, false)
						})
					}
				}
				for _, shape := range shapes(b.maxDims) {
					seed += 2
					t.Run(fmt.Sprintf("py-%s-%s", c.np, shapeLabel(shape)), func(t *testing.T) {
						pythonToGo(t, p, c, shape, seed, seed+1)
					})
				}
			}
		})
	}
}

// TestDefaultLayout: what Create writes with no option is attached by
// both 3.2.4 builds; read-only attach works on it.
func TestDefaultLayout(t *testing.T) {
	name := "shm://" + uniqueName(t)
	a, err := sa.Create(name, []int{4, 5}, sa.Float32)
	assert.NilError(t, err)
	defer a.Close()
	assert.Equal(t, a.Layout(), sa.LayoutDual)
	assert.NilError(t, fillArray(a, 11))
	c := dtypeCase{sa.Float32, "<f4", 11}
	for _, b := range builds[1:] {
		p := pyFor(t, b)
		for _, ro := range []bool{true, false} {
			r := p.call(t, map[string]any{"op": "verify", "name": name, "dtype": dtypeJSON(c), "shape": []int{4, 5}, "seed": 11, "ro": ro})
			assert.Assert(t, len(errorsOf(r)) == 0, "%s: %v", b.venv, errorsOf(r))
			assert.Equal(t, r["writeable"], !ro, "%s ro=%v", b.venv, ro)
		}
	}
	// 3.0.0 does not read it: it finds no trailer of its own.
	_, err = pyFor(t, builds[0]).try(map[string]any{"op": "verify", "name": name, "dtype": dtypeJSON(c), "shape": []int{4, 5}, "seed": 11})
	assert.ErrorContains(t, err, "No SharedArray at this address")
}

// TestReadOnlyAttach: attach(name, ro=True) of every Go layout.
func TestReadOnlyAttach(t *testing.T) {
	c := dtypeCase{sa.Int16, "<i2", 3}
	for _, b := range builds {
		if !b.ro {
			continue
		}
		p := pyFor(t, b)
		for _, l := range b.reads {
			goToPython(t, p, l, c, []int{7, 3}, 21, 0, true)
		}
	}
}

// TestLarge: a 256 MiB array each way, each build.
func TestLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("256 MiB arrays")
	}
	c := dtypeCase{sa.Float64, "<f8", 12}
	shape := []int{32768, 1024}
	for _, b := range builds {
		t.Run(b.venv, func(t *testing.T) {
			p := pyFor(t, b)
			goToPython(t, p, b.goDefault(), c, shape, 31, 32, false)
			pythonToGo(t, p, c, shape, 33, 34)
		})
	}
}

// TestDeleteAcross: Go deletes what Python holds, Python deletes Go's.
func TestDeleteAcross(t *testing.T) {
	c := dtypeCase{sa.Uint32, "<u4", 6}
	shape := []int{64}
	for _, b := range builds {
		t.Run(b.venv, func(t *testing.T) {
			p := pyFor(t, b)
			// Go deletes an array Python still holds: Python's view keeps
			// working, and both still share it.
			name := "shm://" + uniqueName(t)
			a, err := sa.Create(name, shape, c.dt, sa.WithLayout(b.goDefault()))
			assert.NilError(t, err)
			defer a.Close()
			assert.NilError(t, fillArray(a, 41))
			r := p.call(t, map[string]any{"op": "verify", "name": name, "dtype": dtypeJSON(c), "shape": shape, "seed": 41, "hold": true})
			assert.Assert(t, len(errorsOf(r)) == 0, "%v", errorsOf(r))
			assert.NilError(t, sa.Delete(name))
			r = p.call(t, map[string]any{"op": "verify", "held": true, "name": name, "dtype": dtypeJSON(c), "shape": shape, "seed": 41, "write_seed": 42})
			assert.Assert(t, len(errorsOf(r)) == 0, "%v", errorsOf(r))
			assert.NilError(t, checkArray(a, 42))
			r = p.call(t, map[string]any{"op": "attach_fails", "name": name})
			assert.Assert(t, r["error"] != nil, "python attached a deleted array")
			p.call(t, map[string]any{"op": "release", "name": name})

			// Python deletes an array Go holds: Go's view keeps working.
			pname := uniqueName(t)
			p.call(t, map[string]any{"op": "create", "name": pname, "dtype": dtypeJSON(c), "shape": shape, "seed": 43})
			g, err := sa.Attach(pname)
			assert.NilError(t, err)
			defer g.Close()
			p.call(t, map[string]any{"op": "delete", "name": pname})
			_, err = sa.Attach(pname)
			assert.Assert(t, errors.Is(err, fs.ErrNotExist), "%v", err)
			assert.NilError(t, fillArray(g, 44))
			r = p.call(t, map[string]any{"op": "verify", "held": true, "name": pname, "dtype": dtypeJSON(c), "shape": shape, "seed": 44})
			assert.Assert(t, len(errorsOf(r)) == 0, "%v", errorsOf(r))
			p.call(t, map[string]any{"op": "release", "name": pname})

			// Python deletes an array Go created, of every layout it reads.
			for _, l := range b.reads {
				gname := uniqueName(t)
				ga, err := sa.Create(gname, shape, c.dt, sa.WithLayout(l))
				assert.NilError(t, err)
				ga.Close()
				p.call(t, map[string]any{"op": "delete", "name": gname})
				_, err = sa.Stat(gname)
				assert.Assert(t, errors.Is(err, fs.ErrNotExist), "%s: %v", l, err)
			}
		})
	}
}

// TestListAcross: Python's list() shows Go arrays of its layouts with the
// right dtype and dims; Go's List shows Python arrays of every build.
func TestListAcross(t *testing.T) {
	type made struct {
		name   string
		dt     sa.Dtype
		shape  []int
		layout sa.Layout
	}
	var goMade []made
	for i, l := range []sa.Layout{sa.LayoutV30, sa.LayoutNumPy1, sa.LayoutNumPy2, sa.LayoutDual, sa.LayoutDualV30} {
		dt := []sa.Dtype{sa.Float64, sa.Int8, sa.Complex64, sa.Uint16, sa.Float16}[i]
		m := made{uniqueName(t), dt, []int{i + 1, 3}, l}
		a, err := sa.Create(m.name, m.shape, m.dt, sa.WithLayout(l))
		assert.NilError(t, err)
		a.Close()
		defer sa.Delete(m.name)
		goMade = append(goMade, m)
	}
	var pyMade []made
	for i, b := range builds {
		p := pyFor(t, b)
		m := made{uniqueName(t), sa.Int32, []int{2, i + 2}, b.layout}
		p.call(t, map[string]any{"op": "create", "name": m.name, "dtype": map[string]any{"np": "<i4"}, "shape": m.shape, "seed": 5})
		defer p.call(t, map[string]any{"op": "release", "name": m.name})
		defer sa.Delete(m.name)
		pyMade = append(pyMade, m)
	}
	for _, b := range builds {
		r := pyFor(t, b).call(t, map[string]any{"op": "list", "prefix": fmt.Sprintf("%s%d-", prefix, os.Getpid())})
		seen := map[string]string{}
		for _, e := range r["arrays"].([]any) {
			e := e.(map[string]any)
			seen[e["name"].(string)] = fmt.Sprint(e["num"], e["dims"])
		}
		for _, m := range append(goMade, pyMade...) {
			reads := m.layout == b.layout
			for _, l := range b.reads {
				reads = reads || l == m.layout
			}
			got, ok := seen[m.name]
			if !reads {
				assert.Assert(t, !ok, "%s lists a %s array", b.venv, m.layout)
				continue
			}
			want := fmt.Sprint(float64(m.dt.Typenum()), toAny(m.shape))
			assert.Equal(t, got, want, "%s: list() entry for %s (%s)", b.venv, m.name, m.layout)
		}
	}
	infos, err := sa.List()
	assert.NilError(t, err)
	byName := map[string]sa.Info{}
	for _, in := range infos {
		byName[in.Name] = in
	}
	for _, m := range append(goMade, pyMade...) {
		in, ok := byName[m.name]
		assert.Assert(t, ok, "Go's List misses %s (%s)", m.name, m.layout)
		assert.Equal(t, in.Layout, m.layout)
		assert.Equal(t, in.Dtype, m.dt)
		assert.DeepEqual(t, in.Shape, m.shape)
	}
}

func toAny(s []int) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// TestFileMsync: file:// arrays, each side msyncs and the other reads the
// file with read(2).
func TestFileMsync(t *testing.T) {
	c := dtypeCase{sa.Float64, "<f8", 12}
	shape := []int{100, 10}
	for _, b := range builds {
		t.Run(b.venv, func(t *testing.T) {
			p := pyFor(t, b)
			path := filepath.Join(t.TempDir(), "field.dat")
			name := "file://" + path
			a, err := sa.Create(name, shape, c.dt, sa.WithLayout(b.goDefault()))
			assert.NilError(t, err)
			defer a.Close()
			assert.NilError(t, fillArray(a, 51))
			assert.NilError(t, a.Msync(sa.MsyncSync))
			n := len(a.Bytes())
			r := p.call(t, map[string]any{"op": "read_file", "path": path, "offset": 0, "length": n})
			assert.Equal(t, r["hex"], fmt.Sprintf("%x", a.Bytes()), "python's read(2) of the msynced file")
			r = p.call(t, map[string]any{"op": "verify", "name": name, "dtype": dtypeJSON(c), "shape": shape, "seed": 51, "write_seed": 52, "msync": true})
			assert.Assert(t, len(errorsOf(r)) == 0, "%v", errorsOf(r))
			assert.Equal(t, r["base_name"], name)
			raw, err := os.ReadFile(path)
			assert.NilError(t, err)
			assert.Equal(t, len(raw), n+b.goDefault().TrailerSize())
			fake, err := sa.Create("file://"+path+".check", shape, c.dt, sa.WithLayout(b.goDefault()))
			assert.NilError(t, err)
			copy(fake.Bytes(), raw[:n])
			assert.NilError(t, checkArray(fake, 52), "Go's read(2) of the file python msynced")
			fake.Close()
			assert.Assert(t, strings.HasPrefix(string(raw[n:]), "[SharedArray]"))
		})
	}
}

// mustDtype is sa.ParseDtype for a spelling the test knows is valid.
func mustDtype(s string) sa.Dtype {
	d, err := sa.ParseDtype(s)
	if err != nil {
		panic(err)
	}
	return d
}
