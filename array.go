package sharedarray

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Array is a NumPy array in a shared memory segment or a file, mapped into
// this process. Create and Attach return one; Close unmaps it.
//
// The data is the first part of the mapping, page-aligned, in C order and
// native (little-endian) byte order; the trailer SharedArray reads follows
// it. Other processes, in Go or Python, may read and write the same bytes at
// any time: the Array provides no locking of the data.
//
// Every method is safe for concurrent use, Close included. A method that
// uses the mapping (ReadAt, WriteAt, WriteNPY, Msync, Mlock, Munlock)
// holds it for its whole duration: Close waits for it to finish (WriteNPY:
// the chunk in progress), and a method that starts after Close fails with
// an error matching ErrClosed. No method ever returns data from another
// mapping with a nil error.
//
// Slices from Bytes and View are the mapping itself, and Close cannot wait
// for them. (Ring slots from Next, and the frames a Read
// callback is given, follow the same rule: their ring's Close retires its
// mapping the same way.) After Close, touching such a slice faults (SIGSEGV, which stops
// a Go program) rather than reaching whatever is mapped there next: Close
// replaces the range with an inaccessible reservation. The package keeps
// the reservations of at least the 1,024 most recently closed mappings,
// within 64 GiB of address space (an eighth of RLIMIT_AS if that is
// lower; the most recent one always); an older range is unmapped and its
// address may be reused, and a slice into it can then read or write
// another mapping. See docs/reliability.md, "Contract", for exactly when.
//
// No finalizer unmaps an Array, so slices stay valid for as long as the
// Array is not closed, whether or not it is still referenced; an Array
// never closed stays mapped until the process exits. Closing or dropping an
// Array never deletes the segment: it persists until Delete (shm segments
// until reboot).
type Array struct {
	name     string
	dtype    Dtype
	shape    []int
	layout   Layout
	writable bool
	nbytes   int

	// mu guards mem: read-held by every operation that uses the mapping,
	// for its whole duration; write-held by Close.
	mu  sync.RWMutex
	mem []byte // the whole mapping; nil once closed

	// populated is set once every data page is known to be in this
	// mapping's page tables (Prefault, or a full WriteNPY), so a later
	// export does not walk them again.
	populated atomic.Bool
}

// Name returns the name the Array was created or attached with, scheme
// included as passed ("shm://frames", "frames", "file://x.dat").
func (a *Array) Name() string { return a.name }

// Dtype returns the element type.
func (a *Array) Dtype() Dtype { return a.dtype }

// Layout returns the segment's trailer layout.
func (a *Array) Layout() Layout { return a.layout }

// Shape returns a copy of the dimensions.
func (a *Array) Shape() []int { return append(make([]int, 0, len(a.shape)), a.shape...) }

// ndim returns the number of dimensions.
func (a *Array) ndim() int { return len(a.shape) }

// Strides returns the byte strides of the C-ordered data, as NumPy gives
// them for SharedArray.attach's array: each is itemsize times the product
// of the later non-zero dimensions.
func (a *Array) Strides() []int { return cStrides(a.shape, a.dtype.ItemSize()) }

// Len returns the number of elements (1 for a 0-d array).
func (a *Array) Len() int {
	if a.dtype.size() == 0 {
		return 0
	}
	return a.nbytes / a.dtype.ItemSize()
}

// Writable reports whether the Array was created or attached writable
// (not ReadOnly). It keeps that answer after Close, when nothing is mapped.
func (a *Array) Writable() bool { return a.writable }

// Bytes returns the array data, without the trailer: Len()×ItemSize()
// bytes, page-aligned. It returns nil after Close. The slice must not be
// used after Close: see Array.
func (a *Array) Bytes() []byte {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.mem == nil {
		return nil
	}
	return a.mem[:a.nbytes:a.nbytes]
}

// Close unmaps the array: it waits for the operations in progress on it,
// then replaces the mapping with an inaccessible reservation (see Array).
// It does not delete the segment. Close is idempotent; after it the other
// methods return an error matching ErrClosed.
func (a *Array) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.mem == nil {
		return nil
	}
	err := retire(a.mem)
	a.mem = nil
	if err != nil {
		return pathError("close", a.name, err)
	}
	return nil
}

