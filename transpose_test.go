package sharedarray

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"

	"gotest.tools/v3/assert"
)

// fortranReference is the element-by-element transposition: the Fortran
// input's element at flat index f goes to the C offset of the same index.
func fortranReference(in []byte, shape []int, isz int) []byte {
	out := make([]byte, len(in))
	cs := cStrides(shape, isz)
	idx := make([]int, len(shape))
	for f := 0; f*isz < len(in); f++ {
		off := 0
		for k, i := range idx {
			off += i * cs[k]
		}
		copy(out[off:off+isz], in[f*isz:])
		for k := range idx {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

// The blocked transposition stores every element where the element-wise
// one does, for random shapes and item sizes, with buffers small enough
// to take every path (several slabs, slabs split along inner axes).
func TestReadFortranBlocked(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	dir := t.TempDir()
	for i := range 800 {
		nd := 1 + r.IntN(5)
		shape := make([]int, nd)
		n := 1
		for k := range shape {
			shape[k] = 1 + r.IntN(7)
			if r.IntN(10) == 0 {
				shape[k] = 1
			}
			n *= shape[k]
		}
		isz := []int{1, 2, 4, 8, 16, 3, 12}[r.IntN(7)]
		budget := []int{8, 64, 256, 4096, 1 << 20}[i/2%5]
		in := make([]byte, n*isz)
		for j := range in {
			in[j] = byte(r.Uint32())
		}
		// dst is 8-byte aligned, like a mapping.
		words := make([]uint64, (len(in)+7)/8+1)
		dst := unsafeBytes(words)[:len(in)]
		// A file-like source is read in tiles when slabs are thin, a
		// stream always in slabs.
		br := bytes.NewReader(append(in, 0xee))
		var src io.Reader = br
		if i%2 == 1 {
			src = struct{ io.Reader }{br}
		}
		if i%3 == 2 {
			// A regular file: transposed from a mapping of it, the data
			// at an 8-byte aligned offset (mapped) or not (read).
			lead := []int{0, 8, 64, 3}[i/3%4]
			f, err := os.CreateTemp(dir, "")
			assert.NilError(t, err)
			_, err = f.Write(append(append(make([]byte, lead), in...), 0xee))
			assert.NilError(t, err)
			_, err = f.Seek(int64(lead), io.SeekStart)
			assert.NilError(t, err)
			assert.NilError(t, readFortranInto(f, dst, shape, isz, budget))
			pos, _ := f.Seek(0, io.SeekCurrent)
			f.Close()
			assert.Assert(t, bytes.Equal(dst, fortranReference(in, shape, isz)), "file: shape %v itemsize %d lead %d", shape, isz, lead)
			assert.Equal(t, pos, int64(lead+len(in)), "the file is left after the data")
			continue
		}
		assert.NilError(t, readFortranInto(src, dst, shape, isz, budget))
		assert.Assert(t, bytes.Equal(dst, fortranReference(in, shape, isz)), "shape %v itemsize %d budget %d", shape, isz, budget)
		assert.Equal(t, br.Len(), 1, "the reader is left after the data")
	}
	// A short stream or file is an error, not zeros.
	dst := make([]byte, 4*6)
	err := readFortranInto(struct{ io.Reader }{bytes.NewReader(make([]byte, 20))}, dst, []int{2, 3}, 4, transposeBudget)
	assert.Equal(t, err, io.ErrUnexpectedEOF)
	err = readFortranInto(bytes.NewReader(make([]byte, 20)), dst, []int{2, 3}, 4, 8)
	assert.Equal(t, err, io.ErrUnexpectedEOF)
}

func unsafeBytes(w []uint64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w)*8)
}

// Long output runs (2-D arrays whose last axis has hundreds of elements)
// take slabCopy's gathered path, eight runs at a time, from a file-like
// reader (in tiles) and from a stream (in slabs), with row counts that are
// not multiples of eight and runs that are not multiples of a tile: the
// imported array holds what the element-wise transposition gives.
func TestReadFortranLongRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		shape []int
		dtype Dtype
	}{
		{[]int{3000, 600}, Float64},    // tiles of 512 rows, then 88
		{[]int{1001, 515}, Complex128}, // tiles, 16-byte elements
		{[]int{37, 1100}, Float32},     // one slab of 1100 rows
		{[]int{9, 1500}, Int16},
		{[]int{301, 700}, Int32},
		{[]int{5, 3, 700}, Float64}, // three axes: the odometer
	} {
		isz := c.dtype.ItemSize()
		n := isz
		for _, d := range c.shape {
			n *= d
		}
		in := make([]byte, n)
		for j := range in {
			in[j] = byte(r.Uint32())
		}
		// A C-order .npy of the right header, relabelled Fortran order
		// (same length), followed by the data.
		name := testName(t)
		a := mustCreate(t, name, c.shape, c.dtype)
		var npy bytes.Buffer
		_, err := a.WriteNPY(&npy)
		assert.NilError(t, err)
		assert.NilError(t, a.Close())
		assert.NilError(t, Delete(name))
		hdr := npy.Bytes()[:npy.Len()-n]
		k := bytes.Index(hdr, []byte("'fortran_order': False"))
		assert.Assert(t, k > 0)
		file := append(append(append([]byte{}, hdr[:k]...), "'fortran_order': True "...), hdr[k+len("'fortran_order': False"):]...)
		file = append(file, in...)
		want := fortranReference(in, c.shape, isz)
		path := filepath.Join(t.TempDir(), "f.npy")
		assert.NilError(t, os.WriteFile(path, file, 0o644))
		for _, how := range []string{"file-like", "stream", "mapped"} {
			var b *Array
			var err error
			switch how {
			case "file-like":
				b, err = LoadNPYFrom(name, bytes.NewReader(file))
			case "stream":
				b, err = LoadNPYFrom(name, struct{ io.Reader }{bytes.NewReader(file)})
			case "mapped": // a regular file, by path: transposed from a mapping of it
				b, err = LoadNPY(name, path)
			}
			assert.NilError(t, err, "shape %v", c.shape)
			ok := bytes.Equal(b.Bytes(), want)
			assert.NilError(t, b.Close())
			assert.NilError(t, Delete(name))
			assert.Assert(t, ok, "shape %v %s %s", c.shape, c.dtype, how)
		}
	}
}

