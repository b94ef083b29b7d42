package sharedarray

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/sharedarray/sharedarray/internal/bigcopy"
	"github.com/sharedarray/sharedarray/internal/testutil"
	"gotest.tools/v3/assert"
)

// runChild runs the helper named by spec in a child process; see child.
//
//	touch-truncated NAME   attach NAME, truncate it, write through a View
//	touch-readonly NAME    attach NAME read-only, write through a View
//	attach[-ro] NAME       exit 0 if Attach works, 5 on ErrPermission
//	fill-sparse PATH N     create a sparse N-byte array at PATH, fill it
//	race-create BASE ROUNDS FLAG  once FLAG exists, try to create BASE-r
//	                              for each round r; print wins
//	cgroup-create ...      see runCgroupChild
func runChild(spec string) int {
	f := strings.Fields(spec)
	switch f[0] {
	case "touch-truncated":
		a, err := Attach(f[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		os.Truncate(shmDir+"/"+f[1], int64(os.Getpagesize()))
		v, _ := View[byte](a)
		v[len(v)-1] = 1 // faults
		return 0
	case "touch-readonly":
		a, err := Attach(f[1], ReadOnly())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		v, _ := View[byte](a)
		v[0] = 1 // faults
		return 0
	case "fill-sparse":
		n, _ := strconv.Atoi(f[2])
		a, err := Create("file://"+f[1], []int{n}, Uint8, Sparse())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		for i := range a.Bytes() {
			a.Bytes()[i] = 1 // faults when the file system is full
		}
		return 0
	case "attach", "attach-ro":
		var opts []Option
		if f[0] == "attach-ro" {
			opts = append(opts, ReadOnly())
		}
		a, err := Attach(f[1], opts...)
		switch {
		case err == nil:
			a.Close()
			return 0
		case errors.Is(err, fs.ErrPermission):
			return 5
		}
		fmt.Fprintln(os.Stderr, err)
		return 6
	case "race-create":
		rounds, _ := strconv.Atoi(f[2])
		for { // start together
			if _, err := os.Stat(f[3]); err == nil {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
		return raceCreateChild(f[1], rounds)
	case "hold", "holders":
		return holdersChild(f)
	case "holders-hidepid":
		return hidepidChild(f[1])
	case "cgroup-create":
		return runCgroupChild(f[1:])
	case "ring-write", "ring-wait", "ring-rdlock", "ring-truncate":
		return ringChild(f)
	}
	if code, ok := lifetimeChild(f); ok {
		return code
	}
	fmt.Fprintln(os.Stderr, "unknown child", spec)
	return 4
}

// A segment truncated by another process: the guarded paths return
// ErrFault and the process lives; a new Attach refuses it.
func TestTruncatedUnderMapping(t *testing.T) {
	skipIfNoFaultAddress(t)
	name := testName(t)
	a := mustCreate(t, name, []int{1 << 19}, Float64) // 4 MiB
	fillBytes(a.Bytes(), 3)
	out, err := exec.Command("truncate", "-s", strconv.Itoa(os.Getpagesize()), shmDir+"/"+name).CombinedOutput()
	assert.NilError(t, err, "%s", out)

	buf := make([]byte, 1<<22)
	_, err = a.ReadAt(buf, 0)
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
	_, err = a.WriteAt(buf, 0)
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
	n, err := a.ReadAt(buf[:100], 0) // the first page is still there
	assert.NilError(t, err)
	assert.Equal(t, n, 100)
	_, err = a.WriteNPY(&bytes.Buffer{})
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
	f, err := os.Create(filepath.Join(t.TempDir(), "x.npy"))
	assert.NilError(t, err)
	defer f.Close()
	_, err = a.WriteNPY(f) // write(2) from the mapping: EFAULT, no signal
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)

	_, err = Attach(name)
	var fe *FormatError
	assert.Assert(t, errors.As(err, &fe), "%v", err)
	assert.Equal(t, fe.Field, "magic", "the trailer went with the truncated pages")
}

// noFaultAddress is why the fault tests skip under qemu-user: it leaves
// the fault address in the signal context (uc_mcontext.fault_address on
// arm64, where Go's runtime reads it) zero, so a SIGBUS in the mapping
// looks to Go like a nil dereference.
const noFaultAddress = "qemu-user leaves the signal context's fault address 0, so Go sees a SIGBUS in the mapping as a nil dereference"

func fillBytes(b []byte, seed byte) {
	for i := range b {
		b[i] = byte(i) ^ seed
	}
}

// Plain views have no guard: what the docs say happens, happens.
func TestPlainViewFaults(t *testing.T) {
	t.Parallel()
	skipIfNoFaultAddress(t)
	name := testName(t)
	mustCreate(t, name, []int{1 << 20}, Uint8)
	out, err := child("touch-truncated " + name).CombinedOutput()
	assertFaulted(t, err, out, "SIGBUS")

	ro := testName(t)
	mustCreate(t, ro, []int{16}, Uint8)
	out, err = child("touch-readonly " + ro).CombinedOutput()
	assertFaulted(t, err, out, "SIGSEGV")
}

func assertFaulted(t *testing.T, err error, out []byte, signal string) {
	t.Helper()
	var ee *exec.ExitError
	assert.Assert(t, errors.As(err, &ee), "child did not fail: %v %s", err, out)
	assert.Equal(t, ee.ExitCode(), 2, "%s", out)
	assert.Assert(t, strings.Contains(string(out), "unexpected fault address"), "%s", out)
	assert.Assert(t, strings.Contains(string(out), signal), "%s", out)
}

// Array is an io.ReaderAt and io.WriterAt with io's exact contract.
var (
	_ io.ReaderAt = (*Array)(nil)
	_ io.WriterAt = (*Array)(nil)
)

func TestReadAtWriteAt(t *testing.T) {
	t.Parallel()
	a := mustCreate(t, testName(t), []int{10}, Uint8)
	// A write past the end copies what fits and says it was short.
	n, err := a.WriteAt([]byte{1, 2, 3}, 8)
	assert.Equal(t, n, 2)
	assert.Assert(t, errors.Is(err, io.ErrShortWrite), "%v", err)
	n, err = a.WriteAt([]byte{9}, 10)
	assert.Equal(t, n, 0)
	assert.Assert(t, errors.Is(err, io.ErrShortWrite), "%v", err)
	n, err = a.WriteAt(nil, 10)
	assert.Equal(t, n, 0)
	assert.NilError(t, err)
	// A read: n < len(p) comes with io.EOF, a full one with nil (also at the end).
	buf := make([]byte, 4)
	n, err = a.ReadAt(buf, 7)
	assert.Equal(t, err, io.EOF)
	assert.Equal(t, n, 3)
	assert.DeepEqual(t, buf, []byte{0, 1, 2, 0})
	n, err = a.ReadAt(buf, 6)
	assert.NilError(t, err)
	assert.Equal(t, n, 4)
	n, err = a.ReadAt(buf, 10)
	assert.Equal(t, n, 0)
	assert.Equal(t, err, io.EOF)
	n, err = a.ReadAt(buf, 11)
	assert.Equal(t, n, 0)
	assert.Equal(t, err, io.EOF)
	_, err = a.ReadAt(buf, -1)
	assert.Assert(t, errors.Is(err, ErrInvalid))
	_, err = a.WriteAt(buf, -1)
	assert.Assert(t, errors.Is(err, ErrInvalid))
	// io's helpers work on it.
	sr := io.NewSectionReader(a, 0, 10)
	all, err := io.ReadAll(sr)
	assert.NilError(t, err)
	assert.DeepEqual(t, all, []byte{0, 0, 0, 0, 0, 0, 0, 0, 1, 2})
	_, err = io.ReadFull(io.NewSectionReader(a, 8, 100), make([]byte, 3))
	assert.Equal(t, err, io.ErrUnexpectedEOF)
	assert.NilError(t, iotest.TestReader(io.NewSectionReader(a, 0, 10), all))

	r, err := Attach(a.Name(), ReadOnly())
	assert.NilError(t, err)
	defer r.Close()
	_, err = r.WriteAt(buf, 0)
	assert.Assert(t, errors.Is(err, ErrPermission))
	a.Close()
	_, err = a.ReadAt(buf, 0)
	assert.Assert(t, errors.Is(err, ErrClosed))
	_, err = a.WriteAt(buf, 0)
	assert.Assert(t, errors.Is(err, ErrClosed))
}

func TestFullFileSystem(t *testing.T) {
	t.Parallel()
	dir := testutil.MountTmpfs(t, 1<<20)
	_, err := Create("file://"+filepath.Join(dir, "big"), []int{2 << 20}, Uint8)
	assert.Assert(t, errors.Is(err, syscall.ENOSPC), "%v", err)
	var se *SpaceError
	assert.Assert(t, errors.As(err, &se))
	assert.Equal(t, se.Need, int64(2<<20+548))
	assert.Assert(t, se.Avail >= 0 && se.Avail <= 1<<20, "%d", se.Avail)
	assert.Assert(t, strings.Contains(err.Error(), "need 2097700 bytes"), "%v", err)
	ents, _ := os.ReadDir(dir)
	assert.Equal(t, len(ents), 0, "nothing left behind")

	// What fits is created and reserved, so the rest of the tmpfs is
	// smaller by it.
	small, err := Create("file://"+filepath.Join(dir, "small"), []int{600 << 10}, Uint8)
	assert.NilError(t, err)
	defer small.Close()
	_, err = Create("file://"+filepath.Join(dir, "second"), []int{600 << 10}, Uint8)
	assert.Assert(t, errors.Is(err, syscall.ENOSPC), "%v", err)

	// An import that does not fit leaves nothing.
	npy := filepath.Join(t.TempDir(), "a.npy")
	big, err := Create(testName(t), []int{1 << 20}, Uint8)
	assert.NilError(t, err)
	defer big.Close()
	assert.NilError(t, big.SaveNPY(npy))
	_, err = LoadNPY("file://"+filepath.Join(dir, "imported"), npy)
	assert.Assert(t, errors.Is(err, syscall.ENOSPC), "%v", err)
	_, err = os.Stat(filepath.Join(dir, "imported"))
	assert.Assert(t, os.IsNotExist(err))

	// Sparse: Create succeeds, and writing past the free space faults.
	skipIfNoFaultAddress(t)
	sp, err := Create("file://"+filepath.Join(dir, "sparse"), []int{2 << 20}, Uint8, Sparse())
	assert.NilError(t, err)
	defer sp.Close()
	_, err = sp.WriteAt(bytes.Repeat([]byte{1}, 2<<20), 0)
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
	dir2 := testutil.MountTmpfs(t, 1<<20)
	out, err := child(fmt.Sprintf("fill-sparse %s %d", filepath.Join(dir2, "sparse"), 2<<20)).CombinedOutput()
	assertFaulted(t, err, out, "SIGBUS")
}

// The guarded copies of at least bigcopy.Threshold bytes take the
// non-temporal path on CPUs that have it: a fault there is an error too,
// in either direction, and a fault in the caller's slice is still named as
// the caller's.
func TestTruncatedUnderMappingLargeCopy(t *testing.T) {
	skipIfNoFaultAddress(t)
	size := 2 * bigcopy.Threshold
	name := testName(t)
	a := mustCreate(t, name, []int{size}, Uint8)
	fillBytes(a.Bytes(), 5)
	buf := make([]byte, size)
	n, err := a.ReadAt(buf, 0)
	assert.NilError(t, err)
	assert.Equal(t, n, size)
	assert.Assert(t, bytes.Equal(buf, a.Bytes()))
	fillBytes(buf, 9)
	n, err = a.WriteAt(buf[1:size-2], 3) // unaligned on both sides
	assert.NilError(t, err)
	assert.Equal(t, n, size-3)
	assert.Assert(t, bytes.Equal(a.Bytes()[3:], buf[1:size-2]))

	ro, err := Attach(name, ReadOnly())
	assert.NilError(t, err)
	defer ro.Close()
	_, err = a.ReadAt(ro.Bytes(), 0)
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
	assert.ErrorContains(t, err, "in the destination slice, outside this array's mapping")

	out, err := exec.Command("truncate", "-s", strconv.Itoa(bigcopy.Threshold), shmDir+"/"+name).CombinedOutput()
	assert.NilError(t, err, "%s", out)
	_, err = a.ReadAt(buf, 0)
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
	assert.ErrorContains(t, err, "memory fault in the mapping")
	_, err = a.WriteAt(buf, 0)
	assert.Assert(t, errors.Is(err, ErrFault), "%v", err)
	assert.ErrorContains(t, err, "memory fault in the mapping")
}
