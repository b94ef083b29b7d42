package sharedarray

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// Layout is the trailer format of a segment: which SharedArray builds can
// attach it. See docs/format.md.
type Layout uint8

// The layouts. The zero Layout means "choose": Create picks LayoutDual, or
// LayoutNumPy2 when the array has more than 27 dimensions.
const (
	// LayoutV30 is the 288-byte trailer of SharedArray 2.x and 3.0.0
	// (no item size; at most 32 dimensions; no S/U/V dtypes).
	LayoutV30 Layout = iota + 1
	// LayoutNumPy1 is the 292-byte trailer of SharedArray 3.1.0 to 3.2.3,
	// and of 3.2.4 built against NumPy 1 headers (at most 32 dimensions).
	LayoutNumPy1
	// LayoutNumPy2 is the 548-byte trailer of SharedArray 3.2.4 built
	// against NumPy 2 headers (at most 64 dimensions).
	LayoutNumPy2
	// LayoutDual is a 548-byte trailer whose last 292 bytes are a complete
	// 292-byte trailer, so NumPy-1 and NumPy-2 builds of SharedArray 3.1+
	// both attach it (at most 27 dimensions).
	LayoutDual
	// LayoutDualV30 is a 548-byte trailer whose last 288 bytes are a
	// complete 288-byte trailer, for SharedArray 3.0.0 and NumPy-2 builds
	// of 3.2.4 (at most 28 dimensions; no S/U/V dtypes).
	LayoutDualV30
)

const (
	maxTrailer = 548
	minTrailer = 288
	magicLen   = 14 // "[SharedArray]\0": the bytes SharedArray compares
)

var magic = [16]byte{'[', 'S', 'h', 'a', 'r', 'e', 'd', 'A', 'r', 'r', 'a', 'y', ']'}

// layouts returns every layout, in the order of the constants, in a new
// slice.
func layouts() []Layout {
	return []Layout{LayoutV30, LayoutNumPy1, LayoutNumPy2, LayoutDual, LayoutDualV30}
}

var layoutNames = [...]string{"auto", "v30", "numpy1", "numpy2", "dual", "dual-v30"}

// String returns the layout's short name: "v30", "numpy1", "numpy2",
// "dual" or "dual-v30".
func (l Layout) String() string {
	if int(l) < len(layoutNames) {
		return layoutNames[l]
	}
	return fmt.Sprintf("Layout(%d)", uint8(l))
}

// ParseLayout parses the names String returns for the five layouts
// ("v30", "numpy1", "numpy2", "dual", "dual-v30"). It refuses "auto" (the
// zero Layout's String) as any unknown name: the zero Layout is WithLayout's
// "choose", not a layout a segment has.
func ParseLayout(s string) (Layout, error) {
	for i, n := range layoutNames[1:] {
		if s == n {
			return Layout(i + 1), nil
		}
	}
	return 0, fmt.Errorf("sharedarray: unknown layout %q (want v30, numpy1, numpy2, dual or dual-v30): %w", s, ErrInvalid)
}

// TrailerSize returns the number of bytes the layout adds after the data.
func (l Layout) TrailerSize() int {
	switch l {
	case LayoutV30:
		return 288
	case LayoutNumPy1:
		return 292
	case LayoutNumPy2, LayoutDual, LayoutDualV30:
		return 548
	}
	return 0
}

// maxDims returns the largest number of dimensions the layout carries.
func (l Layout) maxDims() int {
	switch l {
	case LayoutV30, LayoutNumPy1:
		return 32
	case LayoutNumPy2:
		return 64
	case LayoutDual:
		return 27 // the inner 292 trailer overlays dims[27..63]
	case LayoutDualV30:
		return 28 // the inner 288 trailer overlays dims[28..63]
	}
	return 0
}

// carries reports whether the layout can hold dtype d safely: SharedArray
// 3.0.0 cannot attach S, U or V arrays.
func (l Layout) carries(d Dtype) bool {
	if l == LayoutV30 || l == LayoutDualV30 {
		return !d.IsFlexible()
	}
	return l.TrailerSize() != 0
}

// meta is what a trailer says about an array, validated.
type meta struct {
	layout Layout
	dtype  Dtype
	shape  []int
	nbytes int64 // data bytes
}

// dataBytes returns itemsize × ∏shape, or an error on a negative
// dimension or when the array is too big. The rule is NumPy's: itemsize ×
// the product of the non-zero dimensions must fit in a signed 64-bit
// integer, even when a zero dimension makes the array empty (NumPy refuses
// such a shape with "array is too big", and SharedArray crashes on it).
func dataBytes[T int | int64](itemsize int64, shape []T) (int64, error) {
	n := uint64(itemsize)
	empty := false
	for i, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("dims[%d] = %d is negative", i, d)
		}
		if d == 0 {
			empty = true
			continue
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("array is too big: itemsize %d × the non-zero dims overflows a signed 64-bit integer at dims[%d]", itemsize, i)
		}
		n = lo
	}
	if empty {
		return 0, nil
	}
	return int64(n), nil
}

