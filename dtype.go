package sharedarray

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Dtype is the element type of an array: a NumPy type number and an item
// size, packed in one integer (the type number in the high 32 bits, the
// item size in the low 32). Dtypes are comparable with ==; the constants
// below and ParseDtype (for the sized types: "S7", "U3", "V12") cover
// every dtype SharedArray can share.
//
// Only the type number and the item size survive in a segment: byte order,
// datetime units and structured field names are lost even for the process
// that created the array, so Dtype carries none of them.
type Dtype uint64

// makeDtype packs a type number and an item size.
func makeDtype(num, size int32) Dtype { return Dtype(uint64(uint32(num))<<32 | uint64(uint32(size))) }

// num returns the NumPy typenum (dtype.num).
func (d Dtype) num() int32 { return int32(d >> 32) }

// size returns dtype.itemsize (negative for a size Bytes, Str or Void
// could not represent).
func (d Dtype) size() int32 { return int32(uint32(d)) }

// NumPy type numbers (dtype.num) on Linux x86-64, NumPy 1.24 and 2.x alike.
const (
	numBool        = 0
	numInt8        = 1
	numUint8       = 2
	numInt16       = 3
	numUint16      = 4
	numInt32       = 5
	numUint32      = 6
	numInt64       = 7 // C long: what np.int64 gives
	numUint64      = 8
	numLongLong    = 9  // C long long: read as int64
	numULongLong   = 10 // read as uint64
	numFloat32     = 11
	numFloat64     = 12
	numLongDouble  = 13
	numComplex64   = 14
	numComplex128  = 15
	numCLongDouble = 16
	numObject      = 17
	numBytes       = 18
	numStr         = 19
	numVoid        = 20
	numDatetime64  = 21
	numTimedelta64 = 22
	numFloat16     = 23
	numStringDType = 2056
)

// The fixed-size dtypes.
const (
	Bool        Dtype = numBool<<32 | 1
	Int8        Dtype = numInt8<<32 | 1
	Uint8       Dtype = numUint8<<32 | 1
	Int16       Dtype = numInt16<<32 | 2
	Uint16      Dtype = numUint16<<32 | 2
	Int32       Dtype = numInt32<<32 | 4
	Uint32      Dtype = numUint32<<32 | 4
	Int64       Dtype = numInt64<<32 | 8
	Uint64      Dtype = numUint64<<32 | 8
	Float16     Dtype = numFloat16<<32 | 2
	Float32     Dtype = numFloat32<<32 | 4
	Float64     Dtype = numFloat64<<32 | 8
	LongDouble  Dtype = numLongDouble<<32 | 16  // C long double: x87 on amd64 (numtype.Float80), binary128 on arm64 (numtype.Float128)
	Complex64   Dtype = numComplex64<<32 | 8    // two float32
	Complex128  Dtype = numComplex128<<32 | 16  // two float64
	CLongDouble Dtype = numCLongDouble<<32 | 32 // two LongDouble
	Datetime64  Dtype = numDatetime64<<32 | 8   // int64 ticks; the unit is not stored
	Timedelta64 Dtype = numTimedelta64<<32 | 8  // int64 ticks; the unit is not stored
)

// bytesDtype returns the NumPy dtype S<n>: n bytes, NUL padded. n must be
// in 1..2147483647 (SharedArray stores the item size in 32 bits); for any
// other n the Dtype is invalid: Create refuses it, saying why.
func bytesDtype(n int) Dtype { return makeDtype(numBytes, clampSize(n, 1)) }

// strDtype returns the NumPy dtype U<n>: n UTF-32LE code points (4n
// bytes). n must be in 1..536870911, so that 4n fits SharedArray's 32-bit
// item size; for any other n the Dtype is invalid, as for bytesDtype.
func strDtype(n int) Dtype { return makeDtype(numStr, clampSize(n, 4)) }

// voidDtype returns the NumPy dtype V<n>: n raw bytes, n in
// 1..2147483647; for any other n the Dtype is invalid, as for bytesDtype.
func voidDtype(n int) Dtype { return makeDtype(numVoid, clampSize(n, 1)) }

