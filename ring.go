package sharedarray

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/sharedarray/sharedarray/internal/shmatomic"
)

// A frame ring is one SharedArray segment of shape (N, *frame) whose N rows
// are the slots of a single-writer, many-reader ring buffer, with a control
// block between the data and the trailer (docs/ring.md describes it byte by
// byte). SharedArray ignores those bytes, so SharedArray.attach of a ring
// returns the N frames as an ordinary array and SharedArray.delete removes
// the whole ring.

// Control block geometry and field offsets, relative to its start.
const (
	ringMagic      = "[SARing]"
	ringVersion    = 2 // written by CreateRing; 1 is still read (ring_progress.go)
	ringHeaderSize = 256
	ringSlotEntry  = 16 // seq u64, publish time i64
	ringAlign      = 4096
	ringMaxReaders = 255 // reader lock bytes 1..255
	ringMaxSlots   = 1 << 24
	ringMaxSeq     = 1 << 62 // sequence numbers at or above are corrupt

	offMagic      = 0   // [8]byte "[SARing]"
	offVersion    = 8   // u32 = 1
	offHeaderSize = 12  // u32 = 256: where the slot table starts
	offSlots      = 16  // u64 N
	offFrameBytes = 24  // u64 bytes per slot
	offCtlSize    = 32  // u64 control block length
	offMaxReaders = 40  // u32 = 255
	offFlags      = 44  // u32 = 0
	offGeneration = 64  // u64, +1 at every writer takeover
	offWriterPid  = 72  // i32, pid of the last writer, 0 when closed
	offHead       = 128 // u64: frames published; its low 32 bits are the futex word
	offWaiters    = 192 // u32: unregistered readers about to sleep or asleep on the futex word
	offWaiting    = 224 // 8 × u32 bitmap: bit b set while the reader holding lock byte b waits
)

// ringGeometry returns where a version 2 control block starts and how
// long it is (ringGeometryV: either version).
func ringGeometry(dataBytes int64, slots int) (ctlOff, ctlSize int64) {
	return ringGeometryV(ringVersion, dataBytes, slots)
}

// ring is what a writer and a reader share: the mapping, the control
// block and the descriptor that holds the OFD locks.
type ring struct {
	name       string
	fd         int
	dev, ino   uint64 // which file fd is
	mem        []byte // the whole mapping
	ctl        []byte // the control block, inside mem
	ctlOff     int64
	slots      uint64
	frameBytes int
	dtype      Dtype
	frameShape []int
	layout     Layout
	version    int // control block version, 1 or 2
	progOff    int // version 2: where the reader progress table starts in ctl; 0 in version 1

	mu     sync.RWMutex // held shared by every operation, exclusively by close
	closed atomic.Bool
	// cb is cbNone, cbRunning while a Read callback runs, cbClosed when
	// Close was called meanwhile: the Read then finishes the close, so
	// that a callback calling Close does not wait for itself.
	cb atomic.Int32

	// lastHead and lastGen are the head and generation as an accessor
	// (or Close) last read them: what Head and Generation return once
	// the mapping is gone or while Close runs.
	lastHead, lastGen atomic.Uint64
}

const (
	cbNone = iota
	cbRunning
	cbClosed
)

// endOp ends a writer operation begun with
//
//	fault := debug.SetPanicOnFault(true)
//	defer w.endOp("op", fault, &err)
//
// after acquire: a memory fault in the operation (the segment truncated
// under the mapping by another process) becomes an error wrapping
// ErrFault, other panics pass through; then it restores the goroutine's
// fault mode and releases the mapping. One deferred call, as the publish
// path is counted in nanoseconds.
func (r *ring) endOp(op string, fault bool, err *error) {
	p := recover()
	debug.SetPanicOnFault(fault)
	r.release()
	if p != nil {
		*err = r.faultError(op, p)
	}
}

// faultError returns the error for a recovered memory fault, or panics
// again with anything else.
func (r *ring) faultError(op string, p any) error {
	re, ok := p.(runtime.Error)
	if _, isFault := p.(interface{ Addr() uintptr }); !ok || !isFault {
		panic(p)
	}
	return pathError(op, r.name, fmt.Errorf("%w: %v", ErrFault, re))
}

func (r *ring) u64(off int) *uint64 { return (*uint64)(unsafe.Pointer(&r.ctl[off])) }
func (r *ring) u32(off int) *uint32 { return (*uint32)(unsafe.Pointer(&r.ctl[off])) }

func (r *ring) head() *uint64      { return r.u64(offHead) }
func (r *ring) futexWord() *uint32 { return r.u32(offHead) } // little-endian low half
func (r *ring) waiters() *uint32   { return r.u32(offWaiters) }

// waitBit returns the bitmap word and bit of the reader on lock byte b.
func (r *ring) waitBit(b int) (*uint32, uint32) {
	return r.u32(offWaiting + 4*(b/32)), 1 << (b % 32)
}

// anyWaiting reports whether a reader says it waits. Called after the
// sequentially consistent head store, so these loads follow it.
func (r *ring) anyWaiting() bool {
	if shmatomic.Load32(r.waiters()) != 0 {
		return true
	}
	for off := offWaiting; off < offWaiting+32; off += 8 {
		if shmatomic.Load64(r.u64(off)) != 0 {
			return true
		}
	}
	return false
}

