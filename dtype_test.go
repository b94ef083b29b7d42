package sharedarray

import (
	"errors"
	"testing"

	"gotest.tools/v3/assert"
)

func TestParseDtype(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Dtype{
		"float64": Float64, "f8": Float64, "<f8": Float64, "=f8": Float64, "d": Float64, "double": Float64, "float": Float64,
		"int64": Int64, "i8": Int64, "<i8": Int64, "q": Int64, "l": Int64, "longlong": Int64, "int": Int64,
		"uint64": Uint64, "u8": Uint64, "Q": Uint64, "L": Uint64,
		"bool": Bool, "?": Bool, "b1": Bool, "|b1": Bool,
		"int8": Int8, "b": Int8, "i1": Int8, "|i1": Int8, ">i1": Int8,
		"uint8": Uint8, "B": Uint8, "u1": Uint8,
		"int16": Int16, "<i2": Int16, "uint16": Uint16, "int32": Int32, "i": Int32, "i4": Int32, "uint32": Uint32, "I": Uint32,
		"float16": Float16, "e": Float16, "f2": Float16, "half": Float16,
		"float32": Float32, "f": Float32, "<f4": Float32,
		"longdouble": LongDouble, "g": LongDouble, "f16": LongDouble, "<f16": LongDouble, "float128": LongDouble,
		"complex64": Complex64, "c8": Complex64, "F": Complex64,
		"complex128": Complex128, "c16": Complex128, "D": Complex128, "complex": Complex128,
		"clongdouble": CLongDouble, "c32": CLongDouble, "G": CLongDouble, "complex256": CLongDouble,
		"datetime64": Datetime64, "M8": Datetime64, "<M8": Datetime64, "M8[ns]": Datetime64, "datetime64[s]": Datetime64, "M8[10ms]": Datetime64,
		"timedelta64": Timedelta64, "m8": Timedelta64, "<m8[us]": Timedelta64,
		"S7": bytesDtype(7), "|S7": bytesDtype(7), "a3": bytesDtype(3), ">S2": bytesDtype(2),
		"U3": strDtype(3), "<U3": strDtype(3),
		"V12": voidDtype(12), "|V12": voidDtype(12),
		" f8 ": Float64,
	} {
		got, err := ParseDtype(in)
		assert.NilError(t, err, in)
		assert.Equal(t, got, want, in)
	}
	for _, bad := range []string{"O", "object", "|O", "T", "StringDType", ">f8", ">i4", ">U3", "S", "S0", "U0", "V0", "U",
		"str", "bytes", "", "f3", "i3", "x", "M8[parsec]", "f8[ns]", "S-1", "U999999999999"} {
		_, err := ParseDtype(bad)
		assert.Assert(t, errors.Is(err, ErrDtype), "%q: %v", bad, err)
	}
}

// String gives NumPy's dtype.str, and ParseDtype reads it back.
func TestDtypeString(t *testing.T) {
	t.Parallel()
	for d, want := range map[Dtype]string{
		Bool: "|b1", Int8: "|i1", Uint8: "|u1", Int16: "<i2", Uint16: "<u2", Int32: "<i4", Uint32: "<u4",
		Int64: "<i8", Uint64: "<u8", Float16: "<f2", Float32: "<f4", Float64: "<f8", LongDouble: "<f16",
		Complex64: "<c8", Complex128: "<c16", CLongDouble: "<c32", Datetime64: "<M8", Timedelta64: "<m8",
		bytesDtype(7): "|S7", strDtype(3): "<U3", voidDtype(12): "|V12",
	} {
		assert.Equal(t, d.String(), want)
		back, err := ParseDtype(want)
		assert.NilError(t, err)
		assert.Equal(t, back, d)
		assert.NilError(t, d.valid())
	}
	assert.Equal(t, strDtype(3).ItemSize(), 12)
	assert.Equal(t, strDtype(3).Name(), "U3")
	assert.Equal(t, Float64.Name(), "float64")
	assert.Equal(t, Int64.Typenum(), 7)
	for _, d := range []Dtype{0, makeDtype(numObject, 8), makeDtype(numStringDType, 16), bytesDtype(0), strDtype(0), voidDtype(-1), makeDtype(numFloat64, 4), makeDtype(99, 1)} {
		if d == Bool {
			continue
		}
		assert.Assert(t, errors.Is(d.valid(), ErrDtype), "%v", d)
	}
}