// clampSize returns n × unit as an item size, or -1 when it is negative
// or does not fit in 32 bits; valid rejects -1. It never wraps.
func clampSize(n, unit int) int32 {
	if n < 0 || n > math.MaxInt32/unit {
		return -1
	}
	return int32(n * unit)
}

// fixedInfo describes a fixed-size dtype.
type fixedInfo struct {
	dt   Dtype
	name string // NumPy's dtype.name
	str  string // NumPy's dtype.str
}

var fixedDtypes = map[int32]fixedInfo{
	numBool:        {Bool, "bool", "|b1"},
	numInt8:        {Int8, "int8", "|i1"},
	numUint8:       {Uint8, "uint8", "|u1"},
	numInt16:       {Int16, "int16", "<i2"},
	numUint16:      {Uint16, "uint16", "<u2"},
	numInt32:       {Int32, "int32", "<i4"},
	numUint32:      {Uint32, "uint32", "<u4"},
	numInt64:       {Int64, "int64", "<i8"},
	numUint64:      {Uint64, "uint64", "<u8"},
	numFloat16:     {Float16, "float16", "<f2"},
	numFloat32:     {Float32, "float32", "<f4"},
	numFloat64:     {Float64, "float64", "<f8"},
	numLongDouble:  {LongDouble, "longdouble", "<f16"},
	numComplex64:   {Complex64, "complex64", "<c8"},
	numComplex128:  {Complex128, "complex128", "<c16"},
	numCLongDouble: {CLongDouble, "clongdouble", "<c32"},
	numDatetime64:  {Datetime64, "datetime64", "<M8"},
	numTimedelta64: {Timedelta64, "timedelta64", "<m8"},
}

// Typenum returns NumPy's type number (dtype.num) for d.
func (d Dtype) Typenum() int { return int(d.num()) }

// ItemSize returns the size of one element in bytes (dtype.itemsize).
func (d Dtype) ItemSize() int { return int(d.size()) }

// IsFlexible reports whether d is one of the sized types S<n>, U<n>, V<n>.
func (d Dtype) IsFlexible() bool {
	return d.num() == numBytes || d.num() == numStr || d.num() == numVoid
}

// String returns NumPy's dtype.str spelling: "<f8", "|b1", "|S7", "<U3".
func (d Dtype) String() string {
	if f, ok := fixedDtypes[d.num()]; ok && f.dt == d {
		return f.str
	}
	switch d.num() {
	case numBytes:
		return "|S" + strconv.Itoa(int(d.size()))
	case numStr:
		return "<U" + strconv.Itoa(int(d.size())/4)
	case numVoid:
		return "|V" + strconv.Itoa(int(d.size()))
	}
	return fmt.Sprintf("dtype(num=%d, itemsize=%d)", d.num(), d.size())
}

// Name returns NumPy's name for d ("float64", "bool"), or its str form
// without byte order for the sized types ("S7", "U3", "V12").
func (d Dtype) Name() string {
	if f, ok := fixedDtypes[d.num()]; ok && f.dt == d {
		return f.name
	}
	if d.IsFlexible() {
		return d.String()[1:]
	}
	return d.String()
}

// valid returns nil when d can be stored in a shared array, and otherwise
// an error wrapping ErrDtype that says why.
func (d Dtype) valid() error {
	if f, ok := fixedDtypes[d.num()]; ok {
		if f.dt != d {
			return kindErrorf(ErrDtype, "%s has item size %d, not %d", f.name, f.dt.size(), d.size())
		}
		return nil
	}
	switch d.num() {
	case numBytes, numVoid:
		if d.size() <= 0 {
			return kindErrorf(ErrDtype, "%s needs an item size in 1..%d, not %d (-1: a size out of range)", d.kindName(), math.MaxInt32, d.size())
		}
		return nil
	case numStr:
		if d.size() <= 0 || d.size()%4 != 0 {
			return kindErrorf(ErrDtype, "U needs an item size in 4..%d that is a multiple of 4, not %d (-1: a length out of range)", math.MaxInt32-3, d.size())
		}
		return nil
	}
	return typenumError(d.num())
}