// hold read-locks the mapping for an operation and returns it, or an
// ErrClosed error. Unless it fails, the caller must a.mu.RUnlock() when it
// no longer touches the mapping (with defer, so that a panic releases it).
func (a *Array) hold(op string) ([]byte, error) {
	a.mu.RLock()
	if a.mem == nil {
		a.mu.RUnlock()
		return nil, pathError(op, a.name, ErrClosed)
	}
	return a.mem, nil
}

// String describes the array for fmt and logs: its name, shape, dtype and
// layout, as in "sharedarray.Array(shm://frames, shape=[2 3], dtype=<i4,
// layout=dual)". It reads no shared memory and works after Close.
func (a *Array) String() string {
	return fmt.Sprintf("sharedarray.Array(%s, shape=%v, dtype=%s, layout=%s)", a.name, a.shape, a.dtype, a.layout)
}

// cStrides returns the byte strides of C-ordered data, as NumPy fills
// them for an array over existing memory (what SharedArray.attach
// returns): a zero dimension is skipped when the strides are accumulated,
// so they never overflow once dataBytes has accepted the shape.
func cStrides(shape []int, itemsize int) []int {
	s := make([]int, len(shape))
	acc := itemsize
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		if shape[i] != 0 {
			acc *= shape[i]
		}
	}
	return s
}

// Create makes a new array of the given shape and dtype, zero-filled, and
// maps it read-write. The name is "shm://NAME" (a POSIX shared memory
// object; a bare NAME means the same) or "file://PATH". It fails with an
// error matching ErrExist when the name is taken.
//
// The segment is built under no name and published complete, so another
// process never attaches a half-written one, and a failed Create leaves
// nothing behind. Its memory is reserved (fallocate) unless Sparse is
// given, so a full /dev/shm is an ENOSPC error here rather than a SIGBUS at
// first write. The layout is LayoutDual (attached by NumPy-1 and NumPy-2
// builds of SharedArray 3.1+), or LayoutNumPy2 above 27 dimensions, unless
// WithLayout says otherwise.
//
// Near vm.max_map_count, Create fails with an error matching
// syscall.ENOMEM that names the limit and how to raise it, rather than
// leave the Go runtime no mapping to grow with (docs/reliability.md).
func Create(name string, shape []int, dtype Dtype, opts ...Option) (*Array, error) {
	o := makeOptions(opts)
	loc, err := parseName(name)
	if err != nil {
		return nil, pathError("create", name, err)
	}
	if err := checkOptions(opts, "Create", forCreate); err != nil {
		return nil, pathError("create", name, err)
	}
	m, err := newMeta(shape, dtype, o.layout)
	if err != nil {
		return nil, pathError("create", name, err)
	}
	total := m.nbytes + int64(m.layout.TrailerSize())
	if !o.sparse && !o.skipMemCheck {
		if err := checkSpace(loc.dir(), total); err != nil {
			return nil, pathError("create", name, err)
		}
	}
	return create("create", name, loc, m, total, o, nil)
}

// create makes the segment, runs fill (if any) on its data before the
// segment gets its name, and returns the Array. op labels errors.
func create(op, name string, loc location, m meta, total int64, o options, fill func(fd int, data []byte) error) (*Array, error) {
	mem, err := createSegment(loc, m, total, o, fill)
	if err != nil {
		return nil, wrapOp(op, name, err)
	}
	a := &Array{name: name, dtype: m.dtype, shape: m.shape, layout: m.layout, writable: true, nbytes: int(m.nbytes), mem: mem}
	a.populated.Store(o.prefault)
	return a, nil
}

// newMeta checks a user's shape, dtype and layout choice.
func newMeta(shape []int, dtype Dtype, layout Layout) (meta, error) {
	if err := dtype.valid(); err != nil {
		return meta{}, err
	}
	if layout == 0 {
		layout = LayoutDual
		if len(shape) > LayoutDual.maxDims() {
			layout = LayoutNumPy2
		}
	}
	if layout.TrailerSize() == 0 {
		return meta{}, fmt.Errorf("unknown layout %d: %w", layout, ErrInvalid)
	}
	if len(shape) > layout.maxDims() {
		return meta{}, fmt.Errorf("%d dimensions, layout %s carries at most %d: %w", len(shape), layout, layout.maxDims(), ErrInvalid)
	}
	if !layout.carries(dtype) {
		return meta{}, kindErrorf(ErrDtype, "layout %s cannot carry %s (SharedArray 3.0.0 cannot attach S, U or V arrays)", layout, dtype)
	}
	n, err := dataBytes(int64(dtype.size()), shape)
	if err != nil {
		return meta{}, fmt.Errorf("shape %v: %v: %w", shape, err, ErrInvalid)
	}
	if n > math.MaxInt64-maxTrailer || n > math.MaxInt-maxTrailer {
		return meta{}, fmt.Errorf("shape %v: array is too big: %d data bytes and the trailer do not fit in a file: %w", shape, n, ErrInvalid)
	}
	return meta{layout: layout, dtype: dtype, shape: append(make([]int, 0, len(shape)), shape...), nbytes: n}, nil
}

