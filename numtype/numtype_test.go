package numtype

import (
	"math"
	"math/rand/v2"
	"testing"

	"gotest.tools/v3/assert"
)

func f128(hi, lo uint64) Float128 { return float128Of(hi, lo) }

func TestFloat128(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 2.5, math.Pi, math.MaxFloat64, -math.SmallestNonzeroFloat64, 1e-310, 2.2250738585072014e-308, math.Inf(-1), math.Inf(1)} {
		assert.Equal(t, Float128FromFloat64(f).Float64(), f, "%g", f)
	}
	assert.Equal(t, Float128FromFloat64(1), f128(0x3fff<<48, 0))
	assert.Equal(t, Float128FromFloat64(-2), f128(1<<63|0x4000<<48, 0))
	assert.Equal(t, Float128FromFloat64(1.5), f128(0x3fff<<48|1<<47, 0))
	// 2^-1074, the smallest float64 subnormal, is normal in binary128.
	assert.Equal(t, Float128FromFloat64(math.SmallestNonzeroFloat64), f128(uint64(16383-1074)<<48, 0))
	assert.Equal(t, math.Float64bits(Float128FromFloat64(math.Copysign(0, -1)).Float64()), uint64(1<<63))
	assert.Assert(t, math.IsNaN(Float128FromFloat64(math.NaN()).Float64()))

	// Rounding to float64: to nearest, ties to even.
	one := uint64(0x3fff) << 48
	for _, tc := range []struct {
		x    Float128
		want float64
		why  string
	}{
		{f128(one, 1<<59), 1, "1 + 2^-53: a tie, down to even"},
		{f128(one, 1<<59|1), 1 + 0x1p-52, "just above the tie: up"},
		{f128(one, 3<<59), 1 + 0x1p-51, "1 + 3·2^-53: a tie, up to even"},
		{f128(one|f128HiFrac, 1<<64-1), 2, "all fraction bits set: carries into the exponent"},
		{f128(0x7ffe<<48|f128HiFrac, 1<<64-1), math.Inf(1), "the largest binary128: overflow"},
		{f128(uint64(1023+16383)<<48|f128HiFrac, 1<<64-1), math.Inf(1), "rounds past MaxFloat64"},
		{f128(uint64(16383-1075)<<48, 0), 0, "2^-1075: a tie between 0 and 2^-1074, to even"},
		{f128(uint64(16383-1075)<<48|1<<47, 0), math.SmallestNonzeroFloat64, "1.5·2^-1075: up"},
		{f128(uint64(16383-1030)<<48|1<<47, 0), 1.5 * 0x1p-1030, "a subnormal float64, exact"},
		{f128(1, 0), 0, "a binary128 subnormal"},
		{f128(0x7fff<<48, 0), math.Inf(1), "Inf"},
	} {
		got := tc.x.Float64()
		assert.Equal(t, math.Float64bits(got), math.Float64bits(tc.want), "%s: got %g", tc.why, got)
	}
	// Random doubles round-trip.
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) {
			continue
		}
		assert.Equal(t, Float128FromFloat64(f).Float64(), f)
	}
}

func TestHalf(t *testing.T) {
	for _, tc := range []struct {
		h Half
		f float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 5.960464477539063e-08},
		{0x03ff, 6.097555160522461e-05}, {0x0400, 6.103515625e-05}, {0x3555, 0.333251953125}, {0x7c00, float32(math.Inf(1))},
	} {
		assert.Equal(t, tc.h.Float32(), tc.f, "%#x", tc.h)
		assert.Equal(t, HalfFromFloat32(tc.f), tc.h, "%v", tc.f)
	}
	// Every finite half round-trips exactly; NaNs stay NaN with their payload.
	for h := range 1 << 16 {
		f := Half(h).Float32()
		if math.IsNaN(float64(f)) {
			assert.Assert(t, math.IsNaN(float64(HalfFromFloat32(f).Float32())))
			continue
		}
		assert.Equal(t, HalfFromFloat32(f), Half(h), "%#x", h)
	}
	assert.Equal(t, HalfFromFloat32(1.0/3), Half(0x3555))
	assert.Equal(t, HalfFromFloat32(65520), Half(0x7c00), "rounds to Inf")
	assert.Equal(t, HalfFromFloat32(1+1.0/2048), Half(0x3c00), "tie to even")
	assert.Equal(t, HalfFromFloat32(1+3.0/2048), Half(0x3c02), "tie to even, up")
}

func TestFloat80(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 2.5, math.Pi, math.MaxFloat64, math.SmallestNonzeroFloat64, 1e-310, math.Inf(-1)} {
		assert.Equal(t, Float80FromFloat64(f).Float64(), f)
	}
	one := Float80FromFloat64(1)
	assert.DeepEqual(t, one[:10], []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f})
	assert.Assert(t, math.IsNaN(Float80FromFloat64(math.NaN()).Float64()))
}
