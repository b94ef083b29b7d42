// Package numtype holds the element types of the NumPy dtypes Go has no
// type for: float16 (Half), and long double and its complex on the two
// platforms whose long double the package knows (Float80 and Complex160
// where C's long double is x87, as on amd64; Float128 and Complex256 where
// it is IEEE binary128, as on arm64), with exact conversions to and from
// float32 or float64.
//
// sharedarray.View accepts them for arrays of those dtypes:
//
//	h, err := sharedarray.View[numtype.Half](a) // a Float16 array
//	h[0] = numtype.HalfFromFloat32(1.5)
package numtype

import (
	"math"
	"math/big"
	"math/bits"
)

// Half is an IEEE 754 binary16 value, the element of a sharedarray.Float16
// array.
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
// the element of a sharedarray.LongDouble array on linux/amd64 (bytes 10
// to 15 are padding). sharedarray.View[Float80] works only on amd64,
// where C's long double is x87 in 16 bytes; on arm64 the element is a
// Float128. (32-bit x86 keeps it in 12 bytes, and sharedarray does not
// run there: docs/platforms.md.)
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

// Complex160 is the element of a sharedarray.CLongDouble array on
// linux/amd64.
type Complex160 struct{ Real, Imag Float80 }

// Float128 is an IEEE 754 binary128 value (quadruple precision), little
// endian, the element of a sharedarray.LongDouble array on linux/arm64,
// where C's and NumPy's long double is binary128.
// sharedarray.View[Float128] works only there.
type Float128 [16]byte

// Complex256 is the element of a sharedarray.CLongDouble array on
// linux/arm64.
type Complex256 struct{ Real, Imag Float128 }

// float128 bias and field masks.
const (
	f128Bias     = 16383
	f128HiFrac   = 1<<48 - 1 // the top 48 of the 112 fraction bits
	f64FracBits  = 52
	f128DropBits = 112 - f64FracBits // fraction bits a float64 does not keep
)

func (x Float128) words() (hi, lo uint64) {
	for i := range 8 {
		lo |= uint64(x[i]) << (8 * i)
		hi |= uint64(x[8+i]) << (8 * i)
	}
	return hi, lo
}

func float128Of(hi, lo uint64) Float128 {
	var x Float128
	for i := range 8 {
		x[i] = byte(lo >> (8 * i))
		x[8+i] = byte(hi >> (8 * i))
	}
	return x
}

// Float128FromFloat64 returns f as a Float128, exactly (NaN payloads
// kept).
func Float128FromFloat64(f float64) Float128 {
	b := math.Float64bits(f)
	sign := b >> 63 << 63
	exp := int(b>>f64FracBits) & 0x7ff
	frac := b & (1<<f64FracBits - 1)
	var e uint64
	var hi, lo uint64 // the 112-bit fraction
	switch {
	case exp == 0x7ff:
		e, hi, lo = 0x7fff, frac>>(64-f128DropBits), frac<<f128DropBits
	case exp != 0:
		e, hi, lo = uint64(exp-1023+f128Bias), frac>>(64-f128DropBits), frac<<f128DropBits
	case frac != 0: // float64 subnormal: normal in binary128
		p := 63 - bits.LeadingZeros64(frac) // the leading bit becomes implicit
		e = uint64(p - 1074 + f128Bias)
		m, s := frac&^(1<<p), uint(112-p)
		if s >= 64 {
			hi, lo = m<<(s-64), 0
		} else {
			hi, lo = m>>(64-s), m<<s
		}
	}
	return float128Of(sign|e<<48|hi, lo)
}

// Float64 returns x rounded to the nearest float64, ties to even, as C's
// (double) conversion does: overflow gives ±Inf, NaN stays NaN.
func (x Float128) Float64() float64 {
	hi, lo := x.words()
	sign := hi >> 63 << 63
	e := int(hi>>48) & 0x7fff
	fhi := hi & f128HiFrac
	switch {
	case e == 0x7fff && fhi|lo == 0:
		return math.Float64frombits(sign | 0x7ff<<f64FracBits)
	case e == 0x7fff: // NaN: keep the top of the payload, quiet
		return math.Float64frombits(sign | 0x7ff<<f64FracBits | 1<<51 | fhi<<4 | lo>>60)
	case e == 0 && fhi|lo == 0:
		return math.Float64frombits(sign)
	}
	exp := e - f128Bias
	if e == 0 {
		exp = 1 - f128Bias
	}
	if exp > 1023 {
		return math.Float64frombits(sign | 0x7ff<<f64FracBits)
	}
	if e == 0 || exp < -1022 {
		// Subnormal (or zero) as a float64: rare, done exactly with big.
		m := new(big.Int).Lsh(new(big.Int).SetUint64(fhi), 64)
		m.Or(m, new(big.Int).SetUint64(lo))
		if e != 0 {
			m.SetBit(m, 112, 1)
		}
		f, _ := new(big.Float).SetMantExp(new(big.Float).SetInt(m), exp-112).Float64()
		if sign != 0 {
			f = -f
		}
		return f
	}
	frac := fhi<<4 | lo>>60
	rest, half := lo&(1<<60-1), uint64(1)<<59
	if rest > half || (rest == half && frac&1 == 1) {
		frac++
		if frac == 1<<f64FracBits { // carried into the exponent
			frac = 0
			exp++
			if exp > 1023 {
				return math.Float64frombits(sign | 0x7ff<<f64FracBits)
			}
		}
	}
	return math.Float64frombits(sign | uint64(exp+1023)<<f64FracBits | frac)
}