// A source file truncated by another process while LoadNPY transposes
// straight from its mapping: the import fails with an error matching
// ErrFault (the fault guard), the process goes on, and nothing is left
// behind. Not parallel: it sets mappedTileHook.
func TestLoadNPYFortranMappedSourceTruncated(t *testing.T) {
	skipIfNoFaultAddress(t)
	n := 64 * 1100 * 8 // five tiles of up to 256 rows of 64 float64
	hdr := frameHeader("{'descr': '<f8', 'fortran_order': True, 'shape': (64, 1100), }")
	path := filepath.Join(t.TempDir(), "f.npy")
	assert.NilError(t, os.WriteFile(path, append(hdr, make([]byte, n)...), 0o644))
	tiles := 0
	mappedTileHook = func() {
		if tiles++; tiles == 1 {
			assert.NilError(t, os.Truncate(path, 4096))
		}
	}
	defer func() { mappedTileHook = nil }()
	name := testName(t)
	_, err := LoadNPY(name, path)
	assert.Assert(t, tiles >= 1, "the mapped path was not taken")
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
	assert.ErrorContains(t, err, "source file")
	_, serr := os.Stat(shmDir + "/" + name)
	assert.Assert(t, errors.Is(serr, os.ErrNotExist), "%v", serr)
}

// The import of a Fortran-order file by path transposes from a mapping of
// the file: the Go heap grows by far less than the data (32 MiB here),
// within the 8 MiB bound of the buffered path and under 1 MiB (measured:
// about 70 KB), and the array is the transposition. Not parallel: it
// counts the process's allocations.
func TestLoadNPYFortranMappedHeap(t *testing.T) {
	const rows, cols = 4096, 1024
	in := make([]byte, rows*cols*8)
	for i := range in {
		in[i] = byte(i*131 + i>>13)
	}
	hdr := frameHeader("{'descr': '<f8', 'fortran_order': True, 'shape': (4096, 1024), }")
	path := filepath.Join(t.TempDir(), "f.npy")
	assert.NilError(t, os.WriteFile(path, append(hdr, in...), 0o644))
	want := fortranReference(in, []int{rows, cols}, 8)
	in = nil
	name := testName(t)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	a, err := LoadNPY(name, path)
	runtime.ReadMemStats(&m1)
	assert.NilError(t, err)
	defer Delete(name)
	defer a.Close()
	grew := m1.TotalAlloc - m0.TotalAlloc
	assert.Assert(t, grew < 1<<20, "the import allocated %d bytes", grew)
	assert.Assert(t, bytes.Equal(a.Bytes(), want))
}
