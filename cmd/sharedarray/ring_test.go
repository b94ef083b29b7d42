package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sharedarray/sharedarray"
	"github.com/sharedarray/sharedarray/internal/testutil"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// ls and info show a frame ring's slots, head, writer and readers.
func TestRingShown(t *testing.T) {
	t.Parallel()
	n := name(t)
	w, err := sharedarray.CreateRing(n, 4, []int{2, 3}, sharedarray.Float32)
	assert.NilError(t, err)
	defer w.Close()
	r, err := sharedarray.OpenRingReader(n)
	assert.NilError(t, err)
	defer r.Close()
	assert.NilError(t, w.Write(make([]byte, 24)))
	want := fmt.Sprintf("v2, 4 slots, head 1, generation 1, writer pid %d, 1 reader(s), 0 waiting", os.Getpid())
	wantShort := fmt.Sprintf("s=4 h=1 w=%d r=1", os.Getpid())

	code, out, errs := runCLI("info", n)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.Contains(out, "\nring "), out)
	assert.Assert(t, strings.Contains(out, " "+want+"\n"), out)

	// ls: the ring's state is in a RING column, under its header, after
	// HOLDERS with -l.
	for _, args := range [][]string{{"ls"}, {"ls", "-l"}} {
		code, out, errs = runCLI(args...)
		assert.Equal(t, code, 0, errs)
		lines := strings.Split(out, "\n")
		col := strings.Index(lines[0], "RING")
		assert.Assert(t, strings.HasSuffix(lines[0], "RING") && col > strings.Index(lines[0], "ATTACHED"), "%v: %s", args, lines[0])
		if len(args) > 1 {
			assert.Assert(t, col > strings.Index(lines[0], "HOLDERS"), lines[0])
		}
		found := false
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, n+" ") {
				found = true
				assert.Equal(t, l[col:], wantShort) // ASCII like the header: columns line up in bytes
				if len(args) == 1 {
					// Alone in the listing under its header (no other
					// row widening a column: here every test's arrays
					// are listed) and named "camera-frame" (12
					// bytes, for the test's long name), the row fits 80
					// columns: each column as wide as its header or
					// field, two spaces apart, as tabwriter pads them.
					hdr, fields := strings.Fields(lines[0]), strings.Fields(l[:col])
					assert.Equal(t, len(hdr), len(fields)+1)
					fields[0] = "camera-frame"
					alone := 0
					for i, f := range fields {
						alone += max(len(f), len(hdr[i])) + 2
					}
					alone += len(l[col:])
					assert.Assert(t, alone <= 80, "ls row of %d columns: %q", alone, l)
				}
			}
		}
		assert.Assert(t, found, out)
	}

	code, out, _ = runCLI("ls", "--json")
	assert.Equal(t, code, 0)
	var entries []lsEntry
	assert.NilError(t, json.Unmarshal([]byte(out), &entries))
	for _, e := range entries {
		if e.Name == n {
			assert.DeepEqual(t, e.Ring, &lsRing{Version: 2, Slots: 4, Head: 1, Generation: 1, WriterPID: os.Getpid(), WriterAlive: true, Readers: 1})
			assert.DeepEqual(t, e.Shape, []int{4, 2, 3})
		} else if e.Name == "" {
			t.Fatal("empty name")
		}
	}

	// A plain array is no ring.
	p := name(t)
	a, err := sharedarray.Create(p, []int{4, 2, 3}, sharedarray.Float32)
	assert.NilError(t, err)
	a.Close()
	code, out, _ = runCLI("info", p)
	assert.Equal(t, code, 0)
	assert.Assert(t, !strings.Contains(out, "ring"), out)
}

// rdlockEnv makes the test binary a process holding a classic whole-file
// read lock (l_len 0, to the end of the file) on a path until its stdin
// closes: what fcntl.lockf(fd, LOCK_SH) takes in Python, and what any user
// with read access can do.
const rdlockEnv = "SHAREDARRAY_CLI_TEST_RDLOCK"

