package sharedarray

import (
	"fmt"
	"io"
	"os"
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
	if f, ok := r.(*os.File); ok && len(shape) > 1 {
		if done, err := readFortranMapped(f, dst, shape, isz); done {
			return err
		}
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

// readFortranMapped is readFortranInto for a regular file: it maps the
// file read-only and transposes straight from that mapping into dst, in
// tiles of mappedRows rows of the input's slowest axis: one pass over the
// data, with no buffer in between (2-D arrays; arrays of more axes go
// through the odometer of walkSlab, also unbuffered). It returns
// done = false, having read nothing, where the file cannot be mapped (not
// a regular file, a file system without mmap, data not 8-byte aligned in
// the file); then the caller reads it. A file truncated under the mapping
// is an error matching ErrFault (the fault guard), never a crash; one
// already shorter than the data is io.ErrUnexpectedEOF. On success the
// file's position is left after the data, as a read would leave it.
func readFortranMapped(f *os.File, dst []byte, shape []int, isz int) (done bool, err error) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return false, nil
	}
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil || pos%8 != 0 {
		return false, nil
	}
	end := pos + int64(len(dst))
	if fi.Size() < end {
		return true, io.ErrUnexpectedEOF
	}
	if int64(int(end)) != end {
		return false, nil // past the address space of a 32-bit platform
	}
	var src []byte
	sc, err := f.SyscallConn()
	if err != nil {
		return false, nil
	}
	if cerr := sc.Control(func(fd uintptr) { src, err = sysMmapSource(int(fd), int(end)) }); cerr != nil || err != nil {
		return false, nil
	}
	defer sysMunmap(src)
	t := transposer{dst: dst, isz: isz, direct: true}
	if err := guarded(func() error { t.mapped(src[pos:end], shape); return nil }); err != nil {
		return true, fmt.Errorf("reading the source file (truncated during the import?): %w", err)
	}
	_, err = f.Seek(end, io.SeekStart)
	return true, err
}

// mapped transposes the Fortran-order data src (a mapping of the file)
// into t.dst: for each tile of mappedRows rows of the slowest input axis,
// the rows' pages are mapped in one call (MADV_POPULATE_READ), then store
// walks them mappedSeg bytes of each row at a time.
func (t *transposer) mapped(src []byte, shape []int) {
	k := len(shape) - 1
	dk, inner := shape[k], shape[:k]
	p := len(t.dst) / t.isz / dk
	row := p * t.isz
	seg := max(1, mappedSeg/t.isz) // elements of each row per tile
	for k0 := 0; k0 < dk; k0 += mappedRows {
		n := min(mappedRows, dk-k0)
		tile := src[k0*row : (k0+n)*row]
		sysMadvise(tile, madvPopulateRead) // a failure (truncated) faults below, under the guard
		for a := 0; a < p; a += seg {
			m := min(seg, p-a)
			t.store(tile[a*t.isz:], p, inner, a, m, dk, k0, n, 0, 1)
		}
		if mappedTileHook != nil {
			mappedTileHook()
		}
	}
}

// mappedRows and mappedSeg shape the tiles of mapped: 256 rows of the
// slowest input axis by 512 bytes of each (128 KiB read, 256 runs of
// eight elements written). Alternating in one process, 512 MiB (65536,
// 1024) float64 from a file in the page cache, these gave 0.71x the
// C-order import's throughput where 512 rows by 2 KiB (the buffered
// path's tile shape) gave 0.52x and the buffered path 0.54x
// (docs/performance.md).
const (
	mappedRows = 256
	mappedSeg  = 512
)

// mappedTileHook, if set (tests only), runs after each tile of mapped.
var mappedTileHook func()

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
			t.store(t.buf[:n*m*t.isz], m, inner, a, m, dk, k0, n, 0, 1)
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
	// direct: slabCopy writes 2-D transpositions straight into dst, with
	// no buffer of runs (mapped).
	direct bool
}

// runBuf returns the buffer slabCopy gathers output runs in, allocating it
// on first use; nil when t writes straight into dst.
func (t *transposer) runBuf() []byte {
	if t.direct {
		return nil
	}
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
	t.store(in, p, inner, 0, p, dk, k0, n, base, stride)
	return nil
}

