package sharedarray

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/sharedarray/sharedarray/internal/shmatomic"
)

// Control block version 2: reader progress. A registered reader (one that
// holds lock byte b, 1..255) writes where it is into entry b of a table
// after the slot table: its position, overruns, when it last read a frame,
// its pid and language. Only that reader writes the entry; the writer
// never reads it (it still never waits); StatRing and `sharedarray ring
// top` read the entries of the readers whose lock bytes are held. Each
// field is one aligned atomic store, the entry as a whole is not a
// snapshot. docs/ring.md §2 gives the bytes.

const (
	offProgressOff  = 48 // u32: version 2: where the progress table starts (from ctl)
	offProgressSize = 52 // u32: version 2: bytes per progress entry = 32
	progEntrySize   = 32
	progEntries     = ringMaxReaders + 1 // entry b for lock byte b; entry 0 unused

	progPos      = 0  // u64: the sequence the reader reads next
	progOverruns = 8  // u64: frames it lost so far
	progLastRead = 16 // i64: CLOCK_MONOTONIC ns when it last returned a frame, 0 before
	progPID      = 24 // i32: its pid
	progLang     = 28 // u8: 1 Go, 2 Python, 0 unknown

	langGo     = 1
	langPython = 2
)

// progressOffset is where the progress table starts in a version 2
// control block of slots slots, 0 for version 1.
func progressOffset(version, slots int) int {
	if version < 2 {
		return 0
	}
	return (ringHeaderSize + slots*ringSlotEntry + 63) / 64 * 64
}

// ringGeometryV returns where the control block starts and how long it is
// in the given version.
func ringGeometryV(version int, dataBytes int64, slots int) (ctlOff, ctlSize int64) {
	ctlOff = (dataBytes + ringAlign - 1) / ringAlign * ringAlign
	ctlSize = (ringHeaderSize + int64(slots)*ringSlotEntry + 63) / 64 * 64
	if version >= 2 {
		ctlSize += progEntries * progEntrySize
	}
	return ctlOff, ctlSize
}

// initProgressHeader writes the version 2 header fields.
func initProgressHeader(b []byte, slots int) {
	binary.LittleEndian.PutUint32(b[offProgressOff:], uint32(progressOffset(2, slots)))
	binary.LittleEndian.PutUint32(b[offProgressSize:], progEntrySize)
}

// checkProgressHeader checks the version-dependent header fields.
func checkProgressHeader(hdr []byte, version, slots int, bad func(off int, field string, v any, msg string) error) error {
	le := binary.LittleEndian
	off, size := le.Uint32(hdr[offProgressOff:]), le.Uint32(hdr[offProgressSize:])
	if version < 2 {
		return nil // reserved in version 1, not checked before: not checked now
	}
	if want := progressOffset(version, slots); off != uint32(want) {
		return bad(offProgressOff, "progress table offset", off, fmt.Sprintf("%d slots put it at %d", slots, want))
	}
	if size != progEntrySize {
		return bad(offProgressSize, "progress entry size", size, fmt.Sprintf("must be %d", progEntrySize))
	}
	return nil
}

// entry returns the offset in ctl of field f of reader b's progress entry.
func (r *ring) entry(b, f int) int { return r.progOff + b*progEntrySize + f }

// startProgress fills this reader's entry as it registers (version 2).
func (rd *RingReader) startProgress() {
	if rd.progOff == 0 || rd.regByte == 0 {
		return
	}
	b := rd.regByte
	shmatomic.Store32(rd.u32(rd.entry(b, progPID)), uint32(int32(os.Getpid())))
	shmatomic.Store32(rd.u32(rd.entry(b, progLang)), langGo) // bytes 28..31: lang and three zero bytes
	shmatomic.Store64(rd.u64(rd.entry(b, progOverruns)), 0)
	shmatomic.Store64(rd.u64(rd.entry(b, progLastRead)), 0)
	shmatomic.Store64(rd.u64(rd.entry(b, progPos)), rd.pos)
}

