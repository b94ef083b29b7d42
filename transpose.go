package sharedarray

import (
	"io"
	"unsafe"
)

// transposeBudget bounds the buffer readFortran reads into: the import of
// a Fortran-order array needs at most this much memory besides the
// mapping. Tests pass readFortranInto smaller budgets to reach every path.
const transposeBudget = 4 << 20

// readFortranInto reads the column-major (Fortran order) elements of an
// array of the given shape from r and stores them in C order in dst, in
// cache-sized blocks: it reads whole slabs of the input's slowest axis
// (the output's fastest) into a buffer of at most budget bytes
// and writes each slab out as contiguous runs, so both sides are walked
// nearly in order.
func readFortranInto(r io.Reader, dst []byte, shape []int, isz, budget int) error {
	if isz <= 0 || len(dst) == 0 {
		return nil
	}
	buf := make([]uint64, (max(budget, isz)+7)/8) // 8-byte aligned for the typed copies; one element at least
	t := transposer{r: r, dst: dst, isz: isz, buf: unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*8)}
	if k := len(shape) - 1; k >= 1 {
		// Thin slabs (fewer than tileRows rows of the input's slowest axis
		// fit the buffer) would write each output cache line in several
		// passes. A file (any io.ReaderAt that can tell its position) is
		// read in tiles instead: tileRows rows at a time, a segment of
		// each, so every run written is tileRows elements long.
		p := len(dst) / isz / shape[k]
		if ra, ok := r.(readerAtSeeker); ok && p*isz*min(shape[k], tileRows) > len(t.buf) {
			pos, err := ra.Seek(0, io.SeekCurrent)
			if err == nil {
				if err := t.tiles(ra, pos, shape); err != nil {
					return err
				}
				_, err = ra.Seek(pos+int64(len(dst)), io.SeekStart)
				return err
			}
		}
	}
	return t.run(shape, 0, 1)
}

type readerAtSeeker interface {
	io.ReaderAt
	io.Seeker
}

// tileRows is how many rows of the input's slowest axis a tile spans: the
// length of each run written.
const tileRows = 512

// tileRunMax bounds the runs slabCopy gathers before copying them out:
// runBlock of them, tileRows elements of 16 bytes at most.
const tileRunMax = 64 << 10

// runBlock is how many output runs slabCopy fills at a time.
const runBlock = 8

// tiles reads the Fortran-order data starting at byte pos of ra in tiles
// of tileRows rows of the slowest axis by as many elements of each row as
// the buffer holds, and stores them.
func (t *transposer) tiles(ra io.ReaderAt, pos int64, shape []int) error {
	k := len(shape) - 1
	dk, inner := shape[k], shape[:k]
	p := len(t.dst) / t.isz / dk
	rows := max(1, min(tileRows, len(t.buf)/t.isz)) // the buffer holds one element at least
	seg := max(1, len(t.buf)/(rows*t.isz))          // elements of each row per tile
	for k0 := 0; k0 < dk; k0 += rows {
		n := min(rows, dk-k0)
		for a := 0; a < p; a += seg {
			m := min(seg, p-a)
			for j := range n {
				part := t.buf[j*m*t.isz : (j+1)*m*t.isz]
				got, err := ra.ReadAt(part, pos+(int64(k0+j)*int64(p)+int64(a))*int64(t.isz))
				if got < len(part) {
					if err == nil || err == io.EOF {
						err = io.ErrUnexpectedEOF
					}
					return err
				}
			}
			t.store(t.buf[:n*m*t.isz], inner, a, m, dk, k0, n, 0, 1)
		}
	}
	return nil
}

type transposer struct {
	r    io.Reader
	dst  []byte
	isz  int
	buf  []byte
	runs []byte // output runs being gathered, 8-byte aligned (see slabCopy); runBuf allocates it
}

// runBuf returns the buffer slabCopy gathers output runs in, allocating it
// on first use.
func (t *transposer) runBuf() []byte {
	if t.runs == nil {
		w := make([]uint64, tileRunMax/8)
		t.runs = unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w)*8)
	}
	return t.runs
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
	t.store(in, inner, 0, p, dk, k0, n, base, stride)
	return nil
}

