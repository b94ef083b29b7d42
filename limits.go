package sharedarray

import (
	"cmp"
	"github.com/sharedarray/sharedarray/internal/hostinfo"
	"math"
	"os"
	"slices"
	"syscall"
)

// limits is hostinfo.Limits, what `sharedarray doctor` prints, with the
// rules Create and LoadNPY apply (Check) and the room they leave (Room).
// The type lives in internal/hostinfo so that the command can print it
// without the package exporting it; the reading and the rules stay here,
// beside the Create path that uses them, and reach the command through
// hostinfo's hooks, set at init.
type limits hostinfo.Limits

type (
	cgroupMemory = hostinfo.CgroupMemory
	mountInfo    = hostinfo.Mount
)

func init() {
	hostinfo.Read = func(dir string) *hostinfo.Limits { return (*hostinfo.Limits)(readLimits(dir)) }
	hostinfo.Check = func(l *hostinfo.Limits, need int64) error { return (*limits)(l).Check(need) }
	hostinfo.Room = func(l *hostinfo.Limits) (int64, string) { return (*limits)(l).Room() }
}

// Check reports whether an array of need bytes (data and trailer) fits,
// by the rules Create and LoadNPY apply before they reserve one: on any
// file system it must fit the free space; on a memory file system it must
// also fit, with the kernel memory that holds and maps it (1/128 of its
// size), what the cgroup leaves and MemAvailable. It returns nil or a
// *SpaceError naming the tightest refusing limit, then the others (Also),
// each with what to change. Unknown values (-1) refuse nothing. Create
// only checks arrays of 64 MiB or more; Check checks any size.
func (l *limits) Check(need int64) error {
	var refused []*SpaceError
	if l.FSFree >= 0 && l.FSSize > 0 && need > l.FSFree {
		refused = append(refused, l.fsError(need))
	}
	// The memory limits must also hold what the kernel needs to keep and
	// map the array: with none left for that, the first use of the array
	// (or Prefault) wakes the OOM killer although the check passed.
	mem := withKernelMemory(need)
	if l.FSMemory && l.Cgroup.Available >= 0 && mem > l.Cgroup.Available {
		refused = append(refused, &SpaceError{Need: need, Avail: l.Cgroup.Available, Size: l.Cgroup.Limit, Where: WhereCgroup, Path: l.Cgroup.LimitPath, Fix: fixCgroup, Err: syscall.ENOMEM})
	}
	if l.FSMemory && l.MemAvailable >= 0 && mem > l.MemAvailable {
		refused = append(refused, &SpaceError{Need: need, Avail: l.MemAvailable, Size: l.MemTotal, Where: WhereHostMemory, Fix: fixHost, Err: syscall.ENOMEM})
	}
	if len(refused) == 0 {
		return nil
	}
	slices.SortStableFunc(refused, func(a, b *SpaceError) int { return cmp.Compare(a.Avail, b.Avail) })
	e := refused[0]
	if len(refused) > 1 {
		e.Also = refused[1:]
	}
	return e
}

// Room returns the size of the largest array that fits now and the limit
// that sets it (a Where value), or -1 and "" when no known limit applies.
func (l *limits) Room() (int64, string) {
	n, where := int64(-1), ""
	take := func(v int64, w string) {
		if v >= 0 && (n < 0 || v < n) {
			n, where = v, w
		}
	}
	if l.FSSize > 0 {
		take(l.FSFree, WhereFileSystem)
	}
	if l.FSMemory {
		take(memRoom(l.Cgroup.Available), WhereCgroup)
		take(memRoom(l.MemAvailable), WhereHostMemory)
	}
	return n, where
}

// kernelMemory is what the kernel charges to the memory cgroup, besides
// the pages themselves, for a tmpfs file of n bytes that the process maps
// and touches: the page cache index of the file (about 1/256 of its size
// on Linux 6.18) and the page tables that map it (1/512). 1/128, plus
// three pages, keeps a margin.
func kernelMemory(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return n/128 + 3*int64(os.Getpagesize())
}

// withKernelMemory returns n+kernelMemory(n), or MaxInt64 when that overflows.
func withKernelMemory(n int64) int64 {
	if n > math.MaxInt64-kernelMemory(n) {
		return math.MaxInt64
	}
	return n + kernelMemory(n)
}

// memRoom returns the largest segment that fits, with its kernel memory, in
// avail bytes of memory, or avail when it is -1 (unknown).
func memRoom(avail int64) int64 {
	if avail < 0 {
		return avail
	}
	// n+kernelMemory(n) grows with n: search for the largest n that fits,
	// between avail-kernelMemory(avail) (which does) and avail.
	lo, hi := max(0, avail-kernelMemory(avail)), avail
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if withKernelMemory(mid) <= avail {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

func (l *limits) fsError(need int64) *SpaceError {
	e := &SpaceError{Need: need, Avail: l.FSFree, Size: l.FSSize, Where: WhereFileSystem, Path: l.Dir, Fix: fixDisk, Err: syscall.ENOSPC}
	if e.Size == 0 {
		e.Size = -1 // no size of its own
	}
	if l.FSMemory {
		e.Fix = fixTmpfs
	}
	return e
}

// unknownLimits is a limits where nothing is known yet.
func unknownLimits(dir string) limits {
	return limits{
		Dir: dir, FSSize: -1, FSFree: -1, MemTotal: -1, MemAvailable: -1,
		Cgroup:      cgroupMemory{Limit: -1, Usage: -1, Reclaimable: -1, Available: -1},
		MaxMapCount: -1, Mappings: -1, MemlockLimit: -1, MemlockMax: -1,
	}
}
