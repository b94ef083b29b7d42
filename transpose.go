package sharedarray

import (
	"io"
	"unsafe"
)

// transposeBudget bounds the buffer readFortran reads into: the import of
// a Fortran-order array needs at most this much memory besides the
// mapping. Tests lower it to reach every path.
var transposeBudget = 4 << 20

// readFortranInto reads the column-major (Fortran order) elements of an
// array of the given shape from r and stores them in C order in dst, in
// cache-sized blocks: it reads whole slabs of the input's slowest axis
// (the output's fastest) into a buffer of at most transposeBudget bytes
// and writes each slab out as contiguous runs, so both sides are walked
// nearly in order.
func readFortranInto(r io.Reader, dst []byte, shape []int, isz int) error {
	if isz <= 0 || len(dst) == 0 {
		return nil
	}
	buf := make([]uint64, (max(transposeBudget, isz)+7)/8) // 8-byte aligned for the typed copies; one element at least
	t := transposer{r: r, dst: dst, isz: isz, buf: unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*8)}
	return t.run(shape, 0, 1)
}

type transposer struct {
	r   io.Reader
	dst []byte
	isz int
	buf []byte
}

// run reads the Fortran-order elements of shape and stores element
// (i0, ..., ik) at dst element base + C(i0..ik)·stride, where C is the
// C-order index within shape.
func (t *transposer) run(shape []int, base, stride int) error {
	k := len(shape) - 1
	if k < 0 {
		return t.slab(nil, 1, 0, 1, base, stride)
	}
	dk := shape[k]
	p := 1 // elements per slab: the product of the other axes
	for _, d := range shape[:k] {
		p *= d
	}
	if p*t.isz <= len(t.buf) {
		b := min(dk, len(t.buf)/(p*t.isz))
		for k0 := 0; k0 < dk; k0 += b {
			if err := t.slab(shape[:k], dk, k0, min(b, dk-k0), base, stride); err != nil {
				return err
			}
		}
		return nil
	}
	// One slab does not fit: each value of the slowest input axis is a
	// Fortran-order array of the other axes, whose elements land dk apart.
	for ik := range dk {
		if err := t.run(shape[:k], base+ik*stride, stride*dk); err != nil {
			return err
		}
	}
	return nil
}

// slab reads n consecutive slabs (values k0..k0+n-1 of an axis of length
// dk, the input's slowest and the output's fastest), each a Fortran-order
// array of inner, and stores them.
func (t *transposer) slab(inner []int, dk, k0, n, base, stride int) error {
	p := 1
	for _, d := range inner {
		p *= d
	}
	in := t.buf[:n*p*t.isz]
	if _, err := io.ReadFull(t.r, in); err != nil {
		return err
	}
	// Walk the inner axes in Fortran order (the input's), keeping c, the
	// C-order index of the same element, by an odometer.
	cs := make([]int, len(inner)) // C strides within inner
	acc := 1
	for j := len(inner) - 1; j >= 0; j-- {
		cs[j] = acc
		acc *= inner[j]
	}
	idx := make([]int, len(inner))
	c := 0
	for f := range p {
		o := base + (c*dk+k0)*stride // output element of (inner index, k0)
		t.run1(in, f, p, o, stride, n)
		for j := range idx {
			idx[j]++
			c += cs[j]
			if idx[j] < inner[j] {
				break
			}
			c -= idx[j] * cs[j]
			idx[j] = 0
		}
	}
	return nil
}

// run1 copies input elements f, f+p, ..., f+(n-1)p of in to output
// elements o, o+stride, ..., o+(n-1)stride of dst.
func (t *transposer) run1(in []byte, f, p, o, stride, n int) {
	switch t.isz {
	case 1:
		copyRun[uint8](t.dst, in, f, p, o, stride, n)
	case 2:
		copyRun[uint16](t.dst, in, f, p, o, stride, n)
	case 4:
		copyRun[uint32](t.dst, in, f, p, o, stride, n)
	case 8:
		copyRun[uint64](t.dst, in, f, p, o, stride, n)
	case 16:
		copyRun[[2]uint64](t.dst, in, f, p, o, stride, n)
	default:
		isz := t.isz
		for j := range n {
			copy(t.dst[(o+j*stride)*isz:(o+j*stride+1)*isz], in[(f+j*p)*isz:])
		}
	}
}

// copyRun is run1 for elements of type T. dst (a mapping, page-aligned)
// and in (an 8-byte aligned buffer) hold whole elements.
func copyRun[T any](dst, in []byte, f, p, o, stride, n int) {
	d := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(dst))), len(dst)/int(unsafe.Sizeof(*new(T))))
	s := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(in))), len(in)/int(unsafe.Sizeof(*new(T))))
	_ = d[o+(n-1)*stride]
	_ = s[f+(n-1)*p]
	for j := range n {
		d[o+j*stride] = s[f+j*p]
	}
}
