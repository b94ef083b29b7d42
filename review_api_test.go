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

// HoldersOf of no Info answers at once with an empty map: no pass over
// /proc, so none of its errors (an *UninspectedError where some process
// cannot be read, as PID 1 here) about arrays nobody asked about.
func TestHoldersOfNothing(t *testing.T) {
	t.Parallel()
	for _, in := range [][]Info{nil, {}} {
		m, err := HoldersOf(in)
		if err != nil || m == nil || len(m) != 0 {
			t.Errorf("HoldersOf(%v) = %v, %v; want an empty map, nil", in, m, err)
		}
	}
}

// HoldersOf's map is keyed by Name: two Infos of one name that describe
// different files are refused (ErrInvalid), where the map used to hold
// whichever file's answer came last in a map iteration. The same Info
// twice is fine.
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
	if m, err := HoldersOf([]Info{first, second}); !errors.Is(err, ErrInvalid) || m != nil {
		t.Errorf("HoldersOf(two files, one name) = %v, %v; want nil, ErrInvalid", m, err)
	}
	m, err := HoldersOf([]Info{second, second})
	var ue *UninspectedError
	if err != nil && !errors.As(err, &ue) {
		t.Fatalf("HoldersOf(the same Info twice): %v", err)
	}
	if hs, ok := m[name]; !ok || len(hs) != 0 {
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
