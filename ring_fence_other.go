//go:build !arm64

package sharedarray

// seqFence orders the seqlock's data accesses against its sequence
// checks. On amd64 (TSO) loads are not reordered with loads nor stores
// with stores, and sync/atomic operations are not reordered by the
// compiler, so nothing is needed. Other architectures but arm64 are
// refused by ringSupported.
func seqFence() {}

// storeOrdered stores v at p, ordered after every earlier store and
// before every later one: a plain aligned 8-byte store on amd64 (TSO).
// The Go compiler keeps stores through pointers in program order, and
// sync/atomic operations after it are not moved before it.
func storeOrdered(p *uint64, v uint64) { *p = v }
