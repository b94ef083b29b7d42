package sharedarray

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

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

// npyHeaderDict returns the header dict for d and shape. For the dtypes
// gonpy knows it asks gonpy; gonpy frames the header itself wrongly (16-byte
// padding, no '\n' terminator), so only its dict is kept. The other dtypes
// get npyDict, which writes the dict the way gonpy does, so that every
// export's header has one form (TestNPYHeaderOneForm).
func npyHeaderDict(d Dtype, shape []int) string {
	if dict, ok := gonpyDict(d, shape); ok {
		return dict
	}
	return npyDict(d.String(), shape)
}

// npyDict writes the header dict of descr (NumPy's dtype.str) and shape as
// gonpy does: every dimension followed by a comma, no spaces ("(3,4,)",
// "(3,)", "()"), and ",}" to close, a form Python's literal syntax, and
// so numpy.load, reads. (gonpy's descr for int8 and uint8 is "<i1" and
// "<u1" where NumPy writes "|i1"; numpy.load reads both as the same dtype.)
func npyDict(descr string, shape []int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr)
	for _, n := range shape {
		b.WriteString(strconv.Itoa(n))
		b.WriteString(",")
	}
	b.WriteString("),}")
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
func npyHeader(d Dtype, shape []int) []byte { return frameHeader(npyHeaderDict(d, shape)) }

// frameHeader returns the whole header, magic to '\n', around dict: format
// 1.0 always, since an array has at most 64 dimensions, whose header is
// under 2 KiB, far below 1.0's 65,535-byte limit (TestNPYHeaderVersion1).
func frameHeader(dict string) []byte {
	const pre = 10 // magic 6, version 2, HEADER_LEN 2
	total := (pre + len(dict) + 1 + npyAlign - 1) / npyAlign * npyAlign
	h := make([]byte, 0, total)
	h = append(h, npyMagic...)
	h = append(h, 1, 0)
	h = binary.LittleEndian.AppendUint16(h, uint16(total-pre))
	h = append(h, dict...)
	for len(h) < total-1 {
		h = append(h, ' ')
	}
	return append(h, '\n')
}

// npyChunk is how much of the mapping one write(2) to a file is given, and
// how much is populated at once: small enough that Close waits little for
// an export in progress, large enough to cost nothing.
const npyChunk = 8 << 20

// npyCopyBuf is the size of the buffer WriteNPY copies through for writers
// other than files.
const npyCopyBuf = 256 << 10

// WriteNPY writes the array as a .npy file (format 1.0) that numpy.load
// reads back identical: dtype, shape and
// every byte. It returns the number of bytes written.
//
// To an *os.File that is a regular file (or a block device) the data goes
// from the mapping to write(2) with no copy in this process (SaveNPY
// always writes this way, with or without OnProgress). Any other
// writer gets it through a buffer of at most 256 KiB, allocated for this
// call and filled under the fault guard, so that it never touches the
// mapping itself: a writer that hands the bytes to another goroutine (an
// io.Pipe) or keeps them (which io.Writer forbids) sees this array's bytes
// only.
//
// If another process truncates the segment while it is being written (or a
// Sparse segment's file system is full), WriteNPY returns an error matching
// ErrFault, whatever the writer, instead of letting the memory fault stop
// the process. Close waits for the chunk being written (for a file, one
// write(2) of at most 8 MiB; otherwise the copy of at most 256 KiB into
// the buffer, not the writer's Write); the export then fails with an error
// matching ErrClosed. What was written before is this array's data. A
// writer that reports taking fewer bytes than it was given without an
// error, or more than it was given, stops the export with an error
// matching io.ErrShortWrite.
func (a *Array) WriteNPY(w io.Writer) (int64, error) {
	if _, err := a.hold("export"); err != nil {
		return 0, err
	}
	a.mu.RUnlock()
	written, err := a.writeAll(w, npyHeader(a.dtype, a.shape))
	if err != nil {
		return written, err
	}
	f, wrote := exportFile(w)
	var buf []byte
	if f == nil {
		buf = make([]byte, min(a.nbytes, npyCopyBuf))
	}
	for off := 0; off < a.nbytes; off += npyChunk {
		end := min(off+npyChunk, a.nbytes)
		var n int64
		var err error
		if f != nil {
			n, err = a.writeChunk(f, off, end)
			if wrote != nil {
				wrote(n)
			}
		} else {
			n, err = a.copyChunk(w, buf, off, end)
		}
		written += n
		if err != nil {
			return written, err
		}
	}
	a.populated.Store(true)
	return written, nil
}

