package sharedarray

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/kshedden/gonpy"
)

// The .npy format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//
//	"\x93NUMPY" major minor HEADER_LEN(u16 in 1.0, u32 in 2.0 and 3.0) HEADER
//
// HEADER is a Python dict literal with keys 'descr', 'fortran_order' and
// 'shape', padded with spaces and ended by '\n' so that the data starts at
// a multiple of 64 bytes.

const (
	npyMagic     = "\x93NUMPY"
	npyAlign     = 64
	npyMaxHeader = 1 << 20 // refuse larger headers (NumPy's default limit is 10,000)
	npyMaxDims   = 64
)

// ErrNPY is matched by errors about a .npy file that cannot be imported: a
// bad header, an unsupported dtype or layout, a truncated data section.
var ErrNPY = errors.New("sharedarray: bad or unsupported .npy file")

// npyHeaderDict returns the header dict for d and shape. For the dtypes
// gonpy knows it asks gonpy; gonpy frames the header itself wrongly (16-byte
// padding, no '\n' terminator), so only its dict is kept.
func npyHeaderDict(d Dtype, shape []int) string {
	if dict, ok := gonpyDict(d, shape); ok {
		return dict
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{'descr': '%s', 'fortran_order': False, 'shape': (", d)
	for i, n := range shape {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(strconv.Itoa(n))
		if i < len(shape)-1 || len(shape) == 1 {
			b.WriteString(",")
		}
	}
	b.WriteString("), }")
	return b.String()
}

type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }

// gonpyDict renders the header dict with gonpy for its dtypes.
func gonpyDict(d Dtype, shape []int) (string, bool) {
	var buf bytes.Buffer
	w, _ := gonpy.NewWriter(nopCloser{&buf})
	w.Shape = append(make([]int, 0, len(shape)), shape...)
	var err error
	switch d {
	case Int8:
		err = w.WriteInt8(nil)
	case Uint8:
		err = w.WriteUint8(nil)
	case Int16:
		err = w.WriteInt16(nil)
	case Uint16:
		err = w.WriteUint16(nil)
	case Int32:
		err = w.WriteInt32(nil)
	case Uint32:
		err = w.WriteUint32(nil)
	case Int64:
		err = w.WriteInt64(nil)
	case Uint64:
		err = w.WriteUint64(nil)
	case Float32:
		err = w.WriteFloat32(nil)
	case Float64:
		err = w.WriteFloat64(nil)
	case Complex64:
		err = w.WriteComplex64(nil)
	case Complex128:
		err = w.WriteComplex128(nil)
	default:
		return "", false
	}
	if err != nil || buf.Len() < 10 {
		return "", false
	}
	return strings.TrimRight(buf.String()[10:], " \n"), true
}

// npyHeader returns the whole header, magic to '\n', for d and shape.
func npyHeader(d Dtype, shape []int) []byte {
	dict := npyHeaderDict(d, shape)
	major, pre := 1, 10 // magic 6, version 2, HEADER_LEN 2
	if len(dict)+1+pre > 65535 {
		major, pre = 2, 12
	}
	total := (pre + len(dict) + 1 + npyAlign - 1) / npyAlign * npyAlign
	h := make([]byte, 0, total)
	h = append(h, npyMagic...)
	h = append(h, byte(major), 0)
	if major == 1 {
		h = binary.LittleEndian.AppendUint16(h, uint16(total-pre))
	} else {
		h = binary.LittleEndian.AppendUint32(h, uint32(total-pre))
	}
	h = append(h, dict...)
	for len(h) < total-1 {
		h = append(h, ' ')
	}
	return append(h, '\n')
}

// npyChunk is how much of the mapping one Write call is given: small
// enough to keep a slow writer's progress visible, large enough to cost
// nothing.
const npyChunk = 8 << 20

// WriteNPY writes the array as a .npy file (format 1.0, or 2.0 for very
// long headers) that numpy.load reads back identical: dtype, shape and
// every byte. The data goes from the mapping to w with no copy in this
// process. It returns the number of bytes written.
//
// If another process truncates the segment while it is being written (or a
// Sparse segment's file system is full), WriteNPY returns an error matching
// ErrFault instead of letting the memory fault stop the process.
func (a *Array) WriteNPY(w io.Writer) (int64, error) {
	mem, err := a.mapping("export")
	if err != nil {
		return 0, err
	}
	n, err := w.Write(npyHeader(a.dtype, a.shape))
	written := int64(n)
	if err != nil {
		return written, err
	}
	data := mem[:a.nbytes]
	for off := 0; off < len(data); off += npyChunk {
		chunk := data[off:min(off+npyChunk, len(data))]
		// Map the chunk's pages in one call rather than a fault per
		// page: the pages exist already, this only fills page tables
		// (docs/performance.md, the export rows). A failure here
		// (a truncated segment) shows up in the guarded write instead.
		if !a.populated.Load() {
			sysMadvise(chunk, madvPopulateRead)
		}
		n, err := guardedWrite(w, chunk)
		written += int64(n)
		if err != nil {
			return written, pathError("export", a.name, err)
		}
	}
	a.populated.Store(true)
	return written, nil
}

func guardedWrite(w io.Writer, b []byte) (n int, err error) {
	err = guarded(func() error {
		var werr error
		n, werr = w.Write(b)
		if werr == nil && n < len(b) {
			werr = io.ErrShortWrite
		}
		return werr
	})
	return n, err
}

// SaveNPY writes the array to a .npy file at path, created or truncated.
func (a *Array) SaveNPY(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := a.WriteNPY(f); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// npyInfo is a parsed .npy header.
type npyInfo struct {
	dtype   Dtype
	swap    bool // big-endian data: swap bytes of each element (or each half, for complex)
	fortran bool
	shape   []int
	nbytes  int64
	dataOff int64 // where the data starts
}

// readNPYHeader reads and parses the header at the start of r.
func readNPYHeader(r io.Reader) (npyInfo, error) {
	var pre [12]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return npyInfo{}, fmt.Errorf("%w: header: %v", ErrNPY, err)
	}
	if string(pre[:6]) != npyMagic {
		return npyInfo{}, fmt.Errorf("%w: no \\x93NUMPY magic", ErrNPY)
	}
	var hlen, off int64
	switch pre[6] {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return npyInfo{}, fmt.Errorf("%w: header: %v", ErrNPY, err)
		}
		hlen, off = int64(binary.LittleEndian.Uint16(pre[8:])), 10
	case 2, 3:
		if _, err := io.ReadFull(r, pre[8:12]); err != nil {
			return npyInfo{}, fmt.Errorf("%w: header: %v", ErrNPY, err)
		}
		hlen, off = int64(binary.LittleEndian.Uint32(pre[8:])), 12
	default:
		return npyInfo{}, fmt.Errorf("%w: format version %d.%d", ErrNPY, pre[6], pre[7])
	}
	if hlen > npyMaxHeader {
		return npyInfo{}, fmt.Errorf("%w: header of %d bytes (at most %d)", ErrNPY, hlen, npyMaxHeader)
	}
	h := make([]byte, hlen)
	if _, err := io.ReadFull(r, h); err != nil {
		return npyInfo{}, fmt.Errorf("%w: header: %v", ErrNPY, err)
	}
	info, err := parseNPYHeader(string(h))
	if err != nil {
		return npyInfo{}, err
	}
	info.dataOff = off + hlen
	return info, nil
}

// parseNPYHeader parses the header dict (the text after HEADER_LEN).
func parseNPYHeader(h string) (npyInfo, error) {
	p := &dictParser{s: h}
	fields, err := p.parse()
	if err != nil {
		return npyInfo{}, fmt.Errorf("%w: header %q: %v", ErrNPY, clip(h), err)
	}
	var info npyInfo
	descr, ok := fields["descr"].(string)
	if !ok {
		return npyInfo{}, fmt.Errorf("%w: 'descr' is missing or not a string (structured dtypes cannot be shared)", ErrNPY)
	}
	spec := descr
	if strings.HasPrefix(spec, ">") {
		spec = "<" + spec[1:]
		info.swap = true
	}
	if info.dtype, err = ParseDtype(spec); err != nil {
		return npyInfo{}, nestf(ErrNPY, err, "descr %q", descr)
	}
	if info.swap {
		switch {
		case info.dtype.size() == 1 || info.dtype.num() == numBytes || info.dtype.num() == numVoid:
			info.swap = false
		case info.dtype == LongDouble || info.dtype == CLongDouble:
			return npyInfo{}, fmt.Errorf("%w: big-endian %q cannot be converted", ErrNPY, descr)
		}
	}
	fo, ok := fields["fortran_order"].(bool)
	if !ok {
		return npyInfo{}, fmt.Errorf("%w: 'fortran_order' is missing or not True/False", ErrNPY)
	}
	info.fortran = fo
	shape, ok := fields["shape"].([]int64)
	if !ok {
		return npyInfo{}, fmt.Errorf("%w: 'shape' is missing or not a tuple of integers", ErrNPY)
	}
	if len(shape) > npyMaxDims {
		return npyInfo{}, fmt.Errorf("%w: %d dimensions (at most %d)", ErrNPY, len(shape), npyMaxDims)
	}
	n, err := dataBytes(int64(info.dtype.size()), shape)
	if err != nil {
		return npyInfo{}, fmt.Errorf("%w: shape: %v", ErrNPY, err)
	}
	info.nbytes = n
	info.shape = make([]int, len(shape))
	for i, d := range shape {
		info.shape[i] = int(d)
	}
	if len(fields) != 3 {
		return npyInfo{}, fmt.Errorf("%w: header has keys other than descr, fortran_order and shape", ErrNPY)
	}
	return info, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// dictParser parses the Python literal of a .npy header: a dict of string
// keys to strings, True/False, and tuples of non-negative integers.
type dictParser struct {
	s string
	i int
}

func (p *dictParser) skip() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *dictParser) eat(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *dictParser) parse() (map[string]any, error) {
	if !p.eat('{') {
		return nil, fmt.Errorf("no '{'")
	}
	out := map[string]any{}
	for !p.eat('}') {
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("key %q twice", key)
		}
		if !p.eat(':') {
			return nil, fmt.Errorf("no ':' after %q", key)
		}
		if out[key], err = p.value(); err != nil {
			return nil, err
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return nil, fmt.Errorf("no ',' or '}' after %q", key)
			}
			break
		}
	}
	p.skip()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("text after the dict")
	}
	return out, nil
}

