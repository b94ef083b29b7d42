"""Frame rings over SharedArray segments: one writer, many readers, no copies.

A ring is one SharedArray segment of shape (N, *frame): SharedArray.attach
returns its N slots as an ordinary array, and SharedArray.delete removes it.
A control block between the data and SharedArray's trailer (which
SharedArray ignores) holds the head sequence, a sequence number per slot
(a seqlock) and a futex word readers sleep on. The protocol is described
byte by byte in docs/ring.md of the sharedarray Go module, which writes and
reads the same rings.

    import numpy as np, sharedarray_ring as sr

    w = sr.create("shm://cam0", slots=8, frame_shape=(480, 640), dtype=np.uint8)
    slot = w.next()          # the slot, in place
    slot[:] = 7
    w.publish()

    r = sr.open_reader("shm://cam0")
    frame = r.next(timeout=1.0)       # a copy, never torn
    frame.seq, frame.overruns, frame.time_ns

Memory ordering: the module relies on x86-64's TSO and refuses to run on
other architectures (RingError), where plain NumPy loads and stores are not
ordered and pure Python has no fence. See docs/ring.md.
"""

import ctypes
import errno as _errno
import fcntl
import numbers
import operator
import os
import platform
import struct
import threading
import time

import numpy as np
import SharedArray as _sa

from ._wait import Waiter as _Waiter

# The C hot paths (_fast.c, built at install when a compiler is there);
# SHAREDARRAY_RING_PURE=1 forces the pure-Python (ctypes) paths.
if os.environ.get("SHAREDARRAY_RING_PURE"):
    _fast = None
else:
    try:
        from . import _fast
    except ImportError:
        _fast = None

#: True when the C extension is in use (publish, next, wait in C).
accelerated = _fast is not None

__all__ = [
    "RingError", "BusyError", "OverrunError", "Frame",
    "create", "open_writer", "open_reader", "stat", "Writer", "Reader",
]

MAGIC = b"[SARing]"
VERSION = 2  # written by create; version 1 rings are still read
PROG_ENTRY = 32  # version 2: bytes per reader progress entry (docs/ring.md §2)
PROG_ENTRIES = 256  # entry b for reader lock byte b; entry 0 unused
LANG_GO, LANG_PYTHON = 1, 2
HEADER_SIZE = 256
SLOT_ENTRY = 16
ALIGN = 4096
MAX_READERS = 255
MAX_SEQ = 1 << 62
MAX_SLOTS = 1 << 24  # as the Go package
MIN_TRAILER = 288
MAX_TRAILER = 548

OFF_MAGIC = 0
OFF_VERSION = 8
OFF_HEADER_SIZE = 12
OFF_SLOTS = 16
OFF_FRAME_BYTES = 24
OFF_CTL_SIZE = 32
OFF_MAX_READERS = 40
OFF_FLAGS = 44
OFF_GENERATION = 64
OFF_WRITER_PID = 72
OFF_HEAD = 128
OFF_WAITERS = 192
OFF_WAITING = 224

SYS_FUTEX = {"x86_64": 202, "amd64": 202, "aarch64": 98, "arm64": 98}
FUTEX_WAIT = 0
FUTEX_WAKE = 1
FUTEX_WAKE_OP = 5
FUTEX_OP_ADD = 1
# FUTEX_OP(ADD, +1, EQ, 0) and FUTEX_OP(ADD, -1, EQ, 0): the kernel adds
# atomically; the comparison only decides a wake-up of nobody.
_OP_INC = (FUTEX_OP_ADD << 28) | (1 << 12)
_OP_DEC = (FUTEX_OP_ADD << 28) | (0xFFF << 12)
# FUTEX_OP(OR | OPARG_SHIFT, bit, EQ, 0) and FUTEX_OP(ANDN | OPARG_SHIFT, bit, ...):
# set and clear bit `bit` (0..31) of a u32, atomically.
FUTEX_OP_OR = 2
FUTEX_OP_ANDN = 3
FUTEX_OP_OPARG_SHIFT = 8


def _op_set(bit):
    return ((FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT) << 28) | (bit << 12)


def _op_clear(bit):
    return ((FUTEX_OP_ANDN | FUTEX_OP_OPARG_SHIFT) << 28) | (bit << 12)

F_OFD_GETLK = getattr(fcntl, "F_OFD_GETLK", 36)
F_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", 37)
_FLOCK = "hhqqi4x"  # struct flock on Linux x86-64 / arm64

MAX_SLEEP = 0.1  # one futex wait at most, in seconds
MAX_SLEEP_NS = 100_000_000


class RingError(OSError):
    """A ring that cannot be used: not a ring, corrupt, or unsupported here."""


class BusyError(RingError):
    """The ring already has a live writer."""


class OverrunError(RingError):
    """The writer overwrote the frame while a read callback looked at it."""


class Frame(np.ndarray):
    """A copied frame: an ndarray with .seq, .time_ns and .overruns.

    seq: the frame's sequence number (the ring's first frame is 0).
    time_ns: when the writer published it, CLOCK_MONOTONIC nanoseconds:
    the clock of time.monotonic_ns() (the Go writer's FrameInfo.Time).
    overruns: frames lost just before this one (the writer lapped the reader).
    """

    seq = 0
    time_ns = 0
    overruns = 0