// createSegment builds the segment and returns its mapping. It first tries
// an unnamed O_TMPFILE file in the target directory, linked to its name
// once complete; where the file system cannot do that it creates the name
// directly (O_EXCL) and removes it again on failure.
//
// fill, if not nil, writes the data (given the descriptor and the data
// part of the mapping) before the segment is published; an error from it
// undoes the Create. fill runs at most once: when a complete O_TMPFILE
// segment cannot be linked for want of /proc, the named segment built
// instead is filled by copying the first one's data, so a stream fill
// consumes is never read twice.
func createSegment(loc location, m meta, total int64, o options, fill func(fd int, data []byte) error) ([]byte, error) {
	trailer := encodeTrailer(m.layout, m)
	if fill == nil && o.initTail == nil {
		// The common case, all in one C call.
		if err := admitMapping(); err != nil {
			return nil, err
		}
		mem, stage, fd, err := sysCreateLinked(loc.dir(), loc.linkPrefix(), loc.path, uint32(o.perm), total, o.sparse, trailer, o.prefault, m.nbytes)
		if stage == stageMap && err == syscall.ENOMEM && flushQuarantine() {
			// The reservations were in the way (RLIMIT_AS); nothing was
			// published, so the whole call can run again.
			mem, stage, fd, err = sysCreateLinked(loc.dir(), loc.linkPrefix(), loc.path, uint32(o.perm), total, o.sparse, trailer, o.prefault, m.nbytes)
		}
		if err != nil {
			err = mappingFailed(err, stage == stageMap)
		}
		switch {
		case err == nil:
			return mem, nil
		case stage == stageSize:
			if err == syscall.ENOSPC {
				err = spaceError(fd, total)
			}
			sysClose(fd)
			return nil, err
		case stage == stagePopulate && err == syscall.EFAULT:
			return nil, syscall.ENOSPC // as prefault says
		case stage == stageOpen && tmpfileUnsupported(err):
		case stage == stageLink && err == syscall.ENOENT && dirExists(loc.dir()):
		default:
			return nil, err
		}
		// No O_TMPFILE here, or no /proc to link it through: build the
		// segment in place (below), from nothing.
		return createNamed(loc, o, func(fd int) ([]byte, error) { return fillSegment(fd, m, trailer, total, o) })
	}
	build := func(fd int, fill func(fd int, data []byte) error) ([]byte, error) {
		mem, err := fillSegment(fd, m, trailer, total, o)
		if err == nil && fill != nil {
			err = fill(fd, mem[:m.nbytes])
		}
		if err == nil && o.initTail != nil {
			err = o.initTail(fd, mem)
		}
		if err != nil && mem != nil {
			retire(mem) // fill handed the data to a reader
			return nil, err
		}
		return mem, err
	}
	fd, err := sysOpen(loc.dir(), syscall.O_RDWR|oTmpfile, uint32(o.perm))
	switch {
	case err == nil:
		mem, err := build(fd, fill)
		if err == nil {
			err = linkFdFunc(fd, loc.linkPrefix(), loc.path)
		}
		sysClose(fd)
		if err != syscall.ENOENT || mem == nil || !dirExists(loc.dir()) {
			if err != nil && mem != nil {
				retire(mem)
				mem = nil
			}
			return mem, err
		}
		// The directory is there but the complete file could not be
		// linked: no /proc to link through. Build it in place instead,
		// from the data already read.
		defer retire(mem)
		data := mem[:m.nbytes]
		fill = func(_ int, dst []byte) error { copy(dst, data); return nil }
	case !tmpfileUnsupported(err):
		return nil, err
	}
	return createNamed(loc, o, func(fd int) ([]byte, error) { return build(fd, fill) })
}