// store writes elements [a, a+m) (in the input's order) of an array of
// shape inner, for the n rows k0..k0+n-1 of an axis of length dk (the
// output's fastest): in holds row j's m elements at j·m; the element
// (f, k0+j) goes to output element base + (c·dk + k0 + j)·stride, c being
// f's C-order index within inner.
func (t *transposer) store(in []byte, inner []int, a, m, dk, k0, n, base, stride int) {
	switch t.isz {
	case 1:
		slabCopy[uint8](t.dst, in, t.runBuf(), inner, a, m, dk, k0, n, base, stride)
	case 2:
		slabCopy[uint16](t.dst, in, t.runBuf(), inner, a, m, dk, k0, n, base, stride)
	case 4:
		slabCopy[uint32](t.dst, in, t.runBuf(), inner, a, m, dk, k0, n, base, stride)
	case 8:
		slabCopy[uint64](t.dst, in, t.runBuf(), inner, a, m, dk, k0, n, base, stride)
	case 16:
		slabCopy[[2]uint64](t.dst, in, t.runBuf(), inner, a, m, dk, k0, n, base, stride)
	default:
		isz := t.isz
		walkSlab(inner, a, m, func(f, c int) {
			o := base + (c*dk+k0)*stride
			for j := range n {
				copy(t.dst[(o+j*stride)*isz:(o+j*stride+1)*isz], in[(f-a+j*m)*isz:])
			}
		})
	}
}

// walkSlab calls fn(f, c) for the elements f = a .. a+m-1 (Fortran-order
// indices, in order: the input's) of an array of shape inner, c being the
// C-order index of the same element, kept by an odometer.
func walkSlab(inner []int, a, m int, fn func(f, c int)) {
	cs := make([]int, len(inner)) // C strides within inner
	acc := 1
	for j := len(inner) - 1; j >= 0; j-- {
		cs[j] = acc
		acc *= inner[j]
	}
	idx := make([]int, len(inner))
	c, rest := 0, a
	for j, d := range inner { // a's index, first axis fastest
		idx[j] = rest % d
		rest /= d
		c += idx[j] * cs[j]
	}
	for f := a; f < a+m; f++ {
		fn(f, c)
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
}

// slabCopy is store for elements of type T. dst (a mapping, page-aligned)
// and in (an 8-byte aligned buffer) hold whole elements. A 1-D inner shape
// (a 2-D array) needs no odometer: c = f.
func slabCopy[T any](dstb, inb, runb []byte, inner []int, a, m, dk, k0, n, base, stride int) {
	size := int(unsafe.Sizeof(*new(T)))
	dst := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(dstb))), len(dstb)/size)
	in := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(inb))), len(inb)/size)
	if len(inner) <= 1 && stride == 1 && n*size >= 2048 && runBlock*n*size <= len(runb) {
		// Eight output runs at a time: each input row gives one cache
		// line (eight 8-byte elements) to the eight runs, gathered in a
		// buffer that stays in the L1 cache, then each run is copied out
		// whole. Rows of the input lie a power of two apart, so walking
		// one element of each row in turn (below) keeps reloading lines
		// that evict one another; and Go's copy of 2 KiB or more is REP
		// MOVS on CPUs with fast string moves, which writes whole cache
		// lines of the mapping without reading them first.
		runs := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(runb))), runBlock*n)
		for f0 := a; f0 < a+m; f0 += runBlock {
			w := min(runBlock, a+m-f0)
			for j := range n {
				src := in[f0-a+j*m : f0-a+j*m+w]
				for k, v := range src {
					runs[k*n+j] = v
				}
			}
			for k := range w {
				o := base + (f0+k)*dk + k0
				copy(dst[o:o+n], runs[k*n:(k+1)*n])
			}
		}
		return
	}
	if len(inner) <= 1 {
		for f := a; f < a+m; f++ {
			o := base + (f*dk+k0)*stride
			d := dst[o : o+(n-1)*stride+1]
			for j := range n {
				d[j*stride] = in[f-a+j*m]
			}
		}
		return
	}
	walkSlab(inner, a, m, func(f, c int) {
		o := base + (c*dk+k0)*stride
		d := dst[o : o+(n-1)*stride+1]
		for j := range n {
			d[j*stride] = in[f-a+j*m]
		}
	})
}
