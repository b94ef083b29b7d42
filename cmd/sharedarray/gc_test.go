//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sharedarray/sharedarray"
	"github.com/sharedarray/sharedarray/internal/testutil"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// gcArgs returns the gc command line for patterns, with --force when some
// process here cannot be inspected (a sandbox's PID 1, say).
func gcArgs(t *testing.T, probe string, patterns ...string) []string {
	t.Helper()
	args := append([]string{"gc", "--older-than", "1h"}, patterns...)
	if _, err := sharedarray.Holders(probe); err != nil {
		assert.Assert(t, errors.Is(err, sharedarray.ErrPermission), "%v", err)
		args = append(args, "--force")
	}
	return args
}

// mkArray creates an array n, closed, last modified age ago.
func mkArray(t *testing.T, n string, age time.Duration) {
	t.Helper()
	a, err := sharedarray.Create(n, []int{4}, sharedarray.Uint8)
	assert.NilError(t, err)
	a.Close()
	setAge(t, n, age)
}

// stillLinked reports whether the file f has open still has a name.
func stillLinked(t *testing.T, f *os.File) bool {
	t.Helper()
	var st syscall.Stat_t
	assert.NilError(t, syscall.Fstat(int(f.Fd()), &st))
	return st.Nlink > 0
}

// gc removes only the file it checked: when the name it checked is
// swapped (renameat2 RENAME_EXCHANGE) with a held array's just before the
// removal, it keeps both and says so.
func TestGCSwappedBeforeDelete(t *testing.T) {
	a, b := name(t), name(t)
	mkArray(t, a, 2*time.Hour) // old, unheld: gc's
	mkArray(t, b, 0)           // new, held
	hb, err := sharedarray.Attach(b)
	assert.NilError(t, err)
	defer hb.Close()
	fb, err := os.Open("/dev/shm/" + b)
	assert.NilError(t, err)
	defer fb.Close()
	swapped := 0
	gcBeforeDelete = func(n string) {
		if n == a && swapped == 0 {
			assert.NilError(t, unix.Renameat2(unix.AT_FDCWD, "/dev/shm/"+a, unix.AT_FDCWD, "/dev/shm/"+b, unix.RENAME_EXCHANGE))
			swapped++
		}
	}
	t.Cleanup(func() { gcBeforeDelete = nil })
	code, out, errs := runCLI(gcArgs(t, a, a, b)...)
	assert.Equal(t, swapped, 1)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, stillLinked(t, fb), "gc removed the held array B (out %q, errs %q)", out, errs)
	assert.Equal(t, out, "")
	assert.Assert(t, strings.Contains(errs, "gc "+a+": changed while gc ran; kept"), errs)
	assert.Assert(t, exists(a) && exists(b))
}

// gc never removes a held array whose name is swapped to and fro with an
// unheld old one while it runs: the file it removes is the one whose age
// and holders it checked. Each round swaps A (old, unheld) and B (new,
// held by this process) in a tight loop while gc runs; B's file must keep
// its name (checked through a descriptor: its link count).
func TestGCSwapLoop(t *testing.T) {
	rounds := 60
	if testing.Short() {
		rounds = 10
	}
	removedA, kept := 0, 0
	for i := range rounds {
		a, b := name(t), name(t)
		mkArray(t, a, 2*time.Hour)
		mkArray(t, b, 0)
		hb, err := sharedarray.Attach(b)
		assert.NilError(t, err)
		fb, err := os.Open("/dev/shm/" + b)
		assert.NilError(t, err)
		fa, err := os.Open("/dev/shm/" + a) // to see whether A went; not a holder after the scan
		assert.NilError(t, err)
		var st syscall.Stat_t
		assert.NilError(t, syscall.Fstat(int(fa.Fd()), &st))
		fa.Close() // an open descriptor would make A held
		inoA := st.Ino
		args := gcArgs(t, a, a, b)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		swaps := 0
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if unix.Renameat2(unix.AT_FDCWD, "/dev/shm/"+a, unix.AT_FDCWD, "/dev/shm/"+b, unix.RENAME_EXCHANGE) == nil {
					swaps++
				}
			}
		}()
		_, out, errs := runCLI(args...)
		close(stop)
		wg.Wait()
		assert.Assert(t, stillLinked(t, fb), "round %d (%d swaps): gc removed the held array B: out %q, errs %q", i, swaps, out, errs)
		if strings.Contains(out, "removed ") {
			removedA++
			found := false
			for _, n := range []string{a, b} {
				var s syscall.Stat_t
				if syscall.Lstat("/dev/shm/"+n, &s) == nil && s.Ino == inoA {
					found = true
				}
			}
			assert.Assert(t, !found, "round %d: gc said it removed an array but A is still there: %q", i, out)
		}
		if strings.Contains(errs, "changed while gc ran") {
			kept++
		}
		fb.Close()
		hb.Close()
	}
	t.Logf("%d rounds: A removed in %d, kept as changed in %d", rounds, removedA, kept)
}

