package sharedarray

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gotest.tools/v3/assert"
)

func f128(hi, lo uint64) Float128 { return float128Of(hi, lo) }

func TestFloat128(t *testing.T) {
	t.Parallel()
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

// Float80 and Float128 are views of LongDouble only where C's long double
// has that format; elsewhere View says which type to use.
func TestViewLongDouble(t *testing.T) {
	t.Parallel()
	ld := mustCreate(t, testName(t), []int{4}, LongDouble)
	cl := mustCreate(t, testName(t), []int{2}, CLongDouble)
	_, err80 := View[Float80](ld)
	_, errC160 := View[Complex160](cl)
	_, err128 := View[Float128](ld)
	_, errC256 := View[Complex256](cl)
	switch runtime.GOARCH {
	case "amd64":
		assert.NilError(t, err80)
		assert.NilError(t, errC160)
		assert.ErrorContains(t, err128, "x87 80-bit on amd64: use Float80")
		assert.ErrorContains(t, errC256, "use Float80 or Complex160")
		v, _ := View[Float80](ld)
		v[1] = Float80FromFloat64(2.5)
		assert.Equal(t, v[1].Float64(), 2.5)
	case "arm64":
		assert.NilError(t, err128)
		assert.NilError(t, errC256)
		assert.ErrorContains(t, err80, "IEEE binary128 on arm64: use Float128")
		assert.ErrorContains(t, errC160, "use Float128 or Complex256")
		v, _ := View[Float128](ld)
		v[1] = Float128FromFloat64(2.5)
		assert.Equal(t, v[1].Float64(), 2.5)
		c, _ := View[Complex256](cl)
		c[1].Imag = Float128FromFloat64(-1)
		assert.Equal(t, c[1].Imag.Float64(), -1.0)
	default:
		t.Skipf("long double on %s is not known to this package", runtime.GOARCH)
	}
	_, err := View[Float128](mustCreate(t, testName(t), []int{1}, Float64))
	assert.Assert(t, err != nil)
}
