//go:build !arm64

package sharedarray

// seqFence orders the seqlock's data accesses against its sequence
// checks. On amd64 (TSO) loads are not reordered with loads nor stores
// with stores, and sync/atomic operations are not reordered by the
// compiler, so nothing is needed. Other architectures but arm64 are
// refused by ringSupported.
func seqFence() {}
