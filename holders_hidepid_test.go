//go:build linux

package sharedarray

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
)

func TestHidesOthers(t *testing.T) {
	t.Parallel()
	const (
		plain   = "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
		hidden  = "22 27 0:21 / /proc rw,relatime - proc proc rw\n63 45 0:39 / /proc rw,relatime shared:9 - proc proc rw,hidepid=invisible\n"
		hidden2 = "63 45 0:39 / /proc rw,relatime - proc proc rw,hidepid=2,gid=27\n"
		noacc   = "63 45 0:39 / /proc rw,relatime - proc proc rw,hidepid=noaccess\n"
		other   = "63 45 0:39 / /mnt/proc rw,relatime - proc proc rw,hidepid=invisible\n"
		noCap   = "Name:\tx\nCapEff:\t0000000000000000\n"
		ptrace  = "Name:\tx\nCapEff:\t0000000000080000\n"
	)
	for _, tc := range []struct {
		mountinfo, status string
		groups            []int
		want              bool
	}{
		{plain, noCap, nil, false},
		{hidden, noCap, []int{65534}, true},
		{hidden, ptrace, []int{65534}, false},
		{hidden2, noCap, []int{65534}, true},
		{hidden2, noCap, []int{65534, 27}, false},
		{noacc, noCap, nil, false}, // listed, then reported by PID
		{other, noCap, nil, false}, // not the /proc this package reads
	} {
		assert.Equal(t, hidesOthers([]byte(tc.mountinfo), []byte(tc.status), tc.groups), tc.want, "%q %q %v", tc.mountinfo, tc.status, tc.groups)
	}
}

// With /proc mounted hidepid=invisible, a process of another user that
// maps the array is not in /proc at all: Holders reports the answer as
// incomplete (Hidden), never as a complete zero.
func TestHoldersHidepid(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount /proc in a new mount namespace")
	}
	name := testName(t)
	a := mustCreate(t, name, []int{8}, Uint8, WithPerm(0o644))
	defer a.Close() // this (root) process holds it
	cmd := child("holders-hidepid " + name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 5 {
		t.Skipf("cannot mount a hidepid /proc here: %s", out)
	}
	assert.NilError(t, err, "%s", out)
}

// hidepidChild mounts a /proc with hidepid=invisible over /proc (in the
// new mount namespace the test gave it), becomes nobody and checks what
// Holders says about name, which its parent (root) maps.
func hidepidChild(name string) int {
	if err := syscall.Mount("proc", "/proc", "proc", 0, "hidepid=invisible"); err != nil {
		fmt.Println("mount:", err)
		return 5
	}
	if err := syscall.Setgroups(nil); err != nil {
		fmt.Println(err)
		return 5
	}
	if err := syscall.Setresgid(65534, 65534, 65534); err != nil {
		fmt.Println(err)
		return 5
	}
	if err := syscall.Setresuid(65534, 65534, 65534); err != nil {
		fmt.Println(err)
		return 5
	}
	hs, err := Holders(name)
	var ue *UninspectedError
	if !errors.As(err, &ue) || !ue.Hidden || !errors.Is(err, ErrPermission) {
		fmt.Printf("want an UninspectedError with Hidden, got %v (holders %v)\n", err, hs)
		return 6
	}
	return 0
}

func TestParseTaskStat(t *testing.T) {
	for _, tc := range []struct {
		stat string
		want taskStat
	}{
		{"14680 (z) Z 1 14668 7223 0 -1 4227084 115 0 0 0 0 0 0 0 20 0 2 0 25385 0", taskStat{ok: true, zombie: true, threads: 2}},
		{"14681 (a) b) (c) S 1 14668 7223 0 -1 4194368 1 0 0 0 0 0 0 0 20 0 7 0", taskStat{ok: true, threads: 7}},
		{"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0", taskStat{ok: true, kthread: true, threads: 1}},
		{"9 (x) X 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0", taskStat{ok: true, zombie: true, threads: 1}},
		{"9 (x) S 1 1", taskStat{}},
		{"9 x S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0", taskStat{}},
	} {
		assert.Equal(t, parseTaskStat([]byte(tc.stat)), tc.want, tc.stat)
	}
}

// Without statx (old kernels, seccomp), descriptors are still matched,
// through fstatat.
func TestHoldersFdWithoutStatx(t *testing.T) {
	name := testName(t)
	mustCreate(t, name, []int{8}, Uint8).Close()
	f, err := os.Open(shmDir + "/" + name)
	assert.NilError(t, err)
	defer f.Close()
	for _, works := range []bool{true, false} {
		statxWorks.Store(works)
		hs, err := Holders(name)
		inspected(t, err)
		assert.DeepEqual(t, hs, []Holder{{PID: os.Getpid(), Command: selfComm(t), Open: true}})
	}
	statxWorks.Store(true)
}