// waiting counts the readers that say they wait.
func (r *ring) waiting() uint32 {
	n := shmatomic.Load32(r.waiters())
	for off := offWaiting; off < offWaiting+32; off += 8 {
		n += uint32(bits.OnesCount64(shmatomic.Load64(r.u64(off))))
	}
	return n
}
func (r *ring) seq(i uint64) *uint64 {
	return r.u64(ringHeaderSize + int(i)*ringSlotEntry)
}
func (r *ring) stamp(i uint64) *uint64 { // an int64 (nanoseconds)
	return r.u64(ringHeaderSize + int(i)*ringSlotEntry + 8)
}
func (r *ring) slot(i uint64) []byte {
	off := int(i) * r.frameBytes
	return r.mem[off : off+r.frameBytes : off+r.frameBytes]
}

// CreateRing makes a new ring named name of slots frames of frameShape and
// dtype, and returns its writer. The segment is published complete (see
// Create), so no reader ever opens a half-initialised ring. Options are
// those of Create: WithLayout (LayoutDual by default: SharedArray 3.1+ with
// NumPy 1 or 2; LayoutDualV30 for 3.0.0), WithPerm, Sparse, Prefault,
// SkipMemoryCheck.
func CreateRing(name string, slots int, frameShape []int, dtype Dtype, opts ...Option) (*RingWriter, error) {
	if err := ringSupported(); err != nil {
		return nil, pathError("create ring", name, err)
	}
	if slots < 1 || slots > ringMaxSlots {
		return nil, pathError("create ring", name, fmt.Errorf("%d slots, want 1..%d: %w", slots, ringMaxSlots, ErrInvalid))
	}
	if err := checkOptions(opts, "CreateRing", forCreate); err != nil {
		return nil, pathError("create ring", name, err)
	}
	o := makeOptions(opts)
	loc, err := parseName(name)
	if err != nil {
		return nil, pathError("create ring", name, err)
	}
	shape := append([]int{slots}, frameShape...)
	m, err := newMeta(shape, dtype, o.layout)
	if err != nil {
		return nil, pathError("create ring", name, err)
	}
	frameBytes := m.nbytes / int64(slots)
	if frameBytes == 0 {
		return nil, pathError("create ring", name, fmt.Errorf("frame shape %v holds no bytes: %w", frameShape, ErrInvalid))
	}
	ctlOff, ctlSize := ringGeometry(m.nbytes, slots)
	total := ctlOff + ctlSize + int64(m.layout.TrailerSize())
	if total > math.MaxInt {
		return nil, pathError("create ring", name, fmt.Errorf("%d bytes do not fit in memory: %w", total, ErrInvalid))
	}
	if !o.sparse && !o.skipMemCheck {
		if err := checkSpace(loc.dir(), total); err != nil {
			return nil, pathError("create ring", name, err)
		}
	}
	var made fileStat // which file was created: the writer must open that one
	o.initTail = func(fd int, mem []byte) error {
		initControlBlock(mem[ctlOff:ctlOff+ctlSize], uint64(slots), uint64(frameBytes), uint64(ctlSize))
		initProgressHeader(mem[ctlOff:ctlOff+ctlSize], slots)
		st, _, err := sysFstatTail(fd)
		made = st
		return err
	}
	a, err := create("create ring", name, loc, m, total, o, nil)
	if err != nil {
		return nil, err
	}
	a.Close()
	if ringCreateHook != nil {
		ringCreateHook(name)
	}
	return openRingWriter("create ring", name, &made)
}

// ringCreateHook, when set (tests), runs between CreateRing's creation of
// the file and the opening of its writer by name.
var ringCreateHook func(name string)

// initControlBlock writes a fresh control block into b (zeroed).
func initControlBlock(b []byte, slots, frameBytes, ctlSize uint64) {
	le := binary.LittleEndian
	copy(b[offMagic:], ringMagic)
	le.PutUint32(b[offVersion:], ringVersion)
	le.PutUint32(b[offHeaderSize:], ringHeaderSize)
	le.PutUint64(b[offSlots:], slots)
	le.PutUint64(b[offFrameBytes:], frameBytes)
	le.PutUint64(b[offCtlSize:], ctlSize)
	le.PutUint32(b[offMaxReaders:], ringMaxReaders)
}

// openRing opens, maps and validates a ring, read-write unless readOnly.
func openRing(op, name string, readOnly bool) (*ring, error) {
	if err := ringSupported(); err != nil {
		return nil, pathError(op, name, err)
	}
	loc, err := parseName(name)
	if err != nil {
		return nil, pathError(op, name, err)
	}
	flags, prot := syscall.O_RDWR, protRead|protWrite
	if readOnly {
		flags, prot = syscall.O_RDONLY, protRead
	}
	fd, m, st, err := openSegment(loc, name, flags)
	if err != nil {
		return nil, wrapOp(op, name, err)
	}
	if st.size > math.MaxInt {
		sysClose(fd)
		return nil, pathError(op, name, syscall.EFBIG)
	}
	mem, err := mapSegment(fd, int(st.size), prot)
	if err != nil {
		sysClose(fd)
		return nil, pathError(op, name, err)
	}
	var r *ring
	err = guarded(func() (err error) {
		r, err = checkRing(name, m, mem, st.size)
		return err
	})
	if errors.Is(err, ErrFault) {
		err = pathError(op, name, err)
	}
	if err != nil {
		unmapSegment(mem)
		sysClose(fd)
		return nil, err
	}
	r.fd = fd
	r.dev, r.ino = st.dev, st.ino
	return r, nil
}

