package sharedarray

import (
	"fmt"
	"os"
	"syscall"
)

// SyncFlag selects what Msync does. The values are Linux's msync(2) flags,
// which SharedArray exposes to Python as MS_ASYNC, MS_INVALIDATE and
// MS_SYNC. MsyncInvalidate combines with either of the others
// (MsyncSync|MsyncInvalidate); MsyncAsync|MsyncSync, or a value that is
// none of these, is refused by msync(2): an error matching syscall.EINVAL.
type SyncFlag int

const (
	MsyncAsync      SyncFlag = 1 // MS_ASYNC: schedule the write-back and return
	MsyncInvalidate SyncFlag = 2 // MS_INVALIDATE: invalidate other mappings of the file
	MsyncSync       SyncFlag = 4 // MS_SYNC: write back and wait
)

// Msync flushes the whole mapping (data and trailer) to the backing file,
// as SharedArray's msync(flags). It matters for file:// arrays that other
// processes read with read(2) or after a crash; shm segments live in memory.
// Close waits for an Msync in progress.
func (a *Array) Msync(flags SyncFlag) error {
	return a.onMapping("msync", func(mem []byte) error { return sysMsync(mem, int(flags)) })
}

// Mlock locks the array's data into memory (mlock(2)), so it is never
// paged out. RLIMIT_MEMLOCK limits how much a process may lock. Only the
// pages holding data are locked, not the trailer or any slack between
// them: locking populates, and a segment whose file has a huge sparse
// tail must cost no more than its data. Close unlocks it. Past
// RLIMIT_MEMLOCK the error matches syscall.ENOMEM and names the limit.
func (a *Array) Mlock() error {
	return a.onMapping("mlock", func(mem []byte) error {
		data := a.dataPages(mem)
		err := sysMlock(data)
		if limit, ok := memlockLimit(); ok && err == syscall.ENOMEM {
			return &mlockLimitError{len(data), limit}
		}
		return err
	})
}

// An mlockLimitError is mlock's ENOMEM: the lock would take the process
// past RLIMIT_MEMLOCK.
type mlockLimitError struct {
	n     int
	limit uint64
}

func (e *mlockLimitError) Error() string {
	return fmt.Sprintf("%v: locking %d bytes would exceed RLIMIT_MEMLOCK (%d bytes, counting what the process has locked already); "+
		"raise it (ulimit -l; docker run --ulimit memlock=-1) or run with CAP_IPC_LOCK", syscall.ENOMEM, e.n, e.limit)
}

func (e *mlockLimitError) Unwrap() error { return syscall.ENOMEM }

// Munlock undoes Mlock.
func (a *Array) Munlock() error {
	return a.onMapping("munlock", func(mem []byte) error { return sysMunlock(a.dataPages(mem)) })
}

// dataPages returns the pages of mem that hold the data.
func (a *Array) dataPages(mem []byte) []byte {
	page := os.Getpagesize()
	return mem[:min(len(mem), (a.nbytes+page-1)/page*page)]
}

// onMapping runs the system call f over the whole mapping, holding it.
func (a *Array) onMapping(op string, f func(mem []byte) error) error {
	mem, err := a.hold(op)
	if err != nil {
		return err
	}
	defer a.mu.RUnlock()
	if err := f(mem); err != nil {
		return pathError(op, a.name, err)
	}
	return nil
}
