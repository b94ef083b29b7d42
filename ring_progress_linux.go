package sharedarray

import "golang.org/x/sys/unix"

// heldReaderBytes returns the reader lock bytes (1..255) another open file
// description holds, asking about each byte on its own (F_OFD_GETLK
// answers with one conflicting lock, not necessarily the lowest, so a
// range query could skip some): 255 system calls, bounded.
func (r *ring) heldReaderBytes() []int {
	var held []int
	for b := 1; b <= ringMaxReaders; b++ {
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: r.ctlOff + int64(b), Len: 1}
		if unix.FcntlFlock(uintptr(r.fd), unix.F_OFD_GETLK, &lk) == nil && lk.Type != unix.F_UNLCK {
			held = append(held, b)
		}
	}
	return held
}
