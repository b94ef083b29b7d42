package sharedarray

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"gotest.tools/v3/assert"
)

// raceCreateChild tries Create(BASE-r) for every round and prints "win r"
// for the ones it won; every loss must be ErrExist, and an Attach after a
// loss must see a complete array or nothing.
func raceCreateChild(base string, rounds int) int {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for r := range rounds {
		name := fmt.Sprintf("%s-%d", base, r)
		a, err := Create(name, []int{r%7 + 1, 3}, Int32)
		if err == nil {
			fmt.Fprintf(w, "win %d\n", r)
			a.Close()
			continue
		}
		if !errors.Is(err, fs.ErrExist) {
			fmt.Fprintln(os.Stderr, "create:", err)
			return 1
		}
		b, err := Attach(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "attach after losing:", err)
			return 1
		}
		if b.Dtype() != Int32 || !equalInts(b.Shape(), []int{r%7 + 1, 3}) {
			fmt.Fprintln(os.Stderr, "attach saw", b)
			return 1
		}
		b.Close()
	}
	return 0
}

// 16 processes race to create the same names: exactly one wins each.
func TestRaceCreate(t *testing.T) {
	t.Parallel()
	const procs, rounds = 16, 3000
	base := testName(t)
	t.Cleanup(func() {
		for r := range rounds {
			os.Remove(fmt.Sprintf("%s/%s-%d", shmDir, base, r))
		}
	})
	flag := filepath.Join(t.TempDir(), "go")
	var outs [procs]strings.Builder
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for i := range procs {
		cmd := child(fmt.Sprintf("race-create %s %d %s", base, rounds, flag))
		cmd.Stdout = &outs[i]
		var stderr strings.Builder
		cmd.Stderr = &stderr
		assert.NilError(t, cmd.Start())
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Wait(); err != nil {
				errs <- fmt.Errorf("child %d: %v: %s", i, err, stderr.String())
			}
		}()
	}
	assert.NilError(t, os.WriteFile(flag, nil, 0o644))
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	wins := make([]int, rounds)
	for i := range outs {
		for _, line := range strings.Fields(outs[i].String()) {
			if line == "win" {
				continue
			}
			var r int
			fmt.Sscan(line, &r)
			wins[r]++
		}
	}
	winners := map[int]int{}
	for r, n := range wins {
		assert.Equal(t, n, 1, "round %d had %d winners", r, n)
	}
	for i := range outs {
		winners[i] = strings.Count(outs[i].String(), "win")
	}
	t.Logf("wins per process: %v", winners)
}

// Attachers racing with creators and deleters see a complete array or
// not-found, never a partial one; List never reports garbage.
func TestRaceAttachCreateDelete(t *testing.T) {
	const names, rounds = 8, 2000
	base := testName(t)
	name := func(i int) string { return fmt.Sprintf("%s-%d", base, i) }
	t.Cleanup(func() {
		for i := range names {
			os.Remove(shmDir + "/" + name(i))
		}
	})
	var stop atomic.Bool
	var wg, readers sync.WaitGroup
	fail := make(chan string, 100)
	report := func(format string, args ...any) {
		select {
		case fail <- fmt.Sprintf(format, args...):
		default:
		}
	}
	// Creators and deleters.
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				i := (r + w) % names
				a, err := Create(name(i), []int{i + 1, 5}, Float32)
				if err == nil {
					a.Close()
				} else if !errors.Is(err, fs.ErrExist) {
					report("create: %v", err)
				}
				if err := Delete(name((i + 3) % names)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					report("delete: %v", err)
				}
			}
		}()
	}
	// Attachers and listers.
	var attached, listed atomic.Int64
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for !stop.Load() {
				for i := range names {
					a, err := Attach(name(i))
					if err != nil {
						if !errors.Is(err, fs.ErrNotExist) {
							report("attach: %v", err)
						}
						continue
					}
					if a.Dtype() != Float32 || !equalInts(a.Shape(), []int{i + 1, 5}) || len(a.Bytes()) != (i+1)*20 {
						report("attach saw %v", a)
					}
					a.Close()
					attached.Add(1)
				}
				infos, err := List()
				if err != nil {
					report("list: %v", err)
				}
				for _, in := range infos {
					if strings.HasPrefix(in.Name, base+"-") && (in.Dtype != Float32 || len(in.Shape) != 2 || in.Shape[1] != 5) {
						report("list saw %+v", in)
					}
				}
				listed.Add(1)
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	readers.Wait()
	close(fail)
	for msg := range fail {
		t.Error(msg)
	}
	t.Logf("%d attaches, %d listings", attached.Load(), listed.Load())
}
