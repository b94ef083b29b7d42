package sharedarray

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sharedarray/sharedarray/internal/bigcopy"
	"github.com/sharedarray/sharedarray/internal/testutil"
	"gotest.tools/v3/assert"
)

// Issue 19's hostile review: the large guarded copies, racing Close.
// Every ReadAt/WriteAt either completes or fails with ErrClosed; none
// panics, none copies after Close returned.
func TestLargeCopyRacingClose(t *testing.T) {
	for round := 0; round < 4; round++ {
		size := 2*bigcopy.Threshold + 77
		a := mustCreate(t, testName(t), []int{size}, Uint8)
		var wg sync.WaitGroup
		var closed atomic.Bool
		errs := make(chan error, 64)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, size)
				for i := 0; ; i++ {
					var err error
					if (g+i)%2 == 0 {
						_, err = a.ReadAt(buf[:size-g], int64(g)) // up to the end, no io.EOF
					} else {
						_, err = a.WriteAt(buf[:size-g], int64(g))
					}
					if err != nil {
						if !errors.Is(err, ErrClosed) {
							errs <- err
						}
						return
					}
					if closed.Load() {
						errs <- fmt.Errorf("a copy succeeded after Close returned")
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(round+1) * 5 * time.Millisecond)
		assert.NilError(t, a.Close())
		closed.Store(true)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

// Copies that end exactly at the end of the data, with every offset class,
// leave the trailer (right after the data in the mapping) intact: the array
// attaches again with its shape.
func TestLargeCopyAtEnd(t *testing.T) {
	size := bigcopy.Threshold + 3*4096 + 5
	name := testName(t)
	a := mustCreate(t, name, []int{size}, Uint8)
	defer a.Close()
	src := make([]byte, size)
	fillBytes(src, 3)
	for _, off := range []int{0, 1, 31, 33, 63, 4095, size - bigcopy.Threshold, size - bigcopy.Threshold - 1, size} {
		n, err := a.WriteAt(src[1:], int64(off))
		assert.Equal(t, n, min(size-1, size-off))
		if n < size-1 { // past the end: what fits, and io.ErrShortWrite
			assert.ErrorIs(t, err, io.ErrShortWrite)
		} else {
			assert.NilError(t, err)
		}
		assert.Assert(t, bytes.Equal(a.Bytes()[off:off+n], src[1:1+n]), "off %d", off)
		out := make([]byte, size+64)
		n, err = a.ReadAt(out[7:], int64(off))
		assert.Equal(t, err, io.EOF) // out is longer than the data
		assert.Equal(t, n, size-off)
		assert.Assert(t, bytes.Equal(out[7:7+n], a.Bytes()[off:]), "off %d", off)
		assert.Assert(t, allZero(out[7+n:]), "off %d: wrote past the count", off)
		b, err := Attach(name)
		assert.NilError(t, err, "off %d: the trailer", off)
		assert.DeepEqual(t, b.Shape(), []int{size})
		b.Close()
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Another process truncates the segment while large copies run, again and
// again: every copy completes or fails with ErrFault (never a crash), also
// under -race.
func TestLargeCopyTruncatedMidCopy(t *testing.T) {
	skipIfNoFaultAddress(t)
	size := 4 * bigcopy.Threshold
	name := testName(t)
	a := mustCreate(t, name, []int{size}, Uint8)
	defer a.Close()
	path := shmDir + "/" + name
	buf := make([]byte, size)
	var faults, oks atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var err error
			if i%2 == 0 {
				_, err = a.ReadAt(buf, 0)
			} else {
				_, err = a.WriteAt(buf, 0)
			}
			switch {
			case err == nil:
				oks.Add(1)
			case errors.Is(err, ErrFault):
				faults.Add(1)
			default:
				t.Errorf("copy: %v", err)
				return
			}
		}
	}()
	st, err := os.Stat(path)
	assert.NilError(t, err)
	total := strconv.Itoa(int(st.Size()))
	for i := 0; i < 10; i++ {
		out, err := exec.Command("truncate", "-s", strconv.Itoa(bigcopy.Threshold+i*4096), path).CombinedOutput()
		assert.NilError(t, err, "%s", out)
		time.Sleep(2 * time.Millisecond)
		out, err = exec.Command("truncate", "-s", total, path).CombinedOutput()
		assert.NilError(t, err, "%s", out)
		time.Sleep(2 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d copies completed, %d faulted", oks.Load(), faults.Load())
}

// Create, Attach and Delete from many goroutines at once, with names of
// every length class (255 bytes, odd characters) and file paths whose C
// strings fall around the pooled buffer's 512 bytes: each sees its own
// array and nothing else.
func TestPooledBuffersConcurrent(t *testing.T) {
	dir := t.TempDir()
	var names []string
	base := testName(t)
	names = append(names, base+"-"+strings.Repeat("x", 255-len(base)-1)) // NAME_MAX
	names = append(names, base+"-sp ace %d é\t!")                        // odd characters
	names = append(names, base+"-"+strings.Repeat("y", 200))             // long
	for _, n := range []int{509, 510, 511, 512, 513, 520} {              // len(dir)+len(path)+2 around 512
		// path = dir + "/" + b, so the C strings take 2*len(dir)+len(b)+3.
		b := n - 2*len(dir) - 3
		if b < 1 || b > 255 {
			continue
		}
		names = append(names, "file://"+filepath.Join(dir, strings.Repeat("f", b-1)+"z"))
	}
	long := dir
	for len(long) < 3000 {
		long = filepath.Join(long, strings.Repeat("d", 200))
	}
	assert.NilError(t, os.MkdirAll(long, 0o700))
	names = append(names, "file://"+filepath.Join(long, "deep"))
	for _, n := range names {
		t.Cleanup(func() {
			if p, ok := strings.CutPrefix(n, "file://"); ok {
				os.Remove(p)
			} else {
				os.Remove(shmDir + "/" + n)
			}
		})
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				name := names[(g+i)%len(names)]
				short := name[max(0, len(name)-40):]
				name = fmt.Sprintf("%s%d", name[:len(name)-1], g) // no two goroutines share a name
				if !strings.HasPrefix(name, "file://") && len(name) > 255 {
					name = name[:255]
				}
				shape := []int{g + 1, i + 1}
				a, err := Create(name, shape, Int16)
				if err != nil {
					if errors.Is(err, os.ErrExist) {
						continue
					}
					t.Errorf("create %q: %v", short, err)
					return
				}
				tag := byte(g*31 + i)
				for k := range a.Bytes() {
					a.Bytes()[k] = tag
				}
				b, err := Attach(name)
				if err != nil {
					t.Errorf("attach %q: %v", short, err)
					a.Close()
					return
				}
				if !equalInts(b.Shape(), shape) || b.Dtype() != Int16 || bytes.Count(b.Bytes(), []byte{tag}) != len(b.Bytes()) {
					t.Errorf("attach %q: shape %v dtype %v, want %v and tag %d", short, b.Shape(), b.Dtype(), shape, tag)
				}
				b.Close()
				a.Close()
				if err := Delete(name); err != nil {
					t.Errorf("delete %q: %v", short, err)
				}
				// Every error path too, between the successes.
				if _, err := Attach(name); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("attach deleted %q: %v", short, err)
				}
				if err := Delete(name); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("delete deleted %q: %v", short, err)
				}
			}
		}()
	}
	wg.Wait()
}

