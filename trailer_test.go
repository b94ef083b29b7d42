package sharedarray

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// The example of docs/format.md: create("shm://x", (3, 4), int32).
func TestTrailerWorkedExample(t *testing.T) {
	t.Parallel()
	head := "5b53686172656441727261795d000000" + "3000000000000000" + "05000000"
	dims := "02000000" + "0300000000000000" + "0400000000000000"
	v30 := head + dims + strings.Repeat("00", 240)
	np1 := head + "04000000" + dims + strings.Repeat("00", 240)
	np2 := head + "04000000" + dims + strings.Repeat("00", 496)
	m := meta{dtype: Int32, shape: []int{3, 4}, nbytes: 48}
	for _, tc := range []struct {
		layout Layout
		want   string
		size   int
	}{
		{LayoutV30, v30, 336},
		{LayoutNumPy1, np1, 340},
		{LayoutNumPy2, np2, 596},
	} {
		t.Run(tc.layout.String(), func(t *testing.T) {
			got := encodeTrailer(tc.layout, m)
			assert.Equal(t, hex.EncodeToString(got), tc.want)
			assert.Equal(t, 48+len(got), tc.size)
			file := append(make([]byte, 48), got...)
			dm, err := decodeTrailer(file[max(0, len(file)-maxTrailer):], int64(len(file)))
			assert.NilError(t, err)
			assert.Equal(t, dm.layout, tc.layout)
			assert.Equal(t, dm.dtype, Int32)
			assert.DeepEqual(t, dm.shape, []int{3, 4})
			assert.Equal(t, dm.nbytes, int64(48))
		})
	}
}

// A dual trailer is a 548 one whose last 292 (or 288) bytes are exactly
// the standalone encoding.
func TestTrailerDual(t *testing.T) {
	t.Parallel()
	m := meta{dtype: Float64, shape: []int{5, 6, 7}, nbytes: 8 * 5 * 6 * 7}
	d := encodeTrailer(LayoutDual, m)
	assert.Equal(t, len(d), 548)
	assert.DeepEqual(t, d[548-292:], encodeTrailer(LayoutNumPy1, m))
	assert.DeepEqual(t, d[:256], encodeTrailer(LayoutNumPy2, m)[:256])
	dv := encodeTrailer(LayoutDualV30, m)
	assert.DeepEqual(t, dv[548-288:], encodeTrailer(LayoutV30, m))
	assert.DeepEqual(t, dv[:260], encodeTrailer(LayoutNumPy2, m)[:260])
}

// segmentBytes returns a whole file: zero data then the trailer.
func segmentBytes(l Layout, m meta) []byte {
	return append(make([]byte, m.nbytes), encodeTrailer(l, m)...)
}

func decodeFile(file []byte) (meta, error) {
	return decodeTrailer(file[max(0, len(file)-maxTrailer):], int64(len(file)))
}

func TestTrailerRoundTrip(t *testing.T) {
	t.Parallel()
	dtypes := []Dtype{Bool, Int8, Uint8, Int16, Uint16, Int32, Uint32, Int64, Uint64, Float16, Float32,
		Float64, LongDouble, Complex64, Complex128, CLongDouble, Datetime64, Timedelta64, bytesDtype(7), strDtype(3), voidDtype(12)}
	for _, l := range layouts() {
		for _, dt := range dtypes {
			if !l.carries(dt) {
				continue
			}
			for _, nd := range []int{0, 1, 3, l.maxDims()} {
				shape := make([]int, nd)
				for i := range shape {
					shape[i] = 1 + i%3
					if i >= 3 {
						shape[i] = 1
					}
				}
				m, err := newMeta(shape, dt, l)
				assert.NilError(t, err)
				got, err := decodeFile(segmentBytes(l, m))
				assert.NilError(t, err, "%s %s ndims %d", l, dt, nd)
				assert.Equal(t, got.layout, l)
				assert.Equal(t, got.dtype, dt)
				assert.DeepEqual(t, got.shape, shape)
				assert.Equal(t, got.nbytes, m.nbytes)
			}
		}
	}
}

func TestTrailerZeroDim(t *testing.T) {
	t.Parallel()
	m, err := newMeta([]int{4, 0, 2}, Float64, LayoutDual)
	assert.NilError(t, err)
	assert.Equal(t, m.nbytes, int64(0))
	got, err := decodeFile(segmentBytes(LayoutDual, m))
	assert.NilError(t, err)
	assert.DeepEqual(t, got.shape, []int{4, 0, 2})
}

