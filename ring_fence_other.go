//go:build !arm64

package sharedarray

import "github.com/sharedarray/sharedarray/internal/shmatomic"

// seqFence orders the seqlock's data accesses against its sequence
// checks. On amd64 (TSO) loads are not reordered with loads nor stores
// with stores, and sync/atomic operations are not reordered by the
// compiler, so nothing is needed. Other architectures but arm64 are
// refused by ringSupported.
func seqFence() {}

// storeOrdered stores v at p, ordered after every earlier store and
// before every later one: shmatomic.Store64 (atomic.StoreUint64, or XCHG
// in assembly under the race detector), sequentially consistent in the Go
// memory model (XCHG on amd64, a full barrier), not a plain store whose
// order only today's compiler keeps.
func storeOrdered(p *uint64, v uint64) { shmatomic.Store64(p, v) }
