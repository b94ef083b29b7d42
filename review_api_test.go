package sharedarray

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Msync's flags (SyncFlag's doc): MsyncInvalidate combines with either of
// the others; MsyncAsync|MsyncSync and unknown bits are EINVAL.
func TestMsyncFlagCombinations(t *testing.T) {
	t.Parallel()
	a := mustCreate(t, "file://"+filepath.Join(t.TempDir(), "m.dat"), []int{4096}, Uint8)
	defer a.Close()
	for _, f := range []SyncFlag{MsyncAsync, MsyncSync, MsyncSync | MsyncInvalidate, MsyncAsync | MsyncInvalidate} {
		if err := a.Msync(f); err != nil {
			t.Errorf("Msync(%d): %v", f, err)
		}
	}
	for _, f := range []SyncFlag{MsyncAsync | MsyncSync, 8} {
		if err := a.Msync(f); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("Msync(%d) = %v, want EINVAL", f, err)
		}
	}
}

// WithPerm keeps only the permission bits (its doc).
func TestWithPermDropsSpecialBits(t *testing.T) {
	t.Parallel()
	old := 0 // the umask, read without setting it (other tests run meanwhile)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscanf(string(status[bytes.Index(status, []byte("Umask:")):]), "Umask: %o", &old); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "p.dat")
	a := mustCreate(t, "file://"+path, []int{1}, Uint8, WithPerm(0o4755|fs.ModeSticky|os.ModeDir))
	a.Close()
	var fi os.FileInfo
	fi, err = os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != fs.FileMode(0o755&^old) {
		t.Errorf("mode %v, want %v", fi.Mode(), fs.FileMode(0o755&^old))
	}
}

// HoldersOf of no Info answers at once with an empty answer: no pass over
// /proc, so none of its errors (an *UninspectedError where some process
// cannot be read, as PID 1 here) about arrays nobody asked about.
func TestHoldersOfNothing(t *testing.T) {
	t.Parallel()
	for _, in := range [][]Info{nil, {}} {
		m, err := HoldersOf(in)
		if err != nil || m == nil || len(m) != 0 {
			t.Errorf("HoldersOf(%v) = %v, %v; want an empty answer, nil", in, m, err)
		}
	}
}

// HoldersOf's answer is parallel to its Infos: two Infos of one name
// that describe different files each get their own file's holders (a map
// keyed by Name used to hold whichever file's answer came last, then
// refused them). The same Info twice gets the same answer twice.
func TestHoldersOfSameNameTwoFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := "file://" + filepath.Join(dir, "a.dat")
	mustCreate(t, name, []int{8}, Uint8).Close()
	first, err := Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "a.dat"), filepath.Join(dir, "old.dat")); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, name, []int{8}, Uint8).Close()
	second, err := Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Attach("file://" + filepath.Join(dir, "old.dat"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close() // this process holds the first file only
	var ue *UninspectedError
	m, err := HoldersOf([]Info{first, second})
	if err != nil && !errors.As(err, &ue) {
		t.Fatalf("HoldersOf(two files, one name): %v", err)
	}
	if len(m) != 2 || len(m[0]) != 1 || m[0][0].PID != os.Getpid() || len(m[1]) != 0 {
		t.Errorf("HoldersOf(two files, one name) = %v; want this process, then nobody", m)
	}
	m, err = HoldersOf([]Info{second, second})
	if err != nil && !errors.As(err, &ue) {
		t.Fatalf("HoldersOf(the same Info twice): %v", err)
	}
	if len(m) != 2 || len(m[0]) != 0 || len(m[1]) != 0 {
		t.Errorf("HoldersOf(the same Info twice) = %v", m)
	}
}

// ParseLayout(l.String()) gives l back for the five layouts, and refuses
// the zero Layout's "auto" (ParseLayout's doc).
func TestParseLayoutRoundTrip(t *testing.T) {
	t.Parallel()
	for _, l := range []Layout{LayoutV30, LayoutNumPy1, LayoutNumPy2, LayoutDual, LayoutDualV30} {
		if p, err := ParseLayout(l.String()); p != l || err != nil {
			t.Errorf("ParseLayout(%q) = %v, %v", l.String(), p, err)
		}
	}
	if _, err := ParseLayout(Layout(0).String()); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseLayout(%q): %v, want ErrInvalid", Layout(0).String(), err)
	}
}

// String and Writable answer after Close (their docs), from what the
// Array recorded: no shared memory is read.
func TestStringWritableAfterClose(t *testing.T) {
	t.Parallel()
	name := testName(t)
	a := mustCreate(t, name, []int{2, 3}, Int32)
	before := a.String()
	a.Close()
	if a.String() != before || !a.Writable() {
		t.Errorf("after Close: String %q (before %q), Writable %v", a.String(), before, a.Writable())
	}
	r, err := Attach(name, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if r.Writable() {
		t.Error("a ReadOnly Array reports Writable after Close")
	}
}