// exportFile returns the file WriteNPY may write to straight from the
// mapping, w itself or the file under SaveNPY's progress counter, if
// write(2) to it does not wait on a reader (a regular file or a block
// device), or nil; and what to tell of each write (nil: nothing).
func exportFile(w io.Writer) (*os.File, func(n int64)) {
	var wrote func(int64)
	if p, ok := w.(*progressWriter); ok {
		w, wrote = p.w, func(n int64) { p.n += n; p.f(p.n) }
	}
	f, ok := w.(*os.File)
	if !ok {
		return nil, nil
	}
	st, err := f.Stat()
	if err != nil {
		return nil, nil
	}
	if m := st.Mode(); m.IsRegular() || (m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0) {
		return f, wrote
	}
	return nil, nil
}

// populate maps the pages of the chunk data[off:end] in one call rather
// than a fault per page: the pages exist already, this only fills page
// tables (docs/performance.md, the export rows). A failure here (a
// truncated segment) shows up in the guarded copy or write instead.
func (a *Array) populate(mem []byte, off, end int) {
	if !a.populated.Load() {
		sysMadvise(mem[off:end], madvPopulateRead)
	}
}

// writeChunk writes data[off:end] from the mapping to f with write(2),
// holding the mapping. The kernel reports a fault as EFAULT, not a signal.
func (a *Array) writeChunk(f *os.File, off, end int) (int64, error) {
	mem, err := a.hold("export")
	if err != nil {
		return 0, err
	}
	defer a.mu.RUnlock()
	a.populate(mem, off, end)
	n, err := f.Write(mem[off:end])
	if errors.Is(err, syscall.EFAULT) {
		err = fmt.Errorf("%w: %v", ErrFault, err)
	}
	if err != nil {
		return int64(n), pathError("export", a.name, err)
	}
	return int64(n), nil
}

