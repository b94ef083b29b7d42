package main

/*
#cgo CFLAGS: -O2 -Wall
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// The C futex baseline: a u32 word at p, the sender's timestamp at p+8.

// c_futex_wait records now - timestamp after each wake-up until the word
// has changed n times (a burst of changes is one wake-up); returns how many
// it recorded (fewer after a 2 s silence).
static int c_futex_wait(void *p, int n, int64_t *lat) {
	uint32_t *w = p;
	int64_t *ts = (int64_t *)((char *)p + 8);
	uint32_t start = __atomic_load_n(w, __ATOMIC_ACQUIRE), seen = start;
	int i = 0;
	while (i < n && seen - start < (uint32_t)n) {
		uint32_t v;
		while ((v = __atomic_load_n(w, __ATOMIC_ACQUIRE)) == seen) {
			struct timespec to = {2, 0};
			if (syscall(SYS_futex, w, FUTEX_WAIT, seen, &to, NULL, 0) == -1 && errno == ETIMEDOUT)
				return i;
		}
		lat[i++] = now_ns() - __atomic_load_n(ts, __ATOMIC_ACQUIRE);
		seen = v;
	}
	return i;
}

// c_futex_send stamps, bumps the word and wakes (always: the raw baseline).
static void c_futex_send(void *p) {
	uint32_t *w = p;
	__atomic_store_n((int64_t *)((char *)p + 8), now_ns(), __ATOMIC_RELEASE);
	__atomic_add_fetch(w, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

// c_publish_loop does what a ring publish does, n times, in C: the odd
// mark, the timestamp, the even mark, the head, the waiter check.
static uint64_t c_publish_loop(void *ctl, uint64_t slots, long n, int stamp) {
	uint64_t *head = (uint64_t *)((char *)ctl + 128);
	uint32_t *waiters = (uint32_t *)((char *)ctl + 192);
	uint64_t *table = (uint64_t *)((char *)ctl + 256);
	uint64_t s = __atomic_load_n(head, __ATOMIC_RELAXED), wakes = 0;
	for (long k = 0; k < n; k++, s++) {
		uint64_t i = s % slots;
		__atomic_store_n(&table[2 * i], 2 * s + 1, __ATOMIC_SEQ_CST);
		table[2 * i + 1] = stamp ? (uint64_t)now_ns() : 0;
		__atomic_store_n(&table[2 * i], 2 * s + 2, __ATOMIC_SEQ_CST);
		__atomic_store_n(head, s + 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(waiters, __ATOMIC_SEQ_CST) != 0) wakes++;
	}
	return wakes;
}
*/
import "C"

import "unsafe"

func cFutexWait(p unsafe.Pointer, lat []int64) int {
	return int(C.c_futex_wait(p, C.int(len(lat)), (*C.int64_t)(unsafe.Pointer(&lat[0]))))
}

func cFutexSend(p unsafe.Pointer) { C.c_futex_send(p) }

func cPublishLoop(ctl unsafe.Pointer, slots int, n int, stamp bool) {
	st := 0
	if stamp {
		st = 1
	}
	C.c_publish_loop(ctl, C.uint64_t(slots), C.long(n), C.int(st))
}
