package sharedarray

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sharedarray/sharedarray/internal/testutil"
	"gotest.tools/v3/assert"
)

// holdersChild is the child side of the holders tests.
//
//	hold NAME map|fd   attach NAME (keep the mapping) or only open it,
//	                   print "ready", wait for stdin to close
//	holders NAME       attach NAME, call Holders, print what it says
func holdersChild(f []string) int {
	switch f[0] {
	case "hold":
		if f[2] == "map" {
			a, err := Attach(f[1], ReadOnly())
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 3
			}
			defer a.Close()
		} else {
			fd, err := os.Open(shmDir + "/" + f[1])
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 3
			}
			defer fd.Close()
		}
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		return 0
	case "holders":
		a, err := Attach(f[1], ReadOnly())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		defer a.Close()
		hs, err := Holders(f[1])
		var ue *UninspectedError
		if !errors.As(err, &ue) || !errors.Is(err, ErrPermission) {
			fmt.Fprintln(os.Stderr, "want an UninspectedError, got", err)
			return 6
		}
		if !slices.Contains(ue.PIDs, 1) && os.Getpid() != 1 {
			fmt.Fprintln(os.Stderr, "PID 1 (root's) not reported uninspected:", ue.PIDs)
			return 7
		}
		if len(f) > 2 && slices.Contains(ue.PIDs, atoi(f[2])) {
			fmt.Fprintln(os.Stderr, "a zombie counted as uninspected:", f[2])
			return 9
		}
		if len(f) > 3 && !slices.Contains(ue.PIDs, atoi(f[3])) {
			fmt.Fprintln(os.Stderr, "a live process whose main thread exited counted as holding nothing:", f[3], ue.PIDs)
			return 10
		}
		if len(ue.Commands) != len(ue.PIDs) {
			fmt.Fprintln(os.Stderr, "Commands and PIDs differ in length:", ue.Commands, ue.PIDs)
			return 11
		}
		for i, pid := range ue.PIDs {
			comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			if err == nil && ue.Commands[i] != strings.TrimSuffix(string(comm), "\n") {
				fmt.Fprintf(os.Stderr, "PID %d: command %q, /proc says %q\n", pid, ue.Commands[i], comm)
				return 12
			}
			if err == nil && !strings.Contains(ue.reason(), fmt.Sprintf("PID %d %q", pid, ue.Commands[i])) && i < 10 {
				fmt.Fprintf(os.Stderr, "Reason does not name PID %d: %s\n", pid, ue.reason())
				return 13
			}
		}
		if !slices.ContainsFunc(hs, func(h Holder) bool { return h.PID == os.Getpid() && h.Mapped }) {
			fmt.Fprintln(os.Stderr, "the child itself is not among", hs)
			return 8
		}
		return 0
	}
	return 4
}

// startHolder runs a child that holds name (mode "map" or "fd") until the
// test ends.
func startHolder(t *testing.T, name, mode string) *exec.Cmd {
	t.Helper()
	return testutil.StartHolder(t, child("hold "+name+" "+mode), "holder ("+mode+") of "+name)
}

func holderPIDs(hs []Holder) []int {
	var pids []int
	for _, h := range hs {
		pids = append(pids, h.PID)
	}
	return pids
}

