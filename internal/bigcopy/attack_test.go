package bigcopy

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestCopyProperty: Copy is bit-exact against the built-in copy for random
// sizes around and above Threshold (odd tails, not multiples of the block
// size), every destination offset 0..63 and random source offsets, on the
// fast path and with the fallback forced, and writes nothing outside the
// destination.
func TestCopyProperty(t *testing.T) {
	const span = Threshold + 5*blockSize + 4096
	src := make([]byte, span+128)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	buf := make([]byte, span+128)
	for _, forced := range []bool{false, true} {
		saved := fast
		if forced {
			fast = false
		}
		iters := 64
		if testing.Short() {
			iters = 16
		}
		for it := 0; it < iters; it++ {
			var n int
			switch it % 4 {
			case 0:
				n = Threshold - 1 + r.IntN(3) // 8 MiB ± 1
			case 1:
				n = Threshold + r.IntN(5*blockSize) // odd tails
			case 2:
				n = Threshold + blockSize*r.IntN(5) // whole blocks
			default:
				n = r.IntN(span)
			}
			doff := it % 64
			soff := r.IntN(128)
			if soff+n > len(src) || doff+n > len(buf) {
				continue
			}
			for i := range buf {
				buf[i] = 0xA5
			}
			got := Copy(buf[doff:doff+n], src[soff:soff+n])
			if got != n {
				t.Fatalf("forced %v n %d dst+%d src+%d: Copy returned %d", forced, n, doff, soff, got)
			}
			if !bytes.Equal(buf[doff:doff+n], src[soff:soff+n]) {
				t.Fatalf("forced %v n %d dst+%d src+%d: bytes differ", forced, n, doff, soff)
			}
			if !allByte(buf[:doff], 0xA5) || !allByte(buf[doff+n:], 0xA5) {
				t.Fatalf("forced %v n %d dst+%d src+%d: bytes outside the destination written", forced, n, doff, soff)
			}
		}
		fast = saved
	}
}

func allByte(b []byte, c byte) bool {
	for _, x := range b {
		if x != c {
			return false
		}
	}
	return true
}

// TestCopyFallback: with the fast path off (a CPU without AVX2), Copy is
// the built-in copy, overlaps included.
func TestCopyFallback(t *testing.T) {
	defer func(f bool) { fast = f }(fast)
	fast = false
	if Fast() {
		t.Fatal("Fast() true with the fast path off")
	}
	n := Threshold + blockSize + 7
	b := make([]byte, n+3)
	for i := range b {
		b[i] = byte(i * 13)
	}
	want := append([]byte(nil), b...)
	copy(want[3:], want[:n])
	Copy(b[3:], b[:n])
	if !bytes.Equal(b, want) {
		t.Fatal("fallback overlap copy differs from copy")
	}
}

// TestCopyPublish: data a goroutine copies with Copy and then publishes
// with an atomic store is seen whole by another goroutine that loads the
// atomic (the non-temporal stores are fenced before Copy returns).
func TestCopyPublish(t *testing.T) {
	n := Threshold + blockSize + 100
	dst := make([]byte, n)
	srcs := [2][]byte{bytes.Repeat([]byte{1}, n), bytes.Repeat([]byte{2}, n)}
	var seq, ack atomic.Int64
	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	var wg sync.WaitGroup
	var bad atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := int64(1); k <= int64(rounds); k++ {
			for seq.Load() != k {
			}
			want := byte(1 + k%2)
			for _, i := range []int{0, 63, 64, blockSize - 1, blockSize, n / 2, n - blockSize - 1, n - 101, n - 1} {
				if dst[i] != want {
					bad.Store(int64(i) + 1)
				}
			}
			ack.Store(k)
		}
	}()
	for k := int64(1); k <= int64(rounds); k++ {
		Copy(dst, srcs[(1+k%2)-1])
		seq.Store(k)
		for ack.Load() != k {
		}
	}
	wg.Wait()
	if i := bad.Load(); i != 0 {
		t.Fatalf("byte %d seen stale after the publish", i-1)
	}
}

// TestCopyRaceVisible: under the race detector, a Copy on the fast path
// that races with a write to its destination is reported, as it is for
// the built-in copy (the assembly is not instrumented by the compiler).
func TestCopyRaceVisible(t *testing.T) {
	if os.Getenv("BIGCOPY_RACE_CHILD") == "1" {
		dst := make([]byte, 2*Threshold)
		src := make([]byte, 2*Threshold)
		done := make(chan bool)
		go func() { dst[len(dst)/2] = 1; done <- true }()
		Copy(dst, src)
		<-done
		return
	}
	if !raceEnabled {
		t.Skip("needs -race")
	}
	if !fast {
		t.Skip("no fast path on this CPU")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCopyRaceVisible$", "-test.count=1")
	cmd.Env = append(os.Environ(), "BIGCOPY_RACE_CHILD=1")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "DATA RACE") {
		t.Fatalf("the race detector did not see a race on Copy's destination:\n%s", out)
	}
}

// TestCopyGuardPages: source and destination end (and start) exactly at an
// inaccessible page, for sizes with odd tails and unaligned starts: Copy
// reads and writes nothing outside the two ranges (an access past either
// end would fault and stop the test).
func TestCopyGuardPages(t *testing.T) {
	const page = 4096
	span := Threshold + 3*blockSize + 2*page
	mk := func() []byte {
		m, err := syscall.Mmap(-1, 0, span+2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Munmap(m) })
		if err := syscall.Mprotect(m[:page], syscall.PROT_NONE); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mprotect(m[page+span:], syscall.PROT_NONE); err != nil {
			t.Fatal(err)
		}
		return m[page : page+span]
	}
	src, dst := mk(), mk()
	for i := range src {
		src[i] = byte(i*7 + 3)
	}
	for _, n := range []int{Threshold, Threshold + 1, Threshold + blockSize - 1, Threshold + 2*blockSize + 33, span - 1, span} {
		for _, end := range []bool{true, false} {
			for _, doff := range []int{0, 1, 33} {
				s, d := src[:n], dst[doff:doff+min(n, span-doff)]
				if end {
					s, d = src[span-n:], dst[span-len(d):]
				}
				clear(dst)
				got := Copy(d, s)
				if got != min(len(d), len(s)) || !bytes.Equal(d[:got], s[:got]) {
					t.Fatalf("n %d end %v dst+%d: wrong copy", n, end, doff)
				}
			}
		}
	}
}