func TestTrailerTypenum9And10(t *testing.T) {
	t.Parallel()
	for num, want := range map[int32]Dtype{numLongLong: Int64, numULongLong: Uint64} {
		for _, l := range []Layout{LayoutV30, LayoutNumPy1, LayoutNumPy2} {
			b := segmentBytes(l, meta{dtype: makeDtype(num, 8), shape: []int{2}, nbytes: 16})
			got, err := decodeFile(b)
			assert.NilError(t, err)
			assert.Equal(t, got.dtype, want)
		}
	}
}

// The 288 layout has no item size: S/U/V derive it from size / ∏dims.
func TestTrailerV30DerivedItemSize(t *testing.T) {
	t.Parallel()
	b := segmentBytes(LayoutV30, meta{dtype: bytesDtype(5), shape: []int{2, 3}, nbytes: 30})
	got, err := decodeFile(b)
	assert.NilError(t, err)
	assert.Equal(t, got.dtype, bytesDtype(5))
	b = segmentBytes(LayoutV30, meta{dtype: bytesDtype(5), shape: []int{0}, nbytes: 0})
	_, err = decodeFile(b)
	assertFormat(t, err, "size")
}

func assertFormat(t *testing.T, err error, field string) {
	t.Helper()
	assert.Assert(t, errors.Is(err, ErrFormat), "got %v", err)
	var fe *FormatError
	assert.Assert(t, errors.As(err, &fe))
	assert.Equal(t, fe.Field, field, "%v", err)
}

// Every field a hostile trailer can get wrong is a FormatError naming it.
func TestTrailerValidation(t *testing.T) {
	t.Parallel()
	good := meta{dtype: Int32, shape: []int{3, 4}, nbytes: 48}
	put32 := func(b []byte, off int, v int32) { binary.LittleEndian.PutUint32(b[off:], uint32(v)) }
	put64 := func(b []byte, off int, v int64) { binary.LittleEndian.PutUint64(b[off:], uint64(v)) }
	type mut func(b []byte, tr int) // tr: trailer offset in b
	for _, tc := range []struct {
		name   string
		layout Layout
		mutate mut
		field  string
	}{
		{"bad magic", LayoutNumPy1, func(b []byte, tr int) { b[tr+3] = 'X' }, "magic"},
		{"magic without NUL", LayoutNumPy1, func(b []byte, tr int) { b[tr+13] = '!' }, "magic"},
		{"negative ndims", LayoutNumPy1, func(b []byte, tr int) { put32(b, tr+32, -1) }, "ndims"},
		{"ndims 33", LayoutNumPy1, func(b []byte, tr int) { put32(b, tr+32, 33) }, "ndims"},
		{"ndims 65", LayoutNumPy2, func(b []byte, tr int) { put32(b, tr+32, 65) }, "ndims"},
		{"ndims 33 v30", LayoutV30, func(b []byte, tr int) { put32(b, tr+28, 33) }, "ndims"},
		{"negative dim", LayoutNumPy1, func(b []byte, tr int) { put64(b, tr+36, -3) }, "dims[0]"},
		{"overflow", LayoutNumPy2, func(b []byte, tr int) { put64(b, tr+36, 1<<62); put64(b, tr+44, 1<<62) }, "dims"},
		{"size disagrees", LayoutNumPy1, func(b []byte, tr int) { put64(b, tr+16, 47) }, "size"},
		{"data beyond file", LayoutNumPy1, func(b []byte, tr int) { put64(b, tr+36, 300); put64(b, tr+16, 4*300*4) }, "size"},
		{"unknown typenum", LayoutNumPy1, func(b []byte, tr int) { put32(b, tr+24, 99) }, "typenum"},
		{"negative typenum", LayoutNumPy1, func(b []byte, tr int) { put32(b, tr+24, -1) }, "typenum"},
		{"object", LayoutNumPy1, func(b []byte, tr int) { put32(b, tr+24, numObject) }, "typenum"},
		{"StringDType", LayoutNumPy2, func(b []byte, tr int) { put32(b, tr+24, numStringDType) }, "typenum"},
		{"object v30", LayoutV30, func(b []byte, tr int) { put32(b, tr+24, numObject) }, "typenum"},
		{"itemsize 0", LayoutNumPy1, func(b []byte, tr int) { put32(b, tr+28, 0) }, "itemsize"},
		{"itemsize 8 for int32", LayoutNumPy1, func(b []byte, tr int) { put32(b, tr+28, 8) }, "itemsize"},
		{"U itemsize 6", LayoutNumPy1, func(b []byte, tr int) { put32(b, tr+24, numStr); put32(b, tr+28, 6) }, "itemsize"},
		{"S itemsize 0", LayoutNumPy2, func(b []byte, tr int) { put32(b, tr+24, numBytes); put32(b, tr+28, 0) }, "itemsize"},
		{"dual both bad", LayoutDual, func(b []byte, tr int) { put32(b, tr+24, 97); put32(b, tr+256+24, 99) }, "typenum"},
		{"zero dim hides overflow", LayoutNumPy2, func(b []byte, tr int) {
			put32(b, tr+32, 3)
			put64(b, tr+44, 0)
			put64(b, tr+52, 1<<62)
			put64(b, tr+16, 0)
		}, "dims"},
		{"zeros", LayoutNumPy1, func(b []byte, tr int) { clear(b[tr:]) }, "magic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := segmentBytes(tc.layout, good)
			tc.mutate(b, len(b)-tc.layout.TrailerSize())
			_, err := decodeFile(b)
			assertFormat(t, err, tc.field)
		})
	}
	for _, n := range []int{0, 1, 287} {
		_, err := decodeFile(make([]byte, n))
		assertFormat(t, err, "file size")
	}
}