func TestHolders(t *testing.T) {
	t.Parallel()
	name := testName(t)
	a := mustCreate(t, name, []int{64}, Uint8)
	hs, err := Holders(name)
	inspected(t, err)
	assert.DeepEqual(t, hs, []Holder{{PID: os.Getpid(), Command: selfComm(t), Mapped: true}})
	assert.NilError(t, a.Close())
	hs, err = Holders("shm://" + name)
	inspected(t, err)
	assert.Equal(t, len(hs), 0, "closed: no holder left: %v", hs)

	mapper := startHolder(t, name, "map")
	opener := startHolder(t, name, "fd")
	hs, err = Holders(name)
	inspected(t, err)
	assert.Equal(t, len(hs), 2, "%v", hs)
	want := []Holder{{PID: mapper.Process.Pid, Mapped: true}, {PID: opener.Process.Pid, Open: true}}
	if want[0].PID > want[1].PID {
		want[0], want[1] = want[1], want[0]
	}
	for i, h := range hs {
		assert.Equal(t, h.PID, want[i].PID)
		assert.Equal(t, h.Mapped, want[i].Mapped)
		assert.Equal(t, h.Open, want[i].Open)
		assert.Assert(t, h.Command != "")
	}

	// Matched by inode: under a new name the holders are the same, and
	// another array with the old name has none.
	moved := testName(t)
	assert.NilError(t, os.Rename(shmDir+"/"+name, shmDir+"/"+moved))
	hs, err = Holders(moved)
	inspected(t, err)
	assert.DeepEqual(t, holderPIDs(hs), holderPIDs(want))
	mustCreate(t, name, []int{64}, Uint8).Close()
	hs, err = Holders(name)
	inspected(t, err)
	assert.Equal(t, len(hs), 0, "%v", hs)

	// file:// arrays too.
	path := "file://" + t.TempDir() + "/x.arr"
	f := mustCreate(t, path, []int{8}, Uint8)
	hs, err = Holders(path)
	inspected(t, err)
	assert.DeepEqual(t, holderPIDs(hs), []int{os.Getpid()})
	assert.NilError(t, f.Close())

	_, err = Holders(testName(t))
	assert.ErrorIs(t, err, ErrNotExist)
	_, err = Holders("a/b")
	assert.ErrorIs(t, err, ErrInvalid)
}

// HoldersOf answers for many arrays at once, each with its own holders.
func TestHoldersOf(t *testing.T) {
	t.Parallel()
	held, free := testName(t), testName(t)
	mustCreate(t, held, []int{8}, Uint8).Close()
	mustCreate(t, free, []int{8}, Uint8).Close()
	h := startHolder(t, held, "map")
	gone := testName(t)
	mustCreate(t, gone, []int{8}, Uint8).Close()
	var infos []Info
	for _, n := range []string{held, free, gone} {
		in, err := Stat(n)
		assert.NilError(t, err)
		infos = append(infos, in)
	}
	assert.NilError(t, Delete(gone))
	m, err := HoldersOf(infos)
	inspected(t, err)
	assert.Equal(t, len(m), 3, "an answer for every Info, a removed file's too")
	assert.DeepEqual(t, holderPIDs(m[0]), []int{h.Process.Pid})
	assert.Assert(t, m[1] != nil && len(m[1]) == 0, "an unheld array's answer is empty, not nil: %#v", m[1])
	assert.Equal(t, len(m[2]), 0)
}

// A process the caller may not inspect is reported, not counted as zero:
// run as nobody, Holders names root's PID 1 uninspected, with its command
// name, and still finds the caller itself.
func TestHoldersUninspected(t *testing.T) {
	t.Parallel()
	name := testName(t)
	mustCreate(t, name, []int{8}, Uint8, WithPerm(0o644)).Close()
	// A zombie of root's holds nothing: not uninspected.
	z := exec.Command("true")
	assert.NilError(t, z.Start())
	t.Cleanup(func() { z.Wait() })
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", z.Process.Pid))
		assert.NilError(t, err)
		if i := bytes.LastIndexByte(b, ')'); i > 0 && bytes.HasPrefix(b[i:], []byte(") Z")) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// A process of root's whose main thread has exited while another
	// runs is not a zombie: it is uninspected, never "holds nothing".
	zl := testutil.StartZombieLeader(t, shmDir+"/"+name, "map")
	assert.Equal(t, asNobody(t, fmt.Sprintf("holders %s %d %d", name, z.Process.Pid, zl.Process.Pid)), 0)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// A holder killed with SIGKILL no longer holds the array, which stays.
func TestHoldersKilled(t *testing.T) {
	t.Parallel()
	name := testName(t)
	mustCreate(t, name, []int{8}, Uint8).Close()
	h := startHolder(t, name, "map")
	assert.NilError(t, h.Process.Signal(syscall.SIGKILL))
	h.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		hs, err := Holders(name)
		inspected(t, err)
		if len(hs) == 0 {
			break
		}
		assert.Assert(t, time.Now().Before(deadline), "still held: %v", hs)
		time.Sleep(10 * time.Millisecond)
	}
	_, err := Stat(name)
	assert.NilError(t, err, "the array outlives its killed holder")
}

