package sharedarray

import (
	"errors"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

func TestParseName(t *testing.T) {
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
	} {
		loc, err := parseName(tc.in)
		assert.NilError(t, err, tc.in)
		assert.Equal(t, loc.shm, tc.shm, tc.in)
		assert.Equal(t, loc.path, tc.path, tc.in)
	}
	for _, bad := range []string{
		"", "shm://", "/", "shm:///", "a/b", "shm://a/b", "..", "shm://.", "a\x00b",
		"shm://" + strings.Repeat("n", 254), "http://x", "://x", "file://", "file://dir/",
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
			if strings.Contains(loc.path, "/") || loc.path == "." || loc.path == ".." || len(loc.path) > 253 {
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
