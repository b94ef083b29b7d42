package sharedarray_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sharedarray/sharedarray"
	"github.com/sharedarray/sharedarray/numtype"
)

func exampleName(s string) string {
	return fmt.Sprintf("sharedarray-test-example-%s-%d", s, os.Getpid())
}

// Create an array, fill it through a typed view, and attach it again as
// another process (Go or Python) would.
func Example() {
	name := "shm://" + exampleName("basic")
	a, err := sharedarray.Create(name, []int{2, 3}, sharedarray.Float64)
	if err != nil {
		panic(err)
	}
	defer sharedarray.Delete(name)
	defer a.Close()
	v, _ := sharedarray.View[float64](a)
	for i := range v {
		v[i] = float64(i) / 2
	}

	// In Python: SharedArray.attach(name)
	b, err := sharedarray.Attach(name)
	if err != nil {
		panic(err)
	}
	defer b.Close()
	w, _ := sharedarray.View[float64](b)
	fmt.Println(b.Shape(), b.Dtype(), b.Layout(), w)
	// Output: [2 3] <f8 dual [0 0.5 1 1.5 2 2.5]
}

// Errors match the fs sentinels.
func ExampleCreate_exists() {
	name := exampleName("exists")
	a, _ := sharedarray.Create(name, []int{4}, sharedarray.Int32)
	defer sharedarray.Delete(name)
	defer a.Close()
	_, err := sharedarray.Create(name, []int{4}, sharedarray.Int32)
	fmt.Println(errors.Is(err, fs.ErrExist))
	// Output: true
}

// A file-backed array, flushed with Msync.
func ExampleArray_Msync() {
	dir, _ := os.MkdirTemp("", "sharedarray-example")
	defer os.RemoveAll(dir)
	name := "file://" + filepath.Join(dir, "field.dat")
	a, _ := sharedarray.Create(name, []int{3}, sharedarray.Int16)
	defer a.Close()
	v, _ := sharedarray.View[int16](a)
	v[0], v[1], v[2] = 1, 2, 3
	fmt.Println(a.Msync(sharedarray.MsyncSync))
	raw, _ := os.ReadFile(filepath.Join(dir, "field.dat"))
	fmt.Println(raw[:6], len(raw))
	// Output:
	// <nil>
	// [1 0 2 0 3 0] 554
}

// A layout for SharedArray 3.0.0 users.
func ExampleWithLayout() {
	name := exampleName("v30")
	a, _ := sharedarray.Create(name, []int{5}, sharedarray.Uint8, sharedarray.WithLayout(sharedarray.LayoutV30))
	defer sharedarray.Delete(name)
	defer a.Close()
	info, _ := sharedarray.Stat(name)
	fmt.Println(info.Layout, info.Size)
	// Output: v30 293
}

// Views must match the dtype; the error says so.
func ExampleView() {
	name := exampleName("view")
	a, _ := sharedarray.Create(name, []int{2}, sharedarray.Float16)
	defer sharedarray.Delete(name)
	defer a.Close()
	h, _ := sharedarray.View[numtype.Half](a)
	h[0] = numtype.HalfFromFloat32(1.5)
	fmt.Println(h[0].Float32())
	_, err := sharedarray.View[float32](a)
	fmt.Println(errors.Is(err, sharedarray.ErrDtype))
	// Output:
	// 1.5
	// true
}

// NumPy's dtype spellings.
func ExampleParseDtype() {
	for _, s := range []string{"float64", "<i8", "?", "S7", "U3", "M8[ns]", "O"} {
		d, err := sharedarray.ParseDtype(s)
		if err != nil {
			fmt.Println(s, "->", err)
			continue
		}
		fmt.Println(s, "->", d, d.ItemSize())
	}
	// Output:
	// float64 -> <f8 8
	// <i8 -> <i8 8
	// ? -> |b1 1
	// S7 -> |S7 7
	// U3 -> <U3 12
	// M8[ns] -> <M8 8
	// O -> sharedarray: unsupported dtype: "O": object arrays hold pointers into one process and cannot be shared
}

// A bad segment is a FormatError naming the field.
func ExampleAttach_formatError() {
	name := exampleName("bad")
	os.WriteFile("/dev/shm/"+name, make([]byte, 1000), 0o600)
	defer os.Remove("/dev/shm/" + name)
	_, err := sharedarray.Attach(name)
	var fe *sharedarray.FormatError
	fmt.Println(errors.Is(err, sharedarray.ErrFormat), errors.As(err, &fe), fe.Field)
	// Output: true true magic
}
