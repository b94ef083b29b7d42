//go:build linux

package sharedarray

import (
	"bytes"
	"errors"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// tmpfs pages are charged to the memory cgroup of the process that first
// touches them (for a reserved segment: the one that calls fallocate), so
// a container with a memory limit can be killed by its own array while the
// host has memory to spare. These functions find the calling process's
// memory cgroup, v1 or v2, and what it leaves.

// cgroupPlace is where this process's memory cgroup is in the file system.
type cgroupPlace struct {
	version int    // 1 or 2
	mount   string // mount point of the hierarchy
	dir     string // the process's cgroup directory: mount or below it
}

// errNoCgroup says that no memory cgroup applies: none listed in
// /proc/self/cgroup, or its hierarchy is not mounted where this process
// can see it.
var errNoCgroup = errors.New("no memory cgroup hierarchy mounted for this process")

// cgroupPlace finds this process's memory cgroup from /proc/self/cgroup
// and /proc/self/mountinfo. The answer is kept for as long as
// /proc/self/cgroup reads the same, so only that small file is read again
// when the process has not moved.
func (h *host) cgroupPlace() (cgroupPlace, error) {
	var a [512]byte
	self, err := h.readFile("/proc/self/cgroup", a[:0], listMax)
	if err != nil {
		return cgroupPlace{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cgKey != nil && bytes.Equal(self, h.cgKey) {
		return h.cg, h.cgFound
	}
	mi, err := h.readFile("/proc/self/mountinfo", make([]byte, 0, 8<<10), tableMax)
	if err != nil {
		return cgroupPlace{}, err
	}
	h.cg, h.cgFound = locateCgroup(self, parseMountinfo(mi))
	h.cgKey = bytes.Clone(self)
	return h.cg, h.cgFound
}

// locateCgroup finds the memory cgroup directory from the text of
// /proc/self/cgroup and the mount table. A v1 memory hierarchy wins over
// v2: the memory controller is bound to one hierarchy only, and on hybrid
// systems the v2 one has no memory files.
func locateCgroup(self []byte, mounts []mountEntry) (cgroupPlace, error) {
	var v1, v2 string
	var hasV1, hasV2 bool
	for _, line := range strings.Split(string(self), "\n") {
		id, rest, ok1 := strings.Cut(line, ":")
		ctrls, p, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 {
			continue
		}
		if id == "0" && ctrls == "" {
			v2, hasV2 = p, true
			continue
		}
		for _, c := range strings.Split(ctrls, ",") {
			if c == "memory" {
				v1, hasV1 = p, true
			}
		}
	}
	if hasV1 {
		for _, m := range mounts {
			if m.fstype == "cgroup" && hasOption(m.super, "memory") {
				if dir, ok := m.under(v1); ok {
					return cgroupPlace{version: 1, mount: path.Clean(m.point), dir: dir}, nil
				}
			}
		}
	}
	if hasV2 {
		for _, m := range mounts {
			if m.fstype == "cgroup2" {
				if dir, ok := m.under(v2); ok {
					return cgroupPlace{version: 2, mount: path.Clean(m.point), dir: dir}, nil
				}
			}
		}
	}
	return cgroupPlace{}, errNoCgroup
}

// mountEntry is one line of /proc/self/mountinfo.
type mountEntry struct {
	root   string // the directory of the file system mounted at point
	point  string // the mount point
	opts   string // per-mount options (rw, nosuid, ...)
	fstype string
	source string
	super  string // file-system options (size=, huge=, memory, ...)
}

// parseMountinfo reads /proc/self/mountinfo (proc(5)); malformed lines
// are skipped.
func parseMountinfo(b []byte) []mountEntry {
	var out []mountEntry
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 >= len(f) {
			continue
		}
		out = append(out, mountEntry{
			root:   unescapeMount(f[3]),
			point:  unescapeMount(f[4]),
			opts:   f[5],
			fstype: f[sep+1],
			source: unescapeMount(f[sep+2]),
			super:  f[sep+3],
		})
	}
	return out
}

// unescapeMount undoes the octal escapes (\040 for a space) the kernel
// writes in mount table paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// hasOption reports whether the comma-separated list has opt.
func hasOption(list, opt string) bool {
	for _, o := range strings.Split(list, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// under maps a cgroup path from /proc/self/cgroup to its directory under
// this mount. It refuses paths outside the mounted part of the hierarchy
// and paths with "." or ".." elements, so the result is always the mount
// point or below it.
func (m mountEntry) under(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") || !path.IsAbs(m.point) {
		return "", false
	}
	for _, e := range strings.Split(p, "/") {
		if e == "." || e == ".." {
			return "", false
		}
	}
	rel := p
	if m.root != "/" {
		switch {
		case p == m.root:
			rel = "/"
		case strings.HasPrefix(p, m.root+"/"):
			rel = p[len(m.root):]
		default:
			return "", false
		}
	}
	return path.Join(path.Clean(m.point), rel), true
}

// maxCgroupDepth bounds the walk up the hierarchy.
const maxCgroupDepth = 64

// cgroupMemory walks from the process's cgroup up to the mount point and
// returns the level with the least memory left (see hostinfo.CgroupMemory), and
// what it could not read. To keep the check cheap the inactive file cache
// (memory.stat) is read only at levels where it could change the answer
// for need bytes, or everywhere when all is set.
func (h *host) cgroupMemory(need int64, all bool) (cgroupMemory, []error) {
	cm := cgroupMemory{Limit: -1, Usage: -1, Reclaimable: -1, Available: -1}
	var warn []error
	pl, err := h.cgroupPlace()
	if err != nil {
		if err != errNoCgroup {
			warn = append(warn, err)
		}
		return cm, warn
	}
	cm.Version, cm.Path = pl.version, pl.dir
	limitFile, usageFile, statKey := "/memory.max", "/memory.current", "inactive_file"
	if pl.version == 1 {
		limitFile, usageFile, statKey = "/memory.limit_in_bytes", "/memory.usage_in_bytes", "total_inactive_file"
	}
	var stat []byte
	dir := pl.dir
	for range maxCgroupDepth {
		limit, err := h.readBytes(dir + limitFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// No memory controller at this level (the v2 root cgroup).
		case err != nil:
			warn = append(warn, err)
		case limit < 0:
			cm.Controller = true // no limit here
		default:
			cm.Controller = true
			usage, err := h.readBytes(dir + usageFile)
			if err == nil && usage < 0 {
				err = &fs.PathError{Op: "parse", Path: dir + usageFile, Err: errors.New("usage is not a byte count")}
			}
			if err != nil {
				warn = append(warn, err)
				break
			}
			avail, reclaim := max(0, limit-usage), int64(-1)
			if all || avail < need {
				if stat, err = h.readFile(dir+"/memory.stat", stat, listMax); err != nil {
					if !errors.Is(err, fs.ErrNotExist) {
						warn = append(warn, err)
					}
				} else if v, ok := field(stat, statKey); ok {
					reclaim = v
					avail = min(limit, avail+v)
				}
			}
			if cm.Available < 0 || avail < cm.Available {
				cm.LimitPath, cm.Limit, cm.Usage, cm.Reclaimable, cm.Available = dir, limit, usage, reclaim, avail
			}
		}
		if dir == pl.mount || dir == "/" {
			break
		}
		dir = path.Dir(dir)
	}
	return cm, warn
}