// An error from Attach or Delete on a hostile file keeps its text after the
// pooled buffers it was read with are reused by later calls.
func TestPooledBufferErrorsStable(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	good := filepath.Join(dir, "good")
	a, err := Create("file://"+good, []int{3, 4}, Float64)
	assert.NilError(t, err)
	a.Close()
	// A segment whose magic is wrong: a FormatError that quotes it.
	raw, err := os.ReadFile(good)
	assert.NilError(t, err)
	assert.Assert(t, bytes.Contains(raw, []byte("[SharedArray]")))
	raw = bytes.ReplaceAll(raw, []byte("[SharedArray]"), []byte("[XharedArraX]"))
	assert.NilError(t, os.WriteFile(bad, raw, 0o600))
	_, aerr := Attach("file://" + bad)
	derr := Delete("file://" + bad)
	assert.Assert(t, aerr != nil && derr != nil, "%v / %v", aerr, derr)
	t.Log(aerr, derr)
	atext, dtext := aerr.Error(), derr.Error()
	for i := 0; i < 200; i++ {
		b, err := Attach("file://" + good)
		assert.NilError(t, err)
		b.Close()
		_, err = Stat("file://" + good)
		assert.NilError(t, err)
	}
	assert.Equal(t, aerr.Error(), atext)
	assert.Equal(t, derr.Error(), dtext)
	assert.NilError(t, Delete("file://"+good))
}

