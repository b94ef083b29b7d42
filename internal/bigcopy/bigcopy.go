// Package bigcopy copies large byte ranges at the speed of the CPU's best
// copy for data that does not fit in its caches, in Go code (plain Go and
// Go assembly, no cgo), so that a memory fault during the copy is a Go
// panic that debug.SetPanicOnFault and recover can turn into an error.
//
// Go's copy on Intel CPUs with ERMS and FSRM uses REP MOVSQ at every size
// from 2 KiB up; for copies far larger than the last-level cache that runs
// at about 0.6× the speed of glibc's memcpy, which switches to
// non-temporal stores, four pages at a time, above a threshold derived from
// the cache size (docs/performance.md has the measurements). Copy does the
// same on amd64 with AVX2 for copies of at least Threshold bytes whose
// ranges do not overlap; everywhere else it is Go's copy.
package bigcopy

import "unsafe"

// Threshold is the size from which Copy uses the non-temporal path where
// there is one. Below it Go's copy is as fast or faster: the data may stay
// in the caches.
const Threshold = 8 << 20

// chunk is how much the non-temporal path copies between two checks for
// preemption (the assembly loop cannot be preempted).
const chunk = 1 << 20

// Copy copies min(len(dst), len(src)) bytes from src to dst and returns
// that count, like the built-in copy.
func Copy(dst, src []byte) int {
	n := min(len(dst), len(src))
	if n < Threshold || !fast || overlap(dst[:n], src[:n]) {
		return copy(dst, src)
	}
	raceCopy(dst[:n], src[:n])
	// Align the destination to 64 bytes (a cache line; non-temporal
	// stores need 32), copy whole 16 KiB blocks four pages at a time, then
	// the tail.
	head := int(-uintptr(unsafe.Pointer(unsafe.SliceData(dst))) & 63)
	copy(dst[:head], src[:head])
	i := head
	for n-i >= blockSize {
		m := min(n-i, chunk) / blockSize
		copy4x(unsafe.Pointer(&dst[i]), unsafe.Pointer(&src[i]), uintptr(m))
		i += m * blockSize
	}
	copy(dst[i:n], src[i:n])
	return n
}

// blockSize is what one step of copy4x copies: four 4 KiB pages.
const blockSize = 4 << 12

// Fast reports whether Copy has a faster path than Go's copy on this CPU
// for copies of at least Threshold bytes.
func Fast() bool { return fast }

func overlap(a, b []byte) bool {
	pa := uintptr(unsafe.Pointer(unsafe.SliceData(a)))
	pb := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return pa < pb+uintptr(len(b)) && pb < pa+uintptr(len(a))
}
