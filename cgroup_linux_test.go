//go:build linux

package sharedarray

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/sharedarray/sharedarray/internal/byteunit"
	"github.com/sharedarray/sharedarray/internal/testutil"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// A fake tree maps a path on the running system ("/proc/meminfo") to its
// content. Contents starting with "->" make a symbolic link to the rest,
// "|fifo" a FIFO, "/dir" a directory.
type fakeTree map[string]string

// newFakeHost writes tree under a temporary root and returns a host that
// reads it, with statfs answering st for every directory.
func newFakeHost(t *testing.T, tree fakeTree, st unix.Statfs_t) *host {
	t.Helper()
	root := t.TempDir()
	for p, c := range tree {
		full := filepath.Join(root, p)
		assert.NilError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		switch {
		case strings.HasPrefix(c, "->"):
			assert.NilError(t, os.Symlink(c[2:], full))
		case c == "|fifo":
			assert.NilError(t, syscall.Mkfifo(full, 0o644))
		case c == "/dir":
			assert.NilError(t, os.MkdirAll(full, 0o755))
		default:
			assert.NilError(t, os.WriteFile(full, []byte(c), 0o644))
		}
	}
	return &host{root: root, statfs: func(_ string, out *unix.Statfs_t) error {
		*out = st
		return nil
	}}
}

// tmpfsStat is the statfs of a tmpfs of size bytes with free bytes left;
// size 0 is a tmpfs without a size limit.
func tmpfsStat(size, free int64) unix.Statfs_t {
	return unix.Statfs_t{Type: unix.TMPFS_MAGIC, Bsize: 4096, Blocks: uint64(size / 4096), Bfree: uint64(free / 4096), Bavail: uint64(free / 4096)}
}

const (
	mountsV2 = "25 1 0:23 / /dev/shm rw,nosuid,nodev - tmpfs tmpfs rw,size=65536k\n" +
		"30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
	mountsV1 = "25 1 0:23 / /dev/shm rw,nosuid,nodev - tmpfs tmpfs rw,size=65536k\n" +
		"31 23 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755\n" +
		"33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,cpu,cpuacct\n" +
		"35 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,memory\n" +
		"41 31 0:38 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:12 - cgroup2 cgroup2 rw\n"
)

// fakeV2 is a cgroup v2 tree: the process in cgroup cg, whose
// memory.max and memory.current are given ("none": no such files), on a 64 GiB host with hostAvail
// bytes available.
func fakeV2(cg, limit, current string, hostAvail int64) fakeTree {
	d := "/sys/fs/cgroup" + strings.TrimSuffix(cg, "/")
	t := fakeTree{
		"/proc/self/cgroup":    "0::" + cg + "\n",
		"/proc/self/mountinfo": mountsV2,
		"/proc/meminfo":        fmt.Sprintf("MemTotal:       67108864 kB\nMemFree:        1000 kB\nMemAvailable:   %d kB\n", hostAvail>>10),
	}
	if limit != "none" {
		t[d+"/memory.max"] = limit + "\n"
		t[d+"/memory.current"] = current + "\n"
	}
	return t
}

// fakeV1 is a cgroup v1 tree: the process in memory cgroup cg, as
// /proc/self/cgroup names it, with the memory hierarchy's root at root.
func fakeV1(cg, root string, hostAvail int64) fakeTree {
	mounts := strings.Replace(mountsV1, "35 31 0:32 / ", "35 31 0:32 "+root+" ", 1)
	return fakeTree{
		"/proc/self/cgroup":    "12:pids:/x\n11:cpu,cpuacct:/y\n4:memory:" + cg + "\n1:name=systemd:/z\n0::/\n",
		"/proc/self/mountinfo": mounts,
		"/proc/meminfo":        fmt.Sprintf("MemTotal:       67108864 kB\nMemAvailable:   %d kB\n", hostAvail>>10),
	}
}

// refusedBy lists the limits a Create error names, first the one that
// refused it.
func refusedBy(err error) []string {
	var se *SpaceError
	if !errors.As(err, &se) {
		return nil
	}
	out := []string{se.Where}
	for _, a := range se.Also {
		out = append(out, a.Where)
	}
	return out
}

const (
	kib = int64(1) << 10
	mib = int64(1) << 20
	gib = int64(1) << 30
)

