//go:build linux

package sharedarray

import (
	"cmp"
	"math"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"
)

// spaceError describes an ENOSPC from reserving total bytes on fd.
func spaceError(fd int, total int64) error {
	var st unix.Statfs_t
	s := spaceState{fsKnown: unix.Fstatfs(fd, &st) == nil}
	if s.fsKnown {
		s.setFS(&st)
		return s.fsError(total)
	}
	return &SpaceError{Need: total, Avail: -1, Size: -1, Where: WhereFileSystem, Err: syscall.ENOSPC}
}

// checkSpace is the check Create and LoadNPY make before reserving total
// bytes in dir. Segments under memCheckFloor, and segments on a file
// system that is not memory (the reservation decides there), pass. On a
// tmpfs the segment must fit the file system's free space, what the
// process's memory cgroup leaves and the host's MemAvailable; an error
// names each limit that refuses it. What cannot be read does not refuse.
func checkSpace(dir string, total int64) error { return systemHost.checkSpace(dir, total) }

func (h *host) checkSpace(dir string, total int64) error {
	if total < memCheckFloor {
		return nil
	}
	s := spaceState{dir: dir, hostAvail: -1, hostTotal: -1, cg: cgroupMem{avail: -1}}
	var st unix.Statfs_t
	if h.statfs(dir, &st) != nil {
		return nil // the open that follows reports it
	}
	s.fsKnown = true
	s.setFS(&st)
	if !s.memoryFS {
		return nil
	}
	s.cg = h.cgroupMemory(total, false)
	s.hostAvail, s.hostTotal, _ = h.memInfo()
	return s.check(total)
}

// spaceState is what decides whether a segment fits: checkSpace fills it
// with what a Create needs, ReadLimits with everything.
type spaceState struct {
	dir       string
	fsKnown   bool
	fsType    int64
	memoryFS  bool  // tmpfs or ramfs: its pages are memory
	fsSize    int64 // 0: no size limit (ramfs, tmpfs size=0)
	fsFree    int64
	cg        cgroupMem
	hostAvail int64 // -1 if unknown
	hostTotal int64 // -1 if unknown
}

func (s *spaceState) setFS(st *unix.Statfs_t) {
	s.fsType = int64(st.Type)
	s.memoryFS = st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC
	s.fsSize = mulClamp(st.Blocks, st.Bsize)
	s.fsFree = mulClamp(st.Bavail, st.Bsize)
}

// mulClamp returns n*size, or MaxInt64 when that overflows.
func mulClamp(n uint64, size int64) int64 {
	if size <= 0 {
		return 0
	}
	if n > uint64(math.MaxInt64/size) {
		return math.MaxInt64
	}
	return int64(n) * size
}

func (s *spaceState) fsError(need int64) *SpaceError {
	e := &SpaceError{Need: need, Avail: s.fsFree, Size: s.fsSize, Where: WhereFileSystem, Path: s.dir, Fix: fixDisk, Err: syscall.ENOSPC}
	if s.memoryFS {
		e.Fix = fixTmpfs
	}
	return e
}

// check returns nil if need bytes fit, else a *SpaceError naming the
// tightest refusing limit first and the others in Also. Memory limits
// apply to memory-backed file systems only.
func (s *spaceState) check(need int64) error {
	var refused []*SpaceError
	if s.fsKnown && s.fsSize > 0 && need > s.fsFree {
		refused = append(refused, s.fsError(need))
	}
	if s.memoryFS && s.cg.avail >= 0 && need > s.cg.avail {
		refused = append(refused, &SpaceError{Need: need, Avail: s.cg.avail, Size: s.cg.limit, Where: WhereCgroup, Path: s.cg.limitDir, Fix: fixCgroup, Err: syscall.ENOMEM})
	}
	if s.memoryFS && s.hostAvail >= 0 && need > s.hostAvail {
		refused = append(refused, &SpaceError{Need: need, Avail: s.hostAvail, Size: s.hostTotal, Where: WhereHostMemory, Fix: fixHost, Err: syscall.ENOMEM})
	}
	if len(refused) == 0 {
		return nil
	}
	slices.SortStableFunc(refused, func(a, b *SpaceError) int { return cmp.Compare(a.Avail, b.Avail) })
	e := refused[0]
	e.Also = refused[1:]
	if len(e.Also) == 0 {
		e.Also = nil
	}
	return e
}
