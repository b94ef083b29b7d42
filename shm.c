//go:build linux && cgo && !(ppc64 || s390x || mips || mips64)

/*
 * shm.c: see shm.h. Linux only.
 */
#define _GNU_SOURCE
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

int sa_shm_open(const char *name, int oflag, unsigned mode) {
	return shm_open(name, oflag | O_CLOEXEC, (mode_t)mode);
}

int sa_shm_unlink(const char *name) { return shm_unlink(name); }

int sa_open(const char *path, int oflag, unsigned mode) {
	return open(path, oflag | O_CLOEXEC, (mode_t)mode);
}

int sa_unlink(const char *path) { return unlink(path); }

int sa_close(int fd) { return close(fd); }

int sa_ftruncate(int fd, int64_t length) { return ftruncate(fd, (off_t)length); }

/* sa_fallocate reserves [off, off+length), extending the file if needed. */
int sa_fallocate(int fd, int64_t off, int64_t length) { return fallocate(fd, 0, (off_t)off, (off_t)length); }

static void fill_stat(sa_stat *st, const struct stat *s) {
	st->dev = (uint64_t)s->st_dev;
	st->ino = (uint64_t)s->st_ino;
	st->size = (int64_t)s->st_size;
	st->mode = (uint32_t)s->st_mode;
	st->uid = (uint32_t)s->st_uid;
	st->mtime_sec = (int64_t)s->st_mtim.tv_sec;
	st->mtime_nsec = (int64_t)s->st_mtim.tv_nsec;
}

int sa_fstat(int fd, sa_stat *st) {
	struct stat s;
	if (fstat(fd, &s) == -1)
		return -1;
	fill_stat(st, &s);
	return 0;
}

int64_t sa_fstat_tail(int fd, sa_stat *st, void *buf, size_t cap) {
	if (sa_fstat(fd, st) == -1)
		return -1;
	if (!S_ISREG(st->mode) || st->size <= 0)
		return 0;
	size_t n = st->size < (int64_t)cap ? (size_t)st->size : cap;
	off_t off = (off_t)(st->size - (int64_t)n);
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break; /* shrank since fstat: the caller sees fewer bytes */
		got += (size_t)r;
	}
	return (int64_t)got;
}

int64_t sa_read_tail_at(int dirfd, const char *name, sa_stat *st, void *buf, size_t cap) {
	int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	int64_t got = sa_fstat_tail(fd, st, buf, cap);
	int saved = errno;
	close(fd);
	errno = saved;
	return got;
}

void sa_read_tails_at(int dirfd, const char *names, int count, sa_tail_result *res, char *tails, size_t cap) {
	for (int i = 0; i < count; i++) {
		res[i].got = sa_read_tail_at(dirfd, names, &res[i].st, tails + (size_t)i * cap, cap);
		res[i].err = res[i].got == -1 ? errno : 0;
		names += strlen(names) + 1;
	}
}

/* rename_noreplace renames without replacing to; where the file system
 * lacks RENAME_NOREPLACE, link then unlink, which never replaces either. */
static int rename_noreplace(int dirfd, const char *from, const char *to) {
	if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (linkat(dirfd, from, dirfd, to, 0) == -1)
		return -1;
	return unlinkat(dirfd, from, 0);
}

