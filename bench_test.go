//go:build linux && cgo && !(ppc64 || s390x || mips || mips64)

package sharedarray

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/sharedarray/sharedarray/internal/cbench"
)

// Benchmarks of the hot paths, each beside its C baseline (the same system
// calls through cgo, internal/cbench) so the ratio comes from one run:
//
//	go test -run '^$' -bench . -count 10 | tee new.txt; benchstat new.txt

var benchSizes = []struct {
	label string
	shape []int
}{
	{"80B", []int{10}},      // 10 float64
	{"1MiB", []int{131072}}, // 1 MiB of float64
}

func benchName(b *testing.B) string {
	return fmt.Sprintf("sharedarray-bench-%d-%d", os.Getpid(), nameSeq.Add(1))
}

func BenchmarkCreateCloseDelete(b *testing.B) {
	for _, sz := range benchSizes {
		nbytes := int64(8 * sz.shape[0])
		for _, mode := range []struct {
			label string
			opts  []Option
		}{{"sparse", []Option{Sparse()}}, {"reserved", nil}} {
			b.Run(fmt.Sprintf("%s/%s/go", sz.label, mode.label), func(b *testing.B) {
				name := benchName(b)
				b.SetBytes(nbytes)
				b.ReportAllocs()
				for b.Loop() {
					a, err := Create(name, sz.shape, Float64, mode.opts...)
					if err != nil {
						b.Fatal(err)
					}
					a.Close()
					if err := Delete(name); err != nil {
						b.Fatal(err)
					}
				}
			})
			// c: the raw syscalls; c-same-work: the ones sharedarray makes
			// (O_TMPFILE, pwrite of the trailer, linkat; a validating
			// delete), in C.
			for _, c := range []struct {
				label string
				run   func(name string, size int64, reserve bool) error
			}{{"c", cbench.CreateCloseDelete}, {"c-same-work", cbench.CreateCloseDeleteSafe}} {
				b.Run(fmt.Sprintf("%s/%s/%s", sz.label, mode.label, c.label), func(b *testing.B) {
					name := benchName(b)
					b.SetBytes(nbytes)
					b.ReportAllocs()
					for b.Loop() {
						if err := c.run(name, nbytes+548, mode.opts == nil); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

func BenchmarkAttachClose(b *testing.B) {
	for _, sz := range benchSizes {
		nbytes := int64(8 * sz.shape[0])
		name := benchName(b)
		a, err := Create(name, sz.shape, Float64)
		if err != nil {
			b.Fatal(err)
		}
		a.Close()
		b.Run(sz.label+"/go", func(b *testing.B) {
			b.SetBytes(nbytes)
			b.ReportAllocs()
			for b.Loop() {
				a, err := Attach(name)
				if err != nil {
					b.Fatal(err)
				}
				a.Close()
			}
		})
		b.Run(sz.label+"/c", func(b *testing.B) {
			b.SetBytes(nbytes)
			b.ReportAllocs()
			for b.Loop() {
				if err := cbench.AttachClose(name); err != nil {
					b.Fatal(err)
				}
			}
		})
		Delete(name)
	}
}

func BenchmarkList(b *testing.B) {
	const n = 1000
	var names []string
	for range n {
		name := benchName(b)
		a, err := Create(name, []int{4}, Float64, Sparse())
		if err != nil {
			b.Fatal(err)
		}
		a.Close()
		names = append(names, name)
	}
	defer func() {
		for _, name := range names {
			Delete(name)
		}
	}()
	b.Run("go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			infos, err := List()
			if err != nil || len(infos) < n {
				b.Fatal(len(infos), err)
			}
		}
	})
	b.Run("c", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			got, err := cbench.ListCount()
			if err != nil || got < n {
				b.Fatal(got, err)
			}
		}
	})
}

// bigBench is the size of the data-moving benchmarks: large enough to leave
// the caches, small enough for -count 10.
const bigBench = 64 << 20

// filledArray creates a bigBench float64 array with every page written.
func filledArray(b *testing.B) *Array {
	b.Helper()
	a, err := Create(benchName(b), []int{bigBench / 8}, Float64, Prefault())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close(); Delete(a.Name()) })
	v, _ := View[float64](a)
	for i := range v {
		v[i] = float64(i)
	}
	return a
}

// BenchmarkReadAt: the guarded copy-out beside a plain copy from Bytes.
func BenchmarkReadAt(b *testing.B) {
	a := filledArray(b)
	dst := make([]byte, bigBench)
	b.Run("guarded", func(b *testing.B) {
		b.SetBytes(bigBench)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.ReadAt(dst, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(bigBench)
		b.ReportAllocs()
		for b.Loop() {
			copy(dst, a.Bytes())
		}
	})
}

// BenchmarkWriteNPY: export to a writer that keeps nothing (the cost of
// WriteNPY itself: header, guard, page population), beside handing
// Bytes() to the same writer.
func BenchmarkWriteNPY(b *testing.B) {
	a := filledArray(b)
	w := sink{}
	b.Run("WriteNPY", func(b *testing.B) {
		b.SetBytes(bigBench)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.WriteNPY(w); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.SetBytes(bigBench)
		b.ReportAllocs()
		for b.Loop() {
			w.Write(a.Bytes())
		}
	})
	// file: export to a regular file (rewritten in place, so it measures
	// the copy into the page cache, not the disk).
	f, err := os.Create(b.TempDir() + "/x.npy")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.Run("file", func(b *testing.B) {
		b.SetBytes(bigBench)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.Seek(0, 0); err != nil {
				b.Fatal(err)
			}
			if _, err := a.WriteNPY(f); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// sink reads one byte of every page it is given (as write() faults each
// page in) and keeps none.
type sink struct{}

func (sink) Write(p []byte) (int, error) {
	var x byte
	for i := 0; i < len(p); i += os.Getpagesize() {
		x ^= p[i]
	}
	_ = x
	return len(p), nil
}

// BenchmarkLoadNPYFrom: import from memory into a new shared array (reserve,
// populate, read, publish, delete), beside creating the same array and
// copying the same bytes in.
func BenchmarkLoadNPYFrom(b *testing.B) {
	a := filledArray(b)
	var buf bytes.Buffer
	if _, err := a.WriteNPY(&buf); err != nil {
		b.Fatal(err)
	}
	file := buf.Bytes()
	data := file[len(file)-bigBench:]
	name := benchName(b)
	b.Run("LoadNPYFrom", func(b *testing.B) {
		b.SetBytes(bigBench)
		b.ReportAllocs()
		for b.Loop() {
			c, err := LoadNPYFrom(name, bytes.NewReader(file))
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
			Delete(name)
		}
	})
	b.Run("Create+copy", func(b *testing.B) {
		b.SetBytes(bigBench)
		b.ReportAllocs()
		for b.Loop() {
			c, err := Create(name, []int{bigBench / 8}, Float64)
			if err != nil {
				b.Fatal(err)
			}
			copy(c.Bytes(), data)
			c.Close()
			Delete(name)
		}
	})
}
