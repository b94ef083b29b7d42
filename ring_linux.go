package sharedarray

import (
	"errors"
	"fmt"
	"runtime"
	"time"
	"unsafe"
	_ "unsafe" // go:linkname

	"golang.org/x/sys/unix"
)

// Futex operations, shared (never FUTEX_PRIVATE_FLAG: the waiters are in
// other processes).
const (
	futexOpWait = 0
	futexOpWake = 1
)

// futexWait sleeps while *addr == val, for at most d. Every outcome (woken,
// EAGAIN because the word changed, EINTR, ETIMEDOUT) means "look again".
func futexWait(addr *uint32, val uint32, d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexOpWait, uintptr(val), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// futexWake wakes every process sleeping on addr.
func futexWake(addr *uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexOpWake, uintptr(0x7fffffff), 0, 0, 0)
}

// lockByte takes an OFD write lock on byte b of the control block, without
// waiting: ErrBusy when another open file description holds it.
func (r *ring) lockByte(b int) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: r.ctlOff + int64(b), Len: 1}
	err := unix.FcntlFlock(uintptr(r.fd), unix.F_OFD_SETLK, &lk)
	if err == unix.EAGAIN || err == unix.EACCES {
		return ErrBusy
	}
	return err
}

// lockHeld reports whether another open file description holds byte b.
func (r *ring) lockHeld(b int) bool {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: r.ctlOff + int64(b), Len: 1}
	if unix.FcntlFlock(uintptr(r.fd), unix.F_OFD_GETLK, &lk) != nil {
		return false
	}
	return lk.Type != unix.F_UNLCK
}

// lockedReaders counts the reader bytes locked, one F_OFD_GETLK per
// registered reader (each answer names the first lock in the range left).
func (r *ring) lockedReaders() int {
	n := 0
	start := r.ctlOff + 1
	end := r.ctlOff + 1 + ringMaxReaders
	for start < end {
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: start, Len: end - start}
		if unix.FcntlFlock(uintptr(r.fd), unix.F_OFD_GETLK, &lk) != nil || lk.Type == unix.F_UNLCK {
			break
		}
		n++
		start = lk.Start + max(lk.Len, 1)
	}
	return n
}

// nanotime is the runtime's CLOCK_MONOTONIC (vDSO), the cheapest clock.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// ringSupported says whether this architecture orders the ring's memory
// accesses correctly (see docs/ring.md).
func ringSupported() error {
	switch runtime.GOARCH {
	case "amd64", "arm64":
		return nil
	}
	return fmt.Errorf("frame rings need the memory ordering of amd64 or arm64, not %s: %w", runtime.GOARCH, errors.ErrUnsupported)
}
