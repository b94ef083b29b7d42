package pycompat_test

import (
	"fmt"
	"path/filepath"
	"testing"

	sa "github.com/sharedarray/sharedarray"
	"gotest.tools/v3/assert"
)

// npyBuilds are the environments with different NumPy majors.
func npyBuilds() []*build { return builds[1:] }

// TestNPYExport: WriteNPY of every dtype and shape; numpy.load reads it
// back identical, with and without mmap_mode="r".
func TestNPYExport(t *testing.T) {
	for _, b := range npyBuilds() {
		t.Run(b.venv, func(t *testing.T) {
			p := pyFor(t, b)
			dir := t.TempDir()
			seed := 1000
			for _, c := range dtypeCases(b) {
				if c.np == "q" || c.np == "Q" {
					continue
				}
				for _, shape := range shapes(0)[:4] {
					seed++
					t.Run(fmt.Sprintf("%s-%s", c.np, shapeLabel(shape)), func(t *testing.T) {
						a, err := sa.Create(uniqueName(t), shape, c.dt)
						assert.NilError(t, err)
						defer sa.Delete(a.Name())
						defer a.Close()
						assert.NilError(t, fillArray(a, seed))
						path := filepath.Join(dir, fmt.Sprintf("%d.npy", seed))
						assert.NilError(t, a.SaveNPY(path))
						for _, mmap := range []bool{false, true} {
							d := dtypeJSON(c)
							d["str"] = c.dt.String()
							r := p.call(t, map[string]any{"op": "npy_load", "path": path, "dtype": d, "shape": shape, "seed": seed, "mmap": mmap})
							assert.Assert(t, len(errorsOf(r)) == 0, "numpy.load(mmap=%v): %s", mmap, joinErrs(errorsOf(r)))
						}
					})
				}
			}
		})
	}
}

// TestNPYImport: numpy.save of every dtype and shape, C and Fortran order,
// little- and big-endian; LoadNPY stores the same array in C order.
func TestNPYImport(t *testing.T) {
	for _, b := range npyBuilds() {
		t.Run(b.venv, func(t *testing.T) {
			p := pyFor(t, b)
			dir := t.TempDir()
			seed := 2000
			for _, c := range dtypeCases(b) {
				for _, shape := range shapes(0)[:4] {
					for _, variant := range []struct {
						label            string
						fortran, bigEndn bool
					}{{"c", false, false}, {"fortran", true, false}, {"big", false, true}, {"big-fortran", true, true}} {
						bigOK := c.dt != sa.LongDouble && c.dt != sa.CLongDouble
						if (variant.bigEndn && !bigOK) || (variant.fortran && len(shape) == 0) {
							continue // refused (tested below); asfortranarray makes 0-d 1-d
						}
						seed++
						t.Run(fmt.Sprintf("%s-%s-%s", c.np, shapeLabel(shape), variant.label), func(t *testing.T) {
							path := filepath.Join(dir, fmt.Sprintf("%d.npy", seed))
							p.call(t, map[string]any{"op": "npy_save", "path": path, "dtype": dtypeJSON(c), "shape": shape, "seed": seed,
								"fortran": variant.fortran, "bigendian": variant.bigEndn})
							a, err := sa.LoadNPY(uniqueName(t), path)
							assert.NilError(t, err)
							defer sa.Delete(a.Name())
							defer a.Close()
							assert.Equal(t, a.Dtype(), c.dt)
							assert.DeepEqual(t, a.Shape(), shape)
							assert.NilError(t, checkArray(a, seed))
						})
					}
				}
			}
			// numpy's big-endian longdouble cannot be converted: refused.
			path := filepath.Join(dir, "bigld.npy")
			p.call(t, map[string]any{"op": "npy_save", "path": path, "dtype": map[string]any{"np": "<f16"}, "shape": []int{2}, "seed": 1, "bigendian": true})
			name := uniqueName(t)
			_, err := sa.LoadNPY(name, path)
			assert.ErrorIs(t, err, sa.ErrNPY)
		})
	}
}

// TestNPYImportVersions: files NumPy writes in format 1.0, 2.0 and 3.0.
func TestNPYImportVersions(t *testing.T) {
	c := dtypeCase{sa.Float32, "<f4", 11}
	for _, b := range npyBuilds() {
		p := pyFor(t, b)
		for _, v := range [][]int{{1, 0}, {2, 0}, {3, 0}} {
			path := filepath.Join(t.TempDir(), "v.npy")
			p.call(t, map[string]any{"op": "npy_save", "path": path, "dtype": dtypeJSON(c), "shape": []int{4, 6}, "seed": 77, "version": v})
			a, err := sa.LoadNPY(uniqueName(t), path)
			assert.NilError(t, err, "%s format %v", b.venv, v)
			assert.NilError(t, checkArray(a, 77))
			a.Close()
			sa.Delete(a.Name())
		}
	}
}
