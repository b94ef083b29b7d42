//go:build !race || !(amd64 || arm64)

package shmatomic

import "sync/atomic"

// Load32 is atomic.LoadUint32.
func Load32(p *uint32) uint32 { return atomic.LoadUint32(p) }

// Load64 is atomic.LoadUint64.
func Load64(p *uint64) uint64 { return atomic.LoadUint64(p) }

// Store32 is atomic.StoreUint32.
func Store32(p *uint32, v uint32) { atomic.StoreUint32(p, v) }

// Store64 is atomic.StoreUint64.
func Store64(p *uint64, v uint64) { atomic.StoreUint64(p, v) }

// Add32 is atomic.AddUint32: it returns the new value.
func Add32(p *uint32, delta uint32) uint32 { return atomic.AddUint32(p, delta) }

// Add64 is atomic.AddUint64: it returns the new value.
func Add64(p *uint64, delta uint64) uint64 { return atomic.AddUint64(p, delta) }

// And32 is atomic.AndUint32 without its result.
func And32(p *uint32, mask uint32) { atomic.AndUint32(p, mask) }

// Or32 is atomic.OrUint32 without its result.
func Or32(p *uint32, mask uint32) { atomic.OrUint32(p, mask) }