// A process whose main thread has exited while another thread runs holds
// what it maps or keeps open: ls counts it and gc keeps the array, even
// with --force --older-than 0.
func TestGCZombieLeader(t *testing.T) {
	for _, mode := range []string{"map", "fd"} {
		t.Run(mode, func(t *testing.T) {
			n := name(t)
			mkArray(t, n, 2*time.Hour)
			z := testutil.StartZombieLeader(t, "/dev/shm/"+n, mode)
			e := lsJSON(t)[n]
			assert.Equal(t, e.Attached, 1, "%+v", e)
			assert.Equal(t, e.Holders[0].PID, z.Process.Pid)
			code, out, errs := runCLI("gc", "--force", "--older-than", "0", n)
			assert.Equal(t, code, 0, errs)
			assert.Equal(t, out, "")
			assert.Assert(t, exists(n), "gc removed an array a live process holds")
			_, out, _ = runCLI("info", n)
			assert.Assert(t, strings.Contains(out, "\nattached    1"), out)
		})
	}
}

// When some process cannot be inspected, gc keeps the unheld arrays and
// names the processes, with their commands, so the operator knows what
// --force waives.
func TestGCNamesUninspected(t *testing.T) {
	n := name(t)
	mkArray(t, n, 2*time.Hour)
	old := scanHolders
	t.Cleanup(func() { scanHolders = old })
	pids := []int{1}
	comms := []string{"init me"}
	for i := range 11 {
		pids = append(pids, 1000+i)
		comms = append(comms, "")
	}
	scanHolders = func(infos []sharedarray.Info) (map[string][]sharedarray.Holder, error) {
		m, err := old(infos)
		if err != nil && !errors.Is(err, sharedarray.ErrPermission) {
			return m, err
		}
		return m, &sharedarray.UninspectedError{PIDs: pids, Commands: comms}
	}
	code, out, errs := runCLI("gc", "--older-than", "1h", n)
	assert.Equal(t, code, 1, errs)
	assert.Equal(t, out, "")
	assert.Assert(t, exists(n))
	want := "kept 1 unheld array(s): 12 process(es) could not be inspected (permission denied): PID 1 ('init me'), PID 1000, PID 1001"
	flat := strings.Join(strings.Fields(errs), " ") // messages wrap at 80 columns
	assert.Assert(t, strings.Contains(flat, want), errs)
	assert.Assert(t, strings.Contains(flat, "PID 1008 and 2 more, and they may hold them"), errs)
	assert.Equal(t, strings.Count(errs, "sharedarray: gc: kept"), 1, errs)

	// ls names them too, and marks its counts.
	_, out, errs = runCLI("ls")
	flat = strings.Join(strings.Fields(errs), " ")
	assert.Assert(t, strings.Contains(flat, "sharedarray: ls: 12 process(es) could not be inspected (permission denied): PID 1 ('init me'), PID 1000"), errs)
	assert.Assert(t, strings.Contains(flat, "; ATTACHED counts marked + are lower bounds"), errs)
	assert.Equal(t, strings.Fields(rowOf(t, out, n))[6], "0+")

	// --force removes it anyway.
	code, out, errs = runCLI("gc", "--older-than", "1h", "--force", n)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.HasPrefix(out, "removed "+n+" "), out)
}

