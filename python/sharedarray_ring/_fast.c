/* _fast: the hot paths of sharedarray_ring in C (publish, the seqlocked
 * copy of a frame, spinning and sleeping on the futex), with C11-style
 * atomics. Optional: the package falls back to pure Python (ctypes) when
 * this module is missing or SHAREDARRAY_RING_PURE is set. The protocol is
 * docs/ring.md of the sharedarray Go module; offsets are those of the
 * control block (ctl = mapping base + control-block offset).
 *
 * Every function takes raw addresses the Python side computed from a
 * mapping it holds open for the call's duration.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define OFF_HEAD 128
#define OFF_WAITERS 192
#define OFF_WAITING 224
#define HEADER_SIZE 256
#define SLOT_ENTRY 16
#define MAX_SEQ (1ULL << 62)

static inline int64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline uint64_t *u64(uintptr_t ctl, size_t off) { return (uint64_t *)(ctl + off); }
static inline uint32_t *u32(uintptr_t ctl, size_t off) { return (uint32_t *)(ctl + off); }
static inline uint64_t *seq_p(uintptr_t ctl, uint64_t i) { return u64(ctl, HEADER_SIZE + i * SLOT_ENTRY); }
static inline int64_t *stamp_p(uintptr_t ctl, uint64_t i) { return (int64_t *)(ctl + HEADER_SIZE + i * SLOT_ENTRY + 8); }

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* start(ctl, i, seq): mark slot i in progress (2 seq + 1). */
static PyObject *fast_start(PyObject *self, PyObject *args) {
	unsigned long long ctl, i, s;
	if (!PyArg_ParseTuple(args, "KKK", &ctl, &i, &s)) return NULL;
	__atomic_store_n(seq_p(ctl, i), 2 * s + 1, __ATOMIC_RELEASE);
	/* The odd mark is visible before the frame's data stores. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	Py_RETURN_NONE;
}

/* publish(ctl, i, seq): stamp, mark slot i complete, move the head to
 * seq + 1, and wake the sleepers if any reader says it waits. */
static PyObject *fast_publish(PyObject *self, PyObject *args) {
	unsigned long long ctl, i, s;
	if (!PyArg_ParseTuple(args, "KKK", &ctl, &i, &s)) return NULL;
	__atomic_store_n(stamp_p(ctl, i), now_ns(), __ATOMIC_RELAXED);
	__atomic_store_n(seq_p(ctl, i), 2 * s + 2, __ATOMIC_RELEASE);
	__atomic_store_n(u64(ctl, OFF_HEAD), s + 1, __ATOMIC_SEQ_CST);
	int wake = __atomic_load_n(u32(ctl, OFF_WAITERS), __ATOMIC_SEQ_CST) != 0;
	for (int k = 0; k < 4 && !wake; k++)
		wake = __atomic_load_n(u64(ctl, OFF_WAITING + 8 * k), __ATOMIC_SEQ_CST) != 0;
	if (wake) syscall(SYS_futex, u32(ctl, OFF_HEAD), FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	Py_RETURN_NONE;
}

/* wait(ctl, pos, spin_ns, sleep_ns, reg_byte) -> bool: whether the head
 * passed pos. Polls the head for up to spin_ns, then, if sleep_ns > 0,
 * says it waits (bit reg_byte of the waiting bitmap, or the waiters count
 * when reg_byte is 0), checks the head again and sleeps on the futex word
 * for at most sleep_ns. The GIL is released throughout. */
static PyObject *fast_wait(PyObject *self, PyObject *args) {
	unsigned long long ctl, pos;
	long long spin_ns, sleep_ns;
	int reg;
	if (!PyArg_ParseTuple(args, "KKLLi", &ctl, &pos, &spin_ns, &sleep_ns, &reg)) return NULL;
	if (reg < 0 || reg > 255) {
		PyErr_SetString(PyExc_ValueError, "reader lock byte out of range");
		return NULL;
	}
	uint64_t *head = u64(ctl, OFF_HEAD);
	int ready = 0;
	Py_BEGIN_ALLOW_THREADS
	if (spin_ns > 0) {
		int64_t end = now_ns() + spin_ns;
		for (unsigned k = 0;; k++) {
			if (__atomic_load_n(head, __ATOMIC_ACQUIRE) > pos) {
				ready = 1;
				break;
			}
			if ((k & 63) == 63 && now_ns() >= end) break;
			cpu_relax();
		}
	}
	if (!ready && sleep_ns > 0) {
		uint32_t *word = reg ? u32(ctl, OFF_WAITING + 4 * (reg / 32)) : u32(ctl, OFF_WAITERS);
		uint32_t bit = 1u << (reg % 32);
		if (reg)
			__atomic_fetch_or(word, bit, __ATOMIC_SEQ_CST);
		else
			__atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
		uint32_t w = __atomic_load_n(u32(ctl, OFF_HEAD), __ATOMIC_SEQ_CST);
		if (__atomic_load_n(head, __ATOMIC_SEQ_CST) <= pos) {
			struct timespec ts = {sleep_ns / 1000000000LL, sleep_ns % 1000000000LL};
			syscall(SYS_futex, u32(ctl, OFF_HEAD), FUTEX_WAIT, w, &ts, NULL, 0);
		}
		if (reg)
			__atomic_fetch_and(word, ~bit, __ATOMIC_SEQ_CST);
		else
			__atomic_fetch_sub(word, 1, __ATOMIC_SEQ_CST);
		ready = __atomic_load_n(head, __ATOMIC_ACQUIRE) > pos;
	}
	Py_END_ALLOW_THREADS
	return PyBool_FromLong(ready);
}

/* Status codes of take. */
enum { TAKE_OK, TAKE_WAIT, TAKE_HEAD_RANGE, TAKE_HEAD_BACK, TAKE_SLOT_BEHIND, TAKE_SLOT_AHEAD, TAKE_AGAIN };

/* Frames found overwritten before take returns TAKE_AGAIN, so the caller
 * checks its timeout and close between tries (a writer, or a hostile
 * process, rewriting slots faster than they are read). */
#define TAKE_TRIES 64

/* take(ctl, data, frame_bytes, slots, pos, latest, dst, entry, overruns) ->
 *     (status, seq, value, lost, pos, head)
 * The reader loop of docs/ring.md §3.2 up to the wait: copies the frame it
 * settles on into dst (a writable contiguous buffer of frame_bytes).
 * status TAKE_OK: frame seq copied, value its publish time. TAKE_WAIT:
 * nothing newer than pos. TAKE_AGAIN: TAKE_TRIES frames were overwritten
 * before they could be read; call again. The others are corruption: value is the slot
 * sequence or head that is wrong. lost counts overruns met on the way
 * (also on a non-OK return), pos is the reader's new position. entry is
 * the reader's version 2 progress entry (0: none): on TAKE_OK it gets pos,
 * overruns + lost and the time. */
static PyObject *fast_take(PyObject *self, PyObject *args) {
	unsigned long long ctl, data, fb, slots, pos, entry, overruns;
	int latest;
	PyObject *dst;
	if (!PyArg_ParseTuple(args, "KKKKKpOKK", &ctl, &data, &fb, &slots, &pos, &latest, &dst, &entry, &overruns))
		return NULL;
	if (slots == 0) {
		PyErr_SetString(PyExc_ValueError, "no slots");
		return NULL;
	}
	Py_buffer buf;
	if (PyObject_GetBuffer(dst, &buf, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) return NULL;
	if ((unsigned long long)buf.len != fb) {
		PyBuffer_Release(&buf);
		PyErr_Format(PyExc_ValueError, "buffer is %zd bytes, the ring's frames are %llu", buf.len, fb);
		return NULL;
	}
	uint64_t *head = u64(ctl, OFF_HEAD);
	int status;
	uint64_t s = 0, h = 0, lost = 0, value = 0;
	Py_BEGIN_ALLOW_THREADS
	for (int tries = 0;; tries++) {
		if (tries == TAKE_TRIES) {
			status = TAKE_AGAIN;
			break;
		}
		h = __atomic_load_n(head, __ATOMIC_ACQUIRE);
		if (h >= MAX_SEQ) {
			status = TAKE_HEAD_RANGE;
			value = h;
			break;
		}
		s = pos;
		if (s >= h) {
			status = s > h + slots ? TAKE_HEAD_BACK : TAKE_WAIT;
			value = h;
			break;
		}
		uint64_t gap = 0;
		if (latest)
			s = h - 1;
		else if (h - s > slots) {
			gap = h - slots - s;
			s = h - slots;
		}
		uint64_t i = s % slots;
		uint64_t v1 = __atomic_load_n(seq_p(ctl, i), __ATOMIC_ACQUIRE);
		if (v1 != 2 * s + 2) {
			if (v1 <= 2 * s + 1) {
				status = TAKE_SLOT_BEHIND;
				value = v1;
				break;
			}
			uint64_t h2 = __atomic_load_n(head, __ATOMIC_ACQUIRE);
			if (v1 > 2 * h2 + 2) {
				status = TAKE_SLOT_AHEAD;
				value = v1;
				h = h2;
				break;
			}
			lost += gap + (latest ? 0 : 1);
			pos = s + 1;
			continue;
		}
		int64_t t = __atomic_load_n(stamp_p(ctl, i), __ATOMIC_ACQUIRE);
		memcpy(buf.buf, (const void *)(uintptr_t)(data + i * fb), fb);
		/* The copy's loads complete before the check (x86-64 keeps loads
		 * in order; this also stops the compiler). */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(seq_p(ctl, i), __ATOMIC_ACQUIRE) != v1) {
			lost += gap + (latest ? 0 : 1);
			pos = s + 1;
			continue;
		}
		lost += gap;
		pos = s + 1;
		value = (uint64_t)t;
		status = TAKE_OK;
		if (entry) {
			__atomic_store_n(u64(entry, 0), pos, __ATOMIC_RELAXED);
			__atomic_store_n(u64(entry, 8), overruns + lost, __ATOMIC_RELAXED);
			__atomic_store_n(u64(entry, 16), (uint64_t)now_ns(), __ATOMIC_RELAXED);
		}
		break;
	}
	Py_END_ALLOW_THREADS
	PyBuffer_Release(&buf);
	return Py_BuildValue("(iKKKKK)", status, (unsigned long long)s, (unsigned long long)value,
	                     (unsigned long long)lost, pos, (unsigned long long)h);
}

/* load64(addr) and head(ctl): atomic loads for the pure paths' callers. */
static PyObject *fast_head(PyObject *self, PyObject *args) {
	unsigned long long ctl;
	if (!PyArg_ParseTuple(args, "K", &ctl)) return NULL;
	return PyLong_FromUnsignedLongLong(__atomic_load_n(u64(ctl, OFF_HEAD), __ATOMIC_ACQUIRE));
}

static PyMethodDef methods[] = {
	{"start", fast_start, METH_VARARGS, "Mark a slot in progress."},
	{"publish", fast_publish, METH_VARARGS, "Complete a frame, move the head, wake waiting readers."},
	{"wait", fast_wait, METH_VARARGS, "Spin, then sleep on the futex word, until the head passes pos."},
	{"take", fast_take, METH_VARARGS, "Copy the next (or newest) complete frame out, seqlock-checked."},
	{"head", fast_head, METH_VARARGS, "The head, loaded atomically."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fast", "Hot paths of sharedarray_ring in C.", -1, methods};

PyMODINIT_FUNC PyInit__fast(void) { return PyModule_Create(&module); }