func merge(trees ...fakeTree) fakeTree {
	out := fakeTree{}
	for _, t := range trees {
		for k, v := range t {
			out[k] = v
		}
	}
	return out
}

func TestCheckSpaceFakeTrees(t *testing.T) {
	big := tmpfsStat(1<<40, 1<<40)
	k8s := "/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope"
	k8sDir := "/sys/fs/cgroup" + k8s
	podDir := "/sys/fs/cgroup/kubepods.slice/kubepods-pod1.slice"
	v1Dir := "/sys/fs/cgroup/memory/docker/abc"
	for _, tc := range []struct {
		name    string
		tree    fakeTree
		st      unix.Statfs_t
		need    int64
		refused []string // Where of each refusing limit, tightest first; nil: fits
		msg     string   // part of the message
		warn    string   // part of a warning the doctor shows
		limit   string   // the cgroup directory with the least left
	}{
		{name: "v2 limit refuses",
			tree:    fakeV2(k8s, "1073741824", "104857600", 60*gib),
			need:    2 * gib,
			refused: []string{WhereCgroup},
			msg:     "cannot allocate memory: need 2147483648 bytes (2.0 GiB), cgroup memory limit " + k8sDir + " has 968884224 bytes (924.0 MiB) available of 1.0 GiB: raise the container's memory limit (docker run --memory; Kubernetes: resources.limits.memory) or create a smaller array; SkipMemoryCheck() overrides the memory check",
			limit:   k8sDir},
		{name: "v2 limit fits",
			tree: fakeV2(k8s, "1073741824", "104857600", 60*gib),
			need: 900 * mib, limit: k8sDir},
		{name: "v2 no room for the kernel memory",
			tree:    fakeV2(k8s, "1073741824", "104857600", 60*gib),
			need:    968884224, // what the cgroup leaves: mapping it would wake the OOM killer
			refused: []string{WhereCgroup},
			msg:     "cannot allocate memory: need 968884224 bytes (924.0 MiB), cgroup memory limit " + k8sDir + " has 968884224 bytes (924.0 MiB) available of 1.0 GiB, not enough for the array and the 7.2 MiB of kernel memory that holds and maps it: raise",
			limit:   k8sDir},
		{name: "v2 room for the kernel memory",
			tree: fakeV2(k8s, "1073741824", "104857600", 60*gib),
			need: 961361301, limit: k8sDir},
		{name: "v2 inactive file cache makes room for the kernel memory",
			tree: merge(fakeV2(k8s, "1073741824", "968884224", 60*gib), fakeTree{
				k8sDir + "/memory.stat": "inactive_file 52428800\n",
			}),
			need: 104857600, limit: k8sDir},
		{name: "host memory: no room for the kernel memory",
			tree:    fakeV2(k8s, "max", "0", 1*gib),
			need:    1 * gib,
			refused: []string{WhereHostMemory},
			msg:     "host memory (MemAvailable) has 1073741824 bytes (1.0 GiB) available of 64.0 GiB, not enough for the array and the 8.0 MiB of kernel memory that holds and maps it"},
		{name: "v2 max is no limit",
			tree: fakeV2(k8s, "max", "104857600", 60*gib),
			need: 8 * gib},
		{name: "v2 nested tighter parent",
			tree: merge(fakeV2(k8s, "4294967296", "0", 60*gib), fakeTree{
				podDir + "/memory.max":                         "536870912\n",
				podDir + "/memory.current":                     "104857600\n",
				"/sys/fs/cgroup/kubepods.slice/memory.max":     "max\n",
				"/sys/fs/cgroup/kubepods.slice/memory.current": "999999999999\n",
			}),
			need:    1 * gib,
			refused: []string{WhereCgroup},
			msg:     "cgroup memory limit " + podDir + " has 432013312 bytes (412.0 MiB) available of 512.0 MiB",
			limit:   podDir},
		{name: "v2 parent loose, child tight",
			tree: merge(fakeV2(k8s, "134217728", "0", 60*gib), fakeTree{
				podDir + "/memory.max":     "8589934592\n",
				podDir + "/memory.current": "104857600\n",
			}),
			need:    256 * mib,
			refused: []string{WhereCgroup},
			msg:     "cgroup memory limit " + k8sDir + " has 134217728 bytes (128.0 MiB) available of 128.0 MiB",
			limit:   k8sDir},
		{name: "v2 usage over limit",
			tree:    fakeV2(k8s, "134217728", "200000000", 60*gib),
			need:    64 * mib,
			limit:   k8sDir,
			refused: []string{WhereCgroup},
			msg:     "has 0 bytes (0 B) available"},
		{name: "v2 inactive file cache counts as free",
			tree: merge(fakeV2(k8s, "1073741824", "1073741824", 60*gib), fakeTree{
				k8sDir + "/memory.stat": "anon 10000\nfile 900000000\nactive_file 100\ninactive_file 838860800\nshmem 0\n",
			}),
			need: 700 * mib, limit: k8sDir},
		{name: "v2 inactive file cache not enough",
			tree: merge(fakeV2(k8s, "1073741824", "1073741824", 60*gib), fakeTree{
				k8sDir + "/memory.stat": "anon 10000\ninactive_file 838860800\n",
			}),
			need:    900 * mib,
			limit:   k8sDir,
			refused: []string{WhereCgroup},
			msg:     "has 838860800 bytes (800.0 MiB) available"},
		{name: "v2 no memory controller",
			tree: fakeV2("/system.slice/app.service", "none", "", 60*gib),
			need: 8 * gib},
		{name: "v2 root cgroup",
			tree: fakeV2("/", "none", "", 60*gib),
			need: 8 * gib},
		{name: "v2 garbage limit",
			tree: fakeV2(k8s, "lots\n", "1", 60*gib),
			need: 8 * gib, warn: `"lots" is not a byte count`},
		{name: "v2 negative limit",
			tree: fakeV2(k8s, "-5", "1", 60*gib),
			need: 8 * gib, warn: `"-5" is not a byte count`},
		{name: "v2 garbage usage",
			tree: fakeV2(k8s, "1000000", "max", 60*gib),
			need: 8 * gib, warn: "usage is not a byte count"},
		{name: "v2 empty files",
			tree: fakeV2(k8s, "", "", 60*gib),
			need: 8 * gib, warn: `"" is not a byte count`},
		{name: "v2 huge limit is no limit",
			tree: fakeV2(k8s, "99999999999999999999999", "5", 60*gib),
			need: 8 * gib},
		{name: "v2 2^64-1 is no limit",
			tree: fakeV2(k8s, "18446744073709551615", "5", 60*gib),
			need: 8 * gib},
		{name: "v2 huge usage",
			tree:    fakeV2(k8s, "1073741824", "4611686018427387904", 60*gib),
			need:    64 * mib,
			refused: nil, warn: "usage is not a byte count"},
		{name: "v2 long value",
			tree: fakeV2(k8s, strings.Repeat("1", 4096), "5", 60*gib),
			need: 8 * gib, warn: "larger than expected"},
		{name: "v2 limit is a symlink to /dev/zero",
			tree: merge(fakeV2(k8s, "", "0", 60*gib), fakeTree{k8sDir + "/memory.max": "->/dev/zero"}),
			need: 8 * gib, warn: "too many levels of symbolic links"},
		{name: "v2 limit is a symlink to a small file",
			tree: merge(fakeV2(k8s, "", "0", 60*gib), fakeTree{k8sDir + "/memory.max": "->../small", "/sys/fs/cgroup/kubepods.slice/small": "1"}),
			need: 8 * gib, warn: "too many levels of symbolic links"},
		{name: "v2 limit is a FIFO",
			tree: merge(fakeV2(k8s, "", "0", 60*gib), fakeTree{k8sDir + "/memory.max": "|fifo"}),
			need: 8 * gib, warn: "not a regular file"},
		{name: "v2 limit is a directory",
			tree: merge(fakeV2(k8s, "", "0", 60*gib), fakeTree{k8sDir + "/memory.max": "/dir"}),
			need: 8 * gib, warn: "not a regular file"},
		{name: "v2 memory.stat is huge",
			tree: merge(fakeV2(k8s, "1073741824", "1073741824", 60*gib), fakeTree{
				k8sDir + "/memory.stat": strings.Repeat("x 1\n", 100000),
			}),
			need: 64 * mib, refused: []string{WhereCgroup}, warn: "larger than expected", limit: k8sDir},
		{name: "v2 cgroup path escapes the mount",
			tree: merge(fakeV2("/../../etc", "none", "", 60*gib), fakeTree{"/sys/etc/memory.max": "1\n", "/sys/etc/memory.current": "1\n"}),
			need: 8 * gib},
		{name: "v2 mountinfo is a symlink",
			tree: merge(fakeV2(k8s, "1", "1", 60*gib), fakeTree{"/proc/self/mountinfo": "->/dev/zero"}),
			need: 8 * gib, warn: "too many levels of symbolic links"},
		{name: "v2 mountinfo garbage",
			tree: merge(fakeV2(k8s, "1", "1", 60*gib), fakeTree{"/proc/self/mountinfo": "\x00\xff garbage - - -\n\n1 2 3\n"}),
			need: 8 * gib},
		{name: "no /proc/self/cgroup",
			tree: merge(fakeV2(k8s, "1", "1", 60*gib), fakeTree{"/proc/self/cgroup": "/dir"}),
			need: 8 * gib, warn: "not a regular file"},
		{name: "v1 limit refuses",
			tree: merge(fakeV1("/docker/abc", "/", 60*gib), fakeTree{
				v1Dir + "/memory.limit_in_bytes":                     "268435456\n",
				v1Dir + "/memory.usage_in_bytes":                     "16777216\n",
				"/sys/fs/cgroup/memory/docker/memory.limit_in_bytes": "9223372036854771712\n",
				"/sys/fs/cgroup/memory/docker/memory.usage_in_bytes": "1000000000\n",
				"/sys/fs/cgroup/memory/memory.limit_in_bytes":        "9223372036854771712\n",
				"/sys/fs/cgroup/memory/memory.usage_in_bytes":        "5000000000\n",
			}),
			need:    512 * mib,
			refused: []string{WhereCgroup},
			msg:     "cgroup memory limit " + v1Dir + " has 251658240 bytes (240.0 MiB) available of 256.0 MiB",
			limit:   v1Dir},
		{name: "v1 unlimited",
			tree: merge(fakeV1("/docker/abc", "/", 60*gib), fakeTree{
				v1Dir + "/memory.limit_in_bytes": "9223372036854771712\n",
				v1Dir + "/memory.usage_in_bytes": "16777216\n",
			}),
			need: 8 * gib},
		{name: "v1 hierarchy root is the container's cgroup",
			tree: merge(fakeV1("/docker/abc", "/docker/abc", 60*gib), fakeTree{
				"/sys/fs/cgroup/memory/memory.limit_in_bytes": "268435456\n",
				"/sys/fs/cgroup/memory/memory.usage_in_bytes": "0\n",
				"/sys/fs/cgroup/memory/memory.stat":           "cache 1\ninactive_file 999999999\ntotal_inactive_file 100\n",
			}),
			need:    512 * mib,
			refused: []string{WhereCgroup},
			msg:     "cgroup memory limit /sys/fs/cgroup/memory has 268435456 bytes (256.0 MiB) available of 256.0 MiB",
			limit:   "/sys/fs/cgroup/memory"},
		{name: "v1 cgroup outside the mounted root",
			tree: merge(fakeV1("/other", "/docker/abc", 60*gib), fakeTree{
				"/sys/fs/cgroup/memory/memory.limit_in_bytes": "1\n",
				"/sys/fs/cgroup/memory/memory.usage_in_bytes": "0\n",
			}),
			need: 8 * gib},
		{name: "v1 tight parent",
			tree: merge(fakeV1("/docker/abc", "/", 60*gib), fakeTree{
				v1Dir + "/memory.limit_in_bytes":                     "9223372036854771712\n",
				v1Dir + "/memory.usage_in_bytes":                     "0\n",
				"/sys/fs/cgroup/memory/docker/memory.limit_in_bytes": "1073741824\n",
				"/sys/fs/cgroup/memory/docker/memory.usage_in_bytes": "536870912\n",
			}),
			need:    1 * gib,
			refused: []string{WhereCgroup},
			msg:     "cgroup memory limit /sys/fs/cgroup/memory/docker has 536870912 bytes (512.0 MiB) available of 1.0 GiB",
			limit:   "/sys/fs/cgroup/memory/docker"},
		{name: "host memory refuses",
			tree:    fakeV2(k8s, "max", "0", 1*gib),
			need:    2 * gib,
			refused: []string{WhereHostMemory},
			msg:     "host memory (MemAvailable) has 1073741824 bytes (1.0 GiB) available of 64.0 GiB: free memory on the host or create a smaller array"},
		{name: "meminfo garbage",
			tree: merge(fakeV2(k8s, "max", "0", 1*gib), fakeTree{"/proc/meminfo": "MemAvailable: lots kB\n"}),
			need: 2 * gib},
		{name: "file system refuses",
			tree:    fakeV2(k8s, "max", "0", 60*gib),
			st:      tmpfsStat(64*mib, 60*mib),
			need:    128 * mib,
			refused: []string{WhereFileSystem},
			msg:     "no space left on device: need 134217728 bytes (128.0 MiB), file system /dev/shm has 62914560 bytes (60.0 MiB) available of 64.0 MiB: make the tmpfs larger (/dev/shm: docker run --shm-size; Kubernetes: an emptyDir with medium Memory and a larger sizeLimit) or delete arrays no longer used"},
		{name: "docker defaults: shm and memory both refuse",
			tree:    fakeV2(k8s, "1073741824", "0", 60*gib),
			st:      tmpfsStat(64*mib, 64*mib),
			need:    4 * gib,
			limit:   k8sDir,
			refused: []string{WhereFileSystem, WhereCgroup},
			msg:     "file system /dev/shm has 67108864 bytes (64.0 MiB) available of 64.0 MiB: make the tmpfs larger (/dev/shm: docker run --shm-size; Kubernetes: an emptyDir with medium Memory and a larger sizeLimit) or delete arrays no longer used; also cgroup memory limit " + k8sDir + " has 1073741824 bytes (1.0 GiB) available of 1.0 GiB: raise the container's memory limit (docker run --memory; Kubernetes: resources.limits.memory) or create a smaller array; SkipMemoryCheck() overrides the memory check"},
		{name: "all three refuse, tightest first",
			tree:    fakeV2(k8s, "1073741824", "0", 512*mib),
			st:      tmpfsStat(8*gib, 2*gib),
			need:    4 * gib,
			limit:   k8sDir,
			refused: []string{WhereHostMemory, WhereCgroup, WhereFileSystem}},
		{name: "tmpfs without a size limit",
			tree: fakeV2(k8s, "max", "0", 60*gib),
			st:   tmpfsStat(0, 0),
			need: 8 * gib},
		{name: "not a memory file system",
			tree: fakeV2(k8s, "1", "1", 1),
			st:   unix.Statfs_t{Type: unix.EXT4_SUPER_MAGIC, Bsize: 4096, Blocks: 1000, Bavail: 10},
			need: 8 * gib, limit: k8sDir},
		{name: "under the floor",
			tree: fakeV2(k8s, "1", "1", 1),
			st:   tmpfsStat(4096, 0),
			need: memCheckFloor - 1, limit: k8sDir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.st
			if st.Type == 0 {
				st = big
			}
			h := newFakeHost(t, tc.tree, st)
			err := h.checkSpace(shmDir, tc.need)
			assert.DeepEqual(t, refusedBy(err), tc.refused)
			if tc.refused != nil {
				want := syscall.ENOMEM
				if tc.refused[0] == WhereFileSystem {
					want = syscall.ENOSPC
				}
				assert.Assert(t, errors.Is(err, want), "%v", err)
			}
			if tc.msg != "" {
				assert.Assert(t, strings.Contains(err.Error(), tc.msg), "%v", err)
			}
			cm, warn := h.cgroupMemory(tc.need, true)
			assert.Equal(t, cm.LimitPath, tc.limit)
			var warns []string
			for _, w := range warn {
				warns = append(warns, w.Error())
			}
			if tc.warn != "" {
				assert.Assert(t, strings.Contains(strings.Join(warns, "\n"), tc.warn), "%q", warns)
			} else {
				assert.Equal(t, len(warns), 0, "%q", warns)
			}
		})
	}
}

