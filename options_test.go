package sharedarray

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// TestOptionsRefused gives every option to every function that takes
// options: each applies where its doc says and is refused elsewhere with
// an error matching ErrInvalid that names the option and the function,
// having created nothing. Before options were checked, Attach(name,
// Sparse(), Fsync()) succeeded.
func TestOptionsRefused(t *testing.T) {
	src := testName(t)
	a, err := Create(src, []int{4}, Uint8, WithLayout(LayoutDual))
	assert.NilError(t, err)
	defer a.Close()
	npyPath := filepath.Join(t.TempDir(), "src.npy")
	assert.NilError(t, a.SaveNPY(npyPath))
	npy, err := os.ReadFile(npyPath)
	assert.NilError(t, err)

	all := "Create CreateRing LoadNPY LoadNPYFrom Attach SaveNPY OpenRingReader"
	ringName := ""
	if ringSupported() == nil {
		ringName = testName(t) + "-ring"
		w, err := CreateRing(ringName, 2, []int{4}, Uint8)
		assert.NilError(t, err)
		defer Delete(ringName)
		defer w.Close()
	}
	opts := []struct {
		name string
		opt  Option
		want string // the functions it applies to
	}{
		{"ReadOnly", ReadOnly(), "Attach"},
		{"WithLayout", WithLayout(LayoutDual), "Create CreateRing LoadNPY LoadNPYFrom Attach"},
		{"WithPerm", WithPerm(0o600), "Create CreateRing LoadNPY LoadNPYFrom"},
		{"Sparse", Sparse(), "Create CreateRing LoadNPY LoadNPYFrom"},
		{"SkipMemoryCheck", SkipMemoryCheck(), "Create CreateRing LoadNPY LoadNPYFrom"},
		{"Prefault", Prefault(), "Create CreateRing Attach"},
		{"Fsync", Fsync(), "SaveNPY"},
		{"OnProgress", OnProgress(func(int64) {}), "SaveNPY"},
		{"WithSpin", WithSpin(time.Microsecond), "OpenRingReader"},
		{"WithPredict", WithPredict(), "OpenRingReader"},
		{"WithOldest", WithOldest(), "OpenRingReader"},
		{"WaitForRing", WaitForRing(context.Background()), "OpenRingReader"},
		{"zero Option", Option{}, ""},
	}
	calls := map[string]func(t *testing.T, opt Option) (created string, err error){
		"Create": func(t *testing.T, opt Option) (string, error) {
			name := testName(t)
			b, err := Create(name, []int{4}, Uint8, opt)
			if err == nil {
				b.Close()
			}
			return "shm://" + name, err
		},
		"CreateRing": func(t *testing.T, opt Option) (string, error) {
			if ringSupported() != nil {
				t.Skip("no rings here")
			}
			name := testName(t)
			w, err := CreateRing(name, 2, []int{4}, Uint8, opt)
			if err == nil {
				w.Close()
			}
			return "shm://" + name, err
		},
		"LoadNPY": func(t *testing.T, opt Option) (string, error) {
			name := testName(t)
			b, err := LoadNPY(name, npyPath, opt)
			if err == nil {
				b.Close()
			}
			return "shm://" + name, err
		},
		"LoadNPYFrom": func(t *testing.T, opt Option) (string, error) {
			name := testName(t)
			b, err := LoadNPYFrom(name, bytes.NewReader(npy), opt)
			if err == nil {
				b.Close()
			}
			return "shm://" + name, err
		},
		"Attach": func(t *testing.T, opt Option) (string, error) {
			b, err := Attach(src, opt)
			if err == nil {
				b.Close()
			}
			return "", err
		},
		"SaveNPY": func(t *testing.T, opt Option) (string, error) {
			path := filepath.Join(t.TempDir(), "out.npy")
			return "file://" + path, a.SaveNPY(path, opt)
		},
		"OpenRingReader": func(t *testing.T, opt Option) (string, error) {
			if ringName == "" {
				t.Skip("no rings here")
			}
			rd, err := OpenRingReader(ringName, opt)
			if err == nil {
				rd.Close()
			}
			return "", err
		},
	}
	for _, o := range opts {
		for _, fn := range strings.Fields(all) {
			t.Run(o.name+"/"+fn, func(t *testing.T) {
				created, err := calls[fn](t, o.opt)
				applies := strings.Contains(" "+o.want+" ", " "+fn+" ")
				if applies {
					assert.NilError(t, err)
					return
				}
				assert.Assert(t, errors.Is(err, ErrInvalid), "%s given to %s: %v", o.name, fn, err)
				wantFn := strings.TrimSuffix(fn, "From") // LoadNPYFrom's errors say LoadNPY
				assert.ErrorContains(t, err, wantFn)
				if o.opt.apply != nil {
					assert.ErrorContains(t, err, o.name+" applies to") // CreateRing words ReadOnly its own way
				}
				if created != "" {
					_, err := os.Stat(strings.TrimPrefix(strings.Replace(created, "shm://", shmDir+"/", 1), "file://"))
					assert.Assert(t, errors.Is(err, os.ErrNotExist), "a refused %s left %s behind: %v", fn, created, err)
				}
			})
		}
	}
}

func TestOptionUsesNames(t *testing.T) {
	assert.Equal(t, (forCreate | forLoad | forAttach).names(), "Create, CreateRing, LoadNPY and Attach")
	assert.Equal(t, forSave.names(), "SaveNPY")
	assert.Equal(t, forReader.names(), "OpenRingReader")
	assert.Equal(t, (forCreate | forAttach).names(), "Create, CreateRing and Attach")
}
