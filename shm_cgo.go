//go:build linux && cgo && !(ppc64 || s390x || mips || mips64)

package sharedarray

/*
#cgo CFLAGS: -O2 -Wall
#cgo linux LDFLAGS: -lrt
#include "shm.h"
*/
import "C"

import (
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// This file is the only place the package talks to C. Every wrapper checks
// the C return value first and only then looks at errno, which may be
// non-zero after a successful call. Strings cross as NUL-terminated Go byte
// slices (cstr), so no call allocates in C.

func cptr(b []byte) *C.char { return (*C.char)(unsafe.Pointer(&b[0])) }

// errnoOf turns the error cgo returns beside a failed call into an Errno,
// falling back to EIO when C reported failure without errno.
func errnoOf(err error) error {
	if en, ok := err.(syscall.Errno); ok && en != 0 {
		return en
	}
	return syscall.EIO
}

func shmOpen(name string, flags int, perm uint32) (int, error) {
	fd, err := C.sa_shm_open(cptr(cstr(name)), C.int(flags), C.uint(perm))
	if fd == -1 {
		return -1, errnoOf(err)
	}
	return int(fd), nil
}

func shmUnlink(name string) error {
	if r, err := C.sa_shm_unlink(cptr(cstr(name))); r == -1 {
		return errnoOf(err)
	}
	return nil
}

func sysOpen(path string, flags int, perm uint32) (int, error) {
	fd, err := C.sa_open(cptr(cstr(path)), C.int(flags), C.uint(perm))
	if fd == -1 {
		return -1, errnoOf(err)
	}
	return int(fd), nil
}

func sysUnlink(path string) error {
	if r, err := C.sa_unlink(cptr(cstr(path))); r == -1 {
		return errnoOf(err)
	}
	return nil
}

func sysClose(fd int) error {
	if r, err := C.sa_close(C.int(fd)); r == -1 {
		return errnoOf(err)
	}
	return nil
}

func sysFtruncate(fd int, length int64) error {
	if r, err := C.sa_ftruncate(C.int(fd), C.int64_t(length)); r == -1 {
		return errnoOf(err)
	}
	return nil
}

// sysFallocate reserves bytes [off, off+length) of fd, extending it if
// needed.
func sysFallocate(fd int, off, length int64) error {
	if r, err := C.sa_fallocate(C.int(fd), C.int64_t(off), C.int64_t(length)); r == -1 {
		return errnoOf(err)
	}
	return nil
}

func statOf(st *C.sa_stat) fileStat {
	return fileStat{
		size:    int64(st.size),
		mode:    uint32(st.mode),
		uid:     uint32(st.uid),
		modTime: time.Unix(int64(st.mtime_sec), int64(st.mtime_nsec)),
		dev:     uint64(st.dev),
		ino:     uint64(st.ino),
	}
}

// tailBuf holds fstat's result and a file's last bytes in one allocation.
type tailBuf struct {
	st   C.sa_stat
	tail [maxTrailer]byte
}

// tailBufs recycles the tailBufs of Attach, Stat and Delete (600 bytes
// each, every call): getTailBuf takes one, putTailBuf gives it back once
// nothing refers to its bytes (callers do so only on success: an error
// may carry bytes of the tail).
var tailBufs = sync.Pool{New: func() any { return new(tailBuf) }}

func getTailBuf() *tailBuf  { return tailBufs.Get().(*tailBuf) }
func putTailBuf(b *tailBuf) { tailBufs.Put(b) }

// sysFstatTail returns the file's status and, for a regular file, its last
// min(size, 548) bytes, or fewer if it shrank in between.
func sysFstatTail(fd int) (fileStat, []byte, error) { return sysFstatTailInto(fd, new(tailBuf)) }

// sysFstatTailInto is sysFstatTail reading into buf.
func sysFstatTailInto(fd int, buf *tailBuf) (fileStat, []byte, error) {
	got, err := C.sa_fstat_tail(C.int(fd), &buf.st, unsafe.Pointer(&buf.tail[0]), C.size_t(len(buf.tail)))
	return buf.result(got, err)
}

// sysReadTailAt does sysFstatTail's work on the file name (NUL-terminated)
// in the directory dirfd, opening and closing it in the same C call. buf
// is reused: the tail returned is valid until the next call with it.
func sysReadTailAt(dirfd int, name []byte, buf *tailBuf) (fileStat, []byte, error) {
	got, err := C.sa_read_tail_at(C.int(dirfd), cptr(name), &buf.st, unsafe.Pointer(&buf.tail[0]), C.size_t(len(buf.tail)))
	return buf.result(got, err)
}

// tailBatchLen is how many names one sysReadTailsAt call reads: 256
// tails are 140 KB, and a listing of 10,000 makes 40 cgo calls.
const tailBatchLen = 256

// tailBatch holds the results of one sysReadTailsAt call.
type tailBatch struct {
	res   [tailBatchLen]C.sa_tail_result
	tails [tailBatchLen][maxTrailer]byte
}

// sysReadTailsAt does sysReadTailAt for up to tailBatchLen names in the
// directory dirfd, stored in names one after another, each NUL-terminated,
// in one C call. entry(i) returns what it found for the i-th.
func (b *tailBatch) sysReadTailsAt(dirfd int, names []byte, count int) {
	C.sa_read_tails_at(C.int(dirfd), cptr(names), C.int(count), &b.res[0], (*C.char)(unsafe.Pointer(&b.tails[0][0])), maxTrailer)
}

// entry returns the status and tail found for the i-th name, valid until
// the next sysReadTailsAt.
func (b *tailBatch) entry(i int) (fileStat, []byte, error) {
	r := &b.res[i]
	if r.got == -1 {
		return fileStat{}, nil, errnoOf(syscall.Errno(r.err))
	}
	return statOf(&r.st), b.tails[i][:r.got], nil
}

// result turns what sa_fstat_tail returned into Go values.
func (buf *tailBuf) result(got C.int64_t, err error) (fileStat, []byte, error) {
	if got == -1 {
		return fileStat{}, nil, errnoOf(err)
	}
	return statOf(&buf.st), buf.tail[:got], nil
}

// sysPwrite writes all of buf at off.
func sysPwrite(fd int, buf []byte, off int64) error {
	for len(buf) > 0 {
		n, err := C.sa_pwrite(C.int(fd), unsafe.Pointer(&buf[0]), C.size_t(len(buf)), C.int64_t(off))
		if n == -1 {
			if en := errnoOf(err); en != syscall.EINTR {
				return en
			}
			continue
		}
		if n == 0 {
			return syscall.EIO
		}
		buf = buf[n:]
		off += int64(n)
	}
	return nil
}

// linkFd names the O_TMPFILE file fd dir+name; EEXIST when it exists.
func linkFd(fd int, dir, name string) error {
	if r, err := C.sa_link_fd(C.int(fd), cptr(cstr2(dir, name))); r == -1 {
		return errnoOf(err)
	}
	return nil
}

// sysCreateLinked is Create's system calls in one C call (sa_create_linked
// in shm.c): an O_TMPFILE file in dir, sized, reserved unless sparse, the
// trailer written at its end, mapped, populated if prefault, linked to
// prefix+path, closed. On failure it returns the stage, the errno and, after
// stageSize only, the still open descriptor for the caller to close.
func sysCreateLinked(dir, prefix, path string, perm uint32, total int64, sparse bool, trailer []byte, prefault bool, nbytes int64) (mem []byte, stage, fd int, err error) {
	// The C strings and the two results in one pooled buffer: what
	// cgo's pointer arguments would otherwise each allocate.
	c := createBufs.Get().(*createBuf)
	defer createBufs.Put(c)
	strs := c.strs[:]
	if n := len(dir) + len(prefix) + len(path) + 2; n > len(strs) {
		strs = make([]byte, n)
	}
	copy(strs, dir)
	strs[len(dir)] = 0
	copy(strs[len(dir)+1+copy(strs[len(dir)+1:], prefix):], path)
	strs[len(dir)+1+len(prefix)+len(path)] = 0
	r, cerr := C.sa_create_linked(cptr(strs), cptr(strs[len(dir)+1:]), C.uint(perm), C.int64_t(total), cbool(sparse),
		unsafe.Pointer(&trailer[0]), C.size_t(len(trailer)), cbool(prefault), C.int64_t(nbytes), cbool(cLinkFails), &c.mem, &c.fd)
	if r != 0 {
		return nil, int(r), int(c.fd), errnoOf(cerr)
	}
	return unsafe.Slice((*byte)(c.mem), total), 0, -1, nil
}

// createBuf is what sysCreateLinked hands to C: the directory and the path
// (prefix+path; NUL-terminated, one after the other) and room for the results. mem
// only ever holds the C mapping's address.
type createBuf struct {
	mem  unsafe.Pointer
	fd   C.int
	strs [512]byte
}

var createBufs = sync.Pool{New: func() any { return new(createBuf) }}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// sysMmap maps length bytes of fd shared. It is the package's one
// pointer-to-slice conversion.
func sysMmap(fd int, length int, prot int) ([]byte, error) {
	p, err := C.sa_mmap(C.size_t(length), C.int(prot), C.int(fd))
	if p == nil {
		return nil, errnoOf(err)
	}
	return unsafe.Slice((*byte)(p), length), nil
}

// sysMmapSource maps the first length bytes of the file fd read-only and
// private, for an import to read from; sysMunmap unmaps it.
func sysMmapSource(fd int, length int) ([]byte, error) {
	p, err := C.sa_mmap_private_read(C.size_t(length), C.int(fd))
	if p == nil {
		return nil, errnoOf(err)
	}
	return unsafe.Slice((*byte)(p), length), nil
}

// sysMunmap unmaps exactly the slice sysMmap returned.
func sysMunmap(b []byte) error {
	if r, err := C.sa_munmap(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(len(b))); r == -1 {
		return errnoOf(err)
	}
	return nil
}

// sysReserve replaces the mapping b with an inaccessible reservation of the
// same range, atomically: no moment leaves the range free for another
// mapping.
func sysReserve(b []byte) error {
	if r, err := C.sa_mmap_none_fixed(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(len(b))); r == -1 {
		return errnoOf(err)
	}
	return nil
}

// sysMunmapRange unmaps length bytes from the start of b: b and the
// mappings that follow it.
func sysMunmapRange(b []byte, length int) error {
	if r, err := C.sa_munmap(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(length)); r == -1 {
		return errnoOf(err)
	}
	return nil
}

func sysMsync(b []byte, flags int) error {
	if r, err := C.sa_msync(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(len(b)), C.int(flags)); r == -1 {
		return errnoOf(err)
	}
	return nil
}

func sysMlock(b []byte) error {
	if r, err := C.sa_mlock(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(len(b))); r == -1 {
		return errnoOf(err)
	}
	return nil
}

func sysMunlock(b []byte) error {
	if r, err := C.sa_munlock(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(len(b))); r == -1 {
		return errnoOf(err)
	}
	return nil
}

func sysMadvise(b []byte, advice int) error {
	if r, err := C.sa_madvise(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(len(b)), C.int(advice)); r == -1 {
		return errnoOf(err)
	}
	return nil
}

// sysUnlinkChecked removes name in dirfd if it is the file (dev, ino),
// through the private name tmp (sa_unlink_checked). moved reports that
// the rename happened: with ESTALE, another file is now at tmp.
func sysUnlinkChecked(dirfd int, name, tmp []byte, dev, ino uint64) (moved bool, err error) {
	var mv C.int
	if r, err := C.sa_unlink_checked(C.int(dirfd), cptr(name), cptr(tmp), C.uint64_t(dev), C.uint64_t(ino), &mv); r == -1 {
		return mv != 0, errnoOf(err)
	}
	return true, nil
}

// sysRenameNoreplace renames from to to in dirfd, never replacing to.
func sysRenameNoreplace(dirfd int, from, to []byte) error {
	if r, err := C.sa_rename_noreplace(C.int(dirfd), cptr(from), cptr(to)); r == -1 {
		return errnoOf(err)
	}
	return nil
}

func sysUnlinkat(dirfd int, name []byte) error {
	if r, err := C.sa_unlinkat(C.int(dirfd), cptr(name)); r == -1 {
		return errnoOf(err)
	}
	return nil
}

// sysLstatAt returns the status of name in dirfd, not following a link.
func sysLstatAt(dirfd int, name []byte) (fileStat, error) {
	var st C.sa_stat
	if r, err := C.sa_lstat_at(C.int(dirfd), cptr(name), &st); r == -1 {
		return fileStat{}, errnoOf(err)
	}
	return statOf(&st), nil
}

// sysOpenDir opens a directory as an O_PATH descriptor, for *at calls.
func sysOpenDir(path string) (int, error) {
	fd, err := C.sa_open_dir(cptr(cstr(path)))
	if fd == -1 {
		return -1, errnoOf(err)
	}
	return int(fd), nil
}

func sysLseek(fd int, off int64, whence int) (int64, error) {
	r, err := C.sa_lseek(C.int(fd), C.int64_t(off), C.int(whence))
	if r == -1 {
		return -1, errnoOf(err)
	}
	return int64(r), nil
}
