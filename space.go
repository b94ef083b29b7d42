package sharedarray

import (
	"fmt"
	"syscall"

	"github.com/sharedarray/sharedarray/internal/byteunit"
)

// The limits a SpaceError names in Where.
const (
	WhereFileSystem = "file system"                // the file system holding the segment (/dev/shm: a tmpfs)
	WhereCgroup     = "cgroup memory limit"        // the memory cgroup of the calling process (a container's limit)
	WhereHostMemory = "host memory (MemAvailable)" // the memory of the machine, from /proc/meminfo
)

// A SpaceError reports that a segment does not fit: the file system is
// full, or the memory the calling process can still get (its memory
// cgroup's limit, or the host's MemAvailable) is smaller than the segment.
// It unwraps to syscall.ENOSPC (file system) or syscall.ENOMEM (memory).
// Its message says which limit refused the segment and what to change.
// A memory limit must also hold the kernel memory that keeps and maps the
// segment (1/128 of its size is counted), so it can refuse a segment
// slightly smaller than its Avail; the message then says so.
type SpaceError struct {
	Need  int64         // bytes the segment needs
	Avail int64         // bytes available, -1 if unknown
	Size  int64         // the limit itself (file system size, cgroup limit, MemTotal), -1 if unknown
	Where string        // WhereFileSystem, WhereCgroup or WhereHostMemory
	Path  string        // the file system's directory or the cgroup's, "" if unknown
	Fix   string        // what to change so that the segment fits
	Err   error         // syscall.ENOSPC or syscall.ENOMEM
	Also  []*SpaceError // other limits that refuse the segment too
}

func (e *SpaceError) Error() string {
	s := fmt.Sprintf("%v: need %d bytes (%s), %s", e.Err, e.Need, byteunit.Format(e.Need), e.limit())
	memory := e.Err == syscall.ENOMEM
	for _, a := range e.Also {
		s += "; also " + a.limit()
		memory = memory || a.Err == syscall.ENOMEM
	}
	if memory {
		s += "; SkipMemoryCheck() overrides the memory check"
	}
	return s
}

// limit describes one refusing limit and its fix.
func (e *SpaceError) limit() string {
	s := e.Where
	if e.Path != "" {
		s += " " + e.Path
	}
	if e.Avail >= 0 {
		s += fmt.Sprintf(" has %d bytes (%s) available", e.Avail, byteunit.Format(e.Avail))
	} else {
		s += " has an unknown amount available"
	}
	if e.Size >= 0 {
		s += " of " + byteunit.Format(e.Size)
	}
	if e.Err == syscall.ENOMEM && e.Avail >= 0 && e.Need <= e.Avail {
		s += fmt.Sprintf(", not enough for the array and the %s of kernel memory that holds and maps it", byteunit.Format(kernelMemory(e.Need)))
	}
	if e.Fix != "" {
		s += ": " + e.Fix
	}
	return s
}

func (e *SpaceError) Unwrap() error { return e.Err }

// What to change, for each limit.
const (
	fixTmpfs  = "make the tmpfs larger (/dev/shm: docker run --shm-size; Kubernetes: an emptyDir with medium Memory and a larger sizeLimit) or delete arrays no longer used"
	fixDisk   = "free space on the file system"
	fixCgroup = "raise the container's memory limit (docker run --memory; Kubernetes: resources.limits.memory) or create a smaller array"
	fixHost   = "free memory on the host or create a smaller array"
)

// CheckSpace reports whether Create(name, shape, dtype) would find room
// now, by the rules Create and LoadNPY apply before they reserve the
// segment: the array (data and trailer) must fit the free space of the
// file system that would hold it and, on a tmpfs (/dev/shm), also, with
// the kernel memory that holds and maps it, what the process's memory
// cgroup leaves and the host's MemAvailable. It returns nil, or a
// *SpaceError (inside a *fs.PathError naming name) for the tightest
// limit that refuses the array, the others in its Also, each with what to
// change. Unlike Create, which checks only arrays of 64 MiB or more on a
// tmpfs, it checks any size. Values that cannot be read refuse nothing.
// A bad name, shape or dtype is the error Create would return, and a
// directory that cannot be examined an error naming it. The answer is a
// snapshot: other processes allocate and free memory meanwhile. Outside
// Linux it returns an error wrapping errors.ErrUnsupported.
func CheckSpace(name string, shape []int, dtype Dtype) error {
	loc, err := parseName(name)
	if err != nil {
		return pathError("check space", name, err)
	}
	m, err := newMeta(shape, dtype, 0)
	if err != nil {
		return pathError("check space", name, err)
	}
	if err := fits(loc.dir(), m.nbytes+int64(m.layout.TrailerSize())); err != nil {
		return pathError("check space", name, err)
	}
	return nil
}

// memCheckFloor is the size under which Create does not check memory:
// such a segment cannot, alone, exhaust memory.
const memCheckFloor = 64 << 20
