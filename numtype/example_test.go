package numtype_test

import (
	"fmt"

	"github.com/sharedarray/sharedarray/numtype"
)

// Long double and half precision values convert from and to Go floats;
// CLongDouble elements are pairs of them.
func ExampleFloat80FromFloat64() {
	x := numtype.Float80FromFloat64(1.5)
	q := numtype.Float128FromFloat64(-0.25)
	h := numtype.HalfFromFloat32(65504)
	c80 := numtype.Complex160{Real: x, Imag: numtype.Float80FromFloat64(2)}   // CLongDouble on amd64
	c128 := numtype.Complex256{Real: q, Imag: numtype.Float128FromFloat64(3)} // CLongDouble on arm64
	var f80 numtype.Float80 = c80.Imag
	var f128 numtype.Float128 = c128.Imag
	fmt.Println(x.Float64(), q.Float64(), h.Float32(), f80.Float64(), f128.Float64())
	// Output: 1.5 -0.25 65504 2 3
}
