//go:build race && (amd64 || arm64)

package shmatomic

// Assembly (atomic_race_GOARCH.s): the race detector does not see it, so
// the access faults, if it does, in this Go frame.

// Load32 is atomic.LoadUint32.
//
//go:noescape
func Load32(p *uint32) uint32

// Load64 is atomic.LoadUint64.
//
//go:noescape
func Load64(p *uint64) uint64

// Store32 is atomic.StoreUint32.
//
//go:noescape
func Store32(p *uint32, v uint32)

// Store64 is atomic.StoreUint64.
//
//go:noescape
func Store64(p *uint64, v uint64)

// Add32 is atomic.AddUint32: it returns the new value.
//
//go:noescape
func Add32(p *uint32, delta uint32) uint32

// Add64 is atomic.AddUint64: it returns the new value.
//
//go:noescape
func Add64(p *uint64, delta uint64) uint64

// And32 is atomic.AndUint32 without its result.
//
//go:noescape
func And32(p *uint32, mask uint32)

// Or32 is atomic.OrUint32 without its result.
//
//go:noescape
func Or32(p *uint32, mask uint32)
