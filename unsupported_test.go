//go:build !(linux && cgo)

package sharedarray

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

// Without Linux and cgo every operation on a segment fails with an error
// wrapping errors.ErrUnsupported, as a *fs.PathError naming it; the rest
// of the API works. make crossbuild runs this with CGO_ENABLED=0.
func TestUnsupported(t *testing.T) {
	unsupported := func(op string, err error) {
		t.Helper()
		assert.Assert(t, errors.Is(err, errors.ErrUnsupported), "%s: %v", op, err)
		var pe *fs.PathError
		assert.Assert(t, errors.As(err, &pe), "%s: %v", op, err)
		assert.Equal(t, pe.Op, op)
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