// inspected fails the test on an error other than an UninspectedError.
// Processes outside the test's reach (a sandbox's PID 1 that even root may
// not read) may be uninspected; the test's own processes may not.
func inspected(t *testing.T, err error, own ...*exec.Cmd) {
	t.Helper()
	var ue *UninspectedError
	if err == nil {
		return
	}
	assert.Assert(t, errors.As(err, &ue), "%v", err)
	t.Logf("uninspected: %v", ue.PIDs)
	assert.Assert(t, !slices.Contains(ue.PIDs, os.Getpid()))
	for _, c := range own {
		assert.Assert(t, !slices.Contains(ue.PIDs, c.Process.Pid))
	}
}

func selfComm(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/comm")
	assert.NilError(t, err)
	return string(b[:len(b)-1])
}

// BenchmarkHolders1000 measures what ls pays for the ATTACHED column with
// 1000 arrays in /dev/shm: List alone (the baseline), List plus one
// HoldersOf pass, and one Holders call an array (what a scan per array
// would cost).
func BenchmarkHolders1000(b *testing.B) {
	names := make([]string, 1000)
	for i := range names {
		names[i] = testName(b)
		a, err := Create(names[i], []int{8}, Uint8)
		if err != nil {
			b.Fatal(err)
		}
		a.Close()
	}
	b.Run("list", func(b *testing.B) {
		for b.Loop() {
			if _, err := List(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list+HoldersOf", func(b *testing.B) {
		for b.Loop() {
			infos, err := List()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := HoldersOf(infos); err != nil && !errors.Is(err, ErrPermission) {
				b.Fatal(err)
			}
		}
	})
	b.Run("Holders-each", func(b *testing.B) {
		for b.Loop() {
			for _, n := range names {
				if _, err := Holders(n); err != nil && !errors.Is(err, ErrPermission) {
					b.Fatal(err)
				}
			}
		}
	})
}

// A process whose main thread has exited while another thread runs (its
// leader a zombie, its /proc/PID/maps and /proc/PID/fd empty) still holds
// what it maps or keeps open: Holders finds it through
// /proc/PID/task/TID.
func TestHoldersZombieLeader(t *testing.T) {
	for _, mode := range []string{"map", "fd"} {
		t.Run(mode, func(t *testing.T) {
			name := testName(t)
			mustCreate(t, name, []int{64}, Uint8).Close()
			z := testutil.StartZombieLeader(t, shmDir+"/"+name, mode)
			pid := z.Process.Pid
			maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
			assert.NilError(t, err)
			assert.Equal(t, len(maps), 0, "the leader's maps should read empty")
			hs, err := Holders(name)
			inspected(t, err, z)
			assert.DeepEqual(t, hs, []Holder{{PID: pid, Command: "zombie", Mapped: mode == "map", Open: mode == "fd"}})
			in, err := Stat(name)
			assert.NilError(t, err)
			m, err := HoldersOf([]Info{in})
			inspected(t, err, z)
			assert.DeepEqual(t, holderPIDs(m[0]), []int{pid})
		})
	}
}

// Holders' answer follows holders coming and going, in any order, main
// threads exited or not: after each step it is exactly the live set.
func TestHoldersChurn(t *testing.T) {
	name := testName(t)
	mustCreate(t, name, []int{64}, Uint8).Close()
	live := map[int]*exec.Cmd{}
	check := func(step string) {
		t.Helper()
		var want []int
		for pid := range live {
			want = append(want, pid)
		}
		slices.Sort(want)
		deadline := time.Now().Add(5 * time.Second)
		for {
			hs, err := Holders(name)
			inspected(t, err)
			got := holderPIDs(hs)
			if slices.Equal(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: holders %v, live %v", step, got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	kill := func(i int) {
		pids := slices.Sorted(maps.Keys(live))
		pid := pids[i%len(pids)]
		c := live[pid]
		assert.NilError(t, c.Process.Signal(syscall.SIGKILL))
		c.Wait()
		delete(live, pid)
	}
	steps := []string{"map", "fd", "zmap", "zfd", "kill", "map", "kill", "zmap", "fd", "kill", "kill", "map", "zfd", "kill"}
	for i, s := range steps {
		switch s {
		case "map", "fd":
			c := startHolder(t, name, s)
			live[c.Process.Pid] = c
		case "zmap", "zfd":
			c := testutil.StartZombieLeader(t, shmDir+"/"+name, s[1:])
			live[c.Process.Pid] = c
		case "kill":
			kill(i * 7)
		}
		check(fmt.Sprintf("step %d (%s)", i, s))
	}
}