// Random bytes of every length around the trailer sizes never crash.
func TestTrailerGarbage(t *testing.T) {
	t.Parallel()
	seed := uint64(1)
	for n := 280; n < 1200; n += 7 {
		b := make([]byte, n)
		for i := range b {
			seed = seed*6364136223846793005 + 1442695040888963407
			b[i] = byte(seed >> 56)
		}
		_, err := decodeFile(b)
		assert.Assert(t, errors.Is(err, ErrFormat))
	}
}

func FuzzDecodeTrailer(f *testing.F) {
	for _, l := range layouts() {
		for _, m := range []meta{
			{dtype: Int32, shape: []int{3, 4}, nbytes: 48},
			{dtype: Float64, shape: []int{}, nbytes: 8},
			{dtype: Bool, shape: []int{0, 5}, nbytes: 0},
			{dtype: bytesDtype(3), shape: []int{2}, nbytes: 6},
		} {
			if l.carries(m.dtype) {
				f.Add(segmentBytes(l, m))
			}
		}
	}
	// The hostile corpus, and valid segments with a 548 magic planted in
	// their data.
	for _, h := range hostileSegments {
		f.Add(h.make())
	}
	for _, l := range []Layout{LayoutV30, LayoutNumPy1} {
		m := meta{dtype: Uint8, shape: []int{600}, nbytes: 600}
		for _, plant := range plantings(l, m) {
			b := segmentBytes(l, m)
			copy(b[len(b)-maxTrailer:], plant)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		m, err := decodeFile(file)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not match ErrFormat", err)
			}
			return
		}
		if m.nbytes+int64(m.layout.TrailerSize()) > int64(len(file)) {
			t.Fatalf("%d data bytes + trailer exceed a %d-byte file", m.nbytes, len(file))
		}
		// NumPy's rule holds for every shape that decodes.
		if _, err := dataBytes(int64(m.dtype.ItemSize()), m.shape); err != nil {
			t.Fatalf("decoded shape %v %s breaks NumPy's rule: %v", m.shape, m.dtype, err)
		}
		// A 288/292 array is never lost to a 548 magic planted in its data.
		if (m.layout == LayoutV30 || m.layout == LayoutNumPy1) && len(file) >= maxTrailer && int64(len(file)-maxTrailer+magicLen) <= m.nbytes {
			planted := bytes.Clone(file)
			copy(planted[len(planted)-maxTrailer:], magic[:magicLen])
			pm, err := decodeFile(planted)
			if err != nil || pm.dtype != m.dtype || !equalInts(pm.shape, m.shape) {
				t.Fatalf("planting the magic in the data lost %+v: %+v, %v", m, pm, err)
			}
		}
		// What parses re-encodes to a trailer that parses the same.
		again, err := decodeFile(segmentBytes(m.layout, m))
		if err != nil {
			t.Fatalf("re-encoded %+v does not parse: %v", m, err)
		}
		if again.dtype != m.dtype || !equalInts(again.shape, m.shape) || again.layout != m.layout || again.nbytes != m.nbytes {
			t.Fatalf("round trip: %+v != %+v", again, m)
		}
		if !bytes.Equal(encodeTrailer(m.layout, again), encodeTrailer(m.layout, m)) {
			t.Fatal("encoding is not stable")
		}
	})
}