// ReadAt and WriteAt with the caller's slice overlapping the array's data
// in the same mapping (ReadAt's godoc): the result is the built-in copy's,
// in both directions, on the large path.
func TestLargeCopyOverlapSameMapping(t *testing.T) {
	size := 2*bigcopy.Threshold + 4096
	a := mustCreate(t, testName(t), []int{size}, Uint8)
	defer a.Close()
	for _, shift := range []int{1, 64, 4096 + 64} {
		fillBytes(a.Bytes(), 1)
		want := append([]byte(nil), a.Bytes()...)
		copy(want, want[shift:])
		_, err := a.WriteAt(a.Bytes()[shift:], 0) // move down
		assert.NilError(t, err)
		assert.Assert(t, bytes.Equal(a.Bytes(), want), "WriteAt shift %d", shift)
		fillBytes(a.Bytes(), 1)
		want = append(want[:0], a.Bytes()...)
		copy(want[shift:], want)
		_, err = a.ReadAt(a.Bytes()[shift:], 0) // move up
		assert.NilError(t, err)
		assert.Assert(t, bytes.Equal(a.Bytes(), want), "ReadAt shift %d", shift)
	}
}

// A C-order import from a file no longer populates the mapping first; the
// reservation stays: on a full tmpfs, with the memory check skipped, the
// import is an ENOSPC error (never a SIGBUS during the read) and leaves
// nothing behind, and what fits is imported whole.
func TestLoadNPYFullFileSystem(t *testing.T) {
	dir := testutil.MountTmpfs(t, 1<<20)
	src := t.TempDir()
	a := mustCreate(t, testName(t), []int{(2 << 20) / 8}, Float64)
	fillBytes(a.Bytes(), 7)
	path := filepath.Join(src, "big.npy")
	f, err := os.Create(path)
	assert.NilError(t, err)
	_, err = a.WriteNPY(f)
	assert.NilError(t, err)
	f.Close()
	_, err = LoadNPY("file://"+filepath.Join(dir, "big"), path, SkipMemoryCheck())
	assert.Assert(t, errors.Is(err, syscall.ENOSPC), "%v", err)
	ents, _ := os.ReadDir(dir)
	assert.Equal(t, len(ents), 0, "nothing left behind")

	small := mustCreate(t, testName(t), []int{(600 << 10) / 8}, Float64)
	fillBytes(small.Bytes(), 9)
	path = filepath.Join(src, "small.npy")
	f, err = os.Create(path)
	assert.NilError(t, err)
	_, err = small.WriteNPY(f)
	assert.NilError(t, err)
	f.Close()
	b, err := LoadNPY("file://"+filepath.Join(dir, "small"), path, SkipMemoryCheck())
	assert.NilError(t, err)
	defer b.Close()
	assert.Assert(t, bytes.Equal(b.Bytes(), small.Bytes()))
}
