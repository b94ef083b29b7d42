package sharedarray

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// runFormatsChild runs the Delete helpers of these tests in a child
// process (see asNobody). Exit 0: as expected.
func runFormatsChild(spec string) int {
	f := strings.Fields(spec)
	switch f[0] {
	case "delete-own-0000":
		// Create an array only its owner (this user) could unlink, then
		// delete it: it cannot be read, so it cannot be validated.
		if _, err := Create(f[1], []int{4}, Float64, WithPerm(0)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		if _, err := Attach(f[1], ReadOnly()); !errors.Is(err, ErrPermission) {
			fmt.Fprintln(os.Stderr, "attach of a 0000 array:", err)
			return 4
		}
		if err := Delete(f[1]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 5
		}
		if _, err := os.Stat(shmDir + "/" + f[1]); !errors.Is(err, os.ErrNotExist) {
			return 6
		}
		return 0
	case "save-and-hang":
		// Export, and hang (to be killed) once the first bytes are out.
		a, err := Create(f[1], []int{1 << 20}, Uint8)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		a.SaveNPY(f[2], OnProgress(func(int64) {
			fmt.Println("writing")
			select {}
		}))
		return 8
	case "delete-foreign":
		err := Delete(f[1])
		if errors.Is(err, ErrPermission) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "delete of another user's array:", err)
		return 7
	}
	return 2
}

// The owner deletes its own mode-0000 array (unvalidated); another user
// cannot delete it, and it stays.
func TestDeleteUnreadable(t *testing.T) {
	t.Parallel()
	own := testName(t)
	assert.Equal(t, asNobody(t, "formats delete-own-0000 "+own), 0)
	foreign := testName(t)
	mustCreate(t, foreign, []int{4}, Float64, WithPerm(0))
	assert.Equal(t, asNobody(t, "formats delete-foreign "+foreign), 0)
	_, err := os.Stat(shmDir + "/" + foreign)
	assert.NilError(t, err)
	made := inodes{}
	made.add(t, shmDir+"/"+foreign)
	// The child, run as another user, made own.
	assertNoPrivateNames(t, shmDir, func(st *syscall.Stat_t) bool {
		return made.has(st) || st.Uid != uint32(os.Geteuid())
	})
}

func assertNoPrivateNames(t *testing.T, dir string, mine func(*syscall.Stat_t) bool) {
	t.Helper()
	// Other processes' Deletes hold private names for microseconds, and
	// other tests (the CLI's gc tests) plant private names in /dev/shm on
	// purpose: only a name that stays and holds a file of this test's
	// (mine; nil: every file, for a directory of the test's own) is left
	// behind.
	private := func() map[string]bool {
		ents, err := os.ReadDir(dir)
		assert.NilError(t, err)
		m := map[string]bool{}
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), deletePrefix) {
				continue
			}
			var st syscall.Stat_t
			if mine != nil && (syscall.Lstat(filepath.Join(dir, e.Name()), &st) != nil || !mine(&st)) {
				continue
			}
			m[e.Name()] = true
		}
		return m
	}
	first := private()
	if len(first) == 0 {
		return
	}
	time.Sleep(200 * time.Millisecond)
	for n := range private() {
		assert.Assert(t, !first[n], "left behind: %s", n)
	}
}

// inodes collects the inodes of the files a test makes in a shared
// directory, for assertNoPrivateNames.
type inodes map[[2]uint64]bool

func (s inodes) add(t *testing.T, path string) {
	t.Helper()
	var st syscall.Stat_t
	assert.NilError(t, syscall.Stat(path, &st))
	s[[2]uint64{uint64(st.Dev), st.Ino}] = true
}

func (s inodes) has(st *syscall.Stat_t) bool { return s[[2]uint64{uint64(st.Dev), st.Ino}] }

// deleteFunc is Delete; a test may swap in another to check that
// TestDeleteSwapped can fail.
var deleteFunc = Delete

