package gonum_test

import (
	"fmt"
	"os"
	"unsafe"

	"github.com/sharedarray/sharedarray"
	"gonum.org/v1/gonum/mat"
)

// A *mat.Dense over a shared 2-D float64 array, with no copy: the Dense's
// data is the mapping, so what gonum writes, every process that attached
// the array (Go or Python: SharedArray.attach) sees, and what they write,
// gonum reads.
//
// The array is C-ordered, so row i starts at i*cols: the Dense's stride
// is the number of columns (a.Strides()[0] / 8). Lifetime: the Dense is
// valid while the Array is open. After a.Close() touching it faults
// (see sharedarray.Array); Delete removes the name only, and the mapping
// stays valid until Close.
func Example_dense() {
	name := fmt.Sprintf("sharedarray-test-example-gonum-%d", os.Getpid())
	a, err := sharedarray.Create(name, []int{2, 3}, sharedarray.Float64)
	if err != nil {
		panic(err)
	}
	defer sharedarray.Delete(name)
	defer a.Close()

	v, err := sharedarray.View[float64](a)
	if err != nil {
		panic(err)
	}
	shape := a.Shape()
	m := mat.NewDense(shape[0], shape[1], v) // no copy: m's data is v
	fmt.Println(unsafe.SliceData(m.RawMatrix().Data) == unsafe.SliceData(v), m.RawMatrix().Stride == a.Strides()[0]/8)

	m.Apply(func(i, j int, _ float64) float64 { return float64(i*10 + j) }, m)

	// Another process (here: a second mapping) sees gonum's writes...
	b, err := sharedarray.Attach(name, sharedarray.ReadOnly())
	if err != nil {
		panic(err)
	}
	defer b.Close()
	w, _ := sharedarray.View[float64](b)
	fmt.Println(w)

	// ...and gonum computes from the shared data into another shared array.
	out, err := sharedarray.Create(name+"-gram", []int{2, 2}, sharedarray.Float64)
	if err != nil {
		panic(err)
	}
	defer sharedarray.Delete(name + "-gram")
	defer out.Close()
	o, _ := sharedarray.View[float64](out)
	g := mat.NewDense(2, 2, o)
	g.Mul(m, m.T())
	fmt.Println(mat.Formatted(g, mat.Squeeze()))
	// Output:
	// true true
	// [0 1 2 10 11 12]
	// ⎡ 5   35⎤
	// ⎣35  365⎦
}
