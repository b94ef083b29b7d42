package sharedarray

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kshedden/gonpy"
	"gotest.tools/v3/assert"
)

func TestNPYHeaderFraming(t *testing.T) {
	t.Parallel()
	for _, d := range []Dtype{Bool, Int8, Float64, Float16, LongDouble, Complex128, Datetime64, bytesDtype(7), strDtype(3), voidDtype(12)} {
		for _, shape := range [][]int{{}, {5}, {3, 4}, ones(64)} {
			h := npyHeader(d, shape)
			assert.Equal(t, len(h)%64, 0, "%s %v", d, shape)
			assert.Equal(t, h[len(h)-1], byte('\n'))
			assert.Equal(t, string(h[:8]), "\x93NUMPY\x01\x00")
			assert.Equal(t, int(binary.LittleEndian.Uint16(h[8:])), len(h)-10)
			info, err := readNPYHeader(bytes.NewReader(h))
			assert.NilError(t, err)
			assert.Equal(t, info.dtype, d)
			assert.DeepEqual(t, info.shape, shape)
			assert.Equal(t, info.dataOff, int64(len(h)))
		}
	}
}

// The dicts of the dtypes gonpy cannot express have gonpy's form.
func TestNPYHeaderDicts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d     Dtype
		shape []int
		want  string
	}{
		{Bool, []int{3, 4}, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,4,),}"},
		{Float16, []int{5}, "{'descr': '<f2', 'fortran_order': False, 'shape': (5,),}"},
		{strDtype(3), nil, "{'descr': '<U3', 'fortran_order': False, 'shape': (),}"},
		// gonpy's own dict for its dtypes.
		{Float64, []int{3, 4}, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,4,),}"},
	} {
		assert.Equal(t, npyHeaderDict(tc.d, tc.shape), tc.want)
	}
}

