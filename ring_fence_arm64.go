package sharedarray

// seqFence is a full memory barrier (DMB ISH): the seqlock's data
// accesses are not reordered across it.
//
//go:noescape
func seqFence()