// Where a real process cannot be inspected here (a sandbox's PID 1 that
// even root may not read), gc's message names it and its command.
func TestGCNamesRealUninspected(t *testing.T) {
	n := name(t)
	mkArray(t, n, 2*time.Hour)
	_, err := sharedarray.Holders(n)
	var ue *sharedarray.UninspectedError
	if !errors.As(err, &ue) || len(ue.PIDs) == 0 {
		t.Skip("every process here can be inspected")
	}
	code, _, errs := runCLI("gc", "--older-than", "1h", n)
	assert.Equal(t, code, 1, errs)
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", ue.PIDs[0]))
	want := fmt.Sprintf("PID %d", ue.PIDs[0])
	if err == nil {
		want += " (" + quote(strings.TrimSuffix(string(comm), "\n")) + ")"
	}
	assert.Assert(t, strings.Contains(errs, want), "%q lacks %q", errs, want)
	assert.Assert(t, exists(n))
}

// rm --force removes the file it checked, not what the name holds by the
// time of the removal: a valid array swapped in after the check is put
// back, and rm fails.
func TestRmForceSwapped(t *testing.T) {
	junk, arr := name(t), name(t)
	assert.NilError(t, os.WriteFile("/dev/shm/"+junk, []byte("not an array"), 0o600))
	mkArray(t, arr, 0)
	f, err := os.Open("/dev/shm/" + arr)
	assert.NilError(t, err)
	defer f.Close()
	rmBeforeRemove = func(path string) {
		assert.NilError(t, unix.Renameat2(unix.AT_FDCWD, path, unix.AT_FDCWD, "/dev/shm/"+arr, unix.RENAME_EXCHANGE))
	}
	t.Cleanup(func() { rmBeforeRemove = nil })
	code, out, errs := runCLI("rm", "--force", junk)
	assert.Equal(t, code, 1, out)
	oneError(t, errs, "rm", junk)
	assert.Assert(t, strings.Contains(errs, "another file took the name"), errs)
	assert.Assert(t, stillLinked(t, f), "rm --force removed the array swapped in")
	rmBeforeRemove = nil
	_, err = sharedarray.Stat(junk) // the array, under the junk's name
	assert.NilError(t, err)
	b, err := os.ReadFile("/dev/shm/" + arr)
	assert.NilError(t, err)
	assert.Equal(t, string(b), "not an array")
	// Unswapped, it goes.
	code, _, errs = runCLI("rm", "--force", arr)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, !exists(arr))
}

// A symbolic link put in place of the checked array before the removal is
// "changed while gc ran": kept, link and array both.
func TestGCSymlinkSwappedIn(t *testing.T) {
	a, b := name(t), name(t)
	mkArray(t, a, 2*time.Hour)
	gcBeforeDelete = func(n string) {
		if n == a {
			assert.NilError(t, os.Rename("/dev/shm/"+a, "/dev/shm/"+b))
			assert.NilError(t, os.Symlink(b, "/dev/shm/"+a))
		}
	}
	t.Cleanup(func() { gcBeforeDelete = nil })
	code, out, errs := runCLI(gcArgs(t, a, a)...)
	assert.Equal(t, code, 0, errs)
	assert.Equal(t, out, "")
	assert.Assert(t, strings.Contains(errs, "gc "+a+": changed while gc ran; kept"), errs)
	fi, err := os.Lstat("/dev/shm/" + a)
	assert.NilError(t, err)
	assert.Assert(t, fi.Mode()&os.ModeSymlink != 0)
	assert.Assert(t, exists(b))
}
