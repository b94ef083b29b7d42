package sharedarray

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"gotest.tools/v3/assert"
)

// ctlOf maps the named ring's file read-write and returns its control
// block (and the mapping, to unmap).
func ctlOf(t *testing.T, name string) []byte {
	t.Helper()
	r, err := openRing("test", name, false)
	assert.NilError(t, err)
	t.Cleanup(func() { r.unmapNow() })
	return r.ctl
}

// downgradeToV1 rewrites a version 2 ring's header as version 1: what a
// ring made by the previous release looks like to a reader (the bytes
// after a version 1 control block, up to the trailer, are ignored).
func downgradeToV1(t *testing.T, name string, slots int) {
	t.Helper()
	ctl := ctlOf(t, name)
	le := binary.LittleEndian
	le.PutUint32(ctl[offVersion:], 1)
	le.PutUint64(ctl[offCtlSize:], uint64((ringHeaderSize+slots*ringSlotEntry+63)/64*64))
	le.PutUint64(ctl[offProgressOff:], 0)
}

// Readers at different speeds: what StatRing reports for each agrees with
// what the reader counted itself.
func TestRingProgress(t *testing.T) {
	name, w := mustRing(t, 4, 2)
	fast, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer fast.Close()
	slow, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer slow.Close()
	idle, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer idle.Close()
	buf := make([]byte, fast.Geometry().FrameBytes)
	for k := range 30 {
		writeFrame(t, w)
		_, err := fast.Next(context.Background(), buf)
		assert.NilError(t, err)
		if k%5 == 0 {
			_, err := slow.Next(context.Background(), buf)
			assert.NilError(t, err)
		}
	}
	info, err := StatRing(name)
	assert.NilError(t, err)
	assert.Equal(t, info.Version, 2)
	assert.Equal(t, len(info.ReaderList), 3)
	byByte := map[int]RingReaderInfo{}
	for _, ri := range info.ReaderList {
		byByte[ri.LockByte] = ri
		assert.Equal(t, ri.PID, os.Getpid())
		assert.Equal(t, ri.Language, "go")
		assert.Equal(t, ri.Suspect, "")
	}
	for _, rd := range []*RingReader{fast, slow, idle} {
		ri := byByte[rd.regByte]
		assert.Equal(t, ri.Pos, rd.Seq(), "reader on byte %d", rd.regByte)
		assert.Equal(t, ri.Overruns, rd.Overruns(), "reader on byte %d", rd.regByte)
		assert.Equal(t, ri.Lag, info.Head-rd.Seq())
	}
	assert.Equal(t, byByte[fast.regByte].Lag, uint64(0))
	assert.Assert(t, byByte[slow.regByte].Overruns > 0)
	assert.Assert(t, byByte[slow.regByte].LagNanos > 0)
	assert.Equal(t, byByte[idle.regByte].LastRead, int64(0))
	assert.Assert(t, byByte[fast.regByte].LastRead > 0 && byByte[fast.regByte].LastRead <= nanotime())
	// A reader that closes is no longer listed, whatever its entry says.
	slow.Close()
	info, err = StatRing(name)
	assert.NilError(t, err)
	assert.Equal(t, len(info.ReaderList), 2)
}

// A version 1 ring (the previous release's) still opens, streams and is
// reported as version 1 with no reader list.
func TestRingVersion1StillRead(t *testing.T) {
	name, w := mustRing(t, 3, 2)
	w.Close()
	downgradeToV1(t, name, 3)
	w, err := OpenRingWriter(name)
	assert.NilError(t, err)
	defer w.Close()
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	assert.Equal(t, r.version, 1)
	buf := make([]byte, r.Geometry().FrameBytes)
	for range 5 {
		writeFrame(t, w)
		info, err := r.Next(context.Background(), buf)
		assert.NilError(t, err)
		assert.Equal(t, checkFrame(buf, info.Seq), -1)
	}
	info, err := StatRing(name)
	assert.NilError(t, err)
	assert.Equal(t, info.Version, 1)
	assert.Assert(t, info.ReaderList == nil)
	assert.Equal(t, info.Readers, 1)
}

// Hostile progress entries are reported as read, flagged, never trusted;
// hostile version 2 header fields are format errors.
func TestRingProgressHostile(t *testing.T) {
	name, w := mustRing(t, 4, 2)
	r, err := OpenRingReader(name)
	assert.NilError(t, err)
	defer r.Close()
	writeFrame(t, w)
	ctl := ctlOf(t, name)
	le := binary.LittleEndian
	e := r.progOff + r.regByte*progEntrySize
	for _, tc := range []struct {
		field int
		value uint64
	}{
		{progPos, 1 << 63},
		{progPID, 0xFFFFFFFF}, // -1
		{progLastRead, 1 << 62},
		{progOverruns, 1 << 40},
	} {
		saved := le.Uint64(ctl[e+tc.field:])
		if tc.field == progPID {
			le.PutUint32(ctl[e+tc.field:], uint32(tc.value))
		} else {
			le.PutUint64(ctl[e+tc.field:], tc.value)
		}
		info, err := StatRing(name)
		assert.NilError(t, err)
		assert.Equal(t, len(info.ReaderList), 1)
		ri := info.ReaderList[0]
		assert.Assert(t, ri.Suspect != "", "field %d = %#x not flagged", tc.field, tc.value)
		assert.Equal(t, ri.Lag, uint64(0))
		assert.Assert(t, ri.PID >= 0)
		le.PutUint64(ctl[e+tc.field:], saved)
	}
	// The reader goes on reading, and overwrites its own entry.
	writeFrame(t, w)
	_, err = r.Next(context.Background(), make([]byte, r.Geometry().FrameBytes))
	assert.NilError(t, err)
	info, err := StatRing(name)
	assert.NilError(t, err)
	assert.Equal(t, info.ReaderList[0].Suspect, "")

	for _, tc := range []struct {
		off   int
		value uint32
	}{{offProgressOff, 64}, {offProgressOff, 1 << 30}, {offProgressSize, 16}, {offVersion, 3}} {
		saved := le.Uint32(ctl[tc.off:])
		le.PutUint32(ctl[tc.off:], tc.value)
		_, err := OpenRingReader(name)
		var fe *FormatError
		assert.Assert(t, errors.As(err, &fe), "header offset %d = %d: %v", tc.off, tc.value, err)
		le.PutUint32(ctl[tc.off:], saved)
	}
}

// A reader's progress entry is written while other readers come and go:
// churn readers and compare the list with the readers alive.
func TestRingProgressChurn(t *testing.T) {
	name, w := mustRing(t, 4, 2)
	var open []*RingReader
	defer func() {
		for _, r := range open {
			r.Close()
		}
	}()
	for k := range 40 {
		if k%3 == 2 && len(open) > 0 {
			i := (k * 7) % len(open)
			open[i].Close()
			open = append(open[:i], open[i+1:]...)
		} else {
			r, err := OpenRingReader(name)
			assert.NilError(t, err)
			open = append(open, r)
		}
		writeFrame(t, w)
		info, err := StatRing(name)
		assert.NilError(t, err)
		assert.Equal(t, len(info.ReaderList), len(open), "step %d", k)
		want := map[int]uint64{}
		for _, r := range open {
			want[r.regByte] = r.Seq()
		}
		for _, ri := range info.ReaderList {
			pos, ok := want[ri.LockByte]
			assert.Assert(t, ok, "byte %d listed, no reader holds it", ri.LockByte)
			assert.Equal(t, ri.Pos, pos)
		}
	}
}