// checkRing validates the control block of a segment described by m whose
// file (and mapping mem) is size bytes. The header is copied once and every
// field checked before anything is trusted.
func checkRing(name string, m meta, mem []byte, size int64) (*ring, error) {
	if len(m.shape) < 1 || m.shape[0] < 1 || m.shape[0] > ringMaxSlots {
		return nil, &FormatError{Name: name, Offset: -1, Field: "shape", Value: m.shape, Msg: "a ring's first dimension is its 1.." + fmt.Sprint(ringMaxSlots) + " slots: " + ErrNotRing.Error()}
	}
	slots := m.shape[0]
	ctlOff, _ := ringGeometry(m.nbytes, slots)
	trailerAt := size - int64(m.layout.TrailerSize())
	bad := func(off int, field string, v any, msg string) error {
		return &FormatError{Name: name, Offset: ctlOff + int64(off), Field: "ring " + field, Value: v, Msg: msg}
	}
	if ctlOff+ringHeaderSize > trailerAt {
		return nil, &notRingError{name: name, msg: "no room for a control block between the data and the trailer"}
	}
	// Only the fields no process writes after creation are copied (plain
	// loads); the moving words (generation, pid, head, waiters) are read
	// atomically (internal/shmatomic) where they are used.
	var hdr [offGeneration]byte
	copy(hdr[:], mem[ctlOff:])
	le := binary.LittleEndian
	if string(hdr[:8]) != ringMagic {
		return nil, &notRingError{name: name, msg: fmt.Sprintf("no %q magic at offset %d", ringMagic, ctlOff)}
	}
	version := le.Uint32(hdr[offVersion:])
	if version != 1 && version != ringVersion {
		return nil, bad(offVersion, "version", version, fmt.Sprintf("this package reads versions 1 and %d", ringVersion))
	}
	_, ctlSize := ringGeometryV(int(version), m.nbytes, slots)
	if err := checkProgressHeader(hdr[:], int(version), slots, bad); err != nil {
		return nil, err
	}
	if v := le.Uint32(hdr[offHeaderSize:]); v != ringHeaderSize {
		return nil, bad(offHeaderSize, "header size", v, fmt.Sprintf("must be %d", ringHeaderSize))
	}
	if v := le.Uint64(hdr[offSlots:]); v != uint64(slots) {
		return nil, bad(offSlots, "slots", v, fmt.Sprintf("the array's first dimension is %d", slots))
	}
	frameBytes := m.nbytes / int64(slots)
	if v := le.Uint64(hdr[offFrameBytes:]); v != uint64(frameBytes) || frameBytes == 0 {
		return nil, bad(offFrameBytes, "frame bytes", v, fmt.Sprintf("the array's frames are %d bytes", frameBytes))
	}
	if v := le.Uint64(hdr[offCtlSize:]); v != uint64(ctlSize) {
		return nil, bad(offCtlSize, "control size", v, fmt.Sprintf("%d slots need %d", slots, ctlSize))
	}
	if ctlOff+ctlSize > trailerAt {
		return nil, bad(offCtlSize, "control size", ctlSize, fmt.Sprintf("the control block runs into the trailer at %d", trailerAt))
	}
	if v := le.Uint32(hdr[offMaxReaders:]); v != ringMaxReaders {
		return nil, bad(offMaxReaders, "max readers", v, fmt.Sprintf("must be %d", ringMaxReaders))
	}
	if v := le.Uint32(hdr[offFlags:]); v != 0 {
		return nil, bad(offFlags, "flags", v, "no flags are defined")
	}
	// The head moves: loaded atomically from the mapping, not the copy.
	if v := shmatomic.Load64((*uint64)(unsafe.Pointer(&mem[ctlOff+offHead]))); v >= ringMaxSeq {
		return nil, bad(offHead, "head", v, "sequence out of range")
	}
	return &ring{
		name: name, fd: -1, mem: mem, ctl: mem[ctlOff : ctlOff+ctlSize : ctlOff+ctlSize], ctlOff: ctlOff,
		slots: uint64(slots), frameBytes: int(frameBytes), dtype: m.dtype, frameShape: m.shape[1:], layout: m.layout,
		version: int(version), progOff: progressOffset(int(version), slots),
	}, nil
}

// notRingError is a valid SharedArray without a ring in it.
type notRingError struct{ name, msg string }

func (e *notRingError) Error() string {
	return "sharedarray: " + e.name + ": not a frame ring: " + e.msg
}
func (e *notRingError) Is(target error) bool { return target == ErrNotRing }

// acquire holds the mapping for an operation, or says the ring is closed.
func (r *ring) acquire(op string) error {
	r.mu.RLock()
	if r.closed.Load() {
		r.mu.RUnlock()
		return pathError(op, r.name, ErrClosed)
	}
	return nil
}

func (r *ring) release() { r.mu.RUnlock() }

// close wakes this process's sleepers (which then see closed), waits for
// every operation in flight and unmaps.
func (r *ring) close(before func()) error {
	if r.closed.Swap(true) {
		return nil
	}
	// Nothing faults here: a futex call on an address the file no longer
	// backs returns EFAULT.
	futexWake(r.futexWord()) // waiters re-check and see closed
	if r.cb.CompareAndSwap(cbRunning, cbClosed) {
		return nil // called during a Read callback: that Read finishes it
	}
	return r.finishClose(before)
}