func ones(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func TestNPYRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i, d := range []Dtype{Bool, Int8, Uint16, Int64, Float16, Float32, Float64, LongDouble, Complex64, CLongDouble, Timedelta64, bytesDtype(5), strDtype(2), voidDtype(3)} {
		a := mustCreate(t, testName(t), []int{3, 5}, d)
		for j := range a.Bytes() {
			a.Bytes()[j] = byte(i*31 + j*7)
			if d == Bool {
				a.Bytes()[j] &= 1
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("%d.npy", i))
		assert.NilError(t, a.SaveNPY(path))
		b, err := LoadNPY(testName(t), path)
		assert.NilError(t, err, "%s", d)
		assert.Equal(t, b.Dtype(), d)
		assert.DeepEqual(t, b.Shape(), []int{3, 5})
		assert.DeepEqual(t, b.Bytes(), a.Bytes())
		assert.Equal(t, b.Layout(), LayoutDual)
		b.Close()
	}
}

// gonpy reads what WriteNPY writes for the dtypes it knows.
func TestNPYReadByGonpy(t *testing.T) {
	t.Parallel()
	a := mustCreate(t, testName(t), []int{2, 3}, Float64)
	v, _ := View[float64](a)
	for i := range v {
		v[i] = float64(i) * 1.25
	}
	var buf bytes.Buffer
	n, err := a.WriteNPY(&buf)
	assert.NilError(t, err)
	assert.Equal(t, n, int64(buf.Len()))
	r, err := gonpy.NewReader(&buf)
	assert.NilError(t, err)
	assert.DeepEqual(t, r.Shape, []int{2, 3})
	got, err := r.GetFloat64()
	assert.NilError(t, err)
	assert.DeepEqual(t, got, v)
}

// npyFile builds a .npy file by hand.
func npyFile(dict string, data []byte) []byte {
	pad := 64 - (10+len(dict)+1)%64
	if pad == 64 {
		pad = 0
	}
	h := dict + strings.Repeat(" ", pad) + "\n"
	out := []byte("\x93NUMPY\x01\x00")
	out = binary.LittleEndian.AppendUint16(out, uint16(len(h)))
	return append(append(out, h...), data...)
}

func TestLoadNPYFortranAndBigEndian(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A 2x3 int32 array [[0 1 2] [3 4 5]] in Fortran order: 0 3 1 4 2 5.
	var f []byte
	for _, x := range []int32{0, 3, 1, 4, 2, 5} {
		f = binary.LittleEndian.AppendUint32(f, uint32(x))
	}
	path := filepath.Join(dir, "f.npy")
	assert.NilError(t, os.WriteFile(path, npyFile("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", f), 0o644))
	a, err := LoadNPY(testName(t), path)
	assert.NilError(t, err)
	defer a.Close()
	v, _ := View[int32](a)
	assert.DeepEqual(t, v, []int32{0, 1, 2, 3, 4, 5})

	// Big-endian float64 and complex64.
	var be []byte
	for _, x := range []float64{1.5, -2, math.Inf(1)} {
		be = binary.BigEndian.AppendUint64(be, math.Float64bits(x))
	}
	assert.NilError(t, os.WriteFile(path, npyFile("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", be), 0o644))
	b, err := LoadNPY(testName(t), path)
	assert.NilError(t, err)
	defer b.Close()
	w, _ := View[float64](b)
	assert.DeepEqual(t, w, []float64{1.5, -2, math.Inf(1)})
	var bc []byte
	bc = binary.BigEndian.AppendUint32(bc, math.Float32bits(1))
	bc = binary.BigEndian.AppendUint32(bc, math.Float32bits(-3))
	assert.NilError(t, os.WriteFile(path, npyFile("{'descr': '>c8', 'fortran_order': False, 'shape': (1,), }", bc), 0o644))
	c, err := LoadNPY(testName(t), path)
	assert.NilError(t, err)
	defer c.Close()
	cv, _ := View[complex64](c)
	assert.Equal(t, cv[0], complex64(1-3i))
}

func TestLoadNPYRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"no magic", []byte("hello world, not numpy at all")},
		{"empty", nil},
		{"object", npyFile("{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", make([]byte, 24))},
		{"structured", npyFile("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (3,), }", make([]byte, 12))},
		{"StringDType", npyFile("{'descr': 'T', 'fortran_order': False, 'shape': (3,), }", make([]byte, 48))},
		{"big-endian longdouble", npyFile("{'descr': '>f16', 'fortran_order': False, 'shape': (1,), }", make([]byte, 16))},
		{"truncated data", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", make([]byte, 23))},
		{"truncated fortran", npyFile("{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }", make([]byte, 40))},
		{"negative dim", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }", nil)},
		{"overflow", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", nil)},
		{"missing shape", npyFile("{'descr': '<f8', 'fortran_order': False, }", nil)},
		{"extra key", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1, }", make([]byte, 8))},
		{"not a tuple", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (3), }", make([]byte, 24))},
		{"garbage after", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), } x", make([]byte, 8))},
		{"version 9", append([]byte("\x93NUMPY\x09\x00"), make([]byte, 100)...)},
		{"huge header", append([]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"), make([]byte, 100)...)},
		{"65 dims", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': ("+strings.Repeat("1,", 65)+"), }", make([]byte, 8))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.npy")
			assert.NilError(t, os.WriteFile(path, tc.file, 0o644))
			name := testName(t)
			_, err := LoadNPY(name, path)
			assert.Assert(t, errors.Is(err, ErrNPY), "%v", err)
			_, err = os.Stat(shmDir + "/" + name)
			assert.Assert(t, errors.Is(err, fs.ErrNotExist), "a failed import leaves no segment")
		})
	}
	// An existing name: ErrExist, and the existing array is untouched.
	name := testName(t)
	mustCreate(t, name, []int{2}, Int8)
	path := filepath.Join(dir, "ok.npy")
	assert.NilError(t, os.WriteFile(path, npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8)), 0o644))
	_, err := LoadNPY(name, path)
	assert.Assert(t, errors.Is(err, fs.ErrExist), "%v", err)
	info, err := Stat(name)
	assert.NilError(t, err)
	assert.Equal(t, info.Dtype, Int8)
}

func FuzzParseNPYHeader(f *testing.F) {
	for _, d := range []Dtype{Bool, Float64, strDtype(3), Complex64} {
		for _, shape := range [][]int{{}, {5}, {3, 4, 0}} {
			f.Add(npyHeader(d, shape))
		}
	}
	f.Add(npyFile("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }", nil))
	for _, h := range hostileNPYs { // testdata/npy-hostile
		f.Add(h.make())
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		info, err := readNPYHeader(bytes.NewReader(file))
		if err != nil {
			if !errors.Is(err, ErrNPY) {
				t.Fatalf("error %v does not match ErrNPY", err)
			}
			return
		}
		if info.dataOff > int64(len(file)) || info.nbytes < 0 || len(info.shape) > npyMaxDims {
			t.Fatalf("bad parse %+v", info)
		}
		if len(file) < 8 || file[7] != 0 || file[6] < 1 || file[6] > 3 {
			t.Fatalf("version %v accepted", file[6:8])
		}
		if _, err := dataBytes(int64(info.dtype.ItemSize()), info.shape); err != nil {
			t.Fatalf("shape %v %s breaks NumPy's rule: %v", info.shape, info.dtype, err)
		}
		// What parses re-encodes to a header that parses the same.
		again, err := readNPYHeader(bytes.NewReader(npyHeader(info.dtype, info.shape)))
		if err != nil || again.dtype != info.dtype || !equalInts(again.shape, info.shape) || again.nbytes != info.nbytes {
			t.Fatalf("round trip of %+v: %+v, %v", info, again, err)
		}
	})
}