def _supported():
    m = platform.machine().lower()
    if m not in ("x86_64", "amd64"):
        raise RingError(
            _errno.ENOTSUP,
            "sharedarray_ring needs x86-64 (TSO) memory ordering; on %s plain NumPy loads "
            "and stores may be reordered and pure Python has no fence, so a torn frame "
            "could be accepted. Use the Go package on this machine." % m)


def _path(name):
    if "://" in name:
        scheme, rest = name.split("://", 1)
    else:
        scheme, rest = "shm", name
    if scheme == "shm":
        return "/dev/shm/" + rest.lstrip("/")
    if scheme == "file":
        return rest
    raise RingError(_errno.EINVAL, "unknown scheme %r (want shm:// or file://)" % scheme)


def _prog_off(slots):
    """Version 2: where the reader progress table starts in the control block."""
    return (HEADER_SIZE + slots * SLOT_ENTRY + 63) // 64 * 64


def _geometry(data_bytes, slots, version=VERSION):
    ctl_off = (data_bytes + ALIGN - 1) // ALIGN * ALIGN
    ctl_size = _prog_off(slots)
    if version >= 2:
        ctl_size += PROG_ENTRIES * PROG_ENTRY
    return ctl_off, ctl_size


class _Futex:
    """FUTEX_WAIT/WAKE (shared) through libc's syscall(), or polling."""

    def __init__(self):
        self.nr = SYS_FUTEX.get(platform.machine().lower())
        self.libc = None
        if self.nr is None or os.environ.get("SHAREDARRAY_RING_POLL"):
            return
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fn = libc.syscall
        except (OSError, AttributeError):
            return
        fn.restype = ctypes.c_long
        fn.argtypes = [ctypes.c_long, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                       ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        probe = ctypes.c_uint32(0)
        if fn(self.nr, ctypes.addressof(probe), FUTEX_WAKE, 1, None, None, 0) < 0:
            return  # ENOSYS (seccomp, gVisor...): poll instead
        self.libc = fn

    @property
    def available(self):
        return self.libc is not None

    def wait(self, addr, val, seconds):
        ts = (ctypes.c_long * 2)(int(seconds), int((seconds % 1) * 1e9))
        if val >= 1 << 31:
            val -= 1 << 32  # the u32 word as the C int the call takes
        self.libc(self.nr, addr, FUTEX_WAIT, val, ctypes.addressof(ts), None, 0)

    def wake(self, addr):
        self.libc(self.nr, addr, FUTEX_WAKE, 0x7FFFFFFF, None, None, 0)

    def add(self, addr, op):
        """Atomic op (add, or, andn) on the u32 at addr (FUTEX_WAKE_OP, waking nobody)."""
        self.libc(self.nr, addr, FUTEX_WAKE_OP, 0, None, addr, op)


_futex = None


def _get_futex():
    global _futex
    if _futex is None:
        _futex = _Futex()
    return _futex


# A full memory barrier on x86-64: acquiring and releasing a lock executes
# a LOCK-prefixed instruction, which no load or store crosses.
_fence_lock = threading.Lock()


def _fence():
    _fence_lock.acquire()
    _fence_lock.release()


def _mapped_file(addr):
    """(major, minor, inode) of the file mapped at addr in this process, from /proc/self/maps."""
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            if lo <= addr < hi:
                major, minor = (int(x, 16) for x in fields[3].split(":"))
                return major, minor, int(fields[4])
    return None


def _same_file(fd, arr):
    """Whether arr (attached by name) maps the file fd has open (opened by name too)."""
    st = os.fstat(fd)
    return _mapped_file(arr.ctypes.data) == (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)


def _seconds(timeout):
    """timeout as a float number of seconds; NaN (no deadline would ever
    pass) and non-numbers are refused, naming the argument."""
    if not isinstance(timeout, numbers.Real):
        raise TypeError("timeout must be a number of seconds or None, not %r" % (timeout,))
    t = float(timeout)
    if t != t:
        raise ValueError("timeout must be a number of seconds or None, not NaN")
    return t


# A timeout or spin longer than this (about 146 years; inf included) is
# no limit: nanoseconds past it would overflow a C integer.
_FOREVER = 2.0 ** 62 / 1e9


def _deadline_ns(timeout):
    """The monotonic_ns() deadline of a timeout, None for no limit."""
    if timeout is None:
        return None
    t = _seconds(timeout)
    if t >= _FOREVER:
        return None
    return time.monotonic_ns() + int(t * 1e9)


class _Ring:
    _fd = -1
    _last_head = 0
    _last_generation = 0

    def __init__(self, name, _expect=None):
        _supported()
        self.name = name
        path = _path(name)
        self._fd = os.open(path, os.O_RDWR)
        try:
            if _expect is not None:
                st = os.fstat(self._fd)
                if (st.st_dev, st.st_ino) != _expect:
                    # create() made another file: this one replaced it.
                    raise RingError(_errno.EAGAIN, "%s: the file was replaced while the ring was created; it is left alone" % name)
            self._attach(name)
        except BaseException:
            os.close(self._fd)
            raise

    def _attach(self, name):
        size = os.fstat(self._fd).st_size
        arr = _sa.attach(name)
        base = arr.base
        mapped = getattr(base, "size", None)
        if (mapped is not None and mapped != size) or not _same_file(self._fd, arr):
            # Renamed, replaced or resized between our open and
            # SharedArray's: the locks would guard another file.
            raise RingError(_errno.EAGAIN, "%s: the file changed while it was opened" % name)
        if arr.ndim < 1 or not 1 <= arr.shape[0] <= MAX_SLOTS:
            raise RingError(_errno.EINVAL, "%s: not a frame ring: shape %s: a ring's first dimension is its 1..%d slots" % (name, arr.shape, MAX_SLOTS))
        slots = arr.shape[0]
        ctl_off, _ = _geometry(arr.nbytes, slots)
        if ctl_off + HEADER_SIZE > size - MIN_TRAILER:
            raise RingError(_errno.EINVAL, "%s: not a frame ring: no room for a control block" % name)
        addr = arr.ctypes.data
        hdr = ctypes.string_at(addr + ctl_off, HEADER_SIZE)
        if hdr[:8] != MAGIC:
            raise RingError(_errno.EINVAL, "%s: not a frame ring: no %r magic at offset %d" % (name, MAGIC, ctl_off))
        version, hsize, nslots, frame_bytes, csize, maxr, flags = struct.unpack_from("<IIQQQII", hdr, 8)

        def bad(field, value, msg):
            return RingError(_errno.EINVAL, "%s: ring %s = %r: %s" % (name, field, value, msg))
        if version not in (1, VERSION):
            raise bad("version", version, "this module reads versions 1 and %d" % VERSION)
        _, ctl_size = _geometry(arr.nbytes, slots, version)
        prog_off, prog_size = struct.unpack_from("<II", hdr, 48)
        if version >= 2:
            if prog_off != _prog_off(slots):
                raise bad("progress table offset", prog_off, "%d slots put it at %d" % (slots, _prog_off(slots)))
            if prog_size != PROG_ENTRY:
                raise bad("progress entry size", prog_size, "must be %d" % PROG_ENTRY)
        if hsize != HEADER_SIZE:
            raise bad("header size", hsize, "must be %d" % HEADER_SIZE)
        if nslots != slots:
            raise bad("slots", nslots, "the array's first dimension is %d" % slots)
        fb = arr.nbytes // slots
        if frame_bytes != fb or fb == 0:
            raise bad("frame bytes", frame_bytes, "the array's frames are %d bytes" % fb)
        if csize != ctl_size or ctl_off + ctl_size > size - MIN_TRAILER:
            raise bad("control size", csize, "%d slots need %d, before the trailer" % (slots, ctl_size))
        if maxr != MAX_READERS:
            raise bad("max readers", maxr, "must be %d" % MAX_READERS)
        if flags != 0:
            raise bad("flags", flags, "no flags are defined")
        self.array = arr
        self.slots = slots
        self.frame_shape = arr.shape[1:]
        self.dtype = arr.dtype
        self.frame_bytes = fb
        self._ctl_off = ctl_off
        self.version = version
        self._prog = addr + ctl_off + _prog_off(slots) if version >= 2 else 0
        self._data = addr
        self._ctl = addr + ctl_off
        self._head = ctypes.c_uint64.from_address(self._ctl + OFF_HEAD)
        self._head_addr = self._ctl + OFF_HEAD
        self._waiters = ctypes.c_uint32.from_address(self._ctl + OFF_WAITERS)
        self._waiters_addr = self._ctl + OFF_WAITERS
        self._waiting = (ctypes.c_uint64 * 4).from_address(self._ctl + OFF_WAITING)
        self._generation = ctypes.c_uint64.from_address(self._ctl + OFF_GENERATION)
        self._pid = ctypes.c_int32.from_address(self._ctl + OFF_WRITER_PID)
        table = self._ctl + HEADER_SIZE
        self._table = table  # slot entries are made on use (_seq, _stamp), not N objects up front
        self._futex = _get_futex()
        if self.head >= MAX_SEQ:
            raise bad("head", self.head, "sequence out of range")

    def _age(self, s, now):
        """How long ago frame s was published, if its slot still holds it, else 0."""
        i = s % self.slots
        v = self._seq(i).value
        t = self._stamp(i).value
        if v != 2 * s + 2 or self._seq(i).value != v or t <= 0 or t > now:
            return 0
        return now - t

    def _seq(self, i):
        """slots[i].seq, in the mapping."""
        return ctypes.c_uint64.from_address(self._table + i * SLOT_ENTRY)

    def _stamp(self, i):
        """slots[i].time, in the mapping."""
        return ctypes.c_int64.from_address(self._table + i * SLOT_ENTRY + 8)

    @property
    def head(self):
        """Frames published so far (after close: as last read)."""
        if self._head is not None:
            self._last_head = self._head.value
        return self._last_head

    @property
    def generation(self):
        """How many writers the ring has had (after close: as last read)."""
        if self._generation is not None:
            self._last_generation = self._generation.value
        return self._last_generation

    def _lock(self, byte):
        """Take an OFD write lock on one control-block byte, without waiting."""
        lk = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, self._ctl_off + byte, 1, 0)
        try:
            fcntl.fcntl(self._fd, F_OFD_SETLK, lk)
            return True
        except OSError as e:
            if e.errno in (_errno.EAGAIN, _errno.EACCES):
                return False
            raise

    def _write_locked(self, byte):
        """Whether another open file description write-locks control byte `byte`.

        Probes one byte with a read lock, which only write locks conflict
        with: writers and readers register with write locks, so a read lock
        anyone with read access can take (fcntl.lockf(fd, LOCK_SH) locks the
        whole file) is not counted, and F_OFD_GETLK's choice among several
        conflicting locks (the oldest, not the lowest) does not matter.
        """
        lk = struct.pack(_FLOCK, fcntl.F_RDLCK, os.SEEK_SET, self._ctl_off + byte, 1, 0)
        got = struct.unpack(_FLOCK, fcntl.fcntl(self._fd, F_OFD_GETLK, lk))
        return got[0] == fcntl.F_WRLCK

    def _read_locker(self, byte):
        """Who holds a read lock keeping control byte `byte` from a write lock, or None."""
        lk = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, self._ctl_off + byte, 1, 0)
        got = struct.unpack(_FLOCK, fcntl.fcntl(self._fd, F_OFD_GETLK, lk))
        if got[0] != fcntl.F_RDLCK:
            return None
        length = "%d bytes" % got[3] if got[3] > 0 else "to the end of the file"
        who = "process %d" % got[4] if got[4] > 0 else "an open file description of another process"
        return "a read lock from offset %d, %s, held by %s" % (got[2], length, who)

    def _held_readers(self):
        """Registered readers' lock bytes: reader bytes 1..255 write-locked, probed one by one (bounded, exact)."""
        return [b for b in range(1, MAX_READERS + 1) if self._write_locked(b)]

    def _check_open(self):
        if self._fd < 0:
            raise RingError(_errno.EBADF, "%s: ring is closed" % self.name)

    def close(self):
        """Unmap (when the last view goes) and release this process's locks."""
        if self._fd >= 0:
            self.head, self.generation  # kept for the accessors after close
            if self._futex.available:
                self._futex.wake(self._head_addr)
            os.close(self._fd)
            self._fd = -1
            self._table = None
            self._head = self._waiters = self._generation = self._pid = self._waiting = None
            self.array = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Writer(_Ring):
    """The single writer of a ring (open_writer, create)."""

    def __init__(self, name, _expect=None):
        super().__init__(name, _expect)
        if not self._lock(0):
            who = None if self._write_locked(0) else self._read_locker(0)
            pid = self._pid.value
            self.close()
            if who is not None:
                raise RingError(
                    _errno.EAGAIN,
                    "%s: no live writer, but the writer lock byte (offset %d) is covered by %s: a whole-file "
                    "read lock, such as fcntl.lockf(fd, LOCK_SH), keeps any writer out until it is released"
                    % (name, self._ctl_off, who))
            raise BusyError(_errno.EBUSY, "%s: ring has a live writer (pid %d)" % (name, pid))
        # The generation is only written by a writer holding the lock.
        self._generation.value = self._generation.value + 1
        self._pid.value = os.getpid()
        self.seq = self.head
        self._writing = False

    def next(self):
        """Start the next frame; return its slot (a view) to fill in place."""
        self._check_open()
        i = self.seq % self.slots
        if not self._writing:
            if self.seq >= MAX_SEQ - 1:  # the head, seq + 1 after publish, stays below 2^62
                raise RingError(_errno.EOVERFLOW, "sequence exhausted")
            if _fast is not None:
                _fast.start(self._ctl, i, self.seq)
            else:
                self._seq(i).value = 2 * self.seq + 1
            self._writing = True
        return self.array[i, ...]  # a view, also of a 0-d frame (array[i] would be a scalar copy)

    def publish(self):
        """Mark the frame complete, advance the head, wake waiting readers."""
        self._check_open()
        if not self._writing:
            raise RingError(_errno.EINVAL, "publish without next")
        i = self.seq % self.slots
        if _fast is not None:
            _fast.publish(self._ctl, i, self.seq)
            self.seq += 1
            self._writing = False
            return
        self._stamp(i).value = time.monotonic_ns()
        self._seq(i).value = 2 * self.seq + 2
        self.seq += 1
        self._writing = False
        self._head.value = self.seq
        _fence()  # the head store is visible before the waiter count is read
        if self._futex.available and (self._waiters.value != 0 or any(self._waiting)):
            self._futex.wake(self._head_addr)

    def write(self, frame):
        """Copy frame into the next slot and publish it.

        frame must have the ring's dtype (casting "no") and a shape that
        broadcasts to frame_shape; otherwise TypeError or ValueError is
        raised before the slot is touched, and the ring is left as it was.
        """
        self._check_open()
        src = np.asanyarray(frame)
        if not np.can_cast(src.dtype, self.dtype, casting="no"):
            raise TypeError("%s: frame dtype %s, the ring's is %s" % (self.name, src.dtype, self.dtype))
        np.broadcast_to(src, self.frame_shape)  # ValueError if the shapes do not fit
        slot = self.next()
        np.copyto(slot, src, casting="no")
        self.publish()

    def close(self):
        if self._fd >= 0 and self._pid is not None and getattr(self, "seq", None) is not None:
            self._pid.value = 0
        super().close()


