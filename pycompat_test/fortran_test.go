package pycompat_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	sa "github.com/sharedarray/sharedarray"
	"gotest.tools/v3/assert"
)

// fortranDtypes: every itemsize from 1 to 32 (bytes and void for the odd
// ones, the numeric types where there are some, str).
func fortranDtypes() []string {
	dts := []string{"|u1", "<i2", "<f4", "<f8", "<c16", "<f16", "<c32", "<U1", "<U2", "<U8", "|V32", "|S32"}
	for n := 1; n < 32; n++ {
		if n%2 == 1 {
			dts = append(dts, fmt.Sprintf("|S%d", n))
		} else {
			dts = append(dts, fmt.Sprintf("|V%d", n))
		}
	}
	return dts
}

// fortranShapes cross the transposition's tiles (512 rows of the slowest
// input axis) and its 8-run gather, with odd sizes, zero dimensions, 1-d,
// long last dimensions and 3-d.
var fortranShapes = [][]int{
	{7}, {0}, {5, 0}, {0, 7}, {1, 1}, {513, 9}, {9, 513}, {1025, 3}, {3, 1537},
	{4, 600}, {1, 1000}, {1000, 1}, {37, 1029}, {2, 3, 4}, {513, 2, 3}, {3, 5, 700},
}

// TestNPYImportFortranExact: LoadNPY of what NumPy saves for
// np.asfortranarray(a) stores exactly a.tobytes(order="C"), for every
// itemsize 1..32 and shapes across the tile boundaries.
func TestNPYImportFortranExact(t *testing.T) {
	builds := npyBuilds()
	b := builds[len(builds)-1]
	p := pyFor(t, b)
	dir := t.TempDir()
	seed := 7000
	for i, dt := range fortranDtypes() {
		shapes := fortranShapes
		if i >= 12 { // the odd widths: fewer shapes each
			shapes = [][]int{{513, 9}, {3, 1537}, {0, 7}, {513, 2, 3}, {37, 1029}}
		}
		for _, shape := range shapes {
			seed++
			path := filepath.Join(dir, fmt.Sprintf("%d.npy", seed))
			raw := path + ".raw"
			r := p.call(t, map[string]any{"op": "npy_save_fortran_raw", "dtype": dt, "shape": shape, "seed": seed, "path": path, "raw": raw})
			if multi := len(shape) >= 2 && shape[0] > 1 && shape[len(shape)-1] > 1; multi && r["fortran"] != true {
				t.Fatalf("%s %v: NumPy did not write a Fortran-order array", dt, shape)
			}
			want, err := os.ReadFile(raw)
			assert.NilError(t, err)
			name := uniqueName(t)
			a, err := sa.LoadNPY(name, path)
			if err != nil {
				t.Errorf("%s %v (fortran %v): %v", dt, shape, r["fortran"], err)
				continue
			}
			if !bytes.Equal(a.Bytes(), want) {
				t.Errorf("%s %v (fortran %v): bytes differ from NumPy's C order", dt, shape, r["fortran"])
			}
			assert.DeepEqual(t, a.Shape(), shape)
			a.Close()
			assert.NilError(t, sa.Delete(name))
			os.Remove(path)
			os.Remove(raw)
		}
	}
}

// TestNPYImportFortranTruncated: a Fortran-order file NumPy wrote, cut at
// every interesting length (inside the header, at the data's start, inside
// the first tile, at a tile boundary, one byte short), is refused with an
// error and leaves no array behind.
func TestNPYImportFortranTruncated(t *testing.T) {
	builds := npyBuilds()
	p := pyFor(t, builds[len(builds)-1])
	dir := t.TempDir()
	path := filepath.Join(dir, "f.npy")
	shape := []int{1100, 300}
	p.call(t, map[string]any{"op": "npy_save_fortran_raw", "dtype": "<f8", "shape": shape, "seed": 5, "path": path, "raw": path + ".raw"})
	full, err := os.ReadFile(path)
	assert.NilError(t, err)
	data := len(full) - 1100*300*8
	for _, cut := range []int{5, data - 1, data, data + 1, data + 512*8, data + 300*8*512, len(full) - 8, len(full) - 1} {
		cpath := filepath.Join(dir, fmt.Sprintf("cut%d.npy", cut))
		assert.NilError(t, os.WriteFile(cpath, full[:cut], 0o600))
		name := uniqueName(t)
		a, err := sa.LoadNPY(name, cpath)
		if err == nil {
			a.Close()
			sa.Delete(name)
			t.Errorf("cut at %d of %d: loaded", cut, len(full))
			continue
		}
		if !errors.Is(err, sa.ErrNPY) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d: %v (neither ErrNPY nor io.ErrUnexpectedEOF)", cut, err)
		}
		if _, serr := sa.Stat(name); serr == nil {
			t.Errorf("cut at %d: an array was left behind", cut)
			sa.Delete(name)
		}
	}
}

// TestNPYImportFortranHeap: the Go heap a Fortran-order import allocates
// stays within 8 MiB (docs/performance.md) for a 64 MiB array.
func TestNPYImportFortranHeap(t *testing.T) {
	builds := npyBuilds()
	p := pyFor(t, builds[len(builds)-1])
	dir := t.TempDir()
	path := filepath.Join(dir, "big.npy")
	p.call(t, map[string]any{"op": "npy_save_fortran_raw", "dtype": "<f4", "shape": []int{4099, 4097}, "seed": 9, "path": path, "raw": path + ".raw"})
	want, err := os.ReadFile(path + ".raw")
	assert.NilError(t, err)
	os.Remove(path + ".raw")
	name := uniqueName(t)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	a, err := sa.LoadNPY(name, path)
	runtime.ReadMemStats(&m1)
	assert.NilError(t, err)
	defer sa.Delete(name)
	defer a.Close()
	grew := m1.TotalAlloc - m0.TotalAlloc
	t.Logf("heap allocated by the import: %d bytes", grew)
	assert.Assert(t, grew <= 8<<20, "import allocated %d bytes, over 8 MiB", grew)
	assert.Assert(t, bytes.Equal(a.Bytes(), want), "bytes differ from NumPy's C order")
}