// encodeTrailer returns the trailer of layout l for m. It assumes m was
// checked against l (ndims, dtype).
func encodeTrailer(l Layout, m meta) []byte {
	b := make([]byte, l.TrailerSize())
	switch l {
	case LayoutDual:
		putTrailer(b, LayoutNumPy2, m)
		putTrailer(b[548-292:], LayoutNumPy1, m)
	case LayoutDualV30:
		putTrailer(b, LayoutNumPy2, m)
		putTrailer(b[548-288:], LayoutV30, m)
	default:
		putTrailer(b, l, m)
	}
	return b
}

// putTrailer writes the fields of a single-family trailer at the start of
// b, which is zero past the dims it writes.
func putTrailer(b []byte, l Layout, m meta) {
	copy(b, magic[:])
	le := binary.LittleEndian
	le.PutUint64(b[16:], uint64(m.nbytes))
	le.PutUint32(b[24:], uint32(m.dtype.num()))
	off := 28
	if l != LayoutV30 {
		le.PutUint32(b[28:], uint32(m.dtype.size()))
		off = 32
	}
	le.PutUint32(b[off:], uint32(len(m.shape)))
	for i, d := range m.shape {
		le.PutUint64(b[off+4+8*i:], uint64(d))
	}
}

// rawTrailer is one trailer as stored, not yet trusted.
type rawTrailer struct {
	layout   Layout
	base     int64 // file offset of the trailer
	size     uint64
	typenum  int32
	itemsize int32 // -1 in the 288 layout
	ndims    int32
	maxDims  int    // dims slots that may be read
	dims     []byte // the dims slots, 8 bytes each
}

// readRaw parses the trailer of layout l at the start of b.
func readRaw(l Layout, b []byte, base int64) rawTrailer {
	le := binary.LittleEndian
	r := rawTrailer{layout: l, base: base, size: le.Uint64(b[16:]), typenum: int32(le.Uint32(b[24:])), itemsize: -1, maxDims: l.maxDims()}
	off := 28
	if l != LayoutV30 {
		r.itemsize = int32(le.Uint32(b[28:]))
		off = 32
	}
	r.ndims = int32(le.Uint32(b[off:]))
	r.dims = b[off+4:]
	return r
}

func (r rawTrailer) dim(i int) int64 { return int64(binary.LittleEndian.Uint64(r.dims[8*i:])) }

func (r rawTrailer) ndimsOffset() int64 {
	if r.layout == LayoutV30 {
		return r.base + 28
	}
	return r.base + 32
}

// check validates r against a file of fileSize bytes.
func (r rawTrailer) check(fileSize int64) (meta, error) {
	bad := func(off int64, field string, value any, format string, args ...any) (meta, error) {
		return meta{}, &FormatError{Offset: off, Field: field, Value: value, Msg: fmt.Sprintf(format, args...) + " (" + r.layout.trailerName() + ")"}
	}
	if r.ndims < 0 || int(r.ndims) > r.maxDims {
		return bad(r.ndimsOffset(), "ndims", r.ndims, "must be in 0..%d", r.maxDims)
	}
	shape := make([]int, r.ndims)
	for i := range shape {
		d := r.dim(i)
		if d < 0 {
			return bad(r.ndimsOffset()+4+8*int64(i), fmt.Sprintf("dims[%d]", i), d, "negative dimension")
		}
		shape[i] = int(d)
	}
	itemsize := int64(r.itemsize)
	if r.layout == LayoutV30 {
		itemsize = derivedItemSize(r.typenum, r.size, shape)
	}
	dt, err := dtypeFromTypenum(r.typenum, itemsize)
	if err != nil {
		switch {
		case !knownTypenum(r.typenum):
			return bad(r.base+24, "typenum", r.typenum, "%s", detail(err))
		case r.layout == LayoutV30:
			return bad(r.base+16, "size", r.size, "item size cannot be derived for %v: %s", shape, detail(err))
		}
		return bad(r.base+28, "itemsize", r.itemsize, "%s", detail(err))
	}
	n, derr := dataBytes(itemsize, shape)
	if derr != nil {
		return bad(r.ndimsOffset()+4, "dims", nil, "%v", derr)
	}
	if r.size != uint64(n) {
		return bad(r.base+16, "size", r.size, "does not match itemsize × ∏dims = %d", n)
	}
	if n > r.base {
		return bad(r.base+16, "size", r.size, "data does not fit before the trailer: the file is %d bytes", fileSize)
	}
	return meta{layout: r.layout, dtype: dt, shape: shape, nbytes: n}, nil
}

