package sharedarray

import (
	"github.com/sharedarray/sharedarray/internal/fence"
	"github.com/sharedarray/sharedarray/internal/shmatomic"
)

// seqFence is a full memory barrier (DMB ISH): the seqlock's data
// accesses are not reordered across it.
func seqFence() { fence.Full() }

// storeOrdered stores v at p with release semantics (STLR): every earlier
// load and store is visible before it. Stores after it may pass it, which
// is why Next follows the odd mark with seqFence.
func storeOrdered(p *uint64, v uint64) { shmatomic.Store64(p, v) }
