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

// writeLocked reports whether another open file description holds a write
// lock covering byte b of the control block. It probes with a read lock,
// which only write locks conflict with: ring writers and readers register
// with write locks, so a read lock anyone with read access can take (Python's
// fcntl.lockf(fd, LOCK_SH) locks the whole file) is not mistaken for one.
// The probe covers the one byte, so F_OFD_GETLK's choice among several
// conflicting locks (the oldest, not the lowest) does not matter.
func (r *ring) writeLocked(b int) bool {
	lk := unix.Flock_t{Type: unix.F_RDLCK, Whence: 0, Start: r.ctlOff + int64(b), Len: 1}
	if unix.FcntlFlock(uintptr(r.fd), unix.F_OFD_GETLK, &lk) != nil {
		return false
	}
	return lk.Type == unix.F_WRLCK
}

// readLocker describes a lock other than a write lock that keeps byte b
// from being write-locked: "" if none, else who holds it (a classic POSIX
// lock names its process; an OFD or flock-style lock has no pid).
func (r *ring) readLocker(b int) string {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: r.ctlOff + int64(b), Len: 1}
	if unix.FcntlFlock(uintptr(r.fd), unix.F_OFD_GETLK, &lk) != nil || lk.Type != unix.F_RDLCK {
		return ""
	}
	length := "to the end of the file"
	if lk.Len > 0 {
		length = fmt.Sprintf("%d bytes", lk.Len)
	}
	who := "an open file description of another process"
	if lk.Pid > 0 {
		who = fmt.Sprintf("process %d", lk.Pid)
	}
	return fmt.Sprintf("a read lock from offset %d, %s, held by %s", lk.Start, length, who)
}

// lockedReaderBytes returns the registered readers' lock bytes: the reader
// bytes 1..255 write-locked, one F_OFD_GETLK per byte (ringMaxReaders
// calls, whatever locks other processes hold: bounded and exact; a range
// query would name one conflicting lock, the oldest, not the lowest, and
// could skip some). A read lock, even over the whole file, is not counted
// and does not stall the probe (F_OFD_GETLK never waits).
func (r *ring) lockedReaderBytes() []int {
	var held []int
	for b := 1; b <= ringMaxReaders; b++ {
		if r.writeLocked(b) {
			held = append(held, b)
		}
	}
	return held
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