// finishClose waits for every operation in flight and unmaps.
func (r *ring) finishClose(before func()) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	guarded(func() error {
		r.lastHead.Store(shmatomic.Load64(r.head()))
		r.lastGen.Store(shmatomic.Load64(r.u64(offGeneration)))
		if before != nil {
			before()
		}
		return nil
	})
	// Slots and frames handed out (Next, Read callbacks) may outlive the
	// ring: its range becomes a quarantined reservation, as an Array's,
	// so a stale slice faults instead of reaching the next mapping.
	err := retire(r.mem)
	sysClose(r.fd)
	r.mem, r.ctl = nil, nil
	if err != nil {
		return pathError("close", r.name, err)
	}
	return nil
}

// RingGeometry describes what a ring's frames are: everything a reader or
// writer needs to size a buffer (FrameBytes) and read a frame as pixels or
// samples (FrameShape, Dtype). It never changes for the ring's lifetime.
// RingReader.Geometry, RingWriter.Geometry and StatRing (RingInfo) give it.
type RingGeometry struct {
	Name       string // the ring's name as passed
	Slots      int    // frames the ring holds
	FrameShape []int  // shape of one frame (the caller's copy)
	Dtype      Dtype  // element type
	FrameBytes int    // bytes of one frame: the product of FrameShape times Dtype.ItemSize
}

// geometry returns the ring's geometry, with its own copy of the shape.
// It reads no shared memory: it is safe during and after Close.
func (r *ring) geometry() RingGeometry {
	return RingGeometry{Name: r.name, Slots: int(r.slots), FrameShape: append([]int{}, r.frameShape...), Dtype: r.dtype, FrameBytes: r.frameBytes}
}

// loadShared reads the control word at off for an accessor, caching it in
// last. After Close, while Close runs, or when the mapping faults (the
// ring truncated by another process), it returns last: the value as this
// ring last read it. It never waits for Close (TryRLock: a Read callback
// calling an accessor while another goroutine closes must not deadlock).
func (r *ring) loadShared(off int, last *atomic.Uint64) uint64 {
	if !r.mu.TryRLock() {
		return last.Load()
	}
	defer r.mu.RUnlock()
	if r.ctl == nil {
		return last.Load()
	}
	var v uint64
	if guarded(func() error { v = shmatomic.Load64(r.u64(off)); return nil }) != nil {
		return last.Load()
	}
	last.Store(v)
	return v
}

// RingWriter is the single writer of a ring. It holds an OFD lock on the
// segment for its lifetime: the kernel releases it when the writer closes
// or its process dies, so a dead writer never blocks a successor, and a
// second live writer is refused with ErrBusy.
//
// A RingWriter is used by one goroutine at a time; Close may be called from
// any goroutine, and its accessors (Geometry, Seq) never panic and are
// safe during and after Close (they read no shared memory; Geometry
// returns the same value, Seq the sequence as the writer's last call left
// it). Seq changes with each Publish: from another goroutine
// than the one publishing, read it once Close has returned (Close waits
// for a Next, Publish or Write in progress), not while that goroutine may
// be inside a call. The slice Next returns is valid until Close, and after
// it faults as a stale Array.Bytes slice does (see Array: the ring's
// mapping is retired through the same quarantine). If another process
// truncates the ring, Next, Publish and Write return an error matching
// ErrFault; the program's own stores into the slice fault with SIGBUS, as
// into Array.Bytes.
type RingWriter struct {
	*ring
	next    uint64 // sequence of the frame being written or to write
	idx     uint64 // its slot: next % slots
	writing bool
	gen     uint64
	noTime  bool
}

// setPublishTime turns the publish timestamp (FrameInfo.Time) on or off;
// it is on by default. Reading the clock is most of the cost of a publish
// (see docs/ring.md); with it off, readers see Time 0. Unexported: no
// user scenario needs it, and WithPredict readers need the times.
func (w *RingWriter) setPublishTime(on bool) { w.noTime = !on }

// OpenRingWriter takes over the ring as its writer. It fails with an error
// matching ErrBusy while another writer (in any process) has it open (the
// message names the pid the writer recorded; if the ring was truncated
// meanwhile, the error matches ErrFault too), and with an error matching
// syscall.EAGAIN, not ErrBusy, when no writer lives but another process
// holds a read lock over the writer's lock byte (a whole-file read lock,
// which anyone with read access can take), naming that process when the
// kernel does. The
// new writer increments the ring's generation, records its pid and goes on
// from the head sequence: a frame a dead writer left half written (its
// slot marked in progress) was never published, and is written again.
func OpenRingWriter(name string) (*RingWriter, error) {
	return openRingWriter("open ring writer", name, nil)
}

