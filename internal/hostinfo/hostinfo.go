// Package hostinfo is what `sharedarray doctor` reports about the limits
// on the arrays this process can create: the types only. The root package
// reads them and decides with them (its Create path uses the same code),
// and sets Read, Check and Room at init; a program that imports
// hostinfo without importing package sharedarray finds them nil.
package hostinfo

// Set by package sharedarray at init.
var (
	// Read reads what bounds the arrays this process can create in dir
	// ("" means /dev/shm, where shm:// arrays live): the mount and free
	// space of its file system, the host's memory, the process's memory
	// cgroup, vm.max_map_count and the process's mappings,
	// RLIMIT_MEMLOCK, the shmem transparent huge pages setting and the
	// SharedArrays already in dir. What cannot be read is -1 (or empty)
	// and explained in Warnings.
	Read func(dir string) *Limits
	// Check reports whether an array of need bytes (data and trailer)
	// fits, by the rules Create and LoadNPY apply before they reserve
	// one: nil or a *sharedarray.SpaceError naming the tightest refusing
	// limit, then the others (Also). Unknown values (-1) refuse nothing.
	Check func(l *Limits, need int64) error
	// Room returns the size of the largest array that fits now and the
	// limit that sets it (a sharedarray.Where value), or -1 and "" when
	// no known limit applies.
	Room func(l *Limits) (int64, string)
)

// Limits is what bounds the arrays this process can create in a
// directory, and what else matters for sharing them, as Read finds it;
// `sharedarray doctor` prints it. Byte counts are -1 when unknown. Check
// decides with the same rules as Create and LoadNPY.
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
