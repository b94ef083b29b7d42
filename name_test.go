package sharedarray

import (
	"errors"
	"os"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

func TestParseName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		shm  bool
		path string
	}{
		{"frames", true, "frames"},
		{"shm://frames", true, "frames"},
		{"shm:///frames", true, "frames"},
		{"//frames", true, "frames"},
		{"file://x.dat", false, "x.dat"},
		{"file:///tmp/x.dat", false, "/tmp/x.dat"},
		{"file://a/b/c", false, "a/b/c"},
		{"shm://" + strings.Repeat("n", 253), true, strings.Repeat("n", 253)},
		{"shm://" + strings.Repeat("n", 255), true, strings.Repeat("n", 255)},
		{"/" + strings.Repeat("n", 255), true, strings.Repeat("n", 255)},
	} {
		loc, err := parseName(tc.in)
		assert.NilError(t, err, tc.in)
		assert.Equal(t, loc.shm, tc.shm, tc.in)
		assert.Equal(t, loc.path, tc.path, tc.in)
	}
	for _, bad := range []string{
		"", "shm://", "/", "shm:///", "a/b", "shm://a/b", "..", "shm://.", "a\x00b",
		"shm://" + strings.Repeat("n", 256), "http://x", "://x", "file://", "file://dir/",
		"file://a/..", "file://" + strings.Repeat("d", 256), "file://x\x00",
		"file://" + strings.Repeat("a/", 2048) + "x",
	} {
		_, err := parseName(bad)
		assert.Assert(t, errors.Is(err, ErrInvalid), "%q: %v", bad, err)
	}
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{"frames", "shm://x", "file:///tmp/x", "file://rel", "a/b", "ftp://x", "shm:///"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		loc, err := parseName(name)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: error %v is not ErrInvalid", name, err)
			}
			return
		}
		if loc.path == "" || strings.IndexByte(loc.path, 0) >= 0 {
			t.Fatalf("%q parsed to bad path %q", name, loc.path)
		}
		if loc.shm {
			if strings.Contains(loc.path, "/") || loc.path == "." || loc.path == ".." || len(loc.path) > 255 {
				t.Fatalf("%q: shm name %q escapes /dev/shm or is too long", name, loc.path)
			}
			// The canonical form parses to the same place.
			again, err := parseName("shm://" + loc.path)
			if err != nil || again != loc {
				t.Fatalf("%q: canonical form does not round-trip: %v %v", name, again, err)
			}
		}
	})
}

// TestNameMax: a shm name of exactly NAME_MAX (255) bytes is created,
// attached, listed and deleted, as the kernel and glibc accept it; 256
// bytes is refused before any system call.
func TestNameMax(t *testing.T) {
	t.Parallel()
	n := testName(t)
	long := n + strings.Repeat("x", nameMax-len(n))
	assert.Equal(t, len(long), 255)
	t.Cleanup(func() { os.Remove(shmDir + "/" + long) })
	a, err := Create("shm://"+long, []int{2}, Int8)
	assert.NilError(t, err)
	assert.NilError(t, a.Close())
	_, err = os.Stat(shmDir + "/" + long)
	assert.NilError(t, err, "the kernel holds the 255-byte name")
	in, err := Stat(long)
	assert.NilError(t, err)
	assert.DeepEqual(t, in.Shape, []int{2})
	b, err := Attach("shm://" + long)
	assert.NilError(t, err)
	assert.NilError(t, b.Close())
	assert.NilError(t, Delete(long))
	_, err = Create(long+"y", []int{2}, Int8)
	assert.ErrorIs(t, err, ErrInvalid)
}

// doc.go's rule for file paths: under PATH_MAX (4096 bytes, NUL included).
func TestNamePathMax(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("d/", 2047) + "xy" // 4096 bytes
	_, err := parseName("file://" + long)
	assert.Assert(t, errors.Is(err, ErrInvalid), "%v", err)
	_, err = parseName("file://" + long[1:]) // 4095
	assert.NilError(t, err)
}
