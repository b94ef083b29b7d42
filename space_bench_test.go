//go:build linux && cgo && !(ppc64 || s390x || mips || mips64)

package sharedarray

import (
	"testing"
)

// BenchmarkCreateMemoryCheck measures what the memory check adds to a
// reserved Create at the size where it starts (memCheckFloor): "checked"
// runs it, "skipped" is the same Create with SkipMemoryCheck, in the same
// run, so checked/skipped is the cost of the check.
func BenchmarkCreateMemoryCheck(b *testing.B) {
	for _, mode := range []struct {
		label string
		opts  []Option
	}{{"checked", nil}, {"skipped", []Option{SkipMemoryCheck()}}} {
		b.Run(mode.label, func(b *testing.B) {
			name := benchName(b)
			b.SetBytes(memCheckFloor)
			b.ReportAllocs()
			for b.Loop() {
				a, err := Create(name, []int{memCheckFloor}, Uint8, mode.opts...)
				if err != nil {
					b.Fatal(err)
				}
				a.Close()
				if err := Delete(name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMemoryCheckOnly is the check alone at memCheckFloor: "space"
// is checkSpace (statfs, the memory cgroup, /proc/meminfo), "meminfo" the
// MemAvailable read that was the whole check before cgroups were read.
func BenchmarkMemoryCheckOnly(b *testing.B) {
	b.Run("space", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := checkSpace(shmDir, memCheckFloor); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("meminfo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := systemHost.memInfo(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
