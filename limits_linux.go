//go:build linux

package sharedarray

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// readLimits reads what bounds the arrays this process can create in dir
// (see hostinfo.Read).
func readLimits(dir string) *limits { return systemHost.readLimits(dir) }

func (h *host) readLimits(dir string) *limits {
	if dir == "" {
		dir = shmDir
	}
	l := unknownLimits(dir)
	warn := func(err error) { l.Warnings = append(l.Warnings, err.Error()) }

	var st unix.Statfs_t
	if err := h.statfs(dir, &st); err != nil {
		// No mount holds a directory that does not exist.
		warn(&fs.PathError{Op: "statfs", Path: dir, Err: err})
	} else {
		l.setFS(&st)
		l.Writable = unix.Access(dir, unix.W_OK|unix.X_OK) == nil
		l.Mount = h.mountIn(dir, warn)
	}
	var err error
	if l.MemAvailable, l.MemTotal, err = h.memInfo(); err != nil {
		warn(err)
	}
	var cgWarn []error
	l.Cgroup, cgWarn = h.cgroupMemory(0, true)
	for _, err := range cgWarn {
		warn(err)
	}
	if l.MaxMapCount, err = h.readBytes("/proc/sys/vm/max_map_count"); err != nil {
		l.MaxMapCount = -1
		warn(err)
	}
	if l.Mappings, err = h.countLines("/proc/self/maps"); err != nil {
		warn(err)
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl); err != nil {
		warn(os.NewSyscallError("getrlimit", err))
	} else {
		l.MemlockLimit, l.MemlockMax = rlimitBytes(rl.Cur), rlimitBytes(rl.Max)
	}
	if b, err := h.readFile("/sys/kernel/mm/transparent_hugepage/shmem_enabled", nil, valueMax); err != nil {
		if !errors.Is(err, fs.ErrNotExist) { // kernels without THP
			warn(err)
		}
	} else {
		l.ShmemTHP = selected(string(b))
	}
	l.Arrays, l.ArrayBytes = countArrays(dir)
	return &l
}

// rlimitBytes converts a resource limit, RLIM_INFINITY being -1.
func rlimitBytes(v uint64) int64 {
	if v == unix.RLIM_INFINITY || v > 1<<62 {
		return -1
	}
	return int64(v)
}

// selected returns the bracketed choice of a sysfs setting such as
// "always within_size advise [never] deny force".
func selected(s string) string {
	i := strings.IndexByte(s, '[')
	j := strings.IndexByte(s, ']')
	if i < 0 || j < i {
		return ""
	}
	return s[i+1 : j]
}

// mountOf returns the mount that holds the absolute path p: the last
// entry (the one on top) with the longest mount point that contains p.
func mountOf(mounts []mountEntry, p string) (mountEntry, bool) {
	var best mountEntry
	found := false
	for _, m := range mounts {
		point := path.Clean(m.point)
		if p != point && point != "/" && !strings.HasPrefix(p, point+"/") {
			continue
		}
		if !found || len(point) >= len(path.Clean(best.point)) {
			best, found = m, true
		}
	}
	return best, found
}

// countLines counts the lines of a kernel file (/proc/self/maps: one
// mapping a line), reading it in pieces.
func (h *host) countLines(p string) (int64, error) {
	fd, err := unix.Open(h.root+p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return -1, &fs.PathError{Op: "read", Path: p, Err: errNotRegular}
	}
	buf := make([]byte, 64<<10)
	var n, total int64
	for {
		k, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &fs.PathError{Op: "read", Path: p, Err: err}
		}
		if k == 0 {
			return n, nil
		}
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if total += int64(k); total > tableMax*8 {
			return -1, &fs.PathError{Op: "read", Path: p, Err: errTooLarge}
		}
	}
}

// countArrays counts the valid SharedArrays in dir and their bytes.
func countArrays(dir string) (int, int64) {
	var infos []Info
	if path.Clean(dir) == shmDir {
		infos, _ = List()
	} else {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if !e.Type().IsRegular() {
				continue
			}
			if info, err := Stat("file://" + filepath.Join(dir, e.Name())); err == nil {
				infos = append(infos, info)
			}
		}
	}
	var total int64
	for _, i := range infos {
		total += i.Size
	}
	return len(infos), total
}

// mountIn returns the entry of /proc/self/mountinfo that holds dir.
func (h *host) mountIn(dir string, warn func(error)) mountInfo {
	mi, err := h.readFile("/proc/self/mountinfo", make([]byte, 0, 8<<10), tableMax)
	if err != nil {
		warn(err)
		return mountInfo{}
	}
	real := dir
	if h.root == "" {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			real = r
		}
	}
	if abs, err := filepath.Abs(real); err == nil {
		real = abs
	}
	m, ok := mountOf(parseMountinfo(mi), real)
	if !ok {
		return mountInfo{}
	}
	return mountInfo{Point: m.point, Type: m.fstype, Source: m.source, Options: m.super}
}
