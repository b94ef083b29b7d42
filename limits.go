package sharedarray

import (
	"cmp"
	"math"
	"os"
	"slices"
	"syscall"
)

// Limits is what bounds the arrays this process can create in a
// directory, and what else matters for sharing them, as ReadLimits finds
// it; `sharedarray doctor` prints it. Byte counts are -1 when unknown.
// Check decides with the same rules as Create and LoadNPY.
type Limits struct {
	Dir      string `json:"dir"`      // the directory checked (/dev/shm for shm:// names)
	Writable bool   `json:"writable"` // this process may create files in Dir
	Mount    Mount  `json:"mount"`    // the mount holding Dir

	FSSize   int64 `json:"fs_size"`   // size of the file system; 0 if it has none (ramfs, tmpfs size=0)
	FSFree   int64 `json:"fs_free"`   // bytes this user can still reserve on it
	FSMemory bool  `json:"fs_memory"` // tmpfs or ramfs: its pages are memory, so the memory limits apply

	MemTotal     int64 `json:"mem_total"`     // the host's MemTotal (/proc/meminfo)
	MemAvailable int64 `json:"mem_available"` // the host's MemAvailable

	Cgroup CgroupMemory `json:"cgroup"` // the memory cgroup of this process

	MaxMapCount  int64  `json:"max_map_count"` // vm.max_map_count: mappings a process may have (each attached array is one)
	Mappings     int64  `json:"mappings"`      // mappings this process has now
	MemlockLimit int64  `json:"memlock_limit"` // RLIMIT_MEMLOCK soft limit in bytes (Mlock), -1 if unlimited
	MemlockMax   int64  `json:"memlock_max"`   // its hard limit, -1 if unlimited
	ShmemTHP     string `json:"shmem_thp"`     // transparent huge pages for shmem (shmem_enabled): always, within_size, advise, never, deny or force; "" if unknown

	Arrays     int   `json:"arrays"`      // valid SharedArrays in Dir
	ArrayBytes int64 `json:"array_bytes"` // their total size

	Warnings []string `json:"warnings,omitempty"` // what could not be read, and why
}

// Mount is one entry of the mount table.
type Mount struct {
	Point   string `json:"point"`   // mount point
	Type    string `json:"type"`    // file system type (tmpfs)
	Source  string `json:"source"`  // what is mounted
	Options string `json:"options"` // file-system options (size=, huge=, ...)
}

// CgroupMemory is what the memory cgroup of this process leaves, at the
// level of its hierarchy that leaves least: for cgroup v2 memory.max -
// memory.current, for v1 memory.limit_in_bytes - memory.usage_in_bytes,
// plus that level's inactive file cache, which the kernel reclaims before
// it refuses memory. Levels are read from the process's cgroup up to the
// top of the hierarchy as mounted (in a container, usually the container's
// own cgroup).
type CgroupMemory struct {
	Version     int    `json:"version"`     // 1 or 2; 0 if no memory cgroup was found
	Path        string `json:"path"`        // the process's cgroup directory
	LimitPath   string `json:"limit_path"`  // the level that leaves least; "" if no level has a limit
	Limit       int64  `json:"limit"`       // its limit, -1 if none
	Usage       int64  `json:"usage"`       // memory charged to it, -1 if no limit
	Reclaimable int64  `json:"reclaimable"` // its inactive file cache, -1 if not read
	Available   int64  `json:"available"`   // Limit - Usage + Reclaimable, at most Limit; -1 if no limit
	Controller  bool   `json:"controller"`  // some level has a memory limit file
}

// Check reports whether an array of need bytes (data and trailer) fits,
// by the rules Create and LoadNPY apply before they reserve one: on any
// file system it must fit the free space; on a memory file system it must
// also fit, with the kernel memory that holds and maps it (1/128 of its
// size), what the cgroup leaves and MemAvailable. It returns nil or a
// *SpaceError naming the tightest refusing limit, then the others (Also),
// each with what to change. Unknown values (-1) refuse nothing. Create
// only checks arrays of 64 MiB or more; Check checks any size.
func (l *Limits) Check(need int64) error {
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
func (l *Limits) Room() (int64, string) {
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

func (l *Limits) fsError(need int64) *SpaceError {
	e := &SpaceError{Need: need, Avail: l.FSFree, Size: l.FSSize, Where: WhereFileSystem, Path: l.Dir, Fix: fixDisk, Err: syscall.ENOSPC}
	if e.Size == 0 {
		e.Size = -1 // no size of its own
	}
	if l.FSMemory {
		e.Fix = fixTmpfs
	}
	return e
}

// unknownLimits is a Limits where nothing is known yet.
func unknownLimits(dir string) Limits {
	return Limits{
		Dir: dir, FSSize: -1, FSFree: -1, MemTotal: -1, MemAvailable: -1,
		Cgroup:      CgroupMemory{Limit: -1, Usage: -1, Reclaimable: -1, Available: -1},
		MaxMapCount: -1, Mappings: -1, MemlockLimit: -1, MemlockMax: -1,
	}
}
