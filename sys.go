package sharedarray

import (
	"syscall"
	"time"
)

// Where the system calls are: the segment operations (open, size, map,
// link, unlink, msync, mlock) are shm_cgo.go and shm.c, built on
// little-endian Linux with cgo, and shm_unsupported.go everywhere else,
// where each fails with errUnsupported. The package also calls the kernel
// directly, through syscall and golang.org/x/sys/unix, in the _linux.go
// files (holders, limits, free space, cgroups, host memory, the ring's
// futex) and in mappings.go (reading /proc/self/maps and
// vm.max_map_count); elsewhere it uses syscall only for error numbers and
// open flags, and sys_linux.go and sys_other.go hold what differs by
// platform. Off Linux the package builds (make crossbuild) and every
// operation fails with errUnsupported before any Linux-only call matters.

// Stages of sysCreateLinked (SA_STAGE_* in shm.h), which its failures
// name.
const (
	stageOpen = iota + 1
	stageSize
	stageWrite
	stageMap
	stagePopulate
	stageLink
)

// cLinkFails makes sysCreateLinked's link fail with ENOENT, as on a system
// without /proc; tests set it.
var cLinkFails bool

// fileStat is what the package needs from fstat.
type fileStat struct {
	size    int64
	mode    uint32
	uid     uint32
	modTime time.Time
	dev     uint64 // st_dev and st_ino: which file it is
	ino     uint64
}

func (s fileStat) isRegular() bool { return s.mode&syscall.S_IFMT == syscall.S_IFREG }

// cstr returns s as a NUL-terminated byte slice. Callers have already
// refused names with an inner NUL.
func cstr(s string) []byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return b
}

// cstr2 returns a+b as a NUL-terminated byte slice, in one allocation.
func cstr2(a, b string) []byte {
	s := make([]byte, len(a)+len(b)+1)
	copy(s[copy(s, a):], b)
	return s
}
