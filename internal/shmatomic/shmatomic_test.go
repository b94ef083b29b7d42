package shmatomic

import (
	"sync"
	"sync/atomic"
	"testing"
)

// Every operation gives what sync/atomic gives, and the read-modify-writes
// are atomic: 4 goroutines adding and toggling bits lose no update.
func TestMatchesSyncAtomic(t *testing.T) {
	var w32 [2]uint32
	var w64 [2]uint64
	for _, v := range []uint32{0, 1, 0x80000000, 0xffffffff, 0x12345678} {
		Store32(&w32[0], v)
		atomic.StoreUint32(&w32[1], v)
		if Load32(&w32[0]) != atomic.LoadUint32(&w32[1]) || Load32(&w32[0]) != v {
			t.Fatalf("Store32/Load32 %#x: got %#x", v, Load32(&w32[0]))
		}
		if got, want := Add32(&w32[0], 0xfffffffe), atomic.AddUint32(&w32[1], 0xfffffffe); got != want || w32[0] != want {
			t.Fatalf("Add32 from %#x: got %#x (word %#x), want %#x", v, got, w32[0], want)
		}
		And32(&w32[0], 0xf0f0f0f0)
		atomic.AndUint32(&w32[1], 0xf0f0f0f0)
		Or32(&w32[0], 0x00000f01)
		atomic.OrUint32(&w32[1], 0x00000f01)
		if w32[0] != w32[1] {
			t.Fatalf("And32/Or32 from %#x: %#x, want %#x", v, w32[0], w32[1])
		}
	}
	for _, v := range []uint64{0, 1, 1 << 63, ^uint64(0), 0x123456789abcdef0} {
		Store64(&w64[0], v)
		atomic.StoreUint64(&w64[1], v)
		if Load64(&w64[0]) != atomic.LoadUint64(&w64[1]) || Load64(&w64[0]) != v {
			t.Fatalf("Store64/Load64 %#x: got %#x", v, Load64(&w64[0]))
		}
		if got, want := Add64(&w64[0], ^uint64(0)), atomic.AddUint64(&w64[1], ^uint64(0)); got != want || w64[0] != want {
			t.Fatalf("Add64 from %#x: got %#x (word %#x), want %#x", v, got, w64[0], want)
		}
	}

	const goroutines, rounds = 4, 20000
	var n32 uint32
	var n64 uint64
	var bits uint32
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bit := uint32(1) << g
			for range rounds {
				Add32(&n32, 1)
				Add64(&n64, 2)
				Or32(&bits, bit)
				And32(&bits, ^bit)
			}
			Or32(&bits, bit)
		}()
	}
	wg.Wait()
	if Load32(&n32) != goroutines*rounds || Load64(&n64) != 2*goroutines*rounds || Load32(&bits) != 1<<goroutines-1 {
		t.Fatalf("after %d goroutines x %d rounds: Add32 %d, Add64 %d, bits %#b", goroutines, rounds, n32, n64, bits)
	}
}
