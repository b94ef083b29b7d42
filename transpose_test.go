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
	old := transposeBudget
	t.Cleanup(func() { transposeBudget = old })
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
		transposeBudget = []int{8, 64, 256, 4096, 1 << 20}[i/2%5]
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
		assert.NilError(t, readFortranInto(src, dst, shape, isz))
		assert.Assert(t, bytes.Equal(dst, fortranReference(in, shape, isz)), "shape %v itemsize %d budget %d", shape, isz, transposeBudget)
		assert.Equal(t, br.Len(), 1, "the reader is left after the data")
	}
	// A short stream or file is an error, not zeros.
	dst := make([]byte, 4*6)
	err := readFortranInto(struct{ io.Reader }{bytes.NewReader(make([]byte, 20))}, dst, []int{2, 3}, 4)
	assert.Equal(t, err, io.ErrUnexpectedEOF)
	transposeBudget = 8
	err = readFortranInto(bytes.NewReader(make([]byte, 20)), dst, []int{2, 3}, 4)
	assert.Equal(t, err, io.ErrUnexpectedEOF)
}

func unsafeBytes(w []uint64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w)*8)
}

// Long output runs (2-D arrays whose last axis has hundreds of elements)
// take slabCopy's gathered path, eight runs at a time, from a file (in
// tiles) and from a stream (in slabs), with row counts that are not
// multiples of eight and runs that are not multiples of a tile.
func TestReadFortranLongRuns(t *testing.T) {
	old := transposeBudget
	t.Cleanup(func() { transposeBudget = old })
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		shape       []int
		isz, budget int
	}{
		{[]int{3000, 600}, 8, 64 << 10},
		{[]int{1001, 515}, 16, 256 << 10},
		{[]int{37, 1100}, 4, 1 << 20},
		{[]int{9, 1500}, 2, 1 << 20},
		{[]int{301, 700}, 4, 32 << 10},
		{[]int{5, 3, 700}, 8, 1 << 20},
	} {
		n := c.isz
		for _, d := range c.shape {
			n *= d
		}
		in := make([]byte, n)
		for j := range in {
			in[j] = byte(r.Uint32())
		}
		want := fortranReference(in, c.shape, c.isz)
		transposeBudget = c.budget
		for _, file := range []bool{true, false} {
			words := make([]uint64, (n+7)/8)
			dst := unsafeBytes(words)[:n]
			br := bytes.NewReader(append(in, 0xee))
			var src io.Reader = br
			if !file {
				src = struct{ io.Reader }{br}
			}
			assert.NilError(t, readFortranInto(src, dst, c.shape, c.isz))
			assert.Assert(t, bytes.Equal(dst, want), "shape %v itemsize %d budget %d file %v", c.shape, c.isz, c.budget, file)
			assert.Equal(t, br.Len(), 1, "the reader is left after the data")
		}
	}
}
