package sharedarray

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
func (a *Array) Msync(flags SyncFlag) error {
	mem, err := a.mapping("msync")
	if err != nil {
		return err
	}
	if err := sysMsync(mem, int(flags)); err != nil {
		return pathError("msync", a.name, err)
	}
	return nil
}

// Mlock locks the whole mapping into memory (mlock(2)), so it is never
// paged out. RLIMIT_MEMLOCK limits how much a process may lock.
func (a *Array) Mlock() error {
	mem, err := a.mapping("mlock")
	if err != nil {
		return err
	}
	if err := sysMlock(mem); err != nil {
		return pathError("mlock", a.name, err)
	}
	return nil
}

// Munlock undoes Mlock.
func (a *Array) Munlock() error {
	mem, err := a.mapping("munlock")
	if err != nil {
		return err
	}
	if err := sysMunlock(mem); err != nil {
		return pathError("munlock", a.name, err)
	}
	return nil
}
