// Package cbench holds the C baselines the benchmarks compare against: the
// raw system-call sequences a C programmer would write for the same
// operations, run through cgo in the same binary as the Go code measured.
package cbench

/*
#cgo CFLAGS: -O2 -Wall
#cgo LDFLAGS: -lrt
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

// create_fill: shm_open, ftruncate, mmap, memset every byte, munmap: the
// naive C way to make and fill an array. The object stays.
static int create_fill(const char *name, long size) {
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0666);
	if (fd < 0) return -1;
	if (ftruncate(fd, size) != 0) { close(fd); shm_unlink(name); return -1; }
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) { shm_unlink(name); return -1; }
	memset(p, 1, size);
	return munmap(p, size);
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

// create_close_safe: what sharedarray's Create and Close do, in C: an
// unnamed O_TMPFILE file sized (or reserved), the trailer pwritten, mapped,
// linked to its name; then unmapped.
static int create_close_safe(const char *dir, const char *path, long size, int reserve) {
	char tr[548] = "[SharedArray]";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0666);
	if (fd < 0) return -1;
	if ((reserve ? fallocate(fd, 0, 0, size) : ftruncate(fd, size)) != 0) { close(fd); return -1; }
	if (pwrite(fd, tr, 548, size - 548) != 548) { close(fd); return -1; }
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) { close(fd); return -1; }
	if (linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH) != 0) { close(fd); munmap(p, size); return -1; }
	close(fd);
	return munmap(p, size);
}

// create_close_delete_safe: what sharedarray does, in C: create_close_safe,
// then Delete's sequence in the directory (opened once): the file opened,
// its trailer read and checked, the name moved to a private one (renameat2
// RENAME_NOREPLACE), checked to be the same file (fstatat) and unlinked.
static int shm_dirfd = -1;
static int create_close_delete_safe(const char *dir, const char *path, const char *name, long size, int reserve) {
	char tr[548];
	if (shm_dirfd < 0 && (shm_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) return -1;
	if (create_close_safe(dir, path, size, reserve) != 0) return -1;
	int fd = openat(shm_dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) return -1;
	struct stat st, moved;
	if (fstat(fd, &st) != 0 || pread(fd, tr, 548, st.st_size - 548) != 548) { close(fd); return -1; }
	close(fd);
	if (memcmp(tr, "[SharedArray]", 14) != 0) return -1;
	char tmp[64];
	snprintf(tmp, sizeof tmp, ".sharedarray-delete-%lx", (unsigned long)random());
	if (renameat2(shm_dirfd, name, shm_dirfd, tmp, RENAME_NOREPLACE) != 0) return -1;
	if (fstatat(shm_dirfd, tmp, &moved, AT_SYMLINK_NOFOLLOW) != 0 || moved.st_ino != st.st_ino || moved.st_dev != st.st_dev) return -1;
	return unlinkat(shm_dirfd, tmp, 0);
}

// delete_safe: the Delete half of create_close_delete_safe alone, in
// the directory opened once (at_cwd 0) or through full paths from
// AT_FDCWD (at_cwd 1, as sharedarray's Delete names /dev/shm entries).
static int delete_safe(const char *dir, const char *name, int at_cwd) {
	char tr[548], path[512], tmp[512];
	if (shm_dirfd < 0 && (shm_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) return -1;
	int dfd = shm_dirfd;
	const char *n = name;
	if (at_cwd) {
		snprintf(path, sizeof path, "%s/%s", dir, name);
		dfd = AT_FDCWD;
		n = path;
		snprintf(tmp, sizeof tmp, "%s/.sharedarray-delete-%lx", dir, (unsigned long)random());
	} else {
		snprintf(tmp, sizeof tmp, ".sharedarray-delete-%lx", (unsigned long)random());
	}
	int fd = openat(dfd, n, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) return -1;
	struct stat st, moved;
	if (fstat(fd, &st) != 0 || pread(fd, tr, 548, st.st_size - 548) != 548) { close(fd); return -1; }
	close(fd);
	if (memcmp(tr, "[SharedArray]", 14) != 0) return -1;
	if (renameat2(dfd, n, dfd, tmp, RENAME_NOREPLACE) != 0) return -1;
	if (fstatat(dfd, tmp, &moved, AT_SYMLINK_NOFOLLOW) != 0 || moved.st_ino != st.st_ino || moved.st_dev != st.st_dev) return -1;
	return unlinkat(dfd, tmp, 0);
}

// export_write: attach read-only, write the mapping to path in 8 MiB
// chunks (after a header of hlen bytes), optionally fsync.
static int export_write(const char *name, const char *path, const void *header, long hlen, long n, int sync) {
	int fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0) return -1;
	struct stat st;
	if (fstat(fd, &st) != 0) { close(fd); return -1; }
	char *p = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) return -1;
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) { munmap(p, st.st_size); return -1; }
	int rc = write(out, header, hlen) == hlen ? 0 : -1;
	for (long off = 0; rc == 0 && off < n;) {
		long chunk = n - off < (8L << 20) ? n - off : (8L << 20);
		ssize_t w = write(out, p + off, chunk);
		if (w <= 0) rc = -1; else off += w;
	}
	if (rc == 0 && sync) rc = fsync(out);
	close(out);
	munmap(p, st.st_size);
	return rc;
}

// import_read: create name sized n (+548), map it, read n bytes of path
// from offset off into it, unmap.
static int import_read(const char *path, long off, const char *name, long n) {
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) return -1;
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0666);
	if (fd < 0) { close(in); return -1; }
	if (ftruncate(fd, n + 548) != 0) { close(fd); close(in); return -1; }
	char *p = mmap(NULL, n + 548, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) { close(in); return -1; }
	int rc = 0;
	for (long got = 0; got < n;) {
		ssize_t r = pread(in, p + got, n - got, off + got);
		if (r <= 0) { rc = -1; break; }
		got += r;
	}
	close(in);
	munmap(p, n + 548);
	return rc;
}

// list_count: readdir /dev/shm, and for each regular file open, fstat,
// pread the last 548 bytes and check the magic at each trailer position.
#include <dirent.h>
#include <stdio.h>
static long list_count(void) {
	DIR *d = opendir("/dev/shm");
	if (!d) return -1;
	long n = 0;
	struct dirent *e;
	char path[512], tail[548];
	while ((e = readdir(d)) != NULL) {
		if (e->d_type != DT_REG) continue;
		snprintf(path, sizeof path, "/dev/shm/%s", e->d_name);
		int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && st.st_size >= 288) {
			long len = st.st_size < 548 ? st.st_size : 548;
			if (pread(fd, tail, len, st.st_size - len) == len &&
			    (memcmp(tail + len - 292, "[SharedArray]", 14) == 0 || memcmp(tail, "[SharedArray]", 14) == 0 ||
			     memcmp(tail + len - 288, "[SharedArray]", 14) == 0))
				n++;
		}
		close(fd);
	}
	closedir(d);
	return n;
}

// long double conversions, for the numtype.Float80 and numtype.Float128 tests.
static void ld_from_double(double f, void *out) {
	long double x = f;
	memset(out, 0, 16);
	memcpy(out, &x, sizeof x < 16 ? sizeof x : 16);
}
static double ld_to_double(const void *in) {
	long double x;
	memcpy(&x, in, sizeof x < 16 ? sizeof x : 16);
	return (double)x;
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

// CreateFill creates a size-byte shm object, memsets it and unmaps it;
// the object stays.
func CreateFill(name string, size int64) error {
	r, err := C.create_fill(cstr(name), C.long(size))
	return check(r, err)
}

// CreateCloseDeleteSafe does in C the system calls sharedarray's Create,
// Close and Delete make: publish an O_TMPFILE file with linkat; validate
// the trailer, move the name to a private one, check it is the same file
// and unlink it.
func CreateCloseDeleteSafe(name string, size int64, reserve bool) error {
	res := C.int(0)
	if reserve {
		res = 1
	}
	r, err := C.create_close_delete_safe(cstr("/dev/shm"), cstr("/dev/shm/"+name), cstr(name), C.long(size), res)
	return check(r, err)
}

// DeleteSafe does in C the system calls of sharedarray's Delete on the shm
// object name: validate, move to a private name, check, unlink. atCwd
// names the files by full path from AT_FDCWD instead of relative to the
// directory opened once.
func DeleteSafe(name string, atCwd bool) error {
	c := C.int(0)
	if atCwd {
		c = 1
	}
	r, err := C.delete_safe(cstr("/dev/shm"), cstr(name), c)
	return check(r, err)
}

// CreateCloseSafe does in C the system calls of sharedarray's Create and
// Close (not Delete): the shm object name is left in place.
func CreateCloseSafe(name string, size int64, reserve bool) error {
	res := C.int(0)
	if reserve {
		res = 1
	}
	r, err := C.create_close_safe(cstr("/dev/shm"), cstr("/dev/shm/"+name), C.long(size), res)
	return check(r, err)
}

// ExportWrite writes header and the first n bytes of shm object name to
// path with write(2) in 8 MiB chunks, and fsyncs if sync.
func ExportWrite(name, path string, header []byte, n int64, sync bool) error {
	s := C.int(0)
	if sync {
		s = 1
	}
	r, err := C.export_write(cstr(name), cstr(path), unsafe.Pointer(&header[0]), C.long(len(header)), C.long(n), s)
	return check(r, err)
}

// ImportRead creates shm object name of n+548 bytes and reads n bytes of
// path, from offset off, into its mapping.
func ImportRead(path string, off int64, name string, n int64) error {
	r, err := C.import_read(cstr(path), C.long(off), cstr(name), C.long(n))
	return check(r, err)
}

// ListCount reads every regular file's trailer in /dev/shm and returns how
// many have the SharedArray magic.
func ListCount() (int, error) {
	n, err := C.list_count()
	if n < 0 {
		return 0, err
	}
	return int(n), nil
}

// AttachCopy maps an existing shm object read-only and copies its first
// len(dst) bytes out.
func AttachCopy(name string, dst []byte) error {
	r, err := C.attach_copy(cstr(name), unsafe.Pointer(unsafe.SliceData(dst)), C.long(len(dst)))
	return check(r, err)
}

// LongDoubleFromFloat64 returns C's (long double)f, as the 16 bytes NumPy
// stores for it (on x86-64 the six padding bytes are zero here).
func LongDoubleFromFloat64(f float64) [16]byte {
	var b [16]byte
	C.ld_from_double(C.double(f), unsafe.Pointer(&b[0]))
	return b
}

// LongDoubleToFloat64 returns C's (double) of the long double stored in b.
func LongDoubleToFloat64(b [16]byte) float64 {
	return float64(C.ld_to_double(unsafe.Pointer(&b[0])))
}