// openRingWriter is OpenRingWriter; with want, only of that file (dev and
// inode): CreateRing opens the file it created by name, and another
// process may have renamed a different ring over the name meanwhile.
func openRingWriter(op, name string, want *fileStat) (*RingWriter, error) {
	r, err := openRing("open ring writer", name, false)
	if err != nil {
		return nil, err
	}
	if want != nil && (r.dev != want.dev || r.ino != want.ino) {
		r.unmapNow()
		return nil, pathError(op, name, fmt.Errorf("the name was replaced by another file between creating the ring and opening its writer (the other file is left alone): %w", syscall.ESTALE))
	}
	w := &RingWriter{ring: r}
	if err := w.lockByte(0); err != nil {
		if errors.Is(err, ErrBusy) {
			err = w.busyError()
		}
		w.unmapNow()
		return nil, pathError("open ring writer", name, err)
	}
	err = guarded(func() error {
		w.gen = shmatomic.Add64(w.u64(offGeneration), 1)
		shmatomic.Store32(w.u32(offWriterPid), uint32(int32(os.Getpid())))
		w.next = shmatomic.Load64(w.head())
		return nil
	})
	w.lastGen.Store(w.gen)
	w.lastHead.Store(w.next)
	if err != nil {
		w.unmapNow()
		return nil, pathError("open ring writer", name, err)
	}
	w.idx = w.next % w.slots
	return w, nil
}

// ringBusyHook, when set (tests), runs when OpenRingWriter found the
// writer lock taken, before it reads the writer pid from the mapping.
var ringBusyHook func(path string)

// busyError says why the writer lock byte could not be taken: a live
// writer (ErrBusy, with the pid it recorded, read under the fault guard as
// another process may have truncated the ring), or a read lock another
// process took on the file (not a writer: no ErrBusy).
func (w *RingWriter) busyError() error {
	if ringBusyHook != nil {
		ringBusyHook(w.name)
	}
	if !w.writeLocked(0) {
		if who := w.readLocker(0); who != "" {
			return fmt.Errorf("no live writer, but the writer lock byte (offset %d) is covered by %s: "+
				"a whole-file read lock, such as Python's fcntl.lockf(fd, LOCK_SH), keeps any writer out until it is released: %w",
				w.ctlOff, who, syscall.EAGAIN)
		}
		// The lock went away between the two calls: say busy, as it was.
	}
	var pid int32
	if err := guarded(func() error { pid = int32(shmatomic.Load32(w.u32(offWriterPid))); return nil }); err != nil {
		return fmt.Errorf("%w (pid unknown: %w)", ErrBusy, err)
	}
	return fmt.Errorf("%w (pid %d)", ErrBusy, pid)
}

func (r *ring) unmapNow() {
	unmapSegment(r.mem)
	sysClose(r.fd)
}

// Geometry describes the ring's frames. It reads no shared memory and
// returns the same value during and after Close.
func (w *RingWriter) Geometry() RingGeometry { return w.geometry() }

// Seq returns the sequence number of the next frame Publish publishes (the
// ring's first frame is 0).
func (w *RingWriter) Seq() uint64 { return w.next }

// Next starts the next frame and returns its slot, Geometry().FrameBytes long, to be
// filled in place and then published with Publish. The slot is marked in
// progress: readers never accept it until Publish. Next again before
// Publish returns the same slot. The writer never waits for readers.
func (w *RingWriter) Next() (slot []byte, err error) {
	if err := w.acquire("ring next"); err != nil {
		return nil, err
	}
	fault := debug.SetPanicOnFault(true)
	defer w.endOp("ring next", fault, &err)
	return w.start()
}

// start is Next with the mapping held.
func (w *RingWriter) start() ([]byte, error) {
	i := w.idx
	if !w.writing {
		if w.next >= ringMaxSeq-1 { // the head, w.next+1 after Publish, stays below 2^62
			return nil, pathError("ring next", w.name, fmt.Errorf("sequence %d exhausted: %w", w.next, ErrInvalid))
		}
		storeOrdered(w.seq(i), 2*w.next+1)
		seqFence() // the odd mark is visible before any data store
		w.writing = true
	}
	return w.slot(i), nil
}

// Publish makes the frame started by Next visible: it marks the slot
// complete, advances the head and, only when a reader is waiting, wakes the
// readers with one futex system call.
func (w *RingWriter) Publish() (err error) {
	if err := w.acquire("ring publish"); err != nil {
		return err
	}
	fault := debug.SetPanicOnFault(true)
	defer w.endOp("ring publish", fault, &err)
	if !w.writing {
		return pathError("ring publish", w.name, fmt.Errorf("Publish without Next: %w", ErrInvalid))
	}
	w.publish()
	return nil
}

func (w *RingWriter) publish() {
	i := w.idx
	var now int64
	if !w.noTime {
		now = nanotime()
	}
	shmatomic.Store64(w.stamp(i), uint64(now))
	storeOrdered(w.seq(i), 2*w.next+2) // after the data and the stamp
	w.next++
	if w.idx++; w.idx == w.slots {
		w.idx = 0
	}
	w.writing = false
	// Sequentially consistent: the waiter count below is read after the
	// new head is visible (a reader increments the count, then reads the
	// head: one of the two sees the other).
	shmatomic.Store64(w.head(), w.next)
	if w.anyWaiting() {
		futexWake(w.futexWord())
	}
}

// Write copies frame (Geometry().FrameBytes long) into the next slot and publishes it.
func (w *RingWriter) Write(frame []byte) (err error) {
	if len(frame) != w.frameBytes {
		return pathError("ring write", w.name, fmt.Errorf("frame is %d bytes, the ring's are %d: %w", len(frame), w.frameBytes, ErrInvalid))
	}
	if err := w.acquire("ring write"); err != nil {
		return err
	}
	fault := debug.SetPanicOnFault(true)
	defer w.endOp("ring write", fault, &err)
	slot, err := w.start()
	if err != nil {
		return err
	}
	copy(slot, frame)
	w.publish()
	return nil
}

