//go:build unix

package testutil

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// ReadLockWhole opens path read-only and takes a classic whole-file read
// lock on it (F_SETLK, F_RDLCK, l_len 0: to the end of the file), what
// fcntl.lockf(fd, LOCK_SH) takes in Python and what any user with read
// access can do. It returns the descriptor, which holds the lock until it
// is closed or the process exits. A failure to lock is prefixed "lock: ".
func ReadLockWhole(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY, 0)
	if err != nil {
		return -1, err
	}
	lk := unix.Flock_t{Type: unix.F_RDLCK, Whence: 0, Start: 0, Len: 0}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &lk); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("lock: %w", err)
	}
	return fd, nil
}