// noteProgress records a frame returned (version 2).
func (rd *RingReader) noteProgress() {
	if rd.progOff == 0 || rd.regByte == 0 {
		return
	}
	b := rd.regByte
	shmatomic.Store64(rd.u64(rd.entry(b, progPos)), rd.pos)
	shmatomic.Store64(rd.u64(rd.entry(b, progOverruns)), rd.overruns)
	shmatomic.Store64(rd.u64(rd.entry(b, progLastRead)), uint64(nanotime()))
}

// RingReaderInfo is what a registered reader of a version 2 ring says
// about itself (StatRing's RingInfo.ReaderList). The reader writes these
// fields one by one, so they may be a frame apart; another process with
// write access can write anything here: values that cannot be true are
// reported as read and named in Suspect, never trusted further.
type RingReaderInfo struct {
	LockByte int    // its reader lock byte, 1..255
	PID      int    // its process, as it wrote it (0: not written yet)
	Language string // "go", "python", or "" when unknown
	Pos      uint64 // the sequence it reads next
	Lag      uint64 // frames published it has not read yet: head - Pos (0 if Suspect)
	// LagNanos is how long ago the oldest frame it has not read was
	// published (CLOCK_MONOTONIC), 0 when it is caught up or that frame is
	// unknown.
	LagNanos int64
	Overruns uint64 // frames it lost so far (it lapped, or they were overwritten while read)
	LastRead int64  // CLOCK_MONOTONIC ns when it last returned a frame, 0 if never
	Suspect  string // why these values cannot all be true, "" when they can
}

// readerList reads the progress entries of the readers holding the lock
// bytes held (lockedReaderBytes: write-locked, one F_OFD_GETLK per byte,
// exact whatever the lock order).
func (r *ring) readerList(head uint64, held []int) ([]RingReaderInfo, error) {
	list := make([]RingReaderInfo, 0, len(held))
	err := guarded(func() error {
		now := nanotime()
		for _, b := range held {
			ri := RingReaderInfo{
				LockByte: b,
				PID:      int(int32(shmatomic.Load32(r.u32(r.entry(b, progPID))))),
				Pos:      shmatomic.Load64(r.u64(r.entry(b, progPos))),
				Overruns: shmatomic.Load64(r.u64(r.entry(b, progOverruns))),
				LastRead: int64(shmatomic.Load64(r.u64(r.entry(b, progLastRead)))),
			}
			switch shmatomic.Load32(r.u32(r.entry(b, progLang))) & 0xFF {
			case langGo:
				ri.Language = "go"
			case langPython:
				ri.Language = "python"
			}
			// An honest reader may have read frames published after head
			// was loaded, and stamped its last read after now was taken:
			// impossible values are judged against the head and the clock
			// as they are once the entry was read (the head only grows),
			// the lag against head, as RingInfo.Head reports it.
			hNow := max(head, shmatomic.Load64(r.head()))
			tNow := max(now, nanotime())
			switch {
			case ri.PID < 0:
				ri.Suspect = fmt.Sprintf("pid %d", ri.PID)
				ri.PID = 0
			case ri.Pos > hNow:
				ri.Suspect = fmt.Sprintf("position %d ahead of head %d", ri.Pos, hNow)
			case ri.LastRead > tNow || ri.LastRead < 0:
				ri.Suspect = fmt.Sprintf("last read %d ns, now is %d", ri.LastRead, tNow)
			case ri.Overruns > hNow:
				ri.Suspect = fmt.Sprintf("%d overruns of %d frames", ri.Overruns, hNow)
			}
			if ri.Suspect == "" && ri.Pos < head {
				ri.Lag = head - ri.Pos
				ri.LagNanos = r.ageOf(max(ri.Pos, head-min(head, r.slots)), now)
			}
			list = append(list, ri)
		}
		return nil
	})
	return list, err
}

// ageOf returns how long ago frame s was published, if its slot still
// holds it complete with a time, else 0.
func (r *ring) ageOf(s uint64, now int64) int64 {
	i := s % r.slots
	if shmatomic.Load64(r.seq(i)) != 2*s+2 {
		return 0
	}
	t := int64(shmatomic.Load64(r.stamp(i)))
	if shmatomic.Load64(r.seq(i)) != 2*s+2 || t <= 0 || t > now {
		return 0
	}
	return now - t
}
