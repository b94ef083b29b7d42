package sharedarray

import (
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
