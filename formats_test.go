package sharedarray

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
)

// plantings returns, for a file of layout l and data size n, the ways
// array data can imitate a longer trailer: the magic alone, the start of
// a valid 548-byte trailer for another array, and the start of one that
// agrees with the real one (which makes a dual trailer).
func plantings(l Layout, m meta) map[string][]byte {
	other := meta{dtype: Float64, shape: []int{3}, nbytes: 24}
	t := l.TrailerSize()
	head := func(x meta) []byte { return encodeTrailer(LayoutNumPy2, x)[:548-t] }
	return map[string][]byte{
		"magic":    magic[:magicLen],
		"other":    head(other),
		"agreeing": head(m),
	}
}

// A valid 288- or 292-byte trailer is never lost to "[SharedArray]\0"
// planted in the data where a 548-byte trailer would start.
func TestTrailerPlantedMagic(t *testing.T) {
	m := meta{dtype: Uint8, shape: []int{4096}, nbytes: 4096}
	for _, l := range Layouts {
		for what, plant := range plantings(l, m) {
			file := segmentBytes(l, m)
			off := len(file) - maxTrailer
			if int64(off+len(plant)) > m.nbytes {
				continue // the 548 trailer is the real one: no data there
			}
			copy(file[off:], plant)
			got, err := decodeFile(file)
			assert.NilError(t, err, "%s %s", l, what)
			assert.Equal(t, got.dtype, Uint8)
			assert.DeepEqual(t, got.shape, []int{4096})
			// Even the "agreeing" 548 trailer cannot form a dual one: its
			// data would overlap it.
			assert.Equal(t, got.layout, l, "%s %s", l, what)
		}
	}
	// The other way round: a 292 magic inside a 548 trailer's unused dims
	// slots does not hide the 548 trailer.
	file := segmentBytes(LayoutNumPy2, m)
	copy(file[len(file)-292:], magic[:magicLen])
	got, err := decodeFile(file)
	assert.NilError(t, err)
	assert.Equal(t, got.layout, LayoutNumPy2)
}

// A dual trailer whose halves disagree is read as its valid shorter
// trailer (the 548 bytes may be data); one whose inner trailer is bad is
// read as a plain 548 one.
func TestTrailerDualFallbacks(t *testing.T) {
	m := meta{dtype: Int32, shape: []int{3, 4}, nbytes: 48}
	b := segmentBytes(LayoutDual, m)
	tr := len(b) - 548
	p64(b, tr+36, 1)
	p64(b, tr+16, 16)
	got, err := decodeFile(b)
	assert.NilError(t, err)
	assert.Equal(t, got.layout, LayoutNumPy1)
	assert.DeepEqual(t, got.shape, []int{3, 4})

	b = segmentBytes(LayoutDual, m)
	p32(b, tr+256+32, 40) // inner ndims out of range
	got, err = decodeFile(b)
	assert.NilError(t, err)
	assert.Equal(t, got.layout, LayoutNumPy2)
	assert.DeepEqual(t, got.shape, []int{3, 4})
}

// Real segments of every layout with the plantings in their data: Attach,
// Stat, List and Delete all see the array.
func TestPlantedMagicSegments(t *testing.T) {
	for _, l := range Layouts {
		for what, plant := range plantings(l, meta{dtype: Uint8, shape: []int{4096}, nbytes: 4096}) {
			name := testName(t)
			a := mustCreate(t, name, []int{4096}, Uint8, WithLayout(l))
			off := 4096 + l.TrailerSize() - maxTrailer
			if off+len(plant) > 4096 {
				continue
			}
			copy(a.Bytes()[off:], plant)
			b, err := Attach(name)
			assert.NilError(t, err, "%s %s", l, what)
			assert.DeepEqual(t, b.Shape(), []int{4096})
			b.Close()
			info, err := Stat(name)
			assert.NilError(t, err)
			assert.Equal(t, info.Dtype, Uint8)
			infos, err := List()
			assert.NilError(t, err)
			assert.Assert(t, slices.ContainsFunc(infos, func(i Info) bool { return i.Name == name }), "%s %s: List hides it", l, what)
			assert.NilError(t, Delete(name))
		}
	}
}

