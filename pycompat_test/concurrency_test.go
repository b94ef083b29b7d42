package pycompat_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sa "github.com/sharedarray/sharedarray"
	"gotest.tools/v3/assert"
)

// The shared array of TestConcurrentWriters has one row per writer and a
// control row: ctl[0] is the start flag, ctl[1+id] writer id's ready flag.
// Every writer marks itself ready and spins until the parent sets the start
// flag, so all eight write at the same time.

// goWorker is the Go side of TestConcurrentWriters, run in a child process:
// spec is "NAME,ID,WRITERS,ROUNDS". It returns the exit code.
func goWorker(spec string) int {
	f := strings.Split(spec, ",")
	id, _ := strconv.Atoi(f[1])
	writers, _ := strconv.Atoi(f[2])
	rounds, _ := strconv.Atoi(f[3])
	a, err := sa.Attach(f[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer a.Close()
	v, err := sa.View[int64](a)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	region := len(v) / (writers + 1)
	ctl := v[writers*region:]
	atomic.StoreInt64(&ctl[1+id], 1)
	for atomic.LoadInt64(&ctl[0]) == 0 {
		runtime.Gosched()
	}
	mine := v[id*region : (id+1)*region]
	next := (id + 1) % writers
	theirs := v[next*region : (next+1)*region]
	for r := range rounds {
		val := int64(id)<<32 | int64(r)
		for i := range mine {
			mine[i] = val
		}
		for i := range mine {
			if mine[i] != val {
				fmt.Fprintf(os.Stderr, "worker %d: element %d overwritten in round %d\n", id, i, r)
				return 1
			}
		}
		// The neighbour's region only ever holds the neighbour's values.
		if x := atomic.LoadInt64(&theirs[r%region]); x != 0 && x>>32 != int64(next) {
			fmt.Fprintf(os.Stderr, "worker %d: writer %d's element holds %#x\n", id, next, x)
			return 1
		}
	}
	return 0
}

// TestConcurrentWriters: 4 Go and 4 Python processes attach one array and
// each writes its own region, many rounds; at the end every element holds
// what its writer wrote last.
func TestConcurrentWriters(t *testing.T) {
	const region, each = 4096, 4
	const goRounds, pyRounds = 100000, 20000
	const writers = 2 * each
	for _, b := range builds {
		t.Run(b.venv, func(t *testing.T) {
			pyFor(t, b) // skips or fails when the environment is missing
			name := uniqueName(t)
			a, err := sa.Create(name, []int{writers + 1, region}, sa.Int64, sa.WithLayout(b.goDefault()))
			assert.NilError(t, err)
			defer a.Close()
			defer sa.Delete(name)
			v, err := sa.View[int64](a)
			assert.NilError(t, err)
			ctl := v[writers*region:]
			var cmds []*exec.Cmd
			for id := range writers {
				var cmd *exec.Cmd
				if id < each {
					cmd = exec.Command(os.Args[0], "-test.run=^$")
					cmd.Env = append(os.Environ(), fmt.Sprintf("SHAREDARRAY_PYCOMPAT_WORKER=%s,%d,%d,%d", name, id, writers, goRounds))
				} else {
					cmd = exec.Command(b.python(), "helper.py", "worker", name, strconv.Itoa(id), strconv.Itoa(writers), strconv.Itoa(pyRounds))
				}
				cmd.Stderr = os.Stderr
				assert.NilError(t, cmd.Start())
				cmds = append(cmds, cmd)
			}
			deadline := time.Now().Add(time.Minute)
			for id := 0; id < writers; {
				if atomic.LoadInt64(&ctl[1+id]) == 1 {
					id++
					continue
				}
				if time.Now().After(deadline) {
					t.Fatalf("writer %d never got ready", id)
				}
				time.Sleep(time.Millisecond)
			}
			atomic.StoreInt64(&ctl[0], 1) // go
			for id, cmd := range cmds {
				assert.NilError(t, cmd.Wait(), "writer %d", id)
			}
			for i, x := range v[:writers*region] {
				id := i / region
				rounds := goRounds
				if id >= each {
					rounds = pyRounds
				}
				if want := int64(id)<<32 | int64(rounds-1); x != want {
					t.Fatalf("element %d (writer %d) is %#x, want %#x", i, id, x, want)
				}
			}
		})
	}
}
