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

// A screen of top fits an 80-column terminal (issue 18 review: the head
// line was 81 columns with a 2-letter writer command and a 4-digit head,
// and tmux wrapped it), with large but real values: a head of 10^9, 7-digit
// pids, 15-character commands (the longest /proc/PID/comm), a long suspect.
func TestTopFits80Columns(t *testing.T) {
	r5 := 12345.6
	rings := []topRing{{
		Name: "shm://cam0", Version: 2, Slots: 64, FrameShape: []int{1080, 1920, 3}, Dtype: "uint8",
		Head: 1_000_000_000, Generation: 123, PublishRate: &r5,
		Writer:  &topProcess{PID: 4194304, Command: "abcdefghijklmno"},
		Readers: 255,
		ReaderList: []topReader{
			{topProcess: topProcess{PID: 4194303, Command: "abcdefghijklmno"}, LockByte: 255, Language: "python",
				LagFrames: 1_000_000, LagMS: 99999.9, Overruns: 1_000_000_000, OverrunRate: &r5},
			{topProcess: topProcess{PID: 0}, LockByte: 3, Suspect: "position 18446744073709551615 ahead of head 1000000000"},
		},
	}}
	var b strings.Builder
	renderTop(&b, rings)
	for _, l := range strings.Split(b.String(), "\n") {
		assert.Assert(t, len(l) <= 80, "%d columns: %q\n%s", len(l), l, b.String())
	}
	assert.Assert(t, strings.Contains(b.String(), "suspect, lock byte 3: position 18446744073709551615 ahead of head"), b.String())
}

// A ring name or a process command with terminal escapes (any user can
// set a process's command with prctl PR_SET_NAME) reaches the screen
// quoted, never raw.
func TestTopQuotesHostileNames(t *testing.T) {
	hostile := "x\x1b]0;owned\x07\xff"
	rings := []topRing{
		{Name: hostile, Version: 2, Slots: 4, FrameShape: []int{2}, Dtype: "uint8",
			Writer:     &topProcess{PID: 7, Command: hostile},
			ReaderList: []topReader{{topProcess: topProcess{PID: 8, Command: hostile}, LockByte: 1, Language: "go"}}},
		{Name: hostile, Error: "not a frame ring"},
	}
	var b strings.Builder
	renderTop(&b, rings)
	assert.Assert(t, !raw(b.String()), "%q", b.String())
	assert.Assert(t, strings.Contains(b.String(), quote(hostile)), "%q", b.String())
}