// Delete removes exactly the file it validated: with another goroutine
// swapping the array and a non-array file (RENAME_EXCHANGE) in a loop, the
// non-array file is never removed.
func TestDeleteSwapped(t *testing.T) {
	t.Parallel()
	for _, scheme := range []string{"shm", "file"} {
		t.Run(scheme, func(t *testing.T) {
			dir, prefix := shmDir, ""
			if scheme == "file" {
				dir = t.TempDir()
				prefix = "file://" + dir + "/"
			}
			swaps, removedArray := 0, 0
			made := inodes{}
			for i := range 300 {
				arr, other := testName(t), testName(t)
				arrPath, otherPath := filepath.Join(dir, arr), filepath.Join(dir, other)
				a := mustCreate(t, prefix+arr, []int{64}, Uint8)
				a.Close()
				assert.NilError(t, os.WriteFile(otherPath, []byte(strings.Repeat("precious ", 100)), 0o644))
				t.Cleanup(func() { os.Remove(otherPath); os.Remove(arrPath) })
				var st syscall.Stat_t
				assert.NilError(t, syscall.Stat(otherPath, &st))
				made.add(t, arrPath)
				made.add(t, otherPath)
				stop, done, started := make(chan struct{}), make(chan int), make(chan struct{})
				ready := started
				go func() {
					n := 0
					for {
						if n == 20 && started != nil {
							close(started)
							started = nil
						}
						select {
						case <-stop:
							done <- n
							return
						default:
						}
						if unix.Renameat2(unix.AT_FDCWD, arrPath, unix.AT_FDCWD, otherPath, unix.RENAME_EXCHANGE) == nil {
							n++
						}
					}
				}()
				<-ready // swapping is under way
				err := deleteFunc(prefix + arr)
				close(stop)
				swaps += <-done
				if err == nil {
					removedArray++
				}
				// The non-array file's inode is still there, under one of
				// the two names.
				found := false
				for _, p := range []string{arrPath, otherPath} {
					var s syscall.Stat_t
					if syscall.Stat(p, &s) == nil && s.Ino == st.Ino && s.Dev == st.Dev {
						found = true
					}
				}
				assert.Assert(t, found, "round %d: Delete removed the non-array file (err %v)", i, err)
			}
			t.Logf("%d swaps, %d of 300 deletes removed the array", swaps, removedArray)
			assert.Assert(t, removedArray > 0)
			assertNoPrivateNames(t, dir, made.has)
		})
	}
}

// A directory symlink in a file:// path swapped during Delete: the
// directory is resolved once, so a non-array file in the other directory
// is never removed.
func TestDeleteDirSymlinkSwapped(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	good, bad := filepath.Join(root, "good"), filepath.Join(root, "bad")
	assert.NilError(t, os.Mkdir(good, 0o755))
	assert.NilError(t, os.Mkdir(bad, 0o755))
	link := filepath.Join(root, "link")
	precious := filepath.Join(bad, "x")
	assert.NilError(t, os.WriteFile(precious, []byte(strings.Repeat("precious ", 100)), 0o644))
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; !stop.Load(); i++ {
			target := good
			if i%2 == 1 {
				target = bad
			}
			tmp := link + ".new"
			os.Remove(tmp)
			if os.Symlink(target, tmp) == nil {
				os.Rename(tmp, link)
			}
		}
	}()
	deleted := 0
	for range 300 {
		a, err := Create("file://"+filepath.Join(good, "x"), []int{16}, Uint8)
		if err == nil {
			a.Close()
		}
		if Delete("file://"+filepath.Join(link, "x")) == nil {
			deleted++
		}
		_, err = os.Stat(precious)
		assert.NilError(t, err, "Delete removed the file in the other directory")
	}
	stop.Store(true)
	<-done
	t.Logf("%d of 300 deletes went through the link", deleted)
	assertNoPrivateNames(t, good, nil)
	assertNoPrivateNames(t, bad, nil)
}