func (d Dtype) kindName() string {
	switch d.num() {
	case numBytes:
		return "S"
	case numStr:
		return "U"
	}
	return "V"
}

// typenumError says why a type number cannot be shared.
func typenumError(num int32) error {
	switch num {
	case numObject:
		return kindErrorf(ErrDtype, "object arrays (typenum 17) hold pointers into one process and cannot be shared")
	case numStringDType:
		return kindErrorf(ErrDtype, "StringDType arrays (typenum 2056) hold pointers into one process and cannot be shared")
	}
	return kindErrorf(ErrDtype, "unknown NumPy typenum %d", num)
}

// dtypeFromTrailer maps a stored typenum and item size to a Dtype. itemsize
// is the stored one, or for the 288-byte layout the one derived from the
// size field (-1 when it cannot be derived).
func dtypeFromTypenum(num int32, itemsize int64) (Dtype, error) {
	switch num {
	case numLongLong:
		num = numInt64
	case numULongLong:
		num = numUint64
	}
	if f, ok := fixedDtypes[num]; ok {
		if itemsize != int64(f.dt.size()) {
			return 0, kindErrorf(ErrDtype, "%s has item size %d, not %d", f.name, f.dt.size(), itemsize)
		}
		return f.dt, nil
	}
	switch num {
	case numBytes, numStr, numVoid:
		if itemsize <= 0 || itemsize > 1<<31-1 {
			return 0, kindErrorf(ErrDtype, "item size %d", itemsize)
		}
		d := makeDtype(num, int32(itemsize))
		return d, d.valid()
	}
	return 0, typenumError(num)
}

// dtypeNames maps NumPy's names and one-letter codes to fixed dtypes.
var dtypeNames = map[string]Dtype{
	"bool": Bool, "bool_": Bool, "?": Bool, "b1": Bool,
	"int8": Int8, "byte": Int8, "b": Int8, "i1": Int8,
	"uint8": Uint8, "ubyte": Uint8, "B": Uint8, "u1": Uint8,
	"int16": Int16, "short": Int16, "h": Int16, "i2": Int16,
	"uint16": Uint16, "ushort": Uint16, "H": Uint16, "u2": Uint16,
	"int32": Int32, "intc": Int32, "i": Int32, "i4": Int32,
	"uint32": Uint32, "uintc": Uint32, "I": Uint32, "u4": Uint32,
	"int64": Int64, "int": Int64, "int_": Int64, "long": Int64, "longlong": Int64, "intp": Int64,
	"l": Int64, "q": Int64, "p": Int64, "i8": Int64,
	"uint64": Uint64, "uint": Uint64, "ulong": Uint64, "ulonglong": Uint64, "uintp": Uint64,
	"L": Uint64, "Q": Uint64, "P": Uint64, "u8": Uint64,
	"float16": Float16, "half": Float16, "e": Float16, "f2": Float16,
	"float32": Float32, "single": Float32, "f": Float32, "f4": Float32,
	"float64": Float64, "double": Float64, "float": Float64, "float_": Float64, "d": Float64, "f8": Float64,
	"longdouble": LongDouble, "float128": LongDouble, "longfloat": LongDouble, "g": LongDouble, "f16": LongDouble,
	"complex64": Complex64, "csingle": Complex64, "F": Complex64, "c8": Complex64,
	"complex128": Complex128, "cdouble": Complex128, "complex": Complex128, "complex_": Complex128, "D": Complex128, "c16": Complex128,
	"clongdouble": CLongDouble, "complex256": CLongDouble, "clongfloat": CLongDouble, "G": CLongDouble, "c32": CLongDouble,
	"datetime64": Datetime64, "M": Datetime64, "M8": Datetime64,
	"timedelta64": Timedelta64, "m": Timedelta64, "m8": Timedelta64,
}

// datetimeUnits are the units NumPy accepts in "M8[unit]".
var datetimeUnits = map[string]bool{
	"Y": true, "M": true, "W": true, "D": true, "h": true, "m": true, "s": true,
	"ms": true, "us": true, "μs": true, "ns": true, "ps": true, "fs": true, "as": true, "generic": true,
}