// Close gives up the writer role (another process may then open the ring
// writer) and unmaps the ring. A frame started by Next and not published
// stays unpublished. Close does not delete the ring: Delete does.
func (w *RingWriter) Close() error {
	return w.close(func() {
		shmatomic.Store32(w.u32(offWriterPid), 0)
	})
}

// FrameAs returns frame bytes of dtype d (a writer's slot from Next, or
// the frame a Read callback is given) as a []T, with no copy; d is the
// ring's Geometry().Dtype (see View for which T matches which dtype).
func FrameAs[T any](d Dtype, frame []byte) ([]T, error) {
	t := reflect.TypeFor[T]()
	if !viewMatches(t, d) {
		return nil, fmt.Errorf("%w: FrameAs[%s] of a %s frame", ErrDtype, t, d.Name())
	}
	if len(frame) == 0 {
		return nil, nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(frame))), len(frame)/int(t.Size())), nil
}

// FrameInfo describes a frame a reader returned.
type FrameInfo struct {
	Seq uint64 // sequence number: 0 for the ring's first frame
	// Time is when the frame was published: CLOCK_MONOTONIC in
	// nanoseconds, the clock of unix.ClockGettime(unix.CLOCK_MONOTONIC, ...)
	// (golang.org/x/sys/unix) and Python's time.monotonic_ns(); 0 if the
	// writer did not stamp it.
	Time     int64
	Overruns uint64 // frames lost just before this one (lapped by the writer)
}

// RingReader reads a ring's frames. Any number of readers, in any
// processes, read one ring; none of them slows the writer down. A reader
// starts at the ring's head: Next returns the first frame published after
// OpenRingReader.
//
// A RingReader is used by one goroutine at a time; Close may be called from
// any goroutine and makes a waiting Next return ErrClosed. Its accessors
// never panic during or after Close: Geometry, Seq and Overruns read no
// shared memory (Geometry returns the same value after Close); Head
// returns the head as this reader last read it once it is closed. A frame
// a Read callback was given follows Array's rule for stale slices.
type RingReader struct {
	*ring
	pos      uint64 // next sequence to read
	overruns uint64
	regByte  int // the lock byte registering this reader, 0 if none
	// seenPos and seenOverruns are pos and overruns as the last call
	// left them: what Seq and Overruns return. Close called during a
	// Read callback returns at once, and the goroutine that closed may
	// read them while that Read still updates pos and overruns.
	seenPos, seenOverruns atomic.Uint64
	cfg                   readerConfig
	pred                  predictor // ring_wait.go
}

// OpenRingReader opens a ring for reading. The reader registers itself
// with an OFD lock on one of 255 bytes of the control block (the kernel
// drops it when the reader closes or dies, so a killed reader leaves
// nothing behind); RingInfo counts them. A 256th reader works but is not
// counted.
func OpenRingReader(name string, opts ...Option) (*RingReader, error) {
	o := makeOptions(opts)
	if err := checkOptions(opts, "OpenRingReader", forReader); err != nil {
		return nil, pathError("open ring reader", name, err)
	}
	cfg := o.reader
	r, err := openRingWaiting(name, &cfg) // ring_wait.go
	if err != nil {
		return nil, err
	}
	rd := &RingReader{ring: r, cfg: cfg}
	rd.cfg.waitCtx = nil // only for the open
	for b := 1; b <= ringMaxReaders; b++ {
		if rd.lockByte(b) == nil {
			rd.regByte = b
			break
		}
	}
	err = guarded(func() error {
		if rd.regByte != 0 {
			// A reader killed while it waited left its bit set.
			word, bit := rd.waitBit(rd.regByte)
			shmatomic.And32(word, ^bit)
		}
		rd.pos = shmatomic.Load64(rd.head())
		rd.lastHead.Store(rd.pos) // the head, also WithOldest
		if rd.cfg.oldest && rd.pos > rd.slots {
			rd.pos -= rd.slots
		} else if rd.cfg.oldest {
			rd.pos = 0
		}
		rd.lastGen.Store(shmatomic.Load64(rd.u64(offGeneration)))
		rd.startProgress() // ring_progress.go
		return nil
	})
	rd.seenPos.Store(rd.pos)
	if err != nil {
		rd.unmapNow()
		return nil, pathError("open ring reader", name, err)
	}
	return rd, nil
}

// Overruns returns how many frames this reader lost so far because the
// writer lapped it (or overwrote a frame while it was being read).
func (rd *RingReader) Overruns() uint64 { return rd.seenOverruns.Load() }

// Seq returns the sequence number Next returns next (if not lapped), as
// this reader's last call left it (Overruns likewise): a goroutine that
// closed the reader during a Read callback reads the value from before
// that Read until it returns.
func (rd *RingReader) Seq() uint64 { return rd.seenPos.Load() }

// Head returns the number of frames published so far. After Close (or
// while it runs, from any goroutine), or once the ring was truncated by
// another process, it returns the head as this reader last read it.
func (rd *RingReader) Head() uint64 { return rd.loadShared(offHead, &rd.lastHead) }

// Geometry describes the ring's frames. It reads no shared memory and
// returns the same value during and after Close.
func (rd *RingReader) Geometry() RingGeometry { return rd.geometry() }