// The cgroup place is cached, and found again when the process moves.
func TestCgroupMoved(t *testing.T) {
	tree := merge(fakeV2("/a", "134217728", "0", 60*gib), fakeTree{
		"/sys/fs/cgroup/b/memory.max":     "max\n",
		"/sys/fs/cgroup/b/memory.current": "0\n",
	})
	h := newFakeHost(t, tree, tmpfsStat(1<<40, 1<<40))
	assert.DeepEqual(t, refusedBy(h.checkSpace(shmDir, 256*mib)), []string{WhereCgroup})
	assert.DeepEqual(t, refusedBy(h.checkSpace(shmDir, 256*mib)), []string{WhereCgroup})
	assert.NilError(t, os.WriteFile(filepath.Join(h.root, "proc/self/cgroup"), []byte("0::/b\n"), 0o644))
	assert.NilError(t, h.checkSpace(shmDir, 256*mib))
}

func TestLocateCgroup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, self, mounts string
		want               cgroupPlace
	}{
		{"v2", "0::/user.slice/a b\n", "1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
			cgroupPlace{2, "/sys/fs/cgroup", "/sys/fs/cgroup/user.slice/a b"}},
		{"v2 escaped mount point", "0::/x\n", `1 0 0:1 / /mnt/c\040g rw - cgroup2 none rw` + "\n",
			cgroupPlace{2, "/mnt/c g", "/mnt/c g/x"}},
		{"v2 namespace root", "0::/\n", "1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
			cgroupPlace{2, "/sys/fs/cgroup", "/sys/fs/cgroup"}},
		{"v1 over v2", "4:memory:/m\n0::/u\n", mountsV1, cgroupPlace{1, "/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/m"}},
		{"v1 combined controllers", "4:cpu,memory:/m\n", "1 0 0:1 / /cg rw - cgroup cgroup rw,cpu,memory\n",
			cgroupPlace{1, "/cg", "/cg/m"}},
		{"v1 memory listed, not mounted", "4:memory:/m\n0::/u\n", mountsV2, cgroupPlace{2, "/sys/fs/cgroup", "/sys/fs/cgroup/u"}},
		{"dot dot", "0::/a/../..\n", mountsV2, cgroupPlace{}},
		{"relative", "0::a\n", mountsV2, cgroupPlace{}},
		{"none", "", mountsV2, cgroupPlace{}},
		{"no mounts", "0::/a\n", "", cgroupPlace{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := locateCgroup([]byte(tc.self), parseMountinfo([]byte(tc.mounts)))
			assert.Equal(t, got, tc.want)
			assert.Equal(t, err == nil, tc.want.version != 0)
		})
	}
}

