package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sharedarray/sharedarray"
	"gotest.tools/v3/assert"
)

// ls and info show a frame ring's slots, head, writer and readers.
func TestRingShown(t *testing.T) {
	t.Parallel()
	n := name(t)
	w, err := sharedarray.CreateRing(n, 4, []int{2, 3}, sharedarray.Float32)
	assert.NilError(t, err)
	defer w.Close()
	r, err := sharedarray.OpenRingReader(n)
	assert.NilError(t, err)
	defer r.Close()
	assert.NilError(t, w.Write(make([]byte, 24)))
	want := fmt.Sprintf("4 slots, head 1, generation 1, writer pid %d, 1 reader(s), 0 waiting", os.Getpid())

	code, out, errs := runCLI("info", n)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.Contains(out, "\nring "), out)
	assert.Assert(t, strings.Contains(out, " "+want+"\n"), out)

	// ls: the ring's state is in a RING column, under its header, after
	// HOLDERS with -l.
	for _, args := range [][]string{{"ls"}, {"ls", "-l"}} {
		code, out, errs = runCLI(args...)
		assert.Equal(t, code, 0, errs)
		lines := strings.Split(out, "\n")
		col := strings.Index(lines[0], "RING")
		assert.Assert(t, strings.HasSuffix(lines[0], "RING") && col > strings.Index(lines[0], "ATTACHED"), "%v: %s", args, lines[0])
		if len(args) > 1 {
			assert.Assert(t, col > strings.Index(lines[0], "HOLDERS"), lines[0])
		}
		found := false
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, n+" ") {
				found = true
				assert.Equal(t, l[col:], want) // ASCII like the header: columns line up in bytes
			}
		}
		assert.Assert(t, found, out)
	}

	code, out, _ = runCLI("ls", "--json")
	assert.Equal(t, code, 0)
	var entries []lsEntry
	assert.NilError(t, json.Unmarshal([]byte(out), &entries))
	for _, e := range entries {
		if e.Name == n {
			assert.DeepEqual(t, e.Ring, &lsRing{Slots: 4, Head: 1, Generation: 1, WriterPID: os.Getpid(), WriterAlive: true, Readers: 1})
			assert.DeepEqual(t, e.Shape, []int{4, 2, 3})
		} else if e.Name == "" {
			t.Fatal("empty name")
		}
	}

	// A plain array is no ring.
	p := name(t)
	a, err := sharedarray.Create(p, []int{4, 2, 3}, sharedarray.Float32)
	assert.NilError(t, err)
	a.Close()
	code, out, _ = runCLI("info", p)
	assert.Equal(t, code, 0)
	assert.Assert(t, !strings.Contains(out, "ring"), out)
}
