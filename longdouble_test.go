//go:build linux && cgo && !(ppc64 || s390x || mips || mips64)

package sharedarray

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/sharedarray/sharedarray/internal/cbench"
	"github.com/sharedarray/sharedarray/numtype"
	"gotest.tools/v3/assert"
)

// The long double conversions agree with C's on this platform: the bytes
// of (long double)f and the value of (double)x, for random values.
func TestLongDoubleMatchesC(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	doubles := []float64{0, 1, -2.5, math.Pi, math.MaxFloat64, math.SmallestNonzeroFloat64, 1e-310, math.Inf(1)}
	for range 20000 {
		if f := math.Float64frombits(r.Uint64()); !math.IsNaN(f) {
			doubles = append(doubles, f)
		}
	}
	switch longDouble {
	case "x87":
		for _, f := range doubles {
			c := cbench.LongDoubleFromFloat64(f)
			x := numtype.Float80FromFloat64(f)
			assert.DeepEqual(t, x[:10], c[:10])
		}
		for range 20000 { // random normal x87 values: integer bit set
			var x numtype.Float80
			m, se := r.Uint64()|1<<63, uint16(r.Uint32())
			for i := range 8 {
				x[i] = byte(m >> (8 * i))
			}
			x[8], x[9] = byte(se), byte(se>>8)
			if se&0x7fff == 0x7fff {
				continue
			}
			want := cbench.LongDoubleToFloat64(x)
			assert.Equal(t, math.Float64bits(x.Float64()), math.Float64bits(want), "%x", x)
		}
	case "binary128":
		for _, f := range doubles {
			assert.Equal(t, numtype.Float128FromFloat64(f), numtype.Float128(cbench.LongDoubleFromFloat64(f)), "%g", f)
		}
		for i := range 50000 {
			hi, lo := r.Uint64(), r.Uint64()
			if i%2 == 0 { // half of them near the float64 range, subnormals included
				hi = hi&^(0x7fff<<48) | uint64(16383-1100+r.IntN(2200))<<48
			}
			var x numtype.Float128
			for i := range 8 {
				x[i], x[8+i] = byte(lo>>(8*i)), byte(hi>>(8*i))
			}
			if e := hi >> 48 & 0x7fff; e == 0x7fff {
				continue
			}
			want := cbench.LongDoubleToFloat64([16]byte(x))
			assert.Equal(t, math.Float64bits(x.Float64()), math.Float64bits(want), "%x", x)
		}
	default:
		t.Skipf("long double on %s is not known to this package", runtime.GOARCH)
	}
}
