package sharedarray

import (
	"runtime"
	"testing"

	"github.com/sharedarray/sharedarray/numtype"
	"gotest.tools/v3/assert"
)

// numtype.Float80 and numtype.Float128 are views of LongDouble only where C's long double
// has that format; elsewhere View says which type to use.
func TestViewLongDouble(t *testing.T) {
	t.Parallel()
	ld := mustCreate(t, testName(t), []int{4}, LongDouble)
	cl := mustCreate(t, testName(t), []int{2}, CLongDouble)
	_, err80 := View[numtype.Float80](ld)
	_, errC160 := View[numtype.Complex160](cl)
	_, err128 := View[numtype.Float128](ld)
	_, errC256 := View[numtype.Complex256](cl)
	switch runtime.GOARCH {
	case "amd64":
		assert.NilError(t, err80)
		assert.NilError(t, errC160)
		assert.ErrorContains(t, err128, "x87 80-bit on amd64: use numtype.Float80")
		assert.ErrorContains(t, errC256, "use numtype.Float80 or numtype.Complex160")
		v, _ := View[numtype.Float80](ld)
		v[1] = numtype.Float80FromFloat64(2.5)
		assert.Equal(t, v[1].Float64(), 2.5)
	case "arm64":
		assert.NilError(t, err128)
		assert.NilError(t, errC256)
		assert.ErrorContains(t, err80, "IEEE binary128 on arm64: use numtype.Float128")
		assert.ErrorContains(t, errC160, "use numtype.Float128 or numtype.Complex256")
		v, _ := View[numtype.Float128](ld)
		v[1] = numtype.Float128FromFloat64(2.5)
		assert.Equal(t, v[1].Float64(), 2.5)
		c, _ := View[numtype.Complex256](cl)
		c[1].Imag = numtype.Float128FromFloat64(-1)
		assert.Equal(t, c[1].Imag.Float64(), -1.0)
	default:
		t.Skipf("long double on %s is not known to this package", runtime.GOARCH)
	}
	_, err := View[numtype.Float128](mustCreate(t, testName(t), []int{1}, Float64))
	assert.Assert(t, err != nil)
}