func rdlockHolder(path string) int {
	if _, err := testutil.ReadLockWhole(path); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// ls, ls --json and info return at once, with the true state, while
// another process holds a whole-file read lock on a ring (they spun at
// 100 % CPU for as long as the lock was held).
func TestRingWholeFileReadLockCLI(t *testing.T) {
	n := name(t)
	w, err := sharedarray.CreateRing(n, 4, []int{2}, sharedarray.Float32)
	assert.NilError(t, err)
	assert.NilError(t, w.Write(make([]byte, 8)))
	assert.NilError(t, w.Close())
	args := append(strings.Fields(os.Getenv("SHAREDARRAY_EMULATOR")), os.Args[0], "-test.run=^$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), rdlockEnv+"=/dev/shm/"+n)
	testutil.StartHolder(t, cmd, "read lock on "+n)

	want := "v2, 4 slots, head 1, generation 1, no writer, 0 reader(s), 0 waiting"
	for _, argv := range [][]string{{"info", n}, {"ls"}, {"ls", "--json"}} {
		done := make(chan struct{})
		var code int
		var out, errs string
		go func() { defer close(done); code, out, errs = runCLI(argv...) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%v hangs under a whole-file read lock", argv)
		}
		assert.Equal(t, code, 0, errs)
		if argv[0] == "info" {
			assert.Assert(t, strings.Contains(out, want), "%v: %s", argv, out)
		} else if len(argv) == 1 {
			assert.Assert(t, strings.Contains(out, "s=4 h=1 w=- r=0"), "%v: %s", argv, out)
		}
	}
	e := lsJSON(t)[n]
	assert.DeepEqual(t, e.Ring, &lsRing{Version: 2, Slots: 4, Head: 1, Generation: 1})
}

// A ring removed while ls runs (here: just before ls reads its ring state)
// is not listed as if it were there, and ls says so.
func TestLsRingRemovedMeanwhile(t *testing.T) {
	n := name(t)
	w, err := sharedarray.CreateRing(n, 2, []int{1}, sharedarray.Uint8)
	assert.NilError(t, err)
	assert.NilError(t, w.Close())
	lsBeforeRing = func(name string) {
		if name == n {
			assert.NilError(t, sharedarray.Delete(n))
		}
	}
	defer func() { lsBeforeRing = nil }()
	code, out, errs := runCLI("ls")
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, !strings.Contains(out, n), out)
	assert.Assert(t, strings.Contains(errs, "removed while ls ran, not listed: "+n), errs)
}

// ls --json and info count readers exactly after churn: open r1, r2,
// close r1, open r3 is 2 readers (the range scan said 1).
func TestRingReaderCountCLI(t *testing.T) {
	n := name(t)
	w, err := sharedarray.CreateRing(n, 2, []int{1}, sharedarray.Uint8)
	assert.NilError(t, err)
	defer w.Close()
	open := func() *sharedarray.RingReader {
		r, err := sharedarray.OpenRingReader(n)
		assert.NilError(t, err)
		return r
	}
	r1, r2 := open(), open()
	defer r2.Close()
	assert.NilError(t, r1.Close())
	r3 := open()
	defer r3.Close()
	assert.Equal(t, lsJSON(t)[n].Ring.Readers, 2)
	code, out, errs := runCLI("info", n)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.Contains(out, ", 2 reader(s), "), out)
}

// ls and info report the ring state of the very file whose trailer they
// read: when another process swaps two rings' names (renameat2
// RENAME_EXCHANGE) between the listing and the ring probe, the row of a
// 4-slot ring never carries the state of the 8-slot one (before, it did:
// the probe opened the name again). The row then has no ring object and
// stderr says the name changed.
func TestRingStateOfListedFile(t *testing.T) {
	a, b := name(t), name(t)
	wa, err := sharedarray.CreateRing(a, 4, []int{1}, sharedarray.Uint8)
	assert.NilError(t, err)
	defer wa.Close() // a has a live writer, b has none
	wb, err := sharedarray.CreateRing(b, 8, []int{1}, sharedarray.Uint8)
	assert.NilError(t, err)
	assert.NilError(t, wb.Close())
	swap := func() {
		assert.NilError(t, unix.Renameat2(unix.AT_FDCWD, "/dev/shm/"+a, unix.AT_FDCWD, "/dev/shm/"+b, unix.RENAME_EXCHANGE))
	}
	ringBeforeProbe = func(n string) {
		if n == a || n == "shm://"+a {
			swap()
		}
	}
	defer func() { ringBeforeProbe = nil }()

	code, out, errs := runCLI("ls", "--json")
	assert.Equal(t, code, 0, errs)
	var entries []lsEntry
	assert.NilError(t, json.Unmarshal([]byte(out), &entries))
	found := false
	for _, e := range entries {
		if e.Name != a {
			continue
		}
		found = true
		assert.DeepEqual(t, e.Shape, []int{4, 1})
		if e.Ring != nil {
			assert.Equal(t, e.Ring.Slots, 4, "the ring object of another file")
			assert.Equal(t, e.Ring.WriterAlive, true)
		}
	}
	// The names are still swapped when ls prints: the row is left out
	// (TestLsReplacedMeanwhile), and the probe said why it had no state.
	assert.Assert(t, !found || strings.Contains(errs, "replaced by another file while ls ran"), out)
	assert.Assert(t, strings.Contains(errs, a+": ring state unreadable: ") && strings.Contains(errs, "changed while"), errs)
	swap() // back: a is the 4-slot ring again

	// The same file with a new mtime (a writer's first store into a page
	// of its mapping moves it): still its ring state.
	ringBeforeProbe = func(n string) {
		if n == a {
			later := time.Now().Add(time.Minute)
			assert.NilError(t, os.Chtimes("/dev/shm/"+a, later, later))
		}
	}
	assert.Equal(t, lsJSON(t)[a].Ring.Slots, 4)
	ringBeforeProbe = func(n string) {
		if n == "shm://"+a {
			swap()
		}
	}

	code, out, errs = runCLI("info", "shm://"+a)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.Contains(out, "(4, 1)"), out)
	assert.Assert(t, !strings.Contains(out, "ring: 8 slots"), "the ring line of another file:\n%s", out)
	assert.Assert(t, strings.Contains(out, "changed while"), out)
}