class Reader(_Ring):
    """A reader of a ring; starts with the first frame published after it
    opened, or with the oldest frame still in the ring (oldest=True).

    spin: seconds to poll the head before sleeping, once per frame waited
    for (default 0: sleep at once; see docs/ring.md §3.5).
    predict: learn a periodic writer's frame period, sleep until just before
    the next frame is due, then poll (low latency at a small share of a core).

    Iterating (``for frame in reader``) yields next() frames until the
    reader is closed; ``with`` closes it.
    """

    def __init__(self, name, spin=0.0, predict=False, oldest=False):
        waiter = _Waiter(spin, predict)  # checks the arguments first
        # Calls in flight (next, latest, read: they touch the mapping, the
        # C ones with the GIL released) and whether close is waiting for
        # them: close unmaps and frees the lock byte only once none runs,
        # so no call writes a progress entry (or a waiting bit) that may
        # already be another reader's, nor reads unmapped memory.
        self._calls = threading.Condition()
        self._inflight = {}  # thread id -> calls it is in
        self._closing = False
        self._close_deferred = False
        super().__init__(name)
        self._waiter = waiter
        self.registered = 0
        for b in range(1, MAX_READERS + 1):
            if self._lock(b):
                self.registered = b
                break
        fx = self._futex
        if self.registered:
            # This reader's waiting bit: word and bit in the bitmap.
            self._wait_word = self._ctl + OFF_WAITING + 4 * (self.registered // 32)
            self._wait_bit = self.registered % 32
            if fx.available:  # a reader killed while it waited left it set
                fx.add(self._wait_word, _op_clear(self._wait_bit))
        self.pos = self.head
        if oldest:
            self.pos = max(self.pos - self.slots, 0)
        self.overruns = 0
        self._entry = 0
        if self._prog and self.registered:
            # Version 2: this reader's progress entry (written only by it).
            e = self._entry = self._prog + PROG_ENTRY * self.registered
            ctypes.c_int32.from_address(e + 24).value = os.getpid()
            ctypes.c_uint32.from_address(e + 28).value = LANG_PYTHON
            ctypes.c_uint64.from_address(e + 8).value = 0
            ctypes.c_uint64.from_address(e + 16).value = 0
            self._e_pos = ctypes.c_uint64.from_address(e)
            self._e_over = ctypes.c_uint64.from_address(e + 8)
            self._e_last = ctypes.c_uint64.from_address(e + 16)
            self._e_pos.value = self.pos

    def __iter__(self):
        while self._fd >= 0 and not self._closing:
            try:
                yield self.next()
            except RingError as e:
                if e.errno == _errno.EBADF and (self._closing or self._fd < 0):
                    return  # closed meanwhile
                raise

    def _check_open(self):
        if self._closing or self._fd < 0:
            raise RingError(_errno.EBADF, "%s: ring is closed" % self.name)

    def close(self):
        """Release the lock byte and unmap, once no next/latest/read of
        this reader runs: one running in another thread is woken and
        raises RingError (EBADF); called from a read callback, the close
        happens when that read returns."""
        calls = getattr(self, "_calls", None)
        if calls is None:  # __init__ failed before the state was made
            return super().close()
        me = threading.get_ident()
        with calls:
            if self._fd < 0:
                return
            self._closing = True
            if self._inflight.get(me):
                self._close_deferred = True  # from a callback: the read closes
                return
            while self._inflight:
                if self._futex.available:
                    self._futex.wake(self._head_addr)  # a sleeping call returns
                calls.wait(0.001)
            super().close()

    def _enter(self):
        me = threading.get_ident()
        with self._calls:
            self._check_open()
            self._inflight[me] = self._inflight.get(me, 0) + 1

    def _leave(self):
        me = threading.get_ident()
        with self._calls:
            n = self._inflight.pop(me) - 1
            if n:
                self._inflight[me] = n
            finish = self._close_deferred and not self._inflight
            self._calls.notify_all()
            if finish:
                super().close()

    def next(self, timeout=None, out=None):
        """The next frame in order, copied (a Frame), or TimeoutError."""
        return self._get(timeout, False, out, None)

    def latest(self, timeout=None, out=None):
        """The newest frame, skipping older ones (not counted as overruns)."""
        return self._get(timeout, True, out, None)

    def read(self, fn, timeout=None):
        """Call fn(slot_view, seq) on the next frame in place; return its result.

        Raises OverrunError (counted in .overruns) when the writer overwrote
        the frame while fn ran: fn's result must then be discarded.
        """
        if not callable(fn):  # before a frame is taken: a typo loses none
            raise TypeError("fn must be callable as fn(slot_view, seq), not %r" % (fn,))
        return self._get(timeout, False, None, fn)

    def _get(self, timeout, latest, out, fn):
        self._enter()
        try:
            return self._get_open(timeout, latest, out, fn)
        finally:
            self._leave()

    def _get_open(self, timeout, latest, out, fn):
        deadline = _deadline_ns(timeout)
        if out is not None:
            # Checked before any frame is taken: a wrong out loses nothing.
            if not isinstance(out, np.ndarray):
                raise TypeError("out must be a numpy.ndarray, not %s" % type(out).__name__)
            if out.dtype != self.dtype or out.shape != self.frame_shape:
                raise TypeError("out must have the ring's dtype %s and frame shape %s, not %s %s" % (self.dtype, self.frame_shape, out.dtype, out.shape))
            if not out.flags.writeable:
                raise ValueError("out is read-only")
        if _fast is not None and fn is None and (out is None or out.flags.c_contiguous):
            return self._get_fast(deadline, latest, out)
        lost = 0
        slots = self.slots
        spins = 0
        while True:
            self._check_open()  # closed from another thread (or the callback)
            spins += 1
            if spins % 64 == 0 and deadline is not None and time.monotonic_ns() >= deadline:
                # A writer (or a hostile process) rewriting slots faster
                # than they are read never keeps a bounded call past its timeout.
                raise TimeoutError(_errno.ETIMEDOUT, "%s: no complete frame before the timeout" % self.name)
            h = self._head.value
            if h >= MAX_SEQ:
                raise RingError(_errno.EINVAL, "%s: ring head = %d: sequence out of range" % (self.name, h))
            s = self.pos
            if s >= h:
                if s > h + slots:
                    raise RingError(_errno.EINVAL, "%s: ring head = %d: behind this reader's position %d" % (self.name, h, s))
                self._wait(s, deadline)
                continue
            gap = 0
            if latest:
                s = h - 1
            elif h - s > slots:
                gap = h - slots - s  # lapped: counted once the slot checks out
                s = h - slots
            i = s % slots
            seq = self._seq(i)  # kept: a callback may close the reader
            v1 = seq.value
            if v1 != 2 * s + 2:
                if v1 <= 2 * s + 1:
                    raise RingError(_errno.EINVAL, "%s: ring slots[%d].seq = %d: head %d says frame %d is published" % (self.name, i, v1, h, s))
                # The writer starts (2f + 1) and completes (2f + 2) frame f
                # only while the head is f: no slot is ahead of
                # 2 * head + 2 (head read after).
                h2 = self._head.value
                if v1 > 2 * h2 + 2:
                    raise RingError(_errno.EINVAL, "%s: ring slots[%d].seq = %d: ahead of head %d" % (self.name, i, v1, h2))
                # Overwritten since. latest skips it too (not an overrun)
                # and waits for a newer frame instead of spinning.
                lost += gap
                self.overruns += gap
                if not latest:
                    lost += 1
                    self.overruns += 1
                self.pos = s + 1
                continue
            lost += gap
            self.overruns += gap
            stamp = self._stamp(i).value
            slot = self.array[i, ...]  # a view (also of a 0-d frame); holds the mapping until the check below
            if fn is not None:
                try:
                    result = fn(slot, s)
                except BaseException:
                    # As in Go: a frame whose callback raised is consumed
                    # (its lapped frames were counted once, above).
                    self.pos = s + 1
                    raise
            elif out is None:
                frame = np.array(slot, copy=True)
            else:
                np.copyto(out, slot, casting="no")
            # x86-64: loads are not reordered with older loads, so the data
            # was read before this check.
            if seq.value != v1:
                self.pos = s + 1
                if fn is not None:
                    self.overruns += 1
                    raise OverrunError(_errno.EAGAIN, "%s: frame %d overwritten while read" % (self.name, s))
                if not latest:
                    self.overruns += 1
                    lost += 1
                continue
            self.pos = s + 1
            # The progress entry, unless fn closed the reader (the lock
            # byte is still this reader's: close waits for this call).
            if self._entry and not self._closing:
                self._e_pos.value = self.pos
                self._e_over.value = self.overruns
                self._e_last.value = time.monotonic_ns()
            if fn is not None:
                return result
            if self._waiter.predict:
                self._waiter.observe(s, stamp)
            f = (frame if out is None else out).view(Frame)
            f.seq, f.time_ns, f.overruns = s, stamp, lost
            return f

    def _get_fast(self, deadline, latest, out):
        """_get through the C extension: the copy and its checks in C."""
        dst = Frame(self.frame_shape, self.dtype) if out is None else out
        total = 0
        while True:
            st, s, value, lost, pos, h = _fast.take(
                self._ctl, self._data, self.frame_bytes, self.slots, self.pos, latest, dst,
                self._entry, self.overruns)
            self.pos = pos
            self.overruns += lost
            total += lost
            if st == 0:
                if self._waiter.predict:
                    self._waiter.observe(s, value)
                f = dst if out is None else out.view(Frame)
                f.seq, f.time_ns, f.overruns = s, value if value < 1 << 63 else value - (1 << 64), total
                return f
            if st == 1:
                self._wait(self.pos, deadline)
                self._check_open()
                continue
            if st == 6:  # frames kept being overwritten: bounded by the timeout
                if deadline is not None and time.monotonic_ns() >= deadline:
                    raise TimeoutError(_errno.ETIMEDOUT, "%s: no complete frame before the timeout" % self.name)
                self._check_open()
                continue
            i = s % self.slots
            if st == 2:
                raise RingError(_errno.EINVAL, "%s: ring head = %d: sequence out of range" % (self.name, value))
            if st == 3:
                raise RingError(_errno.EINVAL, "%s: ring head = %d: behind this reader's position %d" % (self.name, value, self.pos))
            if st == 4:
                raise RingError(_errno.EINVAL, "%s: ring slots[%d].seq = %d: head %d says frame %d is published" % (self.name, i, value, h, s))
            raise RingError(_errno.EINVAL, "%s: ring slots[%d].seq = %d: ahead of head %d" % (self.name, i, value, h))

    def _wait(self, s, deadline):
        now = time.monotonic_ns()
        if deadline is not None and now >= deadline:
            raise TimeoutError(_errno.ETIMEDOUT, "%s: no frame %d before the timeout" % (self.name, s))
        max_ns = MAX_SLEEP_NS if deadline is None else min(MAX_SLEEP_NS, deadline - now)
        spin_ns, sleep_ns, timed = self._waiter.plan(s, now, max_ns)
        spin_ns = min(spin_ns, max_ns)
        fx = self._futex
        if _fast is not None and fx.available:
            _fast.wait(self._ctl, s, spin_ns, sleep_ns, self.registered)
            if timed:
                self._waiter.after_timed(now + sleep_ns, time.monotonic_ns())
            return
        if spin_ns:
            end = now + spin_ns
            head = self._head
            while head.value <= s:
                if time.monotonic_ns() >= end:
                    break
            else:
                return
        if not sleep_ns:
            return
        d = sleep_ns / 1e9
        if not fx.available:  # polling fallback
            time.sleep(min(d, 0.0005))
            return
        # Say we wait: a locked read-modify-write in the kernel, which is
        # also a full fence before the loads below.
        if self.registered:
            fx.add(self._wait_word, _op_set(self._wait_bit))
        else:
            fx.add(self._waiters_addr, _OP_INC)
        try:
            w = self._head.value & 0xFFFFFFFF  # the futex word: the head's low half
            if self._head.value > s:
                return
            fx.wait(self._head_addr, w, d)
        finally:
            if self.registered:
                fx.add(self._wait_word, _op_clear(self._wait_bit))
            else:
                fx.add(self._waiters_addr, _OP_DEC)
            if timed:
                self._waiter.after_timed(now + sleep_ns, time.monotonic_ns())


def create(name, slots, frame_shape, dtype=np.float64):
    """Create a ring with SharedArray and return its Writer.

    SharedArray.create makes the (slots, *frame_shape) array; the file is
    then grown by the control block, the trailer moved to the new end and
    the control block written, magic last. Unlike the Go CreateRing this is
    not atomic: a reader opening the name meanwhile gets RingError.
    """
    _supported()
    # Everything is checked before SharedArray.create runs: it crashes the
    # process on a negative or overflowing dimension (leaving a file behind).
    try:
        slots = operator.index(slots)
    except TypeError:
        raise TypeError("slots must be an integer, not %r" % (slots,)) from None
    if not 1 <= slots <= MAX_SLOTS:
        raise ValueError("slots must be 1..%d" % MAX_SLOTS)
    try:
        frame_shape = tuple(operator.index(d) for d in frame_shape)
    except TypeError:
        raise TypeError("frame_shape must be a sequence of integers, not %r" % (frame_shape,)) from None
    if any(d < 0 for d in frame_shape):
        raise ValueError("frame_shape %s has a negative dimension" % (frame_shape,))
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise TypeError("dtype %s holds Python objects (pointers into one process), which a ring cannot share" % (dtype,))
    frame_bytes = dtype.itemsize
    for d in frame_shape:
        frame_bytes *= d
    if frame_bytes == 0:
        raise ValueError("frame_shape %s holds no bytes" % (frame_shape,))
    if slots * frame_bytes > 2**63 - 1:
        raise ValueError("frame_shape %s of %s, %d slots: too big (over 2^63 - 1 bytes)" % (frame_shape, dtype, slots))
    arr = _sa.create(name, (slots,) + frame_shape, dtype=dtype)
    data_bytes = arr.nbytes
    if data_bytes == 0:
        del arr
        _sa.delete(name)
        raise ValueError("frame shape %s holds no bytes" % (frame_shape,))
    path = _path(name)
    ours = None  # (dev, inode) of the file SharedArray created, once checked
    try:
        fd = os.open(path, os.O_RDWR)
        try:
            if not _same_file(fd, arr):
                # Another process replaced the name since SharedArray made
                # it: never grow, write or delete a file we did not create.
                del arr
                raise RingError(_errno.EAGAIN, "%s: the file was replaced while the ring was created; it is left alone" % name)
            del arr
            st = os.fstat(fd)
            ours = (st.st_dev, st.st_ino)
            size = st.st_size
            tail_len = min(size - data_bytes, MAX_TRAILER)
            tail = os.pread(fd, tail_len, size - tail_len)
            ctl_off, ctl_size = _geometry(data_bytes, slots)
            trailer = size - data_bytes  # SharedArray's trailer, exactly
            new_size = ctl_off + ctl_size + trailer
            os.ftruncate(fd, new_size)
            os.pwrite(fd, b"\0" * (new_size - data_bytes - trailer), data_bytes)
            os.pwrite(fd, tail, new_size - tail_len)
            hdr = struct.pack("<IIQQQIIII", VERSION, HEADER_SIZE, slots, data_bytes // slots, ctl_size,
                              MAX_READERS, 0, _prog_off(slots), PROG_ENTRY)
            os.pwrite(fd, hdr, ctl_off + 8)
            os.pwrite(fd, MAGIC, ctl_off)
        finally:
            os.close(fd)
    except BaseException:
        # Remove what we made, only if the name still holds it (another
        # process may have replaced it: never delete what we did not create).
        try:
            st = os.stat(path, follow_symlinks=False)
            if ours == (st.st_dev, st.st_ino):
                _sa.delete(name)
        except OSError:
            pass
        raise
    return Writer(name, ours)  # the file made above, not one renamed over the name since


def open_writer(name):
    """Take over the ring as its writer (BusyError if a writer is alive)."""
    return Writer(name)


def open_reader(name, timeout=None, spin=0.0, predict=False, oldest=False):
    """Open the ring for reading (see Reader for spin, predict, oldest).

    timeout: None (default) fails at once if there is no ring of that name
    (FileNotFoundError) or it is not a complete ring yet (RingError); a
    number of seconds waits that long for a writer to create it, looking
    every 5 ms, then raises the last error. Permission errors are raised
    at once.
    """
    if timeout is None:
        return Reader(name, spin=spin, predict=predict, oldest=oldest)
    _Waiter(spin, predict)  # bad arguments fail before any wait
    end = _deadline_ns(timeout)  # NaN and non-numbers refused, naming timeout
    while True:
        try:
            return Reader(name, spin=spin, predict=predict, oldest=oldest)
        except (PermissionError, BusyError):
            raise
        except (OSError, ValueError):
            # Absent, or being created (Python create grows the file and
            # writes the control block after SharedArray.create).
            if end is not None and time.monotonic_ns() >= end:
                raise
        time.sleep(0.005)


def stat(name):
    """A dict: version, slots, frame_shape, dtype, head, generation,
    writer_pid, writer_alive, readers, waiters, and reader_list (version 2
    rings; None for version 1): per registered reader, what it last wrote
    about itself: lock_byte, pid, language ("go", "python" or ""), pos,
    lag (frames: head - pos), lag_ns (how long ago the oldest frame it has
    not read was published), overruns, last_read_ns (time.monotonic_ns()
    clock, 0 if never), suspect ("" or why the values cannot all be true:
    another process with write access may write anything there).
    """
    r = _Ring(name)
    try:
        alive = r._write_locked(0)
        # One probe per byte, write locks only (_write_locked): exact and
        # bounded whatever locks other processes hold.
        held = r._held_readers()
        head = r.head
        info = {
            "version": r.version,
            "slots": r.slots, "frame_shape": r.frame_shape, "dtype": r.dtype, "head": head,
            "generation": r.generation, "writer_pid": r._pid.value if alive else 0,
            "writer_alive": alive, "readers": len(held),
            "waiters": r._waiters.value + sum(bin(x).count("1") for x in r._waiting),
            "reader_list": None,
        }
        if r._prog:
            now = time.monotonic_ns()
            lst = []
            for b in held:
                e = r._prog + PROG_ENTRY * b
                # One aligned 8-byte load per field, as each is stored.
                pos = ctypes.c_uint64.from_address(e).value
                over = ctypes.c_uint64.from_address(e + 8).value
                last = ctypes.c_int64.from_address(e + 16).value
                pid = ctypes.c_int32.from_address(e + 24).value
                lang = {LANG_GO: "go", LANG_PYTHON: "python"}.get(ctypes.c_uint32.from_address(e + 28).value & 0xFF, "")
                # An honest reader may have read frames published after head
                # was loaded and stamped its last read after now was taken:
                # judge against the head and clock as they are after the
                # entry was read (the head only grows); lag against head.
                h_now = max(head, r.head)
                t_now = max(now, time.monotonic_ns())
                suspect = ""
                if pid < 0:
                    suspect, pid = "pid %d" % pid, 0
                elif pos > h_now:
                    suspect = "position %d ahead of head %d" % (pos, h_now)
                elif last > t_now or last < 0:
                    suspect = "last read %d ns, now is %d" % (last, t_now)
                elif over > h_now:
                    suspect = "%d overruns of %d frames" % (over, h_now)
                lag = lag_ns = 0
                if not suspect and pos < head:
                    lag = head - pos
                    lag_ns = r._age(max(pos, head - min(head, r.slots)), now)
                lst.append({"lock_byte": b, "pid": pid, "language": lang, "pos": pos, "lag": lag,
                            "lag_ns": lag_ns, "overruns": over, "last_read_ns": last, "suspect": suspect})
            info["reader_list"] = lst
        return info
    finally:
        r.close()
