package sharedarray

import (
	"reflect"
	"unsafe"
)

// View returns the array data as a []T of Len() elements, with no copy:
// writes through the slice are seen by every process that maps the
// segment. T must match the dtype:
//
//	bool                          Bool
//	int8 … uint64, float32/64     the dtype of the same kind and size
//	complex64, complex128         Complex64, Complex128
//	int64 (or int)                Int64, Datetime64, Timedelta64
//	Half                          Float16
//	Float80                       LongDouble
//	Complex160                    CLongDouble
//
// Named types with these underlying types (type Celsius float64) work too.
// S, U and V arrays have no view: use Bytes and Dtype().ItemSize(). A
// mismatch is an error wrapping ErrDtype, not a panic.
//
// The slice is invalid after Close. A bool element holding a byte other
// than 0 or 1 (which NumPy itself never writes) reads as an unspecified
// bool.
func View[T any](a *Array) ([]T, error) {
	t := reflect.TypeFor[T]()
	if !viewMatches(t, a.dtype) {
		return nil, kindErrorf(ErrDtype, "View[%s] of %s, a %s array", t, a.name, a.dtype.Name())
	}
	mem, err := a.mapping("view")
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(mem))), a.Len()), nil
}

var (
	typeHalf       = reflect.TypeFor[Half]()
	typeFloat80    = reflect.TypeFor[Float80]()
	typeComplex160 = reflect.TypeFor[Complex160]()
)

func viewMatches(t reflect.Type, d Dtype) bool {
	switch t {
	case typeHalf:
		return d == Float16
	case typeFloat80:
		return d == LongDouble
	case typeComplex160:
		return d == CLongDouble
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