// Things that are not arrays are never moved: a directory (even one as
// important as the parent of everything), a FIFO, a symlink to an array.
// Names with control characters work.
func TestDeleteOddTargets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	assert.NilError(t, os.Mkdir(sub, 0o755))
	assert.NilError(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	arr := filepath.Join(dir, "arr")
	a, err := Create("file://"+arr, []int{2}, Uint8)
	assert.NilError(t, err)
	a.Close()
	assert.NilError(t, os.Symlink(arr, filepath.Join(dir, "link")))
	for _, n := range []string{"sub", "fifo", "link"} {
		err := Delete("file://" + filepath.Join(dir, n))
		assert.Assert(t, err != nil, n)
		if n == "link" {
			assert.Assert(t, errors.Is(err, syscall.ELOOP), "%v", err)
			assert.ErrorContains(t, err, "symbolic link")
		}
		_, err = os.Lstat(filepath.Join(dir, n))
		assert.NilError(t, err, "%s was moved", n)
	}
	_, err = os.Stat(arr)
	assert.NilError(t, err, "the link's target was removed")
	assertNoPrivateNames(t, dir, nil)

	for _, n := range []string{"a\nb", "tab\there", "esc\x1b[31m", "del\x7f", "\u202eevil"} {
		name := testName(t) + n
		_, err := Create(name, []int{3}, Int16)
		assert.NilError(t, err, "%q", name)
		assert.NilError(t, Delete(name), "%q", name)
		path := filepath.Join(dir, "f"+n)
		_, err = Create("file://"+path, []int{3}, Int16)
		assert.NilError(t, err, "%q", path)
		assert.NilError(t, Delete("file://"+path), "%q", path)
	}
}

// List never shows an array under Delete's private name.
func TestListSkipsPrivateNames(t *testing.T) {
	name := deletePrefix + testName(t)
	a, err := Create(name, []int{2}, Uint8)
	assert.NilError(t, err)
	a.Close()
	t.Cleanup(func() { os.Remove(shmDir + "/" + name) })
	infos, err := List()
	assert.NilError(t, err)
	for _, in := range infos {
		assert.Assert(t, in.Name != name)
	}
}

// DeleteIfUnchanged removes the file an Info describes and nothing else:
// after a swap of names, a change of size or mtime, it removes nothing,
// says ESTALE and leaves every file where it was.
func TestDeleteIfUnchanged(t *testing.T) {
	a, b := testName(t), testName(t)
	mustCreate(t, a, []int{8}, Uint8).Close()
	mustCreate(t, b, []int{8}, Uint8).Close()
	ino := func(n string) uint64 {
		var st syscall.Stat_t
		if syscall.Lstat(shmDir+"/"+n, &st) != nil {
			return 0
		}
		return st.Ino
	}
	inA, inB := ino(a), ino(b)
	infoA, err := Stat(a)
	assert.NilError(t, err)

	// Swapped: the name a now holds b's file.
	assert.NilError(t, unix.Renameat2(unix.AT_FDCWD, shmDir+"/"+a, unix.AT_FDCWD, shmDir+"/"+b, unix.RENAME_EXCHANGE))
	err = DeleteIfUnchanged(infoA)
	assert.ErrorIs(t, err, syscall.ESTALE)
	assert.Equal(t, ino(a), inB)
	assert.Equal(t, ino(b), inA)
	assert.NilError(t, unix.Renameat2(unix.AT_FDCWD, shmDir+"/"+a, unix.AT_FDCWD, shmDir+"/"+b, unix.RENAME_EXCHANGE))

	// Modified (mtime) since it was checked.
	old := time.Now().Add(-time.Hour)
	assert.NilError(t, os.Chtimes(shmDir+"/"+a, old, old))
	assert.ErrorIs(t, DeleteIfUnchanged(infoA), syscall.ESTALE)
	assert.Equal(t, ino(a), inA)

	// Checked again: removed, and only it.
	infos, err := List()
	assert.NilError(t, err)
	i := slices.IndexFunc(infos, func(in Info) bool { return in.Name == a })
	assert.Assert(t, i >= 0)
	assert.NilError(t, DeleteIfUnchanged(infos[i]))
	assert.Equal(t, ino(a), uint64(0))
	assert.Equal(t, ino(b), inB)

	// Grown since it was checked.
	infoB, err := Stat(b)
	assert.NilError(t, err)
	f, err := os.OpenFile(shmDir+"/"+b, os.O_RDWR, 0)
	assert.NilError(t, err)
	assert.NilError(t, f.Truncate(infoB.Size+4096))
	f.Close()
	assert.ErrorIs(t, DeleteIfUnchanged(infoB), syscall.ESTALE)
	assert.Equal(t, ino(b), inB)

	// Not from List or Stat.
	assert.ErrorIs(t, DeleteIfUnchanged(Info{Name: b}), ErrInvalid)
	_, err = HoldersOf([]Info{{Name: b}})
	assert.ErrorIs(t, err, ErrInvalid)
	assert.Equal(t, ino(b), inB)
	assertNoPrivateNames(t, shmDir, func(st *syscall.Stat_t) bool { return st.Ino == inA || st.Ino == inB })

	// A link swapped in at a file:// name is refused and left.
	dir := t.TempDir()
	p := dir + "/x.arr"
	mustCreate(t, "file://"+p, []int{8}, Uint8).Close()
	info, err := Stat("file://" + p)
	assert.NilError(t, err)
	assert.NilError(t, os.Rename(p, dir+"/y.arr"))
	assert.NilError(t, os.Symlink(dir+"/y.arr", p))
	assert.ErrorIs(t, DeleteIfUnchanged(info), syscall.ELOOP)
	fi, err := os.Lstat(p)
	assert.NilError(t, err)
	assert.Assert(t, fi.Mode()&os.ModeSymlink != 0)
	_, err = Stat("file://" + dir + "/y.arr")
	assert.NilError(t, err)
}

