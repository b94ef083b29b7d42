//go:build linux

package sharedarray

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// host reads what the kernel says about this process and machine: files
// under /proc and /sys, and statfs. root is "" for the running system;
// tests point it at a fake tree (and replace statfs) so that no decision
// depends on the machine the tests run on.
type host struct {
	root   string
	statfs func(path string, st *unix.Statfs_t) error

	mu      sync.Mutex
	cgKey   []byte      // the /proc/self/cgroup text cg was found from
	cg      cgroupPlace // where this process's memory cgroup is
	cgFound error       // why cg is empty
}

// systemHost reads the running system; Create and LoadNPY use it.
var systemHost = &host{statfs: unix.Statfs}

// Read limits for the files host reads: a value file, a list
// (/proc/self/cgroup, memory.stat, /proc/meminfo) and the mount table.
const (
	valueMax = 128
	listMax  = 64 << 10
	tableMax = 8 << 20
)

// errTooLarge and errNotRegular are why a kernel file is refused.
var (
	errTooLarge   = errors.New("larger than expected")
	errNotRegular = errors.New("not a regular file")
)

// readFile reads the kernel file p (a path on the running system, read
// under h.root) into buf, which it grows up to limit bytes. It never follows
// a symbolic link in the last component, never blocks on a FIFO and never
// reads more than limit bytes: a fake or hostile tree gets an error, not a
// hang or an allocation.
func (h *host) readFile(p string, buf []byte, limit int) ([]byte, error) {
	fd, err := unix.Open(h.root+p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errNotRegular}
	}
	buf = buf[:0]
	for {
		if len(buf) > limit {
			return nil, &fs.PathError{Op: "read", Path: p, Err: fmt.Errorf("%w: over %d bytes", errTooLarge, limit)}
		}
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(limit+1-len(buf), 512+len(buf)))
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: p, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// unlimited is the value from which a memory limit means "none": cgroup
// v1 reports no limit as 2^63-1 rounded down to a page.
const unlimited = 1 << 62

// parseBytes reads a byte count as cgroup files write it: a decimal
// number, or "max" for no limit (returned as -1). Values of 2^62 and more
// mean no limit too.
func parseBytes(b []byte) (int64, error) {
	s := string(bytes.TrimSpace(b))
	if s == "max" {
		return -1, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) && s != "" && s[0] != '-' && s[0] != '+' {
			return -1, nil // more than 2^64: no limit
		}
		return 0, fmt.Errorf("%.40q is not a byte count", s)
	}
	if n >= unlimited {
		return -1, nil
	}
	return int64(n), nil
}

// readBytes reads a one-value file with parseBytes.
func (h *host) readBytes(p string) (int64, error) {
	var a [valueMax]byte
	b, err := h.readFile(p, a[:0], valueMax)
	if err != nil {
		return 0, err
	}
	n, err := parseBytes(b)
	if err != nil {
		return 0, &fs.PathError{Op: "parse", Path: p, Err: err}
	}
	return n, nil
}

// field returns the value of the line "key value" (or "key: value kB")
// in a list file such as /proc/meminfo or memory.stat, in bytes when the
// unit is kB.
func field(text []byte, key string) (int64, bool) {
	for line := range bytes.Lines(text) {
		line = bytes.TrimSuffix(line, []byte{'\n'})
		rest, ok := bytes.CutPrefix(line, []byte(key))
		if !ok || len(rest) == 0 || (rest[0] != ' ' && rest[0] != ':' && rest[0] != '\t') {
			continue
		}
		rest = bytes.TrimLeft(rest, ": \t")
		shift := 0
		if v, ok := bytes.CutSuffix(rest, []byte(" kB")); ok {
			rest, shift = v, 10
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(rest)), 10, 64)
		if err != nil || n < 0 || n > (1<<62)>>shift {
			return 0, false
		}
		return n << shift, true
	}
	return 0, false
}

// memInfo returns MemAvailable and MemTotal from /proc/meminfo, in bytes.
func (h *host) memInfo() (avail, total int64, err error) {
	b, err := h.readFile("/proc/meminfo", make([]byte, 0, 4096), listMax)
	if err != nil {
		return -1, -1, err
	}
	avail, ok := field(b, "MemAvailable")
	if !ok {
		return -1, -1, &fs.PathError{Op: "parse", Path: "/proc/meminfo", Err: errors.New("no valid MemAvailable line")}
	}
	total, ok = field(b, "MemTotal")
	if !ok {
		total = -1
	}
	return avail, total, nil
}
