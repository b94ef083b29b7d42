package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sharedarray/sharedarray"
	"gotest.tools/v3/assert"
)

// top shows each reader's lag and overruns as the reader counted them.
func TestTop(t *testing.T) {
	n := name(t)
	w, err := sharedarray.CreateRing(n, 4, []int{2}, sharedarray.Uint64)
	assert.NilError(t, err)
	defer w.Close()
	fast, err := sharedarray.OpenRingReader(n)
	assert.NilError(t, err)
	defer fast.Close()
	slow, err := sharedarray.OpenRingReader(n)
	assert.NilError(t, err)
	defer slow.Close()
	buf := make([]byte, 16)
	for k := range 20 {
		assert.NilError(t, w.Write(buf))
		_, err := fast.Next(context.Background(), buf)
		assert.NilError(t, err)
		if k%7 == 0 {
			_, err := slow.Next(context.Background(), buf)
			assert.NilError(t, err)
		}
	}
	code, out, errs := runCLI("top", "--json", n)
	assert.Equal(t, code, 0, errs)
	var rings []topRing
	assert.NilError(t, json.Unmarshal([]byte(out), &rings), out)
	assert.Equal(t, len(rings), 1)
	r := rings[0]
	assert.Equal(t, r.Head, uint64(20))
	assert.Equal(t, r.Version, 2)
	assert.Assert(t, r.Writer != nil && r.Writer.PID == os.Getpid() && r.Writer.Command != "", "%+v", r.Writer)
	assert.Assert(t, r.PublishRate != nil && *r.PublishRate == 0)
	assert.Equal(t, len(r.ReaderList), 2)
	for _, x := range r.ReaderList {
		rd := fast
		if x.Pos != fast.Seq() {
			rd = slow
		}
		assert.Equal(t, x.Pos, rd.Seq())
		assert.Equal(t, x.Overruns, rd.Overruns())
		assert.Equal(t, x.LagFrames, 20-rd.Seq())
		assert.Equal(t, x.Language, "go")
		assert.Equal(t, x.PID, os.Getpid())
	}

	code, out, errs = runCLI("top", "-n", "2", n)
	assert.Equal(t, code, 0, errs)
	assert.Equal(t, strings.Count(out, "LAG ms"), 2, out)
	assert.Assert(t, strings.Contains(out, "head 20"), out)

	code, _, errs = runCLI("top")
	assert.Equal(t, code, exitUsage, errs)
	code, out, _ = runCLI("top", "--json", name(t))
	assert.Equal(t, code, exitFail)
	assert.Assert(t, strings.Contains(out, `"error"`), out)
}
