package bigcopy

import (
	"bytes"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestCopy compares Copy with the built-in copy over sizes around the
// threshold and the block size and every destination and source alignment
// class, and checks that the bytes around the destination are untouched.
func TestCopy(t *testing.T) {
	src := make([]byte, Threshold+3*blockSize+200)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	sizes := []int{0, 1, 4096, Threshold - 1, Threshold, Threshold + 1, Threshold + blockSize - 1, Threshold + 2*blockSize + 77}
	buf := make([]byte, len(src)+256)
	for _, n := range sizes {
		for _, doff := range []int{0, 1, 31, 32, 63} {
			for _, soff := range []int{0, 5, 64} {
				if soff+n > len(src) {
					continue
				}
				for i := range buf {
					buf[i] = 0xEE
				}
				got := Copy(buf[doff:doff+n], src[soff:soff+n+soff%3])
				if got != n {
					t.Fatalf("n %d dst+%d src+%d: Copy returned %d", n, doff, soff, got)
				}
				if !bytes.Equal(buf[doff:doff+n], src[soff:soff+n]) {
					t.Fatalf("n %d dst+%d src+%d: bytes differ", n, doff, soff)
				}
				for i, b := range buf {
					if (i < doff || i >= doff+n) && b != 0xEE {
						t.Fatalf("n %d dst+%d src+%d: byte %d outside the destination written", n, doff, soff, i)
					}
				}
			}
		}
	}
}

// TestCopyOverlap: overlapping ranges take the built-in copy's memmove
// path, in both directions.
func TestCopyOverlap(t *testing.T) {
	n := Threshold + blockSize
	for _, shift := range []int{1, 64, blockSize + 3} {
		b := make([]byte, n+shift)
		for i := range b {
			b[i] = byte(i * 7)
		}
		want := append([]byte(nil), b...)
		copy(want[shift:], want[:n])
		Copy(b[shift:], b[:n])
		if !bytes.Equal(b, want) {
			t.Fatalf("forward overlap by %d: bytes differ", shift)
		}
		for i := range b {
			b[i] = byte(i * 7)
		}
		want = append(want[:0], b...)
		copy(want[:n], want[shift:])
		Copy(b[:n], b[shift:])
		if !bytes.Equal(b, want) {
			t.Fatalf("backward overlap by %d: bytes differ", shift)
		}
	}
}

// TestCopyFault: a fault inside the copy (a file mapping truncated under
// it) is a Go panic that SetPanicOnFault and recover turn into an error,
// as the package's guarded copies need; the process does not stop.
func TestCopyFault(t *testing.T) {
	if os.Getenv("SHAREDARRAY_NO_FAULT_ADDRESS") != "" { // set by scripts/arm64.sh
		t.Skip("the emulator leaves the fault address 0: Go sees a nil dereference (docs/platforms.md)")
	}
	for _, dir := range []string{"from", "into"} {
		f, err := os.CreateTemp(t.TempDir(), "fault")
		if err != nil {
			t.Fatal(err)
		}
		size := 2 * Threshold
		if err := f.Truncate(int64(size)); err != nil {
			t.Fatal(err)
		}
		m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(int64(Threshold)); err != nil { // the second half now faults
			t.Fatal(err)
		}
		other := make([]byte, size)
		faulted := func() (faulted bool) {
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			defer func() {
				if r := recover(); r != nil {
					if _, ok := r.(interface{ Addr() uintptr }); !ok {
						panic(r)
					}
					faulted = true
				}
			}()
			if dir == "from" {
				Copy(other, m)
			} else {
				Copy(m, other)
			}
			return false
		}()
		if !faulted {
			t.Errorf("copy %s a truncated mapping: no fault", dir)
		}
		syscall.Munmap(m)
		f.Close()
	}
}

func benchCopy(b *testing.B, f func(dst, src []byte) int) {
	src := make([]byte, 256<<20)
	dst := make([]byte, len(src))
	for i := range src {
		src[i], dst[i] = byte(i), 1
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		f(dst, src)
	}
}

func BenchmarkCopy(b *testing.B)        { benchCopy(b, Copy) }
func BenchmarkBuiltinCopy(b *testing.B) { benchCopy(b, func(d, s []byte) int { return copy(d, s) }) }

// TestFast: the non-temporal path is chosen exactly on amd64 with AVX2.
func TestFast(t *testing.T) {
	want := runtime.GOARCH == "amd64" && cpu.X86.HasAVX2
	if Fast() != want {
		t.Errorf("Fast() = %v on %s (AVX2 %v), want %v", Fast(), runtime.GOARCH, cpu.X86.HasAVX2, want)
	}
}
