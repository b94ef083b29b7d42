//go:build linux

package sharedarray

import (
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// spaceError describes an ENOSPC from reserving total bytes on fd.
func spaceError(fd int, total int64) error {
	// The directory, for the message: the file (unnamed yet, O_TMPFILE:
	// "/dev/shm/#1234 (deleted)") is in it.
	dir := ""
	if p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); err == nil && filepath.IsAbs(p) {
		dir = filepath.Dir(p)
	}
	l := unknownLimits(dir)
	var st unix.Statfs_t
	if unix.Fstatfs(fd, &st) == nil {
		l.setFS(&st)
	}
	return l.fsError(total)
}

// checkSpace is the check Create and LoadNPY make before reserving total
// bytes in dir. Segments under memCheckFloor, and segments on a file
// system that is not memory (the reservation decides there), pass. On a
// tmpfs the segment must fit the file system's free space, what the
// process's memory cgroup leaves and the host's MemAvailable (see
// limits.Check). What cannot be read refuses nothing.
func checkSpace(dir string, total int64) error { return systemHost.checkSpace(dir, total) }

func (h *host) checkSpace(dir string, total int64) error {
	if total < memCheckFloor {
		return nil
	}
	var st unix.Statfs_t
	if h.statfs(dir, &st) != nil {
		return nil // the open that follows reports it
	}
	l := unknownLimits(dir)
	l.setFS(&st)
	if !l.FSMemory {
		return nil
	}
	l.Cgroup, _ = h.cgroupMemory(withKernelMemory(total), false) // what Check compares
	l.MemAvailable, l.MemTotal, _ = h.memInfo()
	return l.Check(total)
}

// fits is CheckSpace's check of total bytes in dir: checkSpace's for any
// size and any file system.
func fits(dir string, total int64) error {
	h := systemHost
	var st unix.Statfs_t
	if err := h.statfs(dir, &st); err != nil {
		return &fs.PathError{Op: "statfs", Path: dir, Err: err}
	}
	l := unknownLimits(dir)
	l.setFS(&st)
	if l.FSMemory {
		l.Cgroup, _ = h.cgroupMemory(withKernelMemory(total), false)
		l.MemAvailable, l.MemTotal, _ = h.memInfo()
	}
	return l.Check(total)
}

// setFS fills the file system fields from statfs.
func (l *limits) setFS(st *unix.Statfs_t) {
	fsType := uint32(st.Type) // int32 on 386 and arm, where RAMFS_MAGIC is negative
	l.FSMemory = fsType == unix.TMPFS_MAGIC || fsType == unix.RAMFS_MAGIC
	l.FSSize = mulClamp(st.Blocks, int64(st.Bsize))
	l.FSFree = mulClamp(st.Bavail, int64(st.Bsize))
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
