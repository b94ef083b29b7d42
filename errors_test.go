package sharedarray

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// onePrefix checks that err's message names the package once.
func onePrefix(t *testing.T, err error) {
	t.Helper()
	assert.Assert(t, err != nil)
	assert.Equal(t, strings.Count(err.Error(), "sharedarray:"), 1, "%v", err)
}

// Errors nested in other errors keep one "sharedarray:" prefix and still
// match every kind they carry.
func TestErrorsOnePrefix(t *testing.T) {
	t.Parallel()
	_, err := ParseDtype("O")
	onePrefix(t, err)
	_, err = ParseDtype("f3")
	onePrefix(t, err)
	assert.Assert(t, errors.Is(err, ErrDtype))

	// A trailer whose item size is wrong for its typenum: the dtype's
	// complaint inside a *FormatError naming the field.
	m := meta{dtype: Float64, shape: []int{2}, nbytes: 16}
	file := segmentBytes(LayoutNumPy1, m)
	p32(file, len(file)-292+28, 0)
	_, err = decodeFile(file)
	onePrefix(t, err)
	var fe *FormatError
	assert.Assert(t, errors.As(err, &fe))
	assert.Equal(t, fe.Field, "itemsize")

	// A .npy whose descr is refused is both ErrNPY and ErrDtype.
	h := bytes.Replace(npyHeader(Float64, []int{2}), []byte("'<f8'"), []byte("'|O8'"), 1)
	_, err = LoadNPYFrom(testName(t), bytes.NewReader(append(h, make([]byte, 16)...)))
	onePrefix(t, err)
	assert.Assert(t, errors.Is(err, ErrNPY) && errors.Is(err, ErrDtype), "%v", err)

	onePrefix(t, ErrFault)
}

// Attach with a layout that is not the segment's: a *FormatError naming
// the layout.
func TestAttachLayoutMismatch(t *testing.T) {
	t.Parallel()
	name := testName(t)
	mustCreate(t, name, []int{3}, Int32, WithLayout(LayoutNumPy1))
	_, err := Attach(name, WithLayout(LayoutNumPy2))
	var fe *FormatError
	assert.Assert(t, errors.As(err, &fe), "%v", err)
	assert.Equal(t, fe.Field, "layout")
	assert.Equal(t, fe.Value, any(LayoutNumPy1))
	assert.Assert(t, errors.Is(err, ErrFormat))
	onePrefix(t, err)
	a, err := Attach(name, WithLayout(LayoutNumPy1))
	assert.NilError(t, err)
	a.Close()
}