func TestParseBytes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		"0": 0, "4096\n": 4096, "max": -1, "max\n": -1, "9223372036854771712": -1,
		"4611686018427387903": 1<<62 - 1, "18446744073709551616": -1,
	} {
		got, err := parseBytes([]byte(in))
		assert.NilError(t, err, in)
		assert.Equal(t, got, want, in)
	}
	for _, in := range []string{"", "-1", "+5", "1.5", "1e9", "0x10", "ma", "1 2", "-99999999999999999999999"} {
		_, err := parseBytes([]byte(in))
		assert.Assert(t, err != nil, "%q", in)
	}
}

// TestCgroupLimitReal puts a child process in a new memory cgroup with a
// 192 MiB limit, on the real kernel: a 72 MiB Create fits, and a 256 MiB
// Create is an error naming the cgroup limit, where without the check the
// reservation fails (or the kernel's OOM killer ends the child). It needs
// a writable memory cgroup hierarchy (root, v1, or v2 with the memory
// controller delegated); it skips without one, except in CI.
func TestCgroupLimitReal(t *testing.T) {
	if len(emulator) > 0 {
		// The emulator's own memory (its translation cache) is charged to
		// the cgroup and grows between the child's Room and its Create.
		t.Skipf("under %s: the emulator's own memory is charged to the test's cgroup", strings.Join(emulator, " "))
	}
	pl, err := systemHost.cgroupPlace()
	if err != nil {
		testutil.SkipOrFail(t, "no memory cgroup for this process: %v", err)
	}
	const limit = 192 << 20
	dir := testutil.MemoryCgroup(t, pl.dir, pl.version, fmt.Sprintf("sharedarray-test-%d", os.Getpid()), limit)
	procs := filepath.Join(dir, "cgroup.procs")
	fits, big := testName(t), testName(t)
	out, err := child(fmt.Sprintf("cgroup-create %s %s %d %s %d check", procs, fits, 72<<20, big, 256<<20)).CombinedOutput()
	assert.NilError(t, err, "%s", out)
	t.Logf("child in %s (limit %s):\n%s", dir, byteunit.Format(limit), out)
	assert.Assert(t, strings.Contains(string(out), "created "+fits), "%s", out)
	assert.Assert(t, strings.Contains(string(out), "cannot allocate memory: need 268436004 bytes (256.0 MiB), cgroup memory limit "+dir+" has "), "%s", out)
	assert.Assert(t, strings.Contains(string(out), " available of 192.0 MiB: raise the container's memory limit (docker run --memory; Kubernetes: resources.limits.memory)"), "%s", out)
	_, err = os.Stat(shmDir + "/" + big)
	assert.Assert(t, os.IsNotExist(err), "nothing left behind")
	assert.NilError(t, Delete(fits))

	// The largest array the check lets through (Room) is created and
	// every page of it touched without the OOM killer: the check keeps
	// room for the kernel memory that holds and maps it.
	out, err = child(fmt.Sprintf("cgroup-create %s %s %d %s %d room", procs, fits, 0, big, 0)).CombinedOutput()
	t.Logf("room: %v\n%s", err, out)
	assert.NilError(t, err, "%s", out)
	assert.Assert(t, strings.Contains(string(out), "room ") && strings.Contains(string(out), " "+WhereCgroup+"\n"), "%s", out)
	assert.Assert(t, strings.Contains(string(out), "created "+fits), "%s", out)
	assert.NilError(t, Delete(fits))

	// Without the check the kernel refuses the pages itself: an error
	// from fallocate, or the OOM killer.
	out, err = child(fmt.Sprintf("cgroup-create %s %s %d %s %d skip", procs, fits, 0, big, 256<<20)).CombinedOutput()
	assert.Assert(t, err != nil || !strings.Contains(string(out), "created "+big), "%s", out)
	t.Logf("without the check: %v\n%s", err, out)
	_, err = os.Stat(shmDir + "/" + big)
	assert.Assert(t, os.IsNotExist(err), "nothing left behind")
}

