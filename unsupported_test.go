//go:build !linux || !cgo || ppc64 || s390x || mips || mips64

package sharedarray

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// Without Linux and cgo every operation on a segment fails with an error
// wrapping errors.ErrUnsupported, as a *fs.PathError naming it; the rest
// of the API works. make crossbuild runs this with CGO_ENABLED=0.
func TestUnsupported(t *testing.T) {
	why := "built with CGO_ENABLED=0"
	switch {
	case runtime.GOOS != "linux":
		why = "linux only, not " + runtime.GOOS
	case runtime.GOARCH == "ppc64" || runtime.GOARCH == "s390x" || runtime.GOARCH == "mips" || runtime.GOARCH == "mips64":
		why = "little-endian machines only, not linux/" + runtime.GOARCH
	}
	unsupported := func(op string, err error) {
		t.Helper()
		assert.Assert(t, errors.Is(err, errors.ErrUnsupported), "%s: %v", op, err)
		var pe *fs.PathError
		assert.Assert(t, errors.As(err, &pe), "%s: %v", op, err)
		assert.Equal(t, pe.Op, op)
		assert.Assert(t, strings.Contains(err.Error(), why), "%s: %v does not say %q", op, err, why)
		t.Logf("%v", err)
	}
	_, err := Create("shm://x", []int{2}, Float64)
	unsupported("create", err)
	_, err = Create("file://"+filepath.Join(t.TempDir(), "x"), []int{2}, Float64)
	unsupported("create", err)
	_, err = Attach("shm://x")
	unsupported("attach", err)
	_, err = Stat("x")
	unsupported("stat", err)
	unsupported("delete", Delete("x"))
	_, err = List()
	unsupported("list", err)
	_, err = LoadNPYFrom("x", bytes.NewReader(append(npyHeader(Float64, []int{2}), make([]byte, 16)...)))
	unsupported("import", err)

	// Names, dtypes and layouts need no system.
	_, err = Create("a/b", []int{2}, Float64)
	assert.Assert(t, errors.Is(err, ErrInvalid), "%v", err)
	d, err := ParseDtype("<f8")
	assert.NilError(t, err)
	assert.Equal(t, d, Float64)
	l, err := ParseLayout("dual")
	assert.NilError(t, err)
	assert.Equal(t, l, LayoutDual)
}