// Close unmaps the ring and unregisters the reader. Called while a Read
// callback runs (from the callback itself or another goroutine), it returns
// at once, and that Read unmaps when the callback returns.
func (rd *RingReader) Close() error { return rd.close(nil) }

// Next copies the next frame in order into dst (Geometry().FrameBytes long) and
// returns its FrameInfo, waiting until it is published, ctx is done
// (ctx.Err() is returned) or the reader is closed. When the writer has
// lapped the reader, the frames lost are counted (FrameInfo.Overruns,
// Overruns) and the oldest frame still in the ring is returned. A frame
// overwritten during the copy is never returned: it counts as an overrun
// and the next one is read.
func (rd *RingReader) Next(ctx context.Context, dst []byte) (FrameInfo, error) {
	return rd.get(ctx, false, dst, nil)
}

// Latest copies the newest published frame into dst, skipping older ones
// (skipped frames are not overruns), and waits as Next does if no frame
// newer than the last one read exists.
func (rd *RingReader) Latest(ctx context.Context, dst []byte) (FrameInfo, error) {
	return rd.get(ctx, true, dst, nil)
}

// Read waits for the next frame in order, as Next, and calls fn with the
// frame in place, with no copy. fn must not keep the slice, nor trust what
// it read until Read returns: the writer never waits, so it may overwrite
// the frame while fn runs. Read then returns an error matching ErrOverrun
// (counted in Overruns), and whatever fn computed must be discarded. An
// error from fn is returned as it is. A memory fault in fn (the ring
// truncated by another process) is returned as an error matching ErrFault,
// as it is in every reader and writer method.
func (rd *RingReader) Read(ctx context.Context, fn func(info FrameInfo, frame []byte) error) (FrameInfo, error) {
	if fn == nil { // get would take it for a copy into a nil buffer
		return FrameInfo{}, pathError("ring read", rd.name, fmt.Errorf("fn is nil: Read needs a callback: %w", ErrInvalid))
	}
	return rd.get(ctx, false, nil, fn)
}

// get is Next, Latest and Read.
func (rd *RingReader) get(ctx context.Context, latest bool, dst []byte, fn func(FrameInfo, []byte) error) (_ FrameInfo, err error) {
	if fn == nil && len(dst) != rd.frameBytes {
		return FrameInfo{}, pathError("ring read", rd.name, fmt.Errorf("buffer is %d bytes, the ring's frames are %d: %w", len(dst), rd.frameBytes, ErrInvalid))
	}
	if err := rd.acquire("ring read"); err != nil {
		return FrameInfo{}, err
	}
	// A memory fault (the segment truncated by another process) becomes
	// an error wrapping ErrFault; one deferred call (see endOp).
	fault := debug.SetPanicOnFault(true)
	defer func() {
		p := recover()
		debug.SetPanicOnFault(fault)
		// Close called while fn ran (by fn itself, or another goroutine)
		// left the unmapping to this Read.
		closeAfter := fn != nil && rd.cb.Swap(cbNone) == cbClosed
		rd.seenPos.Store(rd.pos)
		rd.seenOverruns.Store(rd.overruns)
		rd.release()
		if closeAfter {
			if cerr := rd.finishClose(nil); err == nil {
				err = cerr
			}
		}
		if p != nil {
			err = rd.faultError("ring read", p)
		}
	}()
	var lost uint64
	for spins := 0; ; spins++ {
		if spins&63 == 63 {
			if err := rd.expired(ctx); err != nil {
				return FrameInfo{}, err
			}
		}
		h := shmatomic.Load64(rd.head())
		if h >= ringMaxSeq {
			return FrameInfo{}, rd.corrupt(offHead, "head", h, "sequence out of range")
		}
		s := rd.pos
		if s >= h {
			if s > h+rd.slots { // head moved backwards: a new ring under the same name?
				return FrameInfo{}, rd.corrupt(offHead, "head", h, fmt.Sprintf("behind this reader's position %d", s))
			}
			if err := rd.wait(ctx, s); err != nil {
				return FrameInfo{}, err
			}
			continue
		}
		var gap uint64 // lapped: counted once the slot checks out
		if latest {
			s = h - 1
		} else if h-s > rd.slots {
			gap = h - rd.slots - s
			s = h - rd.slots
		}
		i := s % rd.slots
		v1 := shmatomic.Load64(rd.seq(i))
		if v1 != 2*s+2 {
			if v1 <= 2*s+1 {
				// The head says frame s was published (the writer marks a
				// slot complete before it moves the head); its slot says
				// otherwise.
				return FrameInfo{}, rd.corrupt(ringHeaderSize+int(i)*ringSlotEntry, fmt.Sprintf("slots[%d].seq", i), v1, fmt.Sprintf("head %d says frame %d is published", h, s))
			}
			// The writer starts frame f (2f + 1) and completes it
			// (2f + 2) only while the head is f, so no slot is ever ahead
			// of 2 × head + 2 (head loaded after the slot).
			if h2 := shmatomic.Load64(rd.head()); v1 > 2*h2+2 {
				return FrameInfo{}, rd.corrupt(ringHeaderSize+int(i)*ringSlotEntry, fmt.Sprintf("slots[%d].seq", i), v1, fmt.Sprintf("ahead of head %d", h2))
			}
			// Overwritten (or being overwritten) since: lapped. Latest
			// skips it too (not an overrun) and waits for a newer frame
			// rather than spinning on a slot being rewritten.
			lost += gap
			rd.overruns += gap
			if !latest {
				lost++
				rd.overruns++
			}
			rd.pos = s + 1
			continue
		}
		lost += gap
		rd.overruns += gap
		info := FrameInfo{Seq: s, Time: int64(shmatomic.Load64(rd.stamp(i))), Overruns: lost}
		var fnErr error
		if fn != nil {
			rd.cb.Store(cbRunning)
			fnErr = fn(info, rd.slot(i))
		} else {
			copy(dst, rd.slot(i))
		}
		seqFence() // the data loads complete before the check
		if shmatomic.Load64(rd.seq(i)) != v1 {
			rd.pos = s + 1
			if fn != nil {
				rd.overruns++
				return info, pathError("ring read", rd.name, fmt.Errorf("frame %d: %w", s, ErrOverrun))
			}
			if !latest {
				rd.overruns++
				lost++
			}
			continue
		}
		rd.pos = s + 1
		rd.noteProgress() // ring_progress.go
		return info, fnErr
	}
}

