//go:build linux

package sharedarray

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sharedarray/sharedarray/internal/testutil"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// ReadLimits on a fake tree reads every value from it, and its Check
// decides as Create's check does.
func TestReadLimitsFake(t *testing.T) {
	k8s := "/kubepods/pod1/ctr"
	tree := merge(fakeV2(k8s, "1073741824", "104857600", 60*gib), fakeTree{
		"/sys/fs/cgroup/kubepods/pod1/ctr/memory.stat":      "anon 1\ninactive_file 4096\n",
		"/sys/fs/cgroup/kubepods/pod1/memory.max":           "max\n",
		"/sys/fs/cgroup/kubepods/pod1/memory.current":       "1\n",
		"/proc/sys/vm/max_map_count":                        "65530\n",
		"/proc/self/maps":                                   "a\nb\nc\n",
		"/sys/kernel/mm/transparent_hugepage/shmem_enabled": "always within_size advise [never] deny force\n",
		"/proc/self/mountinfo":                              mountsV2 + "26 25 0:24 / /dev/shm rw - tmpfs shm rw,size=65536k,huge=never\n",
	})
	h := newFakeHost(t, tree, tmpfsStat(64*mib, 60*mib))
	l := h.readLimits(shmDir)
	assert.Equal(t, l.Dir, shmDir)
	assert.DeepEqual(t, l.Mount, mountInfo{Point: "/dev/shm", Type: "tmpfs", Source: "shm", Options: "rw,size=65536k,huge=never"})
	assert.Equal(t, l.FSSize, 64*mib)
	assert.Equal(t, l.FSFree, 60*mib)
	assert.Assert(t, l.FSMemory)
	assert.Equal(t, l.MemTotal, 64*gib)
	assert.Equal(t, l.MemAvailable, 60*gib)
	assert.DeepEqual(t, l.Cgroup, cgroupMemory{Version: 2, Path: "/sys/fs/cgroup" + k8s, LimitPath: "/sys/fs/cgroup" + k8s,
		Limit: gib, Usage: 100 * mib, Reclaimable: 4096, Available: 924*mib + 4096, Controller: true})
	assert.Equal(t, l.MaxMapCount, int64(65530))
	assert.Equal(t, l.Mappings, int64(3))
	assert.Equal(t, l.ShmemTHP, "never")
	assert.Equal(t, len(l.Warnings), 0, "%q", l.Warnings)

	n, where := l.Room()
	assert.Equal(t, n, 60*mib)
	assert.Equal(t, where, WhereFileSystem)
	assert.NilError(t, l.Check(60*mib))
	err := l.Check(61 * mib)
	assert.DeepEqual(t, refusedBy(err), []string{WhereFileSystem})
	assert.Assert(t, strings.Contains(err.Error(), "file system /dev/shm has 62914560 bytes (60.0 MiB) available of 64.0 MiB: make the tmpfs larger (/dev/shm: docker run --shm-size"), "%v", err)
	assert.DeepEqual(t, refusedBy(l.Check(2*gib)), []string{WhereFileSystem, WhereCgroup})

	// Missing files are warnings, never a refusal.
	h = newFakeHost(t, fakeTree{"/proc/self/cgroup": "|fifo"}, tmpfsStat(64*mib, 60*mib))
	l = h.readLimits(shmDir)
	assert.Equal(t, l.MemAvailable, int64(-1))
	assert.Equal(t, l.Cgroup.Available, int64(-1))
	assert.Equal(t, l.MaxMapCount, int64(-1))
	assert.Equal(t, l.Mappings, int64(-1))
	assert.Equal(t, l.ShmemTHP, "")
	warns := strings.Join(l.Warnings, "\n")
	for _, w := range []string{"/proc/meminfo", "/proc/self/cgroup: not a regular file", "/proc/self/mountinfo", "/proc/sys/vm/max_map_count", "/proc/self/maps"} {
		assert.Assert(t, strings.Contains(warns, w), "%s", warns)
	}
	assert.NilError(t, l.Check(60*mib))
	n, where = l.Room()
	assert.Equal(t, n, 60*mib)
	assert.Equal(t, where, WhereFileSystem)
}

// Check and Create's check agree on every fake tree where Create checks
// (a memory file system, 64 MiB or more).
func TestLimitsCheckAgrees(t *testing.T) {
	for _, tc := range []struct {
		tree fakeTree
		st   unix.Statfs_t
	}{
		{fakeV2("/a", "1073741824", "104857600", 60*gib), tmpfsStat(1<<40, 1<<40)},
		{fakeV2("/a", "1073741824", "104857600", 512*mib), tmpfsStat(2*gib, 768*mib)},
		{merge(fakeV2("/a", "1073741824", "1073741824", 60*gib), fakeTree{"/sys/fs/cgroup/a/memory.stat": "inactive_file 268435456\n"}), tmpfsStat(0, 0)},
		{merge(fakeV1("/d/c", "/", 3*gib), fakeTree{
			"/sys/fs/cgroup/memory/d/memory.limit_in_bytes": "2147483648\n", "/sys/fs/cgroup/memory/d/memory.usage_in_bytes": "0\n",
		}), tmpfsStat(4*gib, 4*gib)},
	} {
		h := newFakeHost(t, tc.tree, tc.st)
		l := h.readLimits(shmDir)
		// Room is the largest array that fits.
		room, _ := l.Room()
		assert.NilError(t, l.Check(room))
		assert.Assert(t, l.Check(room+1) != nil, "room %d", room)
		for need := int64(memCheckFloor); need < 8*gib; need += 64 * mib {
			assert.DeepEqual(t, refusedBy(l.Check(need)), refusedBy(h.checkSpace(shmDir, need)))
		}
	}
}

