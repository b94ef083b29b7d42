package sharedarray

import "os"

// SyncFlag selects what Msync does; the values are Linux's MS_* constants,
// as SharedArray exposes them.
type SyncFlag int

const (
	MS_ASYNC      SyncFlag = 1 // schedule the write-back and return
	MS_INVALIDATE SyncFlag = 2 // invalidate other mappings of the file
	MS_SYNC       SyncFlag = 4 // write back and wait
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
// tail must cost no more than its data. Close unlocks it.
func (a *Array) Mlock() error {
	return a.onMapping("mlock", func(mem []byte) error { return sysMlock(a.dataPages(mem)) })
}

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
