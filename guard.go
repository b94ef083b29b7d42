package sharedarray

import (
	"fmt"
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

// CopyTo copies the array data, from byte off on, into dst and returns how
// many bytes it copied. Unlike copying from Bytes, it returns an error
// matching ErrFault if the segment was truncated under the mapping, instead
// of stopping the process. Close waits for a CopyTo in progress.
//
// dst must not share memory with the array's data through another mapping
// of the same segment (a second Attach of the same name, in this process):
// from 8 MiB up on amd64 the copy walks four pages at a time, so the bytes
// copied between two overlapping ranges at different addresses are
// unspecified (the built-in copy only orders such a copy correctly when
// the two addresses happen to be in the same order as the file offsets).
// Overlap within this array's own mapping is handled as by copy.
func (a *Array) CopyTo(dst []byte, off int) (int, error) {
	return a.guardedCopy("copyto", off, "destination", func(data []byte) int { return bigcopy.Copy(dst, data) })
}

// CopyFrom copies src into the array data from byte off on and returns how
// many bytes it copied, with the guard of CopyTo. It fails on a read-only
// array. src must not share memory with the array's data through another
// mapping of the same segment (see CopyTo).
func (a *Array) CopyFrom(src []byte, off int) (int, error) {
	if !a.writable {
		return 0, pathError("copyfrom", a.name, fmt.Errorf("array is read-only: %w", ErrPermission))
	}
	return a.guardedCopy("copyfrom", off, "source", func(data []byte) int { return bigcopy.Copy(data, src) })
}

func (a *Array) guardedCopy(op string, off int, other string, f func(data []byte) int) (int, error) {
	if off < 0 || off > a.nbytes {
		return 0, pathError(op, a.name, fmt.Errorf("offset %d outside the %d data bytes: %w", off, a.nbytes, ErrInvalid))
	}
	mem, err := a.hold(op)
	if err != nil {
		return 0, err
	}
	defer a.mu.RUnlock()
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