// copyChunk writes data[off:end] to w through buf: each piece is copied
// under the mapping's lock and the fault guard, and written with neither.
func (a *Array) copyChunk(w io.Writer, buf []byte, off, end int) (int64, error) {
	var written int64
	for pos := off; pos < end; pos += len(buf) {
		n, err := a.fill(buf, pos, end, pos == off)
		if err != nil {
			return written, err
		}
		m, err := a.writeAll(w, buf[:n])
		written += m
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// writeAll writes p to w, holding nothing, and checks the count w returns
// as io.Writer requires: a count outside 0..len(p), or a short one without
// an error, is io.ErrShortWrite, never a silently truncated export.
func (a *Array) writeAll(w io.Writer, p []byte) (int64, error) {
	m, err := w.Write(p)
	if m < 0 || m > len(p) {
		return 0, pathError("export", a.name, fmt.Errorf("writer returned %d for %d bytes: %w", m, len(p), io.ErrShortWrite))
	}
	if err == nil && m < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return int64(m), pathError("export", a.name, err)
	}
	return int64(m), nil
}

// fill copies the mapping from off, up to end, into buf, under the guard,
// populating the chunk from off to end first if first is set.
func (a *Array) fill(buf []byte, off, end int, first bool) (int, error) {
	mem, err := a.hold("export")
	if err != nil {
		return 0, err
	}
	defer a.mu.RUnlock()
	if first {
		a.populate(mem, off, end)
	}
	var n int
	if err := guarded(func() error { n = copy(buf, mem[off:end]); return nil }); err != nil {
		return 0, pathError("export", a.name, err)
	}
	return n, nil
}

// SaveNPY writes the array as a .npy file at path, atomically. The data
// goes to a new file created exclusively in path's directory (unnamed,
// O_TMPFILE, where the file system allows; else under a fresh random name
// opened O_EXCL, which never follows a symbolic link), and that file is
// renamed over path only once complete. On failure path is left as it
// was, a previous snapshot included, and nothing is left behind. Several
// SaveNPY calls to one path, in one process or several, each write their
// own file: path always holds one whole array, the last renamed.
//
// SaveNPY replaces only a regular file. A path that is a symbolic link is
// refused with an error matching ErrInvalid: renaming over it would
// replace the link, not write through to its target; give the target's
// path instead. A directory is refused with syscall.EISDIR; a device, FIFO
// or socket with an error matching ErrInvalid (renaming over /dev/null
// would replace the device node), and so is the array's own file (a
// file:// array, or /dev/shm/NAME). path is checked (lstat, never
// following a link) when SaveNPY starts and again right before the
// rename; only something put at path in the microseconds between that
// last check and the rename(2) is replaced, and its target or device is
// never written. The new file has mode 0666 before the umask; an existing
// file's mode is not kept. With Fsync, the file and its directory are
// flushed to stable storage before SaveNPY returns; OnProgress reports
// the bytes written as they go. Errors name path.
func (a *Array) SaveNPY(path string, opts ...Option) error {
	o := makeOptions(opts)
	if err := checkOptions(opts, "SaveNPY", forSave); err != nil {
		return pathError("export", path, err)
	}
	fail := func(err error) error {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == a.name {
			return err // the array's own error (closed, faulted)
		}
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return pathError("export", path, err)
	}
	if err := a.checkTarget(path); err != nil {
		return fail(err)
	}
	err := a.saveNPY(path, o, false)
	if err == syscall.ENOENT {
		// An unnamed file that could not be linked (no /proc): write
		// again, under a temporary name.
		err = a.saveNPY(path, o, true)
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// checkTarget refuses a path SaveNPY must not rename over: a symbolic
// link, a directory, anything else that is not a regular file, and the
// array's own file. A path that does not exist is fine.
func (a *Array) checkTarget(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("is a symbolic link, which the snapshot would replace rather than write through; give the target's path: %w", ErrInvalid)
	case fi.IsDir():
		return syscall.EISDIR
	case !fi.Mode().IsRegular():
		return fmt.Errorf("is not a regular file (%s); only a regular file is replaced by a snapshot: %w", fileKind(fi.Mode()), ErrInvalid)
	}
	if loc, err := parseName(a.name); err == nil {
		if own, err := os.Stat(loc.linkPrefix() + loc.path); err == nil && os.SameFile(fi, own) {
			return fmt.Errorf("is the array's own file; saving onto it would replace the array: %w", ErrInvalid)
		}
	}
	return nil
}

// fileKind names a non-regular file type for an error message.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "mode " + m.Type().String()
}

func (a *Array) saveNPY(path string, o options, named bool) error {
	f, err := createBeside(path, named)
	if err != nil {
		return err
	}
	var w io.Writer = f.File
	if o.progress != nil {
		w = &progressWriter{w: f.File, f: o.progress}
	}
	if _, err = a.WriteNPY(w); err == nil && o.fsync {
		err = f.Sync()
	}
	if err == nil {
		err = f.publish(o.fsync, func() error { return a.checkTarget(path) })
	}
	if err != nil {
		f.abort()
	}
	return err
}

// progressWriter reports the running count of bytes written.
type progressWriter struct {
	w io.Writer
	n int64
	f func(int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	p.f(p.n)
	return n, err
}

// newFile is a file being written to replace path: unnamed (O_TMPFILE)
// or under a temporary name in path's directory until publish.
type newFile struct {
	*os.File
	path string
	tmp  string // the temporary name; "" while unnamed
}

// createBeside creates a new, empty file in path's directory, for
// publish to rename over path. Its *os.File is named path, so write
// errors name the user's path.
func createBeside(path string, named bool) (*newFile, error) {
	var fd int
	var err error
	if !named {
		fd, err = sysOpen(filepath.Dir(path), syscall.O_RDWR|oTmpfile, 0o666)
		if err == nil {
			return &newFile{File: os.NewFile(uintptr(fd), path), path: path}, nil
		}
		if !tmpfileUnsupported(err) {
			return nil, err
		}
	}
	tmp, err := tempName(path, func(tmp string) error {
		fd, err = sysOpen(tmp, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL|oNofollow, 0o666)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &newFile{File: os.NewFile(uintptr(fd), path), path: path, tmp: tmp}, nil
}

// publish names the complete file path, replacing what was there, and
// closes it; check runs right before the rename and can refuse it. With
// sync it flushes the directory afterwards.
func (n *newFile) publish(sync bool, check func() error) error {
	if n.tmp == "" {
		tmp, err := tempName(n.path, func(tmp string) error { return linkFd(int(n.Fd()), "", tmp) })
		if err != nil {
			return err
		}
		n.tmp = tmp
	}
	if err := check(); err != nil {
		return err
	}
	if err := os.Rename(n.tmp, n.path); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err
		}
		return err
	}
	n.tmp = ""
	if err := n.Close(); err != nil {
		return err
	}
	if sync {
		d, err := os.Open(filepath.Dir(n.path))
		if err != nil {
			return err
		}
		defer d.Close()
		return d.Sync()
	}
	return nil
}

// abort closes the file and removes its temporary name, if any.
func (n *newFile) abort() {
	if n.tmp != "" {
		os.Remove(n.tmp)
	}
	n.Close()
}

// tempName calls try with fresh names "DIR/.BASE.RANDOM.tmp" beside path
// until one is not taken (EEXIST), and returns the name made.
func tempName(path string, try func(tmp string) error) (string, error) {
	dir, base := filepath.Split(path)
	base = base[:min(len(base), nameMax-30)]
	for {
		tmp := fmt.Sprintf("%s.%s.%016x.tmp", dir, base, rand.Uint64())
		if err := try(tmp); err != syscall.EEXIST {
			return tmp, err
		}
	}
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
	if pre[7] != 0 {
		// NumPy reads only (1, 0), (2, 0) and (3, 0).
		return npyInfo{}, fmt.Errorf("%w: format version %d.%d (1.0, 2.0 and 3.0 are supported)", ErrNPY, pre[6], pre[7])
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
		return npyInfo{}, fmt.Errorf("%w: format version %d.%d (1.0, 2.0 and 3.0 are supported)", ErrNPY, pre[6], pre[7])
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
	if p.s[p.i] == '[' {
		return nil, fmt.Errorf("a list at byte %d (structured dtypes cannot be shared)", p.i)
	}
	return nil, fmt.Errorf("unsupported value at byte %d", p.i)
}

// LoadNPY creates the shared array name from the .npy file at path,
// streaming the data into it. See LoadNPYFrom. A path that cannot be
// opened, or is a directory, is a *fs.PathError with Op "import" naming
// path (syscall.EISDIR for a directory), not ErrNPY.
func LoadNPY(name, path string, opts ...Option) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, pathError("import", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, pathError("import", path, syscall.EISDIR)
	}
	return LoadNPYFrom(name, f, opts...)
}

// LoadNPYFrom creates the shared array name from a .npy stream (format
// 1.0, 2.0 or 3.0), reading the data straight into the new segment. The
// segment gets its name only once complete: a failed import (a bad header,
// a short file, a full /dev/shm) leaves nothing behind. Big-endian files
// are converted to little-endian; Fortran-order files are stored in C order
// (the same array, transposed in memory); datetime units are dropped, as
// SharedArray stores none. Object, structured and StringDType arrays are
// refused with an error matching ErrNPY. Options are WithLayout,
// WithPerm, Sparse and SkipMemoryCheck; any other is refused before r is
// read (Prefault too: an import always maps the pages it fills in one
// call).
//
// The header is not trusted to say how much data follows. When r can tell
// how many bytes it holds (a Len method, as *bytes.Reader has; a regular
// *os.File; any io.Seeker), a data section shorter than the header
// promises is an ErrNPY error before anything is reserved. Otherwise (a
// pipe, a socket) the segment is reserved chunk by chunk as the data
// arrives, so a short stream never reserves more than what arrived plus
// one chunk (importChunk); a Fortran-order stream is first read into
// memory of this process as it arrives, then transposed. A Fortran-order
// regular file (LoadNPY, or an *os.File given here) is transposed
// straight from a read-only private mapping of it; if another process
// truncates it meanwhile, the import fails with an error matching
// ErrFault (ErrNPY if the file is already short when it is mapped) and
// leaves nothing behind. On a tmpfs
// (/dev/shm, or a file:// path on one) the size the header claims is
// checked against free space and memory, as Create checks it, in every
// mode, Sparse included (an import writes every byte), unless
// SkipMemoryCheck is given.
func LoadNPYFrom(name string, r io.Reader, opts ...Option) (*Array, error) {
	o := makeOptions(opts)
	o.prefault = true // the import writes every page: map them in one call (docs/performance.md)
	loc, err := parseName(name)
	if err != nil {
		return nil, pathError("import", name, err)
	}
	if err := checkOptions(opts, "LoadNPY", forLoad); err != nil {
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
	left, sized, err := remaining(r)
	if err != nil {
		return nil, pathError("import", name, err)
	}
	if sized && left < info.nbytes {
		return nil, pathError("import", name, shortData(info.nbytes, left))
	}
	if !o.skipMemCheck {
		// Sparse or not, the import writes every byte.
		if err := checkSpace(loc.dir(), total); err != nil {
			return nil, pathError("import", name, err)
		}
	}
	fortran := info.fortran && len(info.shape) > 1
	if sized && !fortran {
		// Read in C order from a reader of known length: the pages are
		// not mapped beforehand. The read's copy takes a fault per page,
		// as C's does, and writes each page just zeroed, still in the
		// cache; populating first zeroes the whole array ahead of the
		// copy. 1 GiB: 0.99-1.05x C against 1.13-1.15x (docs/performance.md).
		o.prefault = false
	}
	var fill func(fd int, data []byte) error
	switch {
	case sized || info.nbytes <= importChunk:
		fill = func(_ int, data []byte) error {
			var err error
			if fortran {
				err = readFortran(r, data, info)
			} else {
				_, err = io.ReadFull(r, data)
			}
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				return shortData(info.nbytes, -1)
			}
			return finishImport(data, info, err)
		}
	case fortran:
		chunks, err := readChunks(r, info.nbytes)
		if err != nil {
			return nil, pathError("import", name, err)
		}
		fill = func(_ int, data []byte) error {
			return finishImport(data, info, readFortran(&chunkReader{chunks: chunks}, data, info))
		}
	default:
		// A stream of unknown length: reserve each chunk as it arrives.
		reserve := !o.sparse
		o.sparse, o.prefault = true, false
		fill = func(fd int, data []byte) error {
			for off := 0; off < len(data); off += importChunk {
				chunk := data[off:min(off+importChunk, len(data))]
				if reserve {
					if err := sysFallocate(fd, int64(off), int64(len(chunk))); err == syscall.ENOSPC {
						return spaceError(fd, total)
					} else if err != nil && err != syscall.EOPNOTSUPP {
						return err
					}
				}
				prefault(chunk, madvPopulateWrite)
				n, err := io.ReadFull(r, chunk)
				if err == io.ErrUnexpectedEOF || err == io.EOF {
					return shortData(info.nbytes, int64(off+n))
				}
				if err != nil {
					return err
				}
			}
			return finishImport(data, info, nil)
		}
	}
	return create("import", name, loc, m, total, o, fill)
}

// importChunk is how much of a stream of unknown length LoadNPYFrom
// reserves ahead of the data that has arrived.
const importChunk = 4 << 20

// shortData is the error for a data section shorter than the header says;
// got < 0 when the exact count is unknown.
func shortData(want, got int64) error {
	if got < 0 {
		return fmt.Errorf("%w: data section is shorter than the %d bytes the header promises", ErrNPY, want)
	}
	return fmt.Errorf("%w: data section is %d bytes, shorter than the %d bytes the header promises", ErrNPY, got, want)
}

// finishImport byte-swaps imported data when the file was big-endian.
func finishImport(data []byte, info npyInfo, err error) error {
	if err == nil && info.swap {
		swapBytes(data, info.dtype)
	}
	return err
}

// remaining returns how many bytes r has left, when r can tell: a Len
// method (bytes.Reader, strings.Reader, bytes.Buffer), a regular file, or
// an io.Seeker (whose position it restores). sized is false for pipes,
// sockets and plain readers.
func remaining(r io.Reader) (left int64, sized bool, err error) {
	if l, ok := r.(interface{ Len() int }); ok {
		return int64(l.Len()), true, nil
	}
	s, ok := r.(io.Seeker)
	if !ok {
		return 0, false, nil
	}
	end := int64(-1)
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		fi, err := st.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, false, nil // a pipe or a device: its size says nothing
		}
		end = fi.Size()
	}
	cur, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, false, nil // not seekable after all (a pipe)
	}
	if end < 0 {
		if end, err = s.Seek(0, io.SeekEnd); err != nil {
			return 0, false, nil
		}
		if _, err := s.Seek(cur, io.SeekStart); err != nil {
			return 0, false, fmt.Errorf("restoring the read position: %w", err)
		}
	}
	return max(end-cur, 0), true, nil
}

// readChunks reads exactly n bytes of r into memory, chunk by chunk, so a
// short stream costs only what arrived.
func readChunks(r io.Reader, n int64) ([][]byte, error) {
	var chunks [][]byte
	for got := int64(0); got < n; {
		c := make([]byte, min(n-got, importChunk))
		k, err := io.ReadFull(r, c)
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return nil, shortData(n, got+int64(k))
		}
		if err != nil {
			return nil, err
		}
		chunks = append(chunks, c)
		got += int64(k)
	}
	return chunks, nil
}

// chunkReader reads the chunks readChunks returned, freeing each once read.
type chunkReader struct{ chunks [][]byte }

func (c *chunkReader) Read(b []byte) (int, error) {
	for len(c.chunks) > 0 && len(c.chunks[0]) == 0 {
		c.chunks[0] = nil
		c.chunks = c.chunks[1:]
	}
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(b, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	return n, nil
}

// readFortran reads column-major data and stores it in C order, in
// cache-sized blocks straight into dst (transpose.go); from a regular
// file, out of a mapping of it.
func readFortran(r io.Reader, dst []byte, info npyInfo) error {
	return readFortranInto(r, dst, info.shape, info.dtype.ItemSize(), transposeBudget)
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