// An array deleted and created again under its name while ls runs (a
// program re-creating its array) is not listed with the first file's
// shape and holders: it is left out and named on stderr. Before, only a
// name that no longer existed was; a replaced one printed a stale row
// silently.
func TestLsReplacedMeanwhile(t *testing.T) {
	n := name(t)
	a, err := sharedarray.Create(n, []int{4}, sharedarray.Uint8)
	assert.NilError(t, err)
	assert.NilError(t, a.Close())
	lsBeforeRing = func(name string) {
		if name == n {
			assert.NilError(t, sharedarray.Delete(n))
			b, err := sharedarray.Create(n, []int{7, 3}, sharedarray.Float64)
			assert.NilError(t, err)
			assert.NilError(t, b.Close())
		}
	}
	defer func() { lsBeforeRing = nil }()
	code, out, errs := runCLI("ls", "--json")
	assert.Equal(t, code, 0, errs)
	var entries []lsEntry
	assert.NilError(t, json.Unmarshal([]byte(out), &entries))
	for _, e := range entries {
		assert.Assert(t, e.Name != n || len(e.Shape) == 2, "stale row %+v", e)
	}
	flat := strings.Join(strings.Fields(errs), " ") // messages wrap at 80 columns
	assert.Assert(t, strings.Contains(flat, "replaced by another file while ls ran, not listed: "+n), errs)
}

// Without /proc (a container that does not mount it), ls cannot probe a
// ring's state through /proc/self/fd: the ring is still listed, with the
// reason on stderr, never as "removed while ls ran".
func TestLsRingWithoutProc(t *testing.T) {
	n := name(t)
	w, err := sharedarray.CreateRing(n, 2, []int{1}, sharedarray.Uint8)
	assert.NilError(t, err)
	defer w.Close()
	procSelfFD = t.TempDir() + "/no-proc"
	defer func() { procSelfFD = "/proc/self/fd" }()
	code, out, errs := runCLI("ls")
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.Contains(out, n), "%s\n%s", out, errs)
	assert.Assert(t, !strings.Contains(errs, "removed while ls ran, not listed: "+n), errs)
	assert.Assert(t, strings.Contains(errs, "is /proc mounted?"), errs)
}

// A version 1 ring (the previous release's control block: version 1, no
// progress table) is listed as version 1 by ls --json and info (issue 18
// review: the CLI said nothing of the version but in top).
func TestRingVersion1Listed(t *testing.T) {
	n := name(t)
	w, err := sharedarray.CreateRing(n, 4, []int{2}, sharedarray.Uint64)
	assert.NilError(t, err)
	assert.NilError(t, w.Write(make([]byte, 16)))
	assert.NilError(t, w.Close())
	f, err := os.OpenFile("/dev/shm/"+n, os.O_RDWR, 0)
	assert.NilError(t, err)
	const ctl = 4096 // 64 bytes of frames, rounded up to a page
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:4], 1)
	_, err = f.WriteAt(b[:4], ctl+8) // version
	assert.NilError(t, err)
	binary.LittleEndian.PutUint64(b[:], (256+16*4+63)/64*64)
	_, err = f.WriteAt(b[:], ctl+32) // control size without the progress table
	assert.NilError(t, err)
	binary.LittleEndian.PutUint64(b[:], 0)
	_, err = f.WriteAt(b[:], ctl+48) // progress table offset and entry size
	assert.NilError(t, err)
	assert.NilError(t, f.Close())
	e, ok := lsJSON(t)[n]
	assert.Assert(t, ok)
	assert.DeepEqual(t, e.Ring, &lsRing{Version: 1, Slots: 4, Head: 1, Generation: 1})
	code, out, errs := runCLI("info", "shm://"+n)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.Contains(out, "v1, 4 slots, head 1"), out)
	code, out, errs = runCLI("ls")
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.Contains(out, "v1 s=4 h=1 w=- r=0"), out)
}
