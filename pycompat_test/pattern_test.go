package pycompat_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	sa "github.com/sharedarray/sharedarray"
	"github.com/sharedarray/sharedarray/numtype"
)

// The byte pattern both sides write and check: byte i of an array is
// block(seed)[i % period], masked to 0/1 for bool. helper.py's pattern()
// follows the same rule.
const period = 4093

func block(seed int, isBool bool) []byte {
	b := make([]byte, period)
	for j := range b {
		x := uint64(seed)*0x9E3779B97F4A7C15 + uint64(j)*0xBF58476D1CE4E5B9
		b[j] = byte(x >> 56)
		if isBool {
			b[j] &= 1
		}
	}
	return b
}

func fillPattern(dst []byte, seed int, dt sa.Dtype) {
	blk := block(seed, dt == sa.Bool)
	for i := 0; i < len(dst); i += period {
		copy(dst[i:], blk)
	}
}

// checkPattern compares src with the pattern from byte skip on.
func checkPattern(src []byte, seed int, dt sa.Dtype, skip int) error {
	blk := block(seed, dt == sa.Bool)
	for i := 0; i < len(src); i += period {
		end := min(i+period, len(src))
		lo := max(i, skip)
		if lo >= end {
			continue
		}
		if !bytes.Equal(src[lo:end], blk[lo-i:end-i]) {
			for k := lo; k < end; k++ {
				if src[k] != blk[k-i] {
					return fmt.Errorf("byte %d is %d, want %d", k, src[k], blk[k-i])
				}
			}
		}
	}
	return nil
}

// typedBytes returns element 0's value for seed as NumPy stores it, and
// which of its bytes are significant (longdouble padding is not). nil for
// V, whose element 0 keeps the pattern. helper.py's typed_value() gives
// the same values.
func typedBytes(dt sa.Dtype, seed int) (val, mask []byte) {
	n := dt.ItemSize()
	val = make([]byte, n)
	mask = bytes.Repeat([]byte{1}, n)
	le := binary.LittleEndian
	f := float64(seed%50) + 0.5
	im := -float64(seed%30) - 0.25
	switch dt {
	case sa.Bool:
		val[0] = byte(seed % 2)
	case sa.Int8, sa.Int16, sa.Int32, sa.Int64:
		putInt(val, uint64(int64(-(seed%100)-1)))
	case sa.Uint8, sa.Uint16, sa.Uint32, sa.Uint64:
		putInt(val, uint64(seed%100+1))
	case sa.Float16:
		le.PutUint16(val, uint16(numtype.HalfFromFloat32(float32(f))))
	case sa.Float32:
		le.PutUint32(val, math.Float32bits(float32(f)))
	case sa.Float64:
		le.PutUint64(val, math.Float64bits(f))
	case sa.Complex64:
		le.PutUint32(val, math.Float32bits(float32(f)))
		le.PutUint32(val[4:], math.Float32bits(float32(im)))
	case sa.Complex128:
		le.PutUint64(val, math.Float64bits(f))
		le.PutUint64(val[8:], math.Float64bits(im))
	case sa.LongDouble:
		x := numtype.Float80FromFloat64(f)
		copy(val, x[:])
		clear(mask[10:])
	case sa.CLongDouble:
		x, y := numtype.Float80FromFloat64(f), numtype.Float80FromFloat64(im)
		copy(val, x[:])
		copy(val[16:], y[:])
		clear(mask[10:16])
		clear(mask[26:])
	case sa.Datetime64, sa.Timedelta64:
		le.PutUint64(val, uint64(seed*1000+7))
	default:
		switch dt.String()[1] {
		case 'S':
			s := fmt.Sprintf("s%d", seed)
			copy(val, s)
		case 'U':
			s := []rune(fmt.Sprintf("u%d\u00e9", seed))
			for i, r := range s[:min(len(s), n/4)] {
				le.PutUint32(val[4*i:], uint32(r))
			}
		default:
			return nil, nil
		}
	}
	return val, mask
}

func putInt(b []byte, v uint64) {
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
}

// setTyped writes element 0 through a typed View, so every view type is
// exercised against NumPy.
func setTyped(a *sa.Array, seed int) error {
	if a.Len() == 0 {
		return nil
	}
	val, _ := typedBytes(a.Dtype(), seed)
	if val == nil {
		return nil
	}
	le := binary.LittleEndian
	var err error
	switch a.Dtype() {
	case sa.Bool:
		err = set1(a, val[0] == 1)
	case sa.Int8:
		err = set1(a, int8(val[0]))
	case sa.Uint8:
		err = set1(a, val[0])
	case sa.Int16:
		err = set1(a, int16(le.Uint16(val)))
	case sa.Uint16:
		err = set1(a, le.Uint16(val))
	case sa.Int32:
		err = set1(a, int32(le.Uint32(val)))
	case sa.Uint32:
		err = set1(a, le.Uint32(val))
	case sa.Int64, sa.Datetime64, sa.Timedelta64:
		err = set1(a, int64(le.Uint64(val)))
	case sa.Uint64:
		err = set1(a, le.Uint64(val))
	case sa.Float16:
		err = set1(a, numtype.Half(le.Uint16(val)))
	case sa.Float32:
		err = set1(a, math.Float32frombits(le.Uint32(val)))
	case sa.Float64:
		err = set1(a, math.Float64frombits(le.Uint64(val)))
	case sa.Complex64:
		err = set1(a, complex(math.Float32frombits(le.Uint32(val)), math.Float32frombits(le.Uint32(val[4:]))))
	case sa.Complex128:
		err = set1(a, complex(math.Float64frombits(le.Uint64(val)), math.Float64frombits(le.Uint64(val[8:]))))
	case sa.LongDouble:
		err = set1(a, numtype.Float80(val))
	case sa.CLongDouble:
		err = set1(a, numtype.Complex160{Real: numtype.Float80(val[:16]), Imag: numtype.Float80(val[16:])})
	default: // S, U: raw bytes
		copy(a.Bytes(), val)
	}
	return err
}

func set1[T any](a *sa.Array, v T) error {
	s, err := sa.View[T](a)
	if err != nil {
		return err
	}
	s[0] = v
	return nil
}

// checkArray checks pattern and element 0 for seed.
func checkArray(a *sa.Array, seed int) error {
	data := a.Bytes()
	if len(data) == 0 {
		return nil
	}
	val, mask := typedBytes(a.Dtype(), seed)
	skip := 0
	if val != nil {
		skip = len(val)
		for i := range val {
			if mask[i] == 1 && data[i] != val[i] {
				return fmt.Errorf("element 0 byte %d is %#x, want %#x (element % x)", i, data[i], val[i], data[:len(val)])
			}
		}
	}
	return checkPattern(data, seed, a.Dtype(), skip)
}

// fillArray writes the pattern and element 0 for seed.
func fillArray(a *sa.Array, seed int) error {
	fillPattern(a.Bytes(), seed, a.Dtype())
	return setTyped(a, seed)
}