func TestMemoryCheck(t *testing.T) {
	old := systemHost
	t.Cleanup(func() { systemHost = old })
	systemHost = newFakeHost(t, fakeV2("/", "max", "0", 100<<20), tmpfsStat(1<<40, 1<<40))
	name := testName(t)
	_, err := Create(name, []int{128 << 20}, Uint8)
	assert.Assert(t, errors.Is(err, syscall.ENOMEM), "%v", err)
	assert.Assert(t, strings.Contains(err.Error(), "need 134218276 bytes (128.0 MiB), host memory (MemAvailable) has 104857600 bytes (100.0 MiB) available of 64.0 GiB: free memory on the host or create a smaller array; SkipMemoryCheck() overrides the memory check"), "%v", err)
	_, err = os.Stat(shmDir + "/" + name)
	assert.Assert(t, os.IsNotExist(err))
	a, err := Create(name, []int{128 << 20}, Uint8, SkipMemoryCheck())
	assert.NilError(t, err)
	a.Close()
	assert.NilError(t, Delete(name))
	a, err = Create(name, []int{128 << 20}, Uint8, Sparse())
	assert.NilError(t, err, "a sparse array reserves nothing")
	a.Close()
	assert.NilError(t, Delete(name))
	// The real MemAvailable: more than it is refused up front.
	systemHost = old
	avail, _, err := old.memInfo()
	assert.NilError(t, err)
	_, err = Create(name, []int{int(avail) + 1<<30}, Uint8)
	assert.Assert(t, slices.Contains(refusedBy(err), WhereHostMemory), "%v", err)
}

