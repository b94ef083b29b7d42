// Package cbench holds the C baselines the benchmarks compare against: the
// raw system-call sequences a C programmer would write for the same
// operations, run through cgo in the same binary as the Go code measured.
package cbench

/*
#cgo CFLAGS: -O2 -Wall
#cgo LDFLAGS: -lrt
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// create_close_delete: shm_open, ftruncate (or fallocate), fstat, mmap,
// the trailer copied into the mapping, close, munmap, shm_unlink.
static int create_close_delete(const char *name, long size, int reserve) {
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0666);
	if (fd < 0) return -1;
	if ((reserve ? fallocate(fd, 0, 0, size) : ftruncate(fd, size)) != 0) goto fail;
	struct stat st;
	if (fstat(fd, &st) != 0) goto fail;
	void *p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) goto fail;
	memcpy((char *)p + st.st_size - 548, "[SharedArray]", 14);
	close(fd);
	munmap(p, st.st_size);
	return shm_unlink(name);
fail:
	close(fd);
	shm_unlink(name);
	return -1;
}

// attach_close: shm_open, fstat, mmap, the trailer read from the mapping,
// close, munmap.
static int attach_close(const char *name) {
	int fd = shm_open(name, O_RDWR, 0);
	if (fd < 0) return -1;
	struct stat st;
	if (fstat(fd, &st) != 0) { close(fd); return -1; }
	void *p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) return -1;
	int ok = memcmp((char *)p + st.st_size - 548, "[SharedArray]", 14) == 0;
	munmap(p, st.st_size);
	return ok ? 0 : -1;
}

// create_fill: shm_open, ftruncate, mmap, memset every byte, munmap,
// shm_unlink: the naive C way to make and fill an array.
static int create_fill(const char *name, long size) {
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0666);
	if (fd < 0) return -1;
	if (ftruncate(fd, size) != 0) { close(fd); shm_unlink(name); return -1; }
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) { shm_unlink(name); return -1; }
	memset(p, 1, size);
	munmap(p, size);
	return shm_unlink(name);
}

// attach_copy: shm_open, fstat, mmap, memcpy out, munmap.
static int attach_copy(const char *name, void *dst, long n) {
	int fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0) return -1;
	struct stat st;
	if (fstat(fd, &st) != 0) { close(fd); return -1; }
	void *p = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) return -1;
	memcpy(dst, p, n);
	munmap(p, st.st_size);
	return 0;
}
*/
import "C"

import (
	"syscall"
	"unsafe"
)

func cstr(s string) *C.char {
	b := append([]byte(s), 0)
	return (*C.char)(unsafe.Pointer(&b[0]))
}

func check(r C.int, err error) error {
	if r != 0 {
		if err == nil {
			err = syscall.EIO
		}
		return err
	}
	return nil
}

// CreateCloseDelete creates a size-byte shm object named name the way C
// would, maps it, writes a trailer marker, and removes it.
func CreateCloseDelete(name string, size int64, reserve bool) error {
	res := C.int(0)
	if reserve {
		res = 1
	}
	r, err := C.create_close_delete(cstr(name), C.long(size), res)
	return check(r, err)
}

// AttachClose opens, maps, reads the trailer marker of, and unmaps an
// existing shm object.
func AttachClose(name string) error {
	r, err := C.attach_close(cstr(name))
	return check(r, err)
}

// CreateFill creates a size-byte shm object, memsets it, unmaps and
// removes it.
func CreateFill(name string, size int64) error {
	r, err := C.create_fill(cstr(name), C.long(size))
	return check(r, err)
}

// AttachCopy maps an existing shm object read-only and copies its first
// len(dst) bytes out.
func AttachCopy(name string, dst []byte) error {
	r, err := C.attach_copy(cstr(name), unsafe.Pointer(unsafe.SliceData(dst)), C.long(len(dst)))
	return check(r, err)
}