// ParseDtype parses NumPy's spellings of a dtype: names ("float64",
// "int64", "bool", "longdouble", "datetime64[ns]"), one-letter codes ("d",
// "?", "e"), kind and size ("f8", "<f8", "i8", "c16", "M8", "m8[s]") and
// the sized types ("S7", "U3", "V12", "|S7", "<U3"). A datetime unit is
// accepted and dropped, since segments do not store it. Big-endian
// multi-byte types, object ("O") and StringDType ("T") are refused with an
// error wrapping ErrDtype.
func ParseDtype(s string) (Dtype, error) {
	spec := strings.TrimSpace(s)
	order := byte(0)
	if spec != "" && strings.IndexByte("<>=|", spec[0]) >= 0 {
		order, spec = spec[0], spec[1:]
	}
	if i := strings.IndexByte(spec, '['); i >= 0 && strings.HasSuffix(spec, "]") {
		if unit := spec[i+1 : len(spec)-1]; !datetimeUnits[unit] && !isMultipleUnit(unit) {
			return 0, kindErrorf(ErrDtype, "%q: unknown datetime unit %q", s, unit)
		}
		spec = spec[:i]
		if d, ok := dtypeNames[spec]; !ok || (d != Datetime64 && d != Timedelta64) {
			return 0, kindErrorf(ErrDtype, "%q: only datetime64 and timedelta64 take a unit", s)
		}
	}
	d, ok := dtypeNames[spec]
	if !ok {
		var err error
		if d, err = parseSized(spec); err != nil {
			return 0, kindErrorf(ErrDtype, "%q: %v", s, err)
		}
	}
	if order == '>' && d.size() > 1 && d.num() != numBytes && d.num() != numVoid {
		return 0, kindErrorf(ErrDtype, "%q is big-endian; shared arrays are little-endian (SharedArray stores no byte order)", s)
	}
	if err := d.valid(); err != nil {
		return 0, nestf(ErrDtype, err, "%q", s)
	}
	return d, nil
}

// isMultipleUnit accepts NumPy's "10ms"-style units.
func isMultipleUnit(u string) bool {
	i := 0
	for i < len(u) && u[i] >= '0' && u[i] <= '9' {
		i++
	}
	return i > 0 && datetimeUnits[u[i:]]
}

// parseSized parses S<n>, a<n>, U<n> and V<n>, and names the refused types.
func parseSized(spec string) (Dtype, error) {
	switch spec {
	case "O", "object", "object_", "O8":
		return 0, fmt.Errorf("object arrays hold pointers into one process and cannot be shared")
	case "T", "StringDType":
		return 0, fmt.Errorf("StringDType arrays hold pointers into one process and cannot be shared")
	case "":
		return 0, fmt.Errorf("empty dtype")
	}
	kind, digits := spec[0], spec[1:]
	switch spec {
	case "str", "unicode", "str_":
		kind, digits = 'U', ""
	case "bytes", "bytes_":
		kind, digits = 'S', ""
	case "void":
		kind, digits = 'V', ""
	}
	if kind != 'S' && kind != 'a' && kind != 'U' && kind != 'V' {
		return 0, fmt.Errorf("not a NumPy dtype")
	}
	if digits == "" {
		return 0, fmt.Errorf("item size 0 (give a length, as in %c8)", kind)
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a NumPy dtype")
	}
	if n == 0 {
		return 0, fmt.Errorf("item size 0")
	}
	switch kind {
	case 'S', 'a':
		if n > math.MaxInt32 {
			return 0, fmt.Errorf("too long (SharedArray stores item sizes in 32 bits: at most %d bytes)", math.MaxInt32)
		}
		return bytesDtype(n), nil
	case 'U':
		if n > math.MaxInt32/4 {
			return 0, fmt.Errorf("too long (SharedArray stores item sizes in 32 bits: at most %d code points)", math.MaxInt32/4)
		}
		return strDtype(n), nil
	}
	if n > math.MaxInt32 {
		return 0, fmt.Errorf("too long (SharedArray stores item sizes in 32 bits: at most %d bytes)", math.MaxInt32)
	}
	return voidDtype(n), nil
}