// Format versions 2.0 and 3.0 (4-byte header length) import like 1.0.
func TestLoadNPYVersions(t *testing.T) {
	t.Parallel()
	dict := "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 2), }"
	for _, major := range []byte{2, 3} {
		h := dict + strings.Repeat(" ", 64-(12+len(dict)+1)%64) + "\n"
		file := append([]byte("\x93NUMPY"), major, 0)
		file = binary.LittleEndian.AppendUint32(file, uint32(len(h)))
		file = append(file, h...)
		file = append(file, 1, 0, 2, 0, 3, 0, 4, 0)
		a, err := LoadNPYFrom(testName(t), bytes.NewReader(file))
		assert.NilError(t, err, "version %d", major)
		v, _ := View[uint16](a)
		assert.DeepEqual(t, v, []uint16{1, 2, 3, 4})
		a.Close()
	}
}

// LoadNPY's own errors about path: an "import" *fs.PathError naming the
// path, a directory EISDIR rather than a bad .npy file.
func TestLoadNPYPathErrors(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.npy")
	_, err := LoadNPY(testName(t), missing)
	var pe *fs.PathError
	assert.Assert(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, pe.Op, "import")
	assert.Equal(t, pe.Path, missing)
	assert.Assert(t, errors.Is(err, fs.ErrNotExist), "%v", err)
	dir := t.TempDir()
	_, err = LoadNPY(testName(t), dir)
	assert.Assert(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, pe.Op, "import")
	assert.Equal(t, pe.Path, dir)
	assert.Assert(t, errors.Is(err, syscall.EISDIR), "%v", err)
	assert.Assert(t, !errors.Is(err, ErrNPY), "%v", err)
}

// TestNPYHeaderOneForm: for the dtypes gonpy exports, the hand-written
// header dict (used for the others) is byte for byte gonpy's, so every
// export's header has one form; and the whole headers are identical.
// Before, gonpy wrote "(3,4,),}" and the hand path "(3, 4), }".
func TestNPYHeaderOneForm(t *testing.T) {
	t.Parallel()
	gonpyTypes := []Dtype{Int8, Uint8, Int16, Uint16, Int32, Uint32, Int64, Uint64, Float32, Float64, Complex64, Complex128}
	for _, d := range gonpyTypes {
		for _, shape := range [][]int{{}, {0}, {3}, {3, 4}, {0, 2, 5}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}} {
			g, ok := gonpyDict(d, shape)
			assert.Assert(t, ok, "gonpy does not export %s", d)
			descr, _, _ := strings.Cut(strings.TrimPrefix(g, "{'descr': '"), "'")
			assert.Equal(t, npyDict(descr, shape), g, "%s %v", d, shape)
			assert.Equal(t, string(npyHeader(d, shape)), string(frameHeader(npyDict(descr, shape))), "%s %v", d, shape)
		}
	}
}

// WriteNPY's "format 1.0": the longest header an array can have (64
// dimensions of the largest size, the longest dtype spellings) is far
// below 1.0's 65,535-byte HEADER_LEN, so no other version is needed.
func TestNPYHeaderVersion1(t *testing.T) {
	t.Parallel()
	shape := make([]int, 64) // LayoutNumPy2's MaxDims, the most any layout carries
	for i := range shape {
		shape[i] = math.MaxInt64
	}
	assert.Equal(t, LayoutNumPy2.maxDims(), len(shape))
	dtypes := []Dtype{bytesDtype(math.MaxInt32), strDtype(math.MaxInt32 - 3), voidDtype(math.MaxInt32), Float64, Complex128, LongDouble}
	for _, s := range []string{"<M8[as]", "<m8[generic]", "<M8[10us]", "<m8[7D]"} {
		if d, err := ParseDtype(s); err == nil {
			dtypes = append(dtypes, d)
		}
	}
	for _, d := range dtypes {
		h := npyHeader(d, shape)
		assert.Equal(t, h[6], byte(1), "%s", d)
		assert.Equal(t, int(binary.LittleEndian.Uint16(h[8:]))+10, len(h), "%s", d)
		assert.Assert(t, len(h) < 2048, "%s: %d bytes", d, len(h))
	}
}