// FuzzLocateCgroup: whatever /proc/self/cgroup and the mount table say,
// the cgroup directory found is the mount point or below it, so the walk
// up the hierarchy never leaves the mount.
func FuzzLocateCgroup(f *testing.F) {
	f.Add("0::/user.slice/a\n", mountsV2)
	f.Add("4:memory:/docker/abc\n0::/\n", mountsV1)
	f.Add("4:memory:/docker/abc\n", strings.Replace(mountsV1, "35 31 0:32 / ", "35 31 0:32 /docker ", 1))
	f.Add("0::/../x\n", "1 0 0:1 /a /mnt//c/ rw - cgroup2 x rw\n")
	f.Add("0::/a b\n", `1 0 0:1 / /mnt/c\040g/ rw - cgroup2 none rw`+"\n")
	f.Fuzz(func(t *testing.T, self, mounts string) {
		pl, err := locateCgroup([]byte(self), parseMountinfo([]byte(mounts)))
		if err != nil {
			return
		}
		if pl.version != 1 && pl.version != 2 {
			t.Fatalf("version %d", pl.version)
		}
		if pl.mount != path.Clean(pl.mount) || !path.IsAbs(pl.mount) {
			t.Fatalf("mount %q is not clean and absolute", pl.mount)
		}
		if pl.dir != pl.mount && !strings.HasPrefix(pl.dir, strings.TrimSuffix(pl.mount, "/")+"/") {
			t.Fatalf("dir %q is outside mount %q", pl.dir, pl.mount)
		}
		// The walk ends at the mount.
		dir := pl.dir
		for range maxCgroupDepth * 100 {
			if dir == pl.mount || dir == "/" {
				return
			}
			dir = path.Dir(dir)
		}
		t.Fatalf("walk from %q never reached %q", pl.dir, pl.mount)
	})
}