func (p *dictParser) str() (string, error) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", fmt.Errorf("expected a string at byte %d", p.i)
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", fmt.Errorf("escapes in strings are not supported")
	}
	p.i += end + 2
	return v, nil
}

func (p *dictParser) value() (any, error) {
	p.skip()
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("missing value")
	}
	switch c := p.s[p.i]; {
	case c == '\'' || c == '"':
		return p.str()
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	case c == '(':
		p.i++
		var dims []int64
		for !p.eat(')') {
			p.skip()
			j := p.i
			for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
				j++
			}
			if j == p.i {
				return nil, fmt.Errorf("expected a non-negative integer at byte %d", p.i)
			}
			d, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("dimension %q: %v", p.s[p.i:j], err)
			}
			p.i = j
			p.eat('L') // Python 2 longs
			dims = append(dims, d)
			if len(dims) > npyMaxDims {
				return nil, fmt.Errorf("more than %d dimensions", npyMaxDims)
			}
			if !p.eat(',') {
				if !p.eat(')') {
					return nil, fmt.Errorf("no ',' or ')' in shape")
				}
				if len(dims) == 1 {
					// (5) is an int in Python, not a tuple; NumPy writes (5,).
					return nil, fmt.Errorf("shape (%d) is not a tuple", d)
				}
				break
			}
		}
		if dims == nil {
			dims = []int64{}
		}
		return dims, nil
	}
	return nil, fmt.Errorf("unsupported value at byte %d", p.i)
}