// ReadLimits and Create on a real 80 MiB tmpfs: the size, the type, the
// arrays in it, and an up-front refusal naming it.
// CheckSpace: a small array fits, a bad name or dtype is Create's error,
// a missing directory names it, 1 PiB is a *SpaceError.
func TestCheckSpace(t *testing.T) {
	assert.NilError(t, CheckSpace("shm://x", []int{4096}, Uint8))
	assert.Assert(t, errors.Is(CheckSpace("shm://a/b", []int{1}, Uint8), ErrInvalid))
	assert.Assert(t, errors.Is(CheckSpace("x", []int{1}, bytesDtype(0)), ErrDtype))
	assert.Assert(t, errors.Is(CheckSpace("file:///nonexistent-dir-sharedarray/x", []int{1}, Uint8), ErrNotExist))
	var se *SpaceError
	assert.Assert(t, errors.As(CheckSpace("x", []int{1 << 50}, Uint8), &se))
	assert.Equal(t, se.Need, int64(1<<50+548))
}

func TestReadLimitsTmpfs(t *testing.T) {
	dir := testutil.MountTmpfs(t, 80<<20)
	l := readLimits(dir)
	assert.Equal(t, l.Dir, dir)
	assert.Equal(t, l.Mount.Point, dir)
	assert.Equal(t, l.Mount.Type, "tmpfs")
	assert.Assert(t, strings.Contains(l.Mount.Options, "size=81920k"), "%s", l.Mount.Options)
	assert.Equal(t, l.FSSize, int64(80<<20))
	assert.Equal(t, l.FSFree, int64(80<<20))
	assert.Assert(t, l.FSMemory && l.Writable)
	assert.Equal(t, l.Arrays, 0)

	a, err := Create("file://"+filepath.Join(dir, "a"), []int{1 << 20}, Uint8)
	assert.NilError(t, err)
	a.Close()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "not-an-array"), []byte("x"), 0o644))
	l = readLimits(dir)
	assert.Equal(t, l.Arrays, 1)
	assert.Equal(t, l.ArrayBytes, int64(1<<20+548))

	// 96 MiB is refused before anything is reserved, naming the tmpfs.
	_, err = Create("file://"+filepath.Join(dir, "big"), []int{96 << 20}, Uint8)
	assert.Assert(t, errors.Is(err, syscall.ENOSPC), "%v", err)
	assert.DeepEqual(t, refusedBy(err), refusedBy(l.Check(96<<20+548)))
	// CheckSpace answers as Create does, without creating.
	assert.DeepEqual(t, refusedBy(err), refusedBy(CheckSpace("file://"+filepath.Join(dir, "big"), []int{96 << 20}, Uint8)))
	assert.NilError(t, CheckSpace("file://"+filepath.Join(dir, "big"), []int{60 << 20}, Uint8))
	assert.Assert(t, strings.Contains(err.Error(), "file system "+dir+" has "), "%v", err)
	assert.Assert(t, strings.Contains(err.Error(), "docker run --shm-size"), "%v", err)
	_, err = os.Stat(filepath.Join(dir, "big"))
	assert.Assert(t, os.IsNotExist(err))
	// 70 MiB fits, and then 70 more do not: refused up front, naming it.
	b, err := Create("file://"+filepath.Join(dir, "b"), []int{70 << 20}, Uint8)
	assert.NilError(t, err)
	b.Close()
	_, err = Create("file://"+filepath.Join(dir, "c"), []int{70 << 20}, Uint8)
	assert.Assert(t, strings.Contains(err.Error(), "file system "+dir+" has "), "%v", err)
	// Under 64 MiB the reservation decides, with the same advice; CheckSpace
	// checks any size, and refuses what Create will.
	assert.Assert(t, errors.Is(CheckSpace("file://"+filepath.Join(dir, "d"), []int{16 << 20}, Uint8), syscall.ENOSPC))
	_, err = Create("file://"+filepath.Join(dir, "d"), []int{16 << 20}, Uint8)
	assert.Assert(t, errors.Is(err, syscall.ENOSPC), "%v", err)
	assert.Assert(t, strings.Contains(err.Error(), "make the tmpfs larger"), "%v", err)
}

// ReadLimits of /dev/shm on this machine: values that must be there on
// any Linux, and the arrays count moving with a Create.
func TestReadLimitsReal(t *testing.T) {
	before := readLimits("")
	assert.Equal(t, before.Dir, shmDir)
	assert.Assert(t, before.Mount.Point != "", "%+v", before)
	assert.Assert(t, before.FSSize >= 0 && before.FSFree >= 0, "%+v", before)
	assert.Assert(t, before.MemAvailable > 0 && before.MemTotal >= before.MemAvailable, "%+v", before)
	assert.Assert(t, before.MaxMapCount > 0 && before.Mappings > 0 && before.Mappings < before.MaxMapCount, "%+v", before)
	name := testName(t)
	a := mustCreate(t, name, []int{3 << 20}, Uint8)
	a.Close()
	after := readLimits(shmDir)
	assert.Assert(t, after.Arrays >= 1 && after.ArrayBytes >= 3<<20, "%+v", after)
	assert.Assert(t, len(after.Warnings) == 0, "%q", after.Warnings)
}

// An ENOSPC from the reservation itself (an array under the size Create
// checks up front) names the directory whose file system is full.
func TestSpaceErrorNamesDir(t *testing.T) {
	t.Parallel()
	dir := testutil.MountTmpfs(t, 1<<20)
	_, err := Create("file://"+filepath.Join(dir, "big"), []int{2 << 20}, Uint8)
	assert.Assert(t, errors.Is(err, syscall.ENOSPC), "%v", err)
	assert.Assert(t, strings.Contains(err.Error(), "need 2097700 bytes (2.0 MiB), file system "+dir+" has "), "%v", err)
}
