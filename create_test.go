//go:build linux && cgo && !(ppc64 || s390x || mips || mips64)

package sharedarray

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

// Create's one C call, where the O_TMPFILE file cannot be linked (no
// /proc): the segment is built under its name instead, complete, and a
// taken name is still refused.
func TestCreateLinkFallback(t *testing.T) {
	cLinkFails = true
	t.Cleanup(func() { cLinkFails = false })
	name := testName(t)
	a := mustCreate(t, name, []int{3, 4}, Int32, WithPerm(0o640))
	v, err := View[int32](a)
	assert.NilError(t, err)
	v[11] = 7
	b, err := Attach(name, ReadOnly())
	assert.NilError(t, err)
	defer b.Close()
	w, _ := View[int32](b)
	assert.Equal(t, w[11], int32(7))
	st, err := os.Stat(shmDir + "/" + name)
	assert.NilError(t, err)
	assert.Equal(t, st.Size(), int64(48+548))
	_, err = Create(name, []int{1}, Uint8)
	assert.Assert(t, errors.Is(err, ErrExist), "%v", err)

	dir := t.TempDir()
	f := mustCreate(t, "file://"+filepath.Join(dir, "x"), []int{5}, Float64, Prefault())
	assert.Equal(t, f.Len(), 5)
	ents, _ := os.ReadDir(dir)
	assert.Equal(t, len(ents), 1, "nothing but the segment")
}

// The C path publishes nothing when it fails: an exclusive name that is
// taken leaves the existing file as it was.
func TestCreateTakenNameUntouched(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "taken")
	assert.NilError(t, os.WriteFile(path, []byte("keep"), 0o600))
	_, err := Create("file://"+path, []int{1 << 10}, Float64)
	assert.Assert(t, errors.Is(err, ErrExist), "%v", err)
	got, err := os.ReadFile(path)
	assert.NilError(t, err)
	assert.Equal(t, string(got), "keep")
	ents, _ := os.ReadDir(dir)
	assert.Equal(t, len(ents), 1)
}
