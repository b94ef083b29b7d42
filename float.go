package sharedarray

import (
	"math"
	"math/bits"
)

// Half is an IEEE 754 binary16 value, the element of a Float16 array.
type Half uint16

// Float32 returns h exactly as a float32 (NaN payloads kept).
func (h Half) Float32() float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: normalise.
	shift := uint32(bits.LeadingZeros32(frac)) - 21 // bring bit 10 to the top
	frac = (frac << shift) & 0x3ff
	return math.Float32frombits(sign | (113-shift)<<23 | frac<<13)
}

// HalfFromFloat32 rounds f to the nearest Half, ties to even, as NumPy
// does (overflow gives ±Inf; NaN stays NaN).
func HalfFromFloat32(f float32) Half {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	frac := b & 0x7fffff
	if exp == 0xff {
		if frac == 0 {
			return Half(sign | 0x7c00)
		}
		return Half(sign | 0x7e00 | uint16(frac>>13))
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return Half(sign | 0x7c00)
	}
	var m uint32
	var shift uint32
	if e <= 0 {
		if e < -10 {
			return Half(sign)
		}
		m = frac | 0x800000
		shift = uint32(14 - e)
		e = 0
	} else {
		m = frac
		shift = 13
	}
	half := uint32(1) << (shift - 1)
	rest := m & (1<<shift - 1)
	m >>= shift
	if rest > half || (rest == half && m&1 == 1) {
		m++
	}
	return Half(uint32(sign) + uint32(e)<<10 + m) // a carry moves into the exponent
}

// Float80 is an x87 80-bit extended precision value stored in 16 bytes,
// the element of a LongDouble array on Linux x86-64 (bytes 10 to 15 are
// padding).
type Float80 [16]byte

// Float80FromFloat64 returns f as a Float80, exactly.
func Float80FromFloat64(f float64) Float80 {
	b := math.Float64bits(f)
	sign := uint16(b>>48) & 0x8000
	exp := int(b>>52) & 0x7ff
	frac := b & (1<<52 - 1)
	var e uint16
	var mant uint64
	switch {
	case exp == 0x7ff:
		e, mant = 0x7fff, 1<<63|frac<<11
	case exp != 0:
		e, mant = uint16(exp-1023+16383), 1<<63|frac<<11
	case frac != 0: // float64 subnormal: normal in 80 bits
		p := 63 - bits.LeadingZeros64(frac)
		e, mant = uint16(p-1074+16383), frac<<(63-p)
	}
	var x Float80
	for i := range 8 {
		x[i] = byte(mant >> (8 * i))
	}
	x[8], x[9] = byte(e), byte((e|sign)>>8)
	return x
}

// Float64 returns x rounded to the nearest float64.
func (x Float80) Float64() float64 {
	var mant uint64
	for i := range 8 {
		mant |= uint64(x[i]) << (8 * i)
	}
	se := uint16(x[8]) | uint16(x[9])<<8
	neg := se&0x8000 != 0
	e := int(se & 0x7fff)
	var f float64
	switch {
	case e == 0x7fff && mant<<1 == 0:
		f = math.Inf(1)
	case e == 0x7fff:
		f = math.Float64frombits(0x7ff8000000000000 | (mant<<1)>>12)
	case e == 0:
		f = math.Ldexp(float64(mant), -16382-63)
	default:
		f = math.Ldexp(float64(mant), e-16383-63)
	}
	if neg {
		f = -f
	}
	return f
}

// Complex160 is the element of a CLongDouble array.
type Complex160 struct{ Real, Imag Float80 }