// createNamed creates the segment under its name (O_EXCL), runs build on
// it and removes it again if build fails.
func createNamed(loc location, o options, build func(fd int) ([]byte, error)) ([]byte, error) {
	var fd int
	var err error
	if loc.shm {
		fd, err = shmOpen(loc.path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, uint32(o.perm))
	} else {
		fd, err = sysOpen(loc.path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, uint32(o.perm))
	}
	if err != nil {
		return nil, err
	}
	mem, err := build(fd)
	sysClose(fd)
	if err != nil {
		if loc.shm {
			shmUnlink(loc.path)
		} else {
			sysUnlink(loc.path)
		}
	}
	return mem, err
}

// linkFdFunc is linkFd; tests replace it to act out a system without /proc.
var linkFdFunc = linkFd

func dirExists(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}

// tmpfileUnsupported reports whether open(O_TMPFILE) failed because the
// kernel or file system lacks it.
func tmpfileUnsupported(err error) bool {
	return err == syscall.EOPNOTSUPP || err == syscall.EISDIR || err == syscall.EINVAL
}

// fillSegment sizes and reserves an empty file, writes the trailer and
// maps it.
func fillSegment(fd int, m meta, trailer []byte, total int64, o options) ([]byte, error) {
	var err error
	if o.sparse {
		err = sysFtruncate(fd, total)
	} else if err = sysFallocate(fd, 0, total); err == syscall.EOPNOTSUPP {
		err = sysFtruncate(fd, total) // no fallocate here: sizes only
	}
	if err != nil {
		if err == syscall.ENOSPC {
			err = spaceError(fd, total)
		}
		return nil, err
	}
	// The trailer is the last bytes of the file; anything between the data
	// and it (a ring's control block) is ignored by SharedArray.
	if err := sysPwrite(fd, trailer, total-int64(len(trailer))); err != nil {
		return nil, err
	}
	mem, err := mapSegment(fd, int(total), protRead|protWrite)
	if err != nil || !o.prefault || m.nbytes == 0 {
		return mem, err
	}
	if err := prefault(mem[:m.nbytes], madvPopulateWrite); err != nil {
		unmapSegment(mem)
		return nil, err
	}
	return mem, nil
}

const (
	madvPopulateRead  = 22 // MADV_POPULATE_READ, Linux 5.14
	madvPopulateWrite = 23 // MADV_POPULATE_WRITE
)

// prefault populates the page tables of b. Kernels without the advice
// (EINVAL) are ignored; EFAULT means a page could not be had (a full file
// system, a truncated file) and is reported as ENOSPC.
func prefault(b []byte, advice int) error {
	switch err := sysMadvise(b, advice); err {
	case nil, syscall.EINVAL:
		return nil
	case syscall.EFAULT:
		return syscall.ENOSPC
	default:
		return err
	}
}