// NumPy's rule on shapes, wherever a shape enters: itemsize × the
// product of the non-zero dims must fit in int64.
func TestZeroDimOverflow(t *testing.T) {
	for _, tc := range []struct {
		shape []int
		dt    Dtype
		ok    bool
	}{
		{[]int{0, 1 << 62, 1 << 62}, Float64, false},
		{[]int{0, 1 << 60, 8}, Int8, false}, // 2^63
		{[]int{0, 1<<60 - 1, 8}, Int8, true},
		{[]int{0, math.MaxInt64}, Int8, true},
		{[]int{0, math.MaxInt64}, Int16, false},
		{[]int{1 << 61, 0}, Int32, false},
		{[]int{3, 0, 4}, Float64, true},
	} {
		_, err := dataBytes(int64(tc.dt.size), tc.shape)
		assert.Equal(t, err == nil, tc.ok, "%v %s: %v", tc.shape, tc.dt, err)
		name := testName(t)
		a, err := Create(name, tc.shape, tc.dt)
		if !tc.ok {
			assert.Assert(t, errors.Is(err, ErrInvalid), "%v", err)
			assert.ErrorContains(t, err, "array is too big")
			_, serr := os.Stat(shmDir + "/" + name)
			assert.Assert(t, errors.Is(serr, os.ErrNotExist))
			// The .npy header is refused too.
			dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", tc.dt, shapeTuple(tc.shape))
			_, err = LoadNPYFrom(testName(t), bytes.NewReader(npyFile(dict, nil)))
			assert.Assert(t, errors.Is(err, ErrNPY), "%v", err)
			continue
		}
		assert.NilError(t, err)
		assert.DeepEqual(t, a.Strides(), make([]int, len(tc.shape)))
		assert.Equal(t, a.Len(), 0)
		a.Close()
	}
	a := mustCreate(t, testName(t), []int{3, 4}, Float64)
	assert.DeepEqual(t, a.Strides(), []int{32, 8})
}

func shapeTuple(shape []int) string {
	var b strings.Builder
	for _, d := range shape {
		fmt.Fprintf(&b, "%d,", d)
	}
	return b.String()
}

// Shapes whose data fits in int64 but not with the trailer are "too big",
// not a bare EINVAL from the kernel.
func TestCreateTooBig(t *testing.T) {
	for _, shape := range [][]int{{math.MaxInt64}, {math.MaxInt64 - 100}} {
		_, err := Create("file://"+filepath.Join(t.TempDir(), "x"), shape, Int8, Sparse())
		assert.Assert(t, errors.Is(err, ErrInvalid), "%v", err)
		assert.ErrorContains(t, err, "too big")
	}
}

// Sized dtype constructors never wrap: out-of-range sizes give an invalid
// Dtype that Create refuses.
func TestDtypeConstructorsOverflow(t *testing.T) {
	for _, d := range []Dtype{Str(1<<62 + 1), Str(-1), Str(math.MaxInt32/4 + 1), Bytes(1 << 31), Bytes(-5), Void(math.MaxInt), Bytes(0), Str(0)} {
		assert.Assert(t, errors.Is(d.Valid(), ErrDtype), "%v", d)
		_, err := Create(testName(t), []int{1}, d)
		assert.Assert(t, errors.Is(err, ErrDtype), "%v", err)
	}
	assert.Equal(t, Str(math.MaxInt32/4).ItemSize(), math.MaxInt32/4*4)
	assert.NilError(t, Str(math.MaxInt32/4).Valid())
	assert.NilError(t, Bytes(math.MaxInt32).Valid())
}

// Only .npy versions 1.0, 2.0 and 3.0 load, as in NumPy.
func TestLoadNPYMinorVersion(t *testing.T) {
	for _, v := range [][2]byte{{1, 1}, {1, 255}, {2, 1}, {3, 1}, {0, 0}, {4, 0}} {
		file := npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8))
		file[6], file[7] = v[0], v[1]
		_, err := LoadNPYFrom(testName(t), bytes.NewReader(file))
		assert.Assert(t, errors.Is(err, ErrNPY), "%v: %v", v, err)
		assert.ErrorContains(t, err, fmt.Sprintf("version %d.%d", v[0], v[1]))
	}
}

// ReadOnly is refused by LoadNPYFrom as by Create; import errors say
// "import".
func TestLoadNPYOptionsAndLabels(t *testing.T) {
	file := npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8))
	name := testName(t)
	_, err := LoadNPYFrom(name, bytes.NewReader(file), ReadOnly())
	assert.Assert(t, errors.Is(err, ErrInvalid), "%v", err)
	_, err = os.Stat(shmDir + "/" + name)
	assert.Assert(t, errors.Is(err, os.ErrNotExist))
	// A data error from the stream (not a header error).
	_, err = LoadNPYFrom(testName(t), io.MultiReader(bytes.NewReader(file[:len(file)-8]), errReader{}))
	assert.ErrorContains(t, err, "import ")
	assert.Assert(t, !strings.Contains(err.Error(), "create"), "%v", err)
	assert.Assert(t, errors.Is(err, syscall.EIO), "%v", err)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, syscall.EIO }

// When the O_TMPFILE segment cannot be linked (no /proc), the fallback
// builds the named segment from the data already read: the source is
// read once.
func TestCreateFallbackReadsSourceOnce(t *testing.T) {
	old := linkFdFunc
	linkFdFunc = func(int, string, string) error { return syscall.ENOENT }
	t.Cleanup(func() { linkFdFunc = old })
	data := make([]byte, 3*8)
	for i := range data {
		data[i] = byte(i + 1)
	}
	file := npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data)
	r := &countingReader{r: bytes.NewReader(file)}
	a, err := LoadNPYFrom(testName(t), io.Reader(r)) // hide Len: a stream
	assert.NilError(t, err)
	defer a.Close()
	assert.DeepEqual(t, a.Bytes(), data)
	assert.Equal(t, r.n, int64(len(file)))
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