func (rd *RingReader) corrupt(off int, field string, v any, msg string) error {
	return &FormatError{Name: rd.name, Offset: rd.ctlOff + int64(off), Field: "ring " + field, Value: v, Msg: msg}
}

// expired returns the error ending a wait, or nil.
func (rd *RingReader) expired(ctx context.Context) error {
	if rd.closed.Load() {
		return pathError("ring read", rd.name, ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return nil
}

// maxSleep bounds one futex wait, so a wake-up lost to a context
// cancellation racing the wait costs at most this long.
const maxSleep = 100 * time.Millisecond

// wait sleeps until the head passes s, or the wait ends. It returns nil
// when the caller should look again.
func (rd *RingReader) wait(ctx context.Context, s uint64) error {
	if err := rd.expired(ctx); err != nil {
		return err
	}
	ready, d, timed := rd.beforeSleep(ctx, s, maxSleep) // ring_wait.go
	if ready {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			// Wake this reader (and, harmlessly, the ring's other
			// sleepers), unless the ring is being closed.
			if rd.mu.TryRLock() {
				if !rd.closed.Load() {
					futexWake(rd.futexWord())
				}
				rd.mu.RUnlock()
			}
		})
		defer stop()
	}
	if d <= 0 {
		return rd.expired(ctx)
	}
	if rd.regByte != 0 {
		word, bit := rd.waitBit(rd.regByte)
		shmatomic.Or32(word, bit)
		defer shmatomic.And32(word, ^bit)
	} else {
		shmatomic.Add32(rd.waiters(), 1)
		defer shmatomic.Add32(rd.waiters(), ^uint32(0))
	}
	w := shmatomic.Load32(rd.futexWord())
	if shmatomic.Load64(rd.head()) > s || rd.closed.Load() {
		return nil
	}
	if timed {
		target := nanotime() + int64(d)
		futexWait(rd.futexWord(), w, d)
		rd.afterTimedSleep(target)
		return nil
	}
	futexWait(rd.futexWord(), w, d)
	return nil
}

// RingInfo describes a ring, as StatRing returns it.
type RingInfo struct {
	RingGeometry        // Name as passed to StatRing
	Version      int    // control block version: 2, or 1 (no reader progress)
	Head         uint64 // frames published so far
	Generation   uint64 // writers the ring has had
	WriterPID    int    // pid of the live writer, 0 if none
	WriterAlive  bool   // a writer holds the ring's writer lock
	Readers      int    // readers registered (holding a reader lock)
	Waiters      uint32 // readers that say they wait (waiting bits and count)
	// ReaderList describes each registered reader (version 2 rings;
	// nil for version 1): what the reader itself last wrote (ring_progress.go).
	ReaderList []RingReaderInfo
}

// StatRing describes the named ring: its geometry and its live state. It
// opens the segment read-only and fails with an error matching ErrNotRing
// for an array that is not a ring. It makes a bounded number of system
// calls (one lock probe per reader byte: 256), whatever locks other
// processes hold, and its counts are exact: a read lock (which anyone with
// read access can take) is never counted as a writer or a reader.
func StatRing(name string) (RingInfo, error) {
	r, err := openRing("stat ring", name, true)
	if err != nil {
		return RingInfo{}, err
	}
	defer r.unmapNow()
	var info RingInfo
	err = guarded(func() error {
		info = RingInfo{
			RingGeometry: r.geometry(),
			Version:      r.version,
			Head:         shmatomic.Load64(r.head()),
			Generation:   shmatomic.Load64(r.u64(offGeneration)),
			WriterPID:    int(int32(shmatomic.Load32(r.u32(offWriterPid)))),
			Waiters:      r.waiting(),
		}
		return nil
	})
	if err != nil {
		return RingInfo{}, pathError("stat ring", name, err)
	}
	info.WriterAlive = r.writeLocked(0)
	if !info.WriterAlive {
		info.WriterPID = 0
	}
	held := r.lockedReaderBytes() // each byte probed once, write locks only
	info.Readers = len(held)
	if r.version >= 2 {
		info.ReaderList, err = r.readerList(info.Head, held)
		if err != nil {
			return RingInfo{}, pathError("stat ring", name, err)
		}
	}
	return info, nil
}