// populateData maps in one call per extent the pages of the data region
// mem[:n] that the file fd really holds (SEEK_DATA/SEEK_HOLE): the slack
// between data and trailer and any hole are never touched, so populating
// never makes the file system allocate. Where the file system cannot say
// (EINVAL), it populates the whole data region.
func populateData(fd int, mem []byte, n int64) error {
	const seekData, seekHole = 3, 4
	for off := int64(0); off < n; {
		start, err := sysLseek(fd, off, seekData)
		switch {
		case err == syscall.ENXIO:
			return nil // only holes from off on
		case err != nil:
			return prefault(mem[off:n], madvPopulateRead)
		case start >= n:
			return nil
		}
		end, err := sysLseek(fd, start, seekHole)
		if err != nil {
			return prefault(mem[start:n], madvPopulateRead)
		}
		end = min(end, n)
		start &^= int64(os.Getpagesize() - 1) // madvise wants a page-aligned start
		if err := prefault(mem[start:end], madvPopulateRead); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// Attach maps an existing array, read-write unless ReadOnly is given. It
// reads the whole trailer once, validates every field (magic, layout,
// ndims, dims, typenum, item size, size, file size) before mapping, and
// returns a *FormatError (matching ErrFormat) naming the field when
// anything is wrong. A missing segment is an error matching ErrNotExist.
// Near vm.max_map_count it fails as Create does.
func Attach(name string, opts ...Option) (*Array, error) {
	o := makeOptions(opts)
	if err := checkOptions(opts, "Attach", forAttach); err != nil {
		return nil, pathError("attach", name, err)
	}
	loc, err := parseName(name)
	if err != nil {
		return nil, pathError("attach", name, err)
	}
	flags, prot := syscall.O_RDWR, protRead|protWrite
	if o.readOnly {
		flags, prot = syscall.O_RDONLY, protRead
	}
	fd, m, st, err := openSegment(loc, name, flags)
	if err != nil {
		return nil, wrapOp("attach", name, err)
	}
	defer sysClose(fd)
	size := st.size
	if o.layout != 0 && m.layout != o.layout {
		return nil, &FormatError{Name: name, Offset: -1, Field: "layout", Value: m.layout, Msg: "WithLayout(" + o.layout.String() + ") was asked for"}
	}
	if size > math.MaxInt {
		return nil, pathError("attach", name, syscall.EFBIG)
	}
	mem, err := mapSegment(fd, int(size), prot)
	if err != nil {
		return nil, pathError("attach", name, err)
	}
	if o.prefault {
		if err := populateData(fd, mem, m.nbytes); err != nil {
			unmapSegment(mem)
			return nil, pathError("attach", name, err)
		}
	}
	a := &Array{name: name, dtype: m.dtype, shape: m.shape, layout: m.layout, writable: !o.readOnly, nbytes: int(m.nbytes), mem: mem}
	a.populated.Store(o.prefault)
	return a, nil
}

// openSegment opens a segment and validates its trailer. It returns the
// open descriptor (to be closed by the caller), what the trailer says and
// the file's status. Errors are OS errors or *FormatError with Name set.
func openSegment(loc location, name string, flags int) (int, meta, fileStat, error) {
	flags |= oNonblock // never hang on a FIFO
	var fd int
	var err error
	if loc.shm {
		fd, err = shmOpen(loc.path, flags, 0)
	} else {
		fd, err = sysOpen(loc.path, flags|oNoctty, 0)
	}
	if err != nil {
		return -1, meta{}, fileStat{}, err
	}
	m, st, err := readMeta(fd, name)
	if err != nil {
		sysClose(fd)
		return -1, meta{}, fileStat{}, err
	}
	return fd, m, st, nil
}

// readMeta copies the trailer out of an open segment once and validates it.
func readMeta(fd int, name string) (meta, fileStat, error) {
	buf := getTailBuf()
	st, tail, err := sysFstatTailInto(fd, buf)
	if err != nil {
		return meta{}, st, err
	}
	m, err := checkMeta(st, tail, name)
	if err == nil { // an error may hold bytes of tail
		putTailBuf(buf)
	}
	return m, st, err
}

// checkMeta validates a file's status and its last bytes as a segment.
func checkMeta(st fileStat, tail []byte, name string) (meta, error) {
	if !st.isRegular() {
		return meta{}, &FormatError{Name: name, Offset: -1, Field: "file type", Msg: "not a regular file"}
	}
	if int64(len(tail)) < min(st.size, maxTrailer) { // truncated since fstat
		return meta{}, &FormatError{Name: name, Offset: -1, Field: "file size", Value: st.size, Msg: "the file shrank while being read"}
	}
	m, err := decodeTrailer(tail, st.size)
	if err != nil {
		err.(*FormatError).Name = name
		return meta{}, err
	}
	return m, nil
}

// wrapOp returns format errors as they are and OS errors as *fs.PathError.
func wrapOp(op, name string, err error) error {
	var fe *FormatError
	if errors.As(err, &fe) {
		return err
	}
	return pathError(op, name, err)
}

// Stat reads and validates the named array's trailer without mapping it.
func Stat(name string) (Info, error) {
	loc, err := parseName(name)
	if err != nil {
		return Info{}, pathError("stat", name, err)
	}
	fd, m, st, err := openSegment(loc, name, syscall.O_RDONLY)
	if err != nil {
		return Info{}, wrapOp("stat", name, err)
	}
	sysClose(fd)
	return makeInfo(name, m, st), nil
}

// Info describes a segment, as Stat and List return it.
type Info struct {
	Name    string    // as given to Stat; List gives the bare shm name
	Dtype   Dtype     // element type
	Shape   []int     // dimensions
	Strides []int     // byte strides of the C-ordered data, as Array.Strides gives them
	Layout  Layout    // trailer layout
	Size    int64     // file size in bytes: data, trailer and any slack
	ModTime time.Time // last modification of the file

	// Dev and Ino identify the file List or Stat read: its device and
	// inode numbers, as stat(2) gives them, whatever its name. While the
	// file exists no other file has them; once it is removed a new file
	// may reuse them, which is why DeleteIfUnchanged also compares Size
	// and ModTime. HoldersOf and DeleteIfUnchanged act on that file; both
	// refuse an Info whose Dev and Ino are zero (one built by hand).
	Dev, Ino uint64
}

// id returns the file identity List or Stat recorded in in.
func (in Info) id() fileID { return fileID{in.Dev, in.Ino} }

func makeInfo(name string, m meta, st fileStat) Info {
	return Info{Name: name, Dtype: m.dtype, Shape: m.shape, Strides: cStrides(m.shape, m.dtype.ItemSize()), Layout: m.layout, Size: st.size, ModTime: st.modTime, Dev: st.dev, Ino: st.ino}
}

// Delete removes the named array, and only it. It opens the file by name
// (never following a link, never blocking) and validates its trailer
// through the descriptor; anything that is not a valid SharedArray is
// refused (a *FormatError, or the error opening it) and left exactly as it
// was. A valid array is then moved to a fresh private name in the same
// directory (renameat2 RENAME_NOREPLACE) and unlinked only if it is still
// the file validated. If another process swapped a different file in
// under the name in between (or deleted the array and created another),
// the file that was moved is validated in turn, now that it holds still
// under the private name: a valid array is removed, anything else is
// renamed back and Delete fails with an error matching syscall.ESTALE.
// A file:// path's directory is resolved once, its symlinks followed when
// Delete starts, and every later step works relative to it.
//
// A symbolic link at the name is refused (an error matching
// syscall.ELOOP), link and target left alone. An array its caller may
// unlink but not read (mode 0000, say) cannot be validated; Delete removes
// it if the caller owns the file, and otherwise returns the error matching
// ErrPermission. Mappings that exist, in this process or others, stay
// valid until they are closed; the memory is freed after the last one
// goes.
func Delete(name string) error {
	return inNameDir(name, func(dirfd int, prefix, base string) error {
		return deleteAt(dirfd, prefix, base, name)
	})
}

// DeleteIfUnchanged removes the array in describes (as List or Stat
// returned it), and only if it is still that file, unchanged: the same
// device and inode number, size and modification time, with a valid
// trailer. The file at in.Name is moved to a fresh private name in the
// same directory (renameat2 RENAME_NOREPLACE, as Delete does), checked
// there, where no other process's rename can reach it, and unlinked; if it
// is not the file in describes (another process renamed, swapped or
// replaced the name since List or Stat read it, or changed the file), it
// is moved back and DeleteIfUnchanged returns an error matching
// syscall.ESTALE, having removed nothing. This is what a check followed
// by a removal needs (sharedarray gc: the array is old and no process
// holds it, per HoldersOf): the removal acts on the file that was
// checked, never on whatever the name holds by then.
//
// A symbolic link at the name is refused (an error matching
// syscall.ELOOP) and left in place. An Info that List or Stat did not
// return makes it fail with an error matching ErrInvalid.
func DeleteIfUnchanged(in Info) error {
	name := in.Name
	if in.id() == (fileID{}) {
		return pathError("delete", name, fmt.Errorf("the Info does not come from List or Stat: %w", ErrInvalid))
	}
	return inNameDir(name, func(dirfd int, prefix, base string) error {
		return deleteExactAt(dirfd, prefix, base, name, in)
	})
}

// inNameDir parses name, opens its directory (as openDir does: atFdcwd
// and no descriptor for a shm name) and calls do with the directory's fd
// and the entry prefix+base there, closing the directory after.
// A name that does not parse or a directory that does not open fails as a
// "delete" PathError.
func inNameDir(name string, do func(dirfd int, prefix, base string) error) error {
	loc, err := parseName(name)
	if err != nil {
		return pathError("delete", name, err)
	}
	dirfd, prefix, base, err := loc.openDir()
	if err != nil {
		return pathError("delete", name, err)
	}
	if dirfd != atFdcwd {
		defer sysClose(dirfd)
	}
	return do(dirfd, prefix, base)
}

// deleteExactAt is DeleteIfUnchanged's work in the directory dirfd on the
// entry prefix+base.
func deleteExactAt(dirfd int, prefix, base, name string, in Info) error {
	cname := cstr2(prefix, base)
	ctmp := privateName(prefix)
	if err := sysRenameNoreplace(dirfd, cname, ctmp); err != nil {
		return pathError("delete", name, err)
	}
	st, tail, err := sysReadTailAt(dirfd, ctmp, new(tailBuf))
	if err == nil {
		switch {
		case st.dev != in.Dev || st.ino != in.Ino:
			err = fmt.Errorf("the name holds another file than the one checked (another process renamed, swapped or replaced it); that file was left in place: %w", syscall.ESTALE)
		case st.size != in.Size || !st.modTime.Equal(in.ModTime):
			err = fmt.Errorf("the file changed since it was checked (size %d, was %d; modified %s, was %s); it was left in place: %w",
				st.size, in.Size, st.modTime.Format(time.RFC3339Nano), in.ModTime.Format(time.RFC3339Nano), syscall.ESTALE)
		default:
			if _, err = checkMeta(st, tail, name); err == nil {
				if err = sysUnlinkat(dirfd, ctmp); err == nil {
					return nil
				}
			}
		}
	} else if err == syscall.ELOOP {
		err = fmt.Errorf("is a symbolic link; Delete removes arrays, not links to them: %w", err)
	}
	if rerr := sysRenameNoreplace(dirfd, ctmp, cname); rerr != nil {
		return pathError("delete", name, fmt.Errorf("%w, and moving the file back failed (%v): it is now named %q", err, rerr, string(ctmp[:len(ctmp)-1])))
	}
	var fe *FormatError
	if errors.As(err, &fe) {
		return err
	}
	return pathError("delete", name, err)
}

// privateName returns a fresh private name for a file being deleted in
// the directory prefix names, NUL-terminated.
func privateName(prefix string) []byte {
	return append(strconv.AppendUint(append(append(make([]byte, 0, len(prefix)+len(deletePrefix)+17), prefix...), deletePrefix...), rand.Uint64(), 16), 0)
}

// deletePrefix starts the private names Delete moves a file to; List
// skips them.
const deletePrefix = ".sharedarray-delete-"

// deleteAt is Delete's work in the directory dirfd on the entry
// prefix+base; its private name goes in the same directory.
func deleteAt(dirfd int, prefix, base, name string) error {
	cname := cstr2(prefix, base)
	buf := getTailBuf()
	st, tail, err := sysReadTailAt(dirfd, cname, buf)
	switch {
	case err == syscall.EACCES || err == syscall.EPERM:
		// Unreadable: its owner may remove it unvalidated.
		lst, lerr := sysLstatAt(dirfd, cname)
		if lerr != nil || !lst.isRegular() || lst.uid != uint32(os.Geteuid()) {
			return pathError("delete", name, err)
		}
		st = lst
	case err == syscall.ELOOP:
		return pathError("delete", name, fmt.Errorf("is a symbolic link; arrays are deleted, never links to them: %w", err))
	case err != nil:
		return pathError("delete", name, err)
	default:
		if _, err := checkMeta(st, tail, name); err != nil {
			return err
		}
	}
	ctmp := privateName(prefix)
	tmp := string(ctmp[:len(ctmp)-1])
	moved, err := sysUnlinkChecked(dirfd, cname, ctmp, st.dev, st.ino)
	switch {
	case !moved:
		return pathError("delete", name, err)
	case err == nil:
		putTailBuf(buf)
		return nil
	case err == syscall.ESTALE:
		// Another file took the name after validation; it now holds
		// still at tmp: validate it in turn.
		if st, tail, rerr := sysReadTailAt(dirfd, ctmp, buf); rerr == nil {
			if _, merr := checkMeta(st, tail, name); merr == nil {
				if err = sysUnlinkat(dirfd, ctmp); err == nil {
					return nil
				}
			}
		}
	}
	if rerr := sysRenameNoreplace(dirfd, ctmp, cname); rerr != nil {
		return pathError("delete", name, fmt.Errorf("%v, and moving the file back failed (%v): it is now named %q", err, rerr, tmp))
	}
	if err == syscall.ESTALE {
		return pathError("delete", name, fmt.Errorf("another file took the name after validation; it was not valid and was left in place: %w", err))
	}
	return pathError("delete", name, err)
}
