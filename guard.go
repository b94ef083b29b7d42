package sharedarray

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/sharedarray/sharedarray/internal/bigcopy"
)

// guarded runs f, turning a memory fault in it into an error: one wrapping
// ErrClosed when the address is in the reservation of a closed Array (a
// slice kept past Close was given), one wrapping ErrFault otherwise. Other
// panics pass through. The guard covers the calling goroutine only.
func guarded(f func() error) error { return guardedIn(nil, "", f) }

// guardedIn is guarded for a copy between mem (an Array's own mapping) and
// the caller's slice (other names it: "destination" or "source"; "" if
// there is none): a fault outside mem is reported as the caller's slice's.
func guardedIn(mem []byte, other string, f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			_, ok := r.(runtime.Error)
			fault, isFault := r.(interface{ Addr() uintptr })
			if !ok || !isFault {
				panic(r)
			}
			addr := fault.Addr()
			switch {
			case quarantined(addr):
				err = fmt.Errorf("%w: a slice of a closed array was used (fault at address %#x)", ErrClosed, addr)
			case other == "" || addr-addrOf(mem) < uintptr(len(mem)):
				err = fmt.Errorf("%w: fault at address %#x", ErrFault, addr)
			default:
				err = &outsideFault{addr, other}
			}
		}
	}()
	return f()
}

// An outsideFault is a fault in the caller's slice given to a guarded
// copy, not in the array's mapping: read-only memory (a slice of an array
// attached ReadOnly), or another mapping truncated by another process. It
// matches ErrFault.
type outsideFault struct {
	addr  uintptr
	slice string // "destination" or "source"
}

func (e *outsideFault) Error() string {
	return fmt.Sprintf("sharedarray: memory fault at address %#x in the %s slice, outside this array's mapping "+
		"(read-only memory, such as a slice of an array attached ReadOnly, or another mapping truncated by another process)", e.addr, e.slice)
}

func (e *outsideFault) Is(target error) bool { return target == ErrFault }

// ReadAt copies the array data from byte off on into p, as io.ReaderAt:
// it returns how many bytes it copied and, when that is fewer than len(p)
// (off+len(p) passes the end of the data), io.EOF. An offset at or past
// the end returns 0 and io.EOF, a negative one an error matching
// ErrInvalid. Unlike copying from Bytes, it returns an error matching
// ErrFault if the segment was truncated under the mapping (or p itself
// faults), instead of stopping the process; Close waits for a ReadAt in
// progress, and one after Close fails with ErrClosed. With it the Array is
// an io.ReaderAt: io.NewSectionReader(a, 0, int64(len(a.Bytes()))) reads
// it as a stream.
//
// p must not share memory with the array's data through another mapping
// of the same segment (a second Attach of the same name, in this process):
// from 8 MiB up on amd64 the copy walks four pages at a time, so the bytes
// copied between two overlapping ranges at different addresses are
// unspecified (the built-in copy only orders such a copy correctly when
// the two addresses happen to be in the same order as the file offsets).
// Overlap within this array's own mapping is handled as by copy.
func (a *Array) ReadAt(p []byte, off int64) (int, error) {
	n, err := a.guardedCopy("read", off, "destination", func(data []byte) int { return bigcopy.Copy(p, data) })
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

// WriteAt copies p into the array data from byte off on, as io.WriterAt,
// with the guard of ReadAt. The data never grows: a write that passes its
// end copies what fits and returns that count with an error matching
// io.ErrShortWrite. It fails on a read-only array (ErrPermission). p must
// not share memory with the array's data through another mapping of the
// same segment (see ReadAt).
func (a *Array) WriteAt(p []byte, off int64) (int, error) {
	if !a.writable {
		return 0, pathError("write", a.name, fmt.Errorf("array is read-only: %w", ErrPermission))
	}
	n, err := a.guardedCopy("write", off, "source", func(data []byte) int { return bigcopy.Copy(data, p) })
	if err == nil && n < len(p) {
		err = pathError("write", a.name, fmt.Errorf("%d of %d bytes at offset %d fit in the %d data bytes: %w", n, len(p), off, a.nbytes, io.ErrShortWrite))
	}
	return n, err
}

func (a *Array) guardedCopy(op string, off int64, other string, f func(data []byte) int) (int, error) {
	if off < 0 {
		return 0, pathError(op, a.name, fmt.Errorf("negative offset %d: %w", off, ErrInvalid))
	}
	mem, err := a.hold(op)
	if err != nil {
		return 0, err
	}
	defer a.mu.RUnlock()
	if off >= int64(a.nbytes) {
		return 0, nil // past the end: ReadAt says io.EOF, WriteAt short
	}
	var n int
	err = guardedIn(mem, other, func() error {
		n = f(mem[off:a.nbytes])
		return nil
	})
	if err != nil {
		return 0, pathError(op, a.name, err)
	}
	return n, nil
}