// trailerName names the trailer for messages.
func (l Layout) trailerName() string {
	return fmt.Sprintf("%d-byte trailer", l.TrailerSize())
}

// knownTypenum reports whether num names a dtype that can be shared.
func knownTypenum(num int32) bool {
	_, fixed := fixedDtypes[num]
	return fixed || num == numLongLong || num == numULongLong || num == numBytes || num == numStr || num == numVoid
}

// derivedItemSize returns the item size of the 288 layout, which does not
// store it: the fixed size of the type, or size / ∏dims for S/U/V, or -1.
func derivedItemSize(typenum int32, size uint64, shape []int) int64 {
	if typenum == numLongLong || typenum == numULongLong {
		return 8
	}
	if f, ok := fixedDtypes[typenum]; ok {
		return int64(f.dt.size())
	}
	count := uint64(1)
	for _, d := range shape {
		if d <= 0 {
			return -1
		}
		hi, lo := bits.Mul64(count, uint64(d))
		if hi != 0 {
			return -1
		}
		count = lo
	}
	if size%count != 0 || size/count > math.MaxInt32 {
		return -1
	}
	return int64(size / count)
}

// decodeTrailer finds and validates the trailer of a file of fileSize
// bytes, given its last min(fileSize, 548) bytes in tail. It copies what
// it needs: tail may be changed afterwards.
//
// The magic alone does not say which layout a file has: the 548-byte
// trailer of one layout starts 256 or 260 bytes before a 292- or 288-byte
// one, in what is array data for the shorter layout, so any process that
// can write the data can plant "[SharedArray]\0" there. Every layout whose
// magic is present is therefore tried, and the first that validates wins,
// in this order: a dual trailer (a 548 one and the shorter one inside it,
// agreeing); the shorter trailer alone (the 548 magic is then data); the
// 548 trailer alone (the shorter magic then lies in its unused dims
// slots). Only when none validates is the file refused, with the error of
// the shorter trailer if its magic is present, else of the 548 one.
func decodeTrailer(tail []byte, fileSize int64) (meta, error) {
	if fileSize < minTrailer || int64(len(tail)) != min(fileSize, maxTrailer) {
		return meta{}, &FormatError{Offset: -1, Field: "file size", Value: fileSize, Msg: "shorter than any SharedArray trailer (288 bytes)"}
	}
	probe := func(l Layout) (rawTrailer, bool) {
		t := int64(l.TrailerSize())
		if fileSize < t {
			return rawTrailer{}, false
		}
		b := tail[int64(len(tail))-t:]
		if !bytes.Equal(b[:magicLen], magic[:magicLen]) {
			return rawTrailer{}, false
		}
		return readRaw(l, b, fileSize-t), true
	}
	outer, has548 := probe(LayoutNumPy2)
	var firstErr error
	// The 292 and 288 magics cannot both be present: the 288 trailer
	// would start with "redArray]" where its own magic must be.
	for _, l := range []Layout{LayoutNumPy1, LayoutV30} {
		inner, ok := probe(l)
		if !ok {
			continue
		}
		mi, err := inner.check(fileSize)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if has548 {
			if md, ok := checkDual(outer, inner, mi, fileSize); ok {
				return md, nil
			}
		}
		return mi, nil
	}
	if has548 {
		mo, err := outer.check(fileSize)
		if err == nil {
			return mo, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = &FormatError{Offset: -1, Field: "magic", Msg: "no SharedArray trailer: \"[SharedArray]\" is not at the start of the last 288, 292 or 548 bytes"}
	}
	return meta{}, firstErr
}

// checkDual reports whether the 548-byte trailer outer and the valid
// shorter trailer inner (which says mi) form a dual trailer: outer has at
// most the dims the overlay leaves it, validates, and says the same array.
func checkDual(outer, inner rawTrailer, mi meta, fileSize int64) (meta, bool) {
	dual := LayoutDual
	if inner.layout == LayoutV30 {
		dual = LayoutDualV30
	}
	if outer.ndims < 0 || int(outer.ndims) > dual.maxDims() {
		return meta{}, false
	}
	outer.maxDims = int(outer.ndims) // the rest is overlaid by the inner trailer
	mo, err := outer.check(fileSize)
	if err != nil || mo.dtype != mi.dtype || !equalInts(mo.shape, mi.shape) || (inner.layout != LayoutV30 && outer.itemsize != inner.itemsize) {
		return meta{}, false
	}
	mo.layout = dual
	return mo, true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