// LoadNPY, LoadNPYFrom and CreateRing make the same check as Create, and
// SkipMemoryCheck and Sparse have the same effect on it; a full file
// system is ENOSPC even with SkipMemoryCheck.
func TestMemoryCheckEveryPath(t *testing.T) {
	old := systemHost
	t.Cleanup(func() { systemHost = old })
	systemHost = newFakeHost(t, fakeV2("/", "max", "0", 100<<20), tmpfsStat(1<<40, 1<<40))
	const refusal = "host memory (MemAvailable) has 104857600 bytes (100.0 MiB) available of 64.0 GiB"
	gone := func(name string) {
		t.Helper()
		_, err := os.Stat(shmDir + "/" + name)
		assert.Assert(t, errors.Is(err, os.ErrNotExist), "%s left behind", name)
	}

	file := filepath.Join(t.TempDir(), "big.npy")
	npy := npyFile("{'descr': '|u1', 'fortran_order': False, 'shape': (134217728,), }", nil)
	assert.NilError(t, os.WriteFile(file, npy, 0o644))
	assert.NilError(t, os.Truncate(file, int64(len(npy))+128<<20)) // 128 MiB of zeros, sparse
	name := testName(t)
	_, err := LoadNPY(name, file)
	assert.Assert(t, errors.Is(err, syscall.ENOMEM), "%v", err)
	assert.Assert(t, strings.Contains(err.Error(), "import "+name+": cannot allocate memory: need 134218276 bytes (128.0 MiB), "+refusal), "%v", err)
	gone(name)
	a, err := LoadNPY(name, file, SkipMemoryCheck())
	assert.NilError(t, err)
	a.Close()
	assert.NilError(t, Delete(name))

	_, err = CreateRing(name, 4, []int{32 << 20}, Uint8)
	assert.Assert(t, errors.Is(err, syscall.ENOMEM), "%v", err)
	assert.Assert(t, strings.Contains(err.Error(), refusal), "%v", err)
	gone(name)
	w, err := CreateRing(name, 4, []int{32 << 20}, Uint8, Sparse())
	assert.NilError(t, err, "a sparse ring is not checked")
	w.Close()
	assert.NilError(t, Delete(name))

	// A full file system is still ENOSPC with SkipMemoryCheck.
	systemHost = old
	dir := testutil.MountTmpfs(t, 64<<20)
	_, err = Create("file://"+filepath.Join(dir, "a"), []int{80 << 20}, Uint8, SkipMemoryCheck())
	assert.Assert(t, errors.Is(err, syscall.ENOSPC), "%v", err)
	assert.Assert(t, strings.Contains(err.Error(), "file system "+dir+" has "), "%v", err)
	ents, err := os.ReadDir(dir)
	assert.NilError(t, err)
	assert.Equal(t, len(ents), 0, "nothing left behind")
}