// HoldersOf reports the holders of the file Stat read, whatever the name
// holds by the time it scans /proc.
func TestHoldersOfSwapped(t *testing.T) {
	free, held := testName(t), testName(t)
	mustCreate(t, free, []int{8}, Uint8).Close()
	h := mustCreate(t, held, []int{8}, Uint8)
	defer h.Close()
	freeInfo, err := Stat(free)
	assert.NilError(t, err)
	heldInfo, err := Stat(held)
	assert.NilError(t, err)
	assert.NilError(t, unix.Renameat2(unix.AT_FDCWD, shmDir+"/"+free, unix.AT_FDCWD, shmDir+"/"+held, unix.RENAME_EXCHANGE))
	m, err := HoldersOf([]Info{freeInfo, heldInfo})
	inspected(t, err)
	assert.Equal(t, len(m[0]), 0, "%v", m[0])
	assert.DeepEqual(t, holderPIDs(m[1]), []int{os.Getpid()})
	hs, err := Holders(free) // by name: the swapped files
	inspected(t, err)
	assert.DeepEqual(t, holderPIDs(hs), []int{os.Getpid()})
	hs, err = Holders(held)
	inspected(t, err)
	assert.Equal(t, len(hs), 0, "%v", hs)
}

// Info.Dev and Info.Ino are the device and inode numbers of the file
// Stat read, and they follow the file, not the name.
func TestInfoDevIno(t *testing.T) {
	a, b := testName(t), testName(t)
	mustCreate(t, a, []int{8}, Uint8).Close()
	mustCreate(t, b, []int{8}, Uint8).Close()
	in, err := Stat(a)
	assert.NilError(t, err)
	var st unix.Stat_t
	assert.NilError(t, unix.Lstat(shmDir+"/"+a, &st))
	assert.Equal(t, in.Dev, uint64(st.Dev))
	assert.Equal(t, in.Ino, uint64(st.Ino))
	assert.Assert(t, in.Ino != 0)
	assert.NilError(t, unix.Renameat2(unix.AT_FDCWD, shmDir+"/"+a, unix.AT_FDCWD, shmDir+"/"+b, unix.RENAME_EXCHANGE))
	inB, err := Stat(b)
	assert.NilError(t, err)
	assert.Equal(t, [2]uint64{inB.Dev, inB.Ino}, [2]uint64{in.Dev, in.Ino}, "the file a was, now named b")
	infos, err := List()
	assert.NilError(t, err)
	found := false
	for _, l := range infos {
		if l.Name == b {
			found = true
			assert.Equal(t, [2]uint64{l.Dev, l.Ino}, [2]uint64{in.Dev, in.Ino}, "List agrees with Stat")
		}
	}
	assert.Assert(t, found)
}