int sa_unlink_checked(int dirfd, const char *name, const char *tmp, uint64_t dev, uint64_t ino, int *moved) {
	*moved = 0;
	if (rename_noreplace(dirfd, name, tmp) == -1)
		return -1;
	*moved = 1;
	struct stat s;
	if (fstatat(dirfd, tmp, &s, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if ((uint64_t)s.st_dev != dev || (uint64_t)s.st_ino != ino) {
		errno = ESTALE; /* another file took the name after validation */
		return -1;
	}
	return unlinkat(dirfd, tmp, 0);
}

int sa_rename_noreplace(int dirfd, const char *from, const char *to) { return rename_noreplace(dirfd, from, to); }

int sa_unlinkat(int dirfd, const char *name) { return unlinkat(dirfd, name, 0); }

int sa_lstat_at(int dirfd, const char *name, sa_stat *st) {
	struct stat s;
	if (fstatat(dirfd, name, &s, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	fill_stat(st, &s);
	return 0;
}

int64_t sa_lseek(int fd, int64_t off, int whence) { return (int64_t)lseek(fd, (off_t)off, whence); }

int sa_open_dir(const char *path) { return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC); }

int64_t sa_pwrite(int fd, const void *buf, size_t n, int64_t off) {
	return (int64_t)pwrite(fd, buf, n, (off_t)off);
}

/*
 * sa_link_fd gives the open file fd (an O_TMPFILE file) the name newpath.
 * It fails with EEXIST when newpath exists, so publishing is exclusive.
 */
int sa_link_fd(int fd, const char *newpath) {
	/* AT_EMPTY_PATH is one path walk less, but needs CAP_DAC_READ_SEARCH
	 * on older kernels; /proc/self/fd works for everyone. */
	if (linkat(fd, "", AT_FDCWD, newpath, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM)
		return -1;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, newpath, AT_SYMLINK_FOLLOW);
}

int sa_create_linked(const char *dir, const char *path, unsigned mode, int64_t total, int sparse,
                     const void *trailer, size_t tlen, int populate_write, int64_t nbytes, int fail_link,
                     void **mem, int *fdout) {
	*mem = NULL;
	*fdout = -1;
	int fd = open(dir, O_RDWR | O_TMPFILE | O_CLOEXEC, (mode_t)mode);
	if (fd == -1)
		return SA_STAGE_OPEN;
	int r = sparse ? -1 : fallocate(fd, 0, 0, (off_t)total);
	if (sparse || (r == -1 && errno == EOPNOTSUPP))
		r = ftruncate(fd, (off_t)total);
	if (r == -1) {
		*fdout = fd;
		return SA_STAGE_SIZE;
	}
	int stage = SA_STAGE_WRITE;
	const char *t = trailer;
	off_t off = (off_t)(total - (int64_t)tlen);
	while (tlen > 0) {
		ssize_t w = pwrite(fd, t, tlen, off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			goto fail;
		}
		t += w;
		tlen -= (size_t)w;
		off += w;
	}
	stage = SA_STAGE_MAP;
	void *p = mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	stage = SA_STAGE_POPULATE;
	if (populate_write && nbytes > 0 && madvise(p, (size_t)nbytes, MADV_POPULATE_WRITE) == -1 && errno != EINVAL)
		goto unmap;
	stage = SA_STAGE_LINK;
	if (fail_link) {
		errno = ENOENT;
		goto unmap;
	}
	if (sa_link_fd(fd, path) == -1)
		goto unmap;
	close(fd);
	*mem = p;
	return 0;
unmap:
	r = errno;
	munmap(p, (size_t)total);
	errno = r;
fail:
	r = errno;
	close(fd);
	errno = r;
	return stage;
}

void *sa_mmap(size_t length, int prot, int fd) {
	void *p = mmap(NULL, length, prot, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

void *sa_mmap_private_read(size_t length, int fd) {
	void *p = mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

int sa_munmap(void *addr, size_t length) { return munmap(addr, length); }

/*
 * sa_mmap_none_fixed replaces [addr, addr+length) with an inaccessible
 * anonymous reservation in one step (MAP_FIXED): the old mapping is gone,
 * no page or file backs the range, and touching it faults.
 */
int sa_mmap_none_fixed(void *addr, size_t length) {
	void *p = mmap(addr, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? -1 : 0;
}

int sa_msync(void *addr, size_t length, int flags) { return msync(addr, length, flags); }

int sa_mlock(void *addr, size_t length) { return mlock(addr, length); }

int sa_munlock(void *addr, size_t length) { return munlock(addr, length); }

int sa_madvise(void *addr, size_t length, int advice) { return madvise(addr, length, advice); }
