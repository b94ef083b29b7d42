package sharedarray

import (
	"bytes"
	"io"
	"math/rand/v2"
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
		for _, fileLike := range []bool{true, false} {
			var src io.Reader = bytes.NewReader(file)
			if !fileLike {
				src = struct{ io.Reader }{src}
			}
			b, err := LoadNPYFrom(name, src)
			assert.NilError(t, err, "shape %v", c.shape)
			ok := bytes.Equal(b.Bytes(), want)
			assert.NilError(t, b.Close())
			assert.NilError(t, Delete(name))
			assert.Assert(t, ok, "shape %v %s file-like %v", c.shape, c.dtype, fileLike)
		}
	}
}
