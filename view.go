package sharedarray

import (
	"reflect"
	"runtime"
	"unsafe"

	"github.com/sharedarray/sharedarray/numtype"
)

// View returns the array data as a []T of Len() elements, with no copy:
// writes through the slice are seen by every process that maps the
// segment. T must match the dtype:
//
//	bool                          Bool
//	int8 … uint64, float32/64     the dtype of the same kind and size
//	complex64, complex128         Complex64, Complex128
//	int64 (or int)                Int64, Datetime64, Timedelta64
//	numtype.Half                  Float16
//	numtype.Float80               LongDouble on amd64 (x87 long double)
//	numtype.Complex160            CLongDouble on amd64
//	numtype.Float128              LongDouble on arm64 (IEEE binary128)
//	numtype.Complex256            CLongDouble on arm64
//
// Named types with these underlying types (type Celsius float64) work too.
// S, U and V arrays have no view: use Bytes and Dtype().ItemSize(). A
// mismatch is an error wrapping ErrDtype, not a panic.
//
// The slice must not be used after Close: touching it then faults, as
// long as the range is still reserved (see Array). A bool element holding a byte other
// than 0 or 1 (which NumPy itself never writes) reads as an unspecified
// bool.
func View[T any](a *Array) ([]T, error) {
	t := reflect.TypeFor[T]()
	if !viewMatches(t, a.dtype) {
		return nil, kindErrorf(ErrDtype, "View[%s] of %s, a %s array%s", t, a.name, a.dtype.Name(), longDoubleHint(t, a.dtype))
	}
	mem, err := a.hold("view")
	if err != nil {
		return nil, err
	}
	defer a.mu.RUnlock()
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(mem))), a.Len()), nil
}

var (
	typeHalf       = reflect.TypeFor[numtype.Half]()
	typeFloat80    = reflect.TypeFor[numtype.Float80]()
	typeComplex160 = reflect.TypeFor[numtype.Complex160]()
	typeFloat128   = reflect.TypeFor[numtype.Float128]()
	typeComplex256 = reflect.TypeFor[numtype.Complex256]()
)

// longDoubleHint says which type a long double array views as here.
func longDoubleHint(t reflect.Type, d Dtype) string {
	if d != LongDouble && d != CLongDouble {
		return ""
	}
	switch longDouble {
	case "x87":
		return " (long double is x87 80-bit on " + runtime.GOARCH + ": use numtype.Float80 or numtype.Complex160)"
	case "binary128":
		return " (long double is IEEE binary128 on " + runtime.GOARCH + ": use numtype.Float128 or numtype.Complex256)"
	}
	return " (the format of long double on " + runtime.GOARCH + " is not known to this package: use Bytes)"
}

func viewMatches(t reflect.Type, d Dtype) bool {
	switch t {
	case typeHalf:
		return d == Float16
	case typeFloat80:
		return d == LongDouble && longDouble == "x87"
	case typeComplex160:
		return d == CLongDouble && longDouble == "x87"
	case typeFloat128:
		return d == LongDouble && longDouble == "binary128"
	case typeComplex256:
		return d == CLongDouble && longDouble == "binary128"
	}
	switch t.Kind() {
	case reflect.Bool:
		return d == Bool
	case reflect.Int8:
		return d == Int8
	case reflect.Uint8:
		return d == Uint8
	case reflect.Int16:
		return d == Int16
	case reflect.Uint16:
		return d == Uint16
	case reflect.Int32:
		return d == Int32
	case reflect.Uint32:
		return d == Uint32
	case reflect.Int64, reflect.Int:
		return t.Size() == 8 && (d == Int64 || d == Datetime64 || d == Timedelta64)
	case reflect.Uint64, reflect.Uint:
		return t.Size() == 8 && d == Uint64
	case reflect.Float32:
		return d == Float32
	case reflect.Float64:
		return d == Float64
	case reflect.Complex64:
		return d == Complex64
	case reflect.Complex128:
		return d == Complex128
	}
	return false
}