// store writes elements [a, a+m) (in the input's order) of an array of
// shape inner, for the n rows k0..k0+n-1 of an axis of length dk (the
// output's fastest): in holds row j's m elements at j·rs; the element
// (f, k0+j) goes to output element base + (c·dk + k0 + j)·stride, c being
// f's C-order index within inner.
func (t *transposer) store(in []byte, rs int, inner []int, a, m, dk, k0, n, base, stride int) {
	switch t.isz {
	case 1:
		slabCopy[uint8](t.dst, in, t.runBuf(), rs, inner, a, m, dk, k0, n, base, stride)
	case 2:
		slabCopy[uint16](t.dst, in, t.runBuf(), rs, inner, a, m, dk, k0, n, base, stride)
	case 4:
		slabCopy[uint32](t.dst, in, t.runBuf(), rs, inner, a, m, dk, k0, n, base, stride)
	case 8:
		slabCopy[uint64](t.dst, in, t.runBuf(), rs, inner, a, m, dk, k0, n, base, stride)
	case 16:
		slabCopy[[2]uint64](t.dst, in, t.runBuf(), rs, inner, a, m, dk, k0, n, base, stride)
	default:
		isz := t.isz
		walkSlab(inner, a, m, func(f, c int) {
			o := base + (c*dk+k0)*stride
			for j := range n {
				copy(t.dst[(o+j*stride)*isz:(o+j*stride+1)*isz], in[(f-a+j*rs)*isz:])
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
// and in (an 8-byte aligned buffer, or a mapping of the source file at an
// 8-byte aligned offset) hold whole elements. A 1-D inner shape
// (a 2-D array) needs no odometer: c = f.
func slabCopy[T any](dstb, inb, runb []byte, rs int, inner []int, a, m, dk, k0, n, base, stride int) {
	size := int(unsafe.Sizeof(*new(T)))
	dst := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(dstb))), len(dstb)/size)
	in := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(inb))), len(inb)/size)
	if len(inner) <= 1 && stride == 1 && (runb == nil || n*size >= 2048 && runBlock*n*size <= len(runb)) {
		// Eight output runs at a time: each input row gives one cache
		// line (eight 8-byte elements) to the eight runs, gathered in a
		// buffer that stays in the L1 cache, then each run is copied out
		// whole. Rows of the input lie a power of two apart, so walking
		// one element of each row in turn (below) keeps reloading lines
		// that evict one another; and Go's copy of 2 KiB or more is REP
		// MOVS on CPUs with fast string moves, which writes whole cache
		// lines of the mapping without reading them first.
		if runb == nil {
			// Straight into dst (mapped: no buffer): each input row gives
			// one element to each of eight output runs, which fill
			// together, a cache line of each every eight rows.
			for f0 := a; f0 < a+m; f0 += runBlock {
				w := min(runBlock, a+m-f0)
				o := base + f0*dk + k0
				if w == runBlock {
					d0, d1, d2, d3 := dst[o:o+n], dst[o+dk:o+dk+n], dst[o+2*dk:o+2*dk+n], dst[o+3*dk:o+3*dk+n]
					d4, d5, d6, d7 := dst[o+4*dk:o+4*dk+n], dst[o+5*dk:o+5*dk+n], dst[o+6*dk:o+6*dk+n], dst[o+7*dk:o+7*dk+n]
					for j := range n {
						src := in[f0-a+j*rs : f0-a+j*rs+8]
						d0[j], d1[j], d2[j], d3[j], d4[j], d5[j], d6[j], d7[j] = src[0], src[1], src[2], src[3], src[4], src[5], src[6], src[7]
					}
					continue
				}
				for k := range w {
					d := dst[o+k*dk : o+k*dk+n]
					for j := range n {
						d[j] = in[f0+k-a+j*rs]
					}
				}
			}
			return
		}
		runs := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(runb))), runBlock*n)
		for f0 := a; f0 < a+m; f0 += runBlock {
			w := min(runBlock, a+m-f0)
			for j := range n {
				src := in[f0-a+j*rs : f0-a+j*rs+w]
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
				d[j*stride] = in[f-a+j*rs]
			}
		}
		return
	}
	walkSlab(inner, a, m, func(f, c int) {
		o := base + (c*dk+k0)*stride
		d := dst[o : o+(n-1)*stride+1]
		for j := range n {
			d[j*stride] = in[f-a+j*rs]
		}
	})
}