// LoadNPY creates the shared array name from the .npy file at path,
// streaming the data into it. See LoadNPYFrom.
func LoadNPY(name, path string, opts ...Option) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return LoadNPYFrom(name, f, opts...)
}

// LoadNPYFrom creates the shared array name from a .npy stream (format
// 1.0, 2.0 or 3.0), reading the data straight into the new segment. The
// segment gets its name only once complete: a failed import (a bad header,
// a short file, a full /dev/shm) leaves nothing behind. Big-endian files
// are converted to little-endian; Fortran-order files are stored in C order
// (the same array, transposed in memory); datetime units are dropped, as
// SharedArray stores none. Object, structured and StringDType arrays are
// refused with an error matching ErrNPY. Options are those of Create.
func LoadNPYFrom(name string, r io.Reader, opts ...Option) (*Array, error) {
	o := makeOptions(opts)
	o.prefault = true // the import writes every page: map them in one call (docs/performance.md)
	loc, err := parseName(name)
	if err != nil {
		return nil, pathError("import", name, err)
	}
	info, err := readNPYHeader(r)
	if err != nil {
		return nil, pathError("import", name, err)
	}
	m, err := newMeta(info.shape, info.dtype, o.layout)
	if err != nil {
		return nil, pathError("import", name, err)
	}
	total := m.nbytes + int64(m.layout.TrailerSize())
	if loc.shm && !o.sparse && !o.skipMemCheck {
		if err := checkMemory(total); err != nil {
			return nil, pathError("import", name, err)
		}
	}
	fill := func(data []byte) error {
		var err error
		if info.fortran && len(info.shape) > 1 {
			err = readFortran(r, data, info)
		} else {
			_, err = io.ReadFull(r, data)
		}
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return fmt.Errorf("%w: data section is shorter than the %d bytes the header promises", ErrNPY, info.nbytes)
		}
		if err != nil {
			return err
		}
		if info.swap {
			swapBytes(data, info.dtype)
		}
		return nil
	}
	return create(name, loc, m, total, o, fill)
}

// readFortran reads column-major data and stores it in C order.
func readFortran(r io.Reader, dst []byte, info npyInfo) error {
	isz := info.dtype.ItemSize()
	shape := info.shape
	cstr := cStrides(shape, isz)
	idx := make([]int, len(shape))
	br := bufio.NewReaderSize(r, 256<<10)
	elem := make([]byte, isz)
	count := len(dst) / max(isz, 1)
	for range count {
		if _, err := io.ReadFull(br, elem); err != nil {
			return err
		}
		off := 0
		for k, i := range idx {
			off += i * cstr[k]
		}
		copy(dst[off:], elem)
		for k := range idx { // Fortran order: first index fastest
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return nil
}

// swapBytes turns big-endian elements into little-endian ones.
func swapBytes(data []byte, d Dtype) {
	w := d.ItemSize()
	switch {
	case d == Complex64 || d == Complex128:
		w /= 2 // real and imaginary parts
	case d.num() == numStr:
		w = 4 // UCS-4 code points
	}
	for i := 0; i+w <= len(data); i += w {
		e := data[i : i+w]
		for a, b := 0, w-1; a < b; a, b = a+1, b-1 {
			e[a], e[b] = e[b], e[a]
		}
	}
}
