package sharedarray

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
)

// ErrFault is wrapped by the errors of the guarded paths (CopyTo, CopyFrom,
// WriteNPY) when touching the mapping faulted: another process truncated
// the segment under it, or a Sparse segment's file system had no page left
// to give. Plain slices from Bytes and View have no such guard: the same
// fault there raises SIGBUS, which stops a Go program.
var ErrFault = errors.New("sharedarray: memory fault in the mapping (segment truncated by another process, or its file system full)")

// guarded runs f, turning a memory fault in it into an error: one wrapping
// ErrClosed when the address is in the reservation of a closed Array (a
// slice kept past Close was given), one wrapping ErrFault otherwise. Other
// panics pass through. The guard covers the calling goroutine only.
func guarded(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			re, ok := r.(runtime.Error)
			fault, isFault := r.(interface{ Addr() uintptr })
			if !ok || !isFault {
				panic(r)
			}
			if quarantined(fault.Addr()) {
				err = fmt.Errorf("%w: a slice of a closed array was used (%v)", ErrClosed, re)
				return
			}
			err = fmt.Errorf("%w: %v", ErrFault, re)
		}
	}()
	return f()
}

// CopyTo copies the array data, from byte off on, into dst and returns how
// many bytes it copied. Unlike copying from Bytes, it returns an error
// matching ErrFault if the segment was truncated under the mapping, instead
// of stopping the process. Close waits for a CopyTo in progress.
func (a *Array) CopyTo(dst []byte, off int) (int, error) {
	return a.guardedCopy("copyto", off, func(data []byte) int { return copy(dst, data) })
}

// CopyFrom copies src into the array data from byte off on and returns how
// many bytes it copied, with the guard of CopyTo. It fails on a read-only
// array.
func (a *Array) CopyFrom(src []byte, off int) (int, error) {
	if !a.writable {
		return 0, pathError("copyfrom", a.name, fmt.Errorf("array is read-only: %w", ErrPermission))
	}
	return a.guardedCopy("copyfrom", off, func(data []byte) int { return copy(data, src) })
}

func (a *Array) guardedCopy(op string, off int, f func(data []byte) int) (int, error) {
	if off < 0 || off > a.nbytes {
		return 0, pathError(op, a.name, fmt.Errorf("offset %d outside the %d data bytes: %w", off, a.nbytes, ErrInvalid))
	}
	mem, err := a.hold(op)
	if err != nil {
		return 0, err
	}
	defer a.mu.RUnlock()
	var n int
	err = guarded(func() error {
		n = f(mem[off:a.nbytes])
		return nil
	})
	if err != nil {
		return 0, pathError(op, a.name, err)
	}
	return n, nil
}
