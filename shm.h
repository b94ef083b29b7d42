/*
 * shm.h: the thin system-call layer under package sharedarray.
 *
 * One small function per system call. Each returns -1 (or NULL for sa_mmap)
 * and leaves errno set on failure, allocates nothing and never calls back
 * into Go. Strings are NUL-terminated buffers owned by the caller.
 */
#ifndef SHAREDARRAY_SHM_H
#define SHAREDARRAY_SHM_H

#include <stddef.h>
#include <stdint.h>

/* sa_stat is the part of struct stat the package uses. */
typedef struct {
	int64_t size;
	uint32_t mode;
	uint32_t uid;
	int64_t mtime_sec;
	int64_t mtime_nsec;
	uint64_t dev;
	uint64_t ino;
} sa_stat;

int sa_shm_open(const char *name, int oflag, unsigned mode);
int sa_shm_unlink(const char *name);
int sa_open(const char *path, int oflag, unsigned mode);
int sa_unlink(const char *path);
int sa_close(int fd);
int sa_ftruncate(int fd, int64_t length);
int sa_fallocate(int fd, int64_t off, int64_t length);
int sa_fstat(int fd, sa_stat *st);

/*
 * sa_fstat_tail fills st and, for a regular file, reads its last
 * min(size, cap) bytes into buf (retrying short reads and EINTR; fewer
 * only if the file shrank meanwhile). It returns the bytes read (0 for a
 * file that is not regular or is empty) or -1 with errno.
 */
int64_t sa_fstat_tail(int fd, sa_stat *st, void *buf, size_t cap);

/*
 * sa_read_tail_at opens name in the directory dirfd (read-only, never
 * following a link, never blocking), does sa_fstat_tail on it and closes
 * it: the whole per-entry work of a listing in one call.
 */
int64_t sa_read_tail_at(int dirfd, const char *name, sa_stat *st, void *buf, size_t cap);

/* sa_tail_result is what sa_read_tails_at found for one name. */
typedef struct {
	sa_stat st;
	int64_t got; /* bytes of tail read, or -1 */
	int32_t err; /* errno when got is -1 */
	int32_t pad;
} sa_tail_result;

/*
 * sa_read_tails_at does sa_read_tail_at for count names, stored one after
 * another in names, each NUL-terminated: result i goes to res[i] and its
 * tail to tails + i*cap. A listing's whole per-entry work in one call per
 * batch.
 */
void sa_read_tails_at(int dirfd, const char *names, int count, sa_tail_result *res, char *tails, size_t cap);
/*
 * sa_unlink_checked removes name in dirfd only if it is the file (dev,
 * ino) the caller validated: it renames name to the fresh name tmp
 * (renameat2 RENAME_NOREPLACE, else linkat+unlinkat: never replacing),
 * checks tmp's identity and unlinks it. *moved is set once the rename
 * succeeded; if tmp then holds another file (it took the name after
 * validation) it fails with ESTALE, leaving that file at tmp for the
 * caller to validate or rename back.
 */
int sa_unlink_checked(int dirfd, const char *name, const char *tmp, uint64_t dev, uint64_t ino, int *moved);

/* sa_rename_noreplace renames from to to in dirfd, never replacing to. */
int sa_rename_noreplace(int dirfd, const char *from, const char *to);
int sa_unlinkat(int dirfd, const char *name);

/* sa_lstat_at fills st for name in dirfd, not following a link. */
int sa_lstat_at(int dirfd, const char *name, sa_stat *st);

int sa_open_dir(const char *path);
int64_t sa_lseek(int fd, int64_t off, int whence);

int64_t sa_pwrite(int fd, const void *buf, size_t n, int64_t off);
int sa_link_fd(int fd, const char *newpath);

/* Stages of sa_create_linked, returned on failure. */
enum { SA_STAGE_OPEN = 1, SA_STAGE_SIZE, SA_STAGE_WRITE, SA_STAGE_MAP, SA_STAGE_POPULATE, SA_STAGE_LINK };

/*
 * sa_create_linked is Create's whole system-call sequence in one call:
 * open an O_TMPFILE file in dir with mode, size it to total (fallocate,
 * or ftruncate when sparse or where fallocate is not supported), write the
 * trailer (tlen bytes) at total - tlen, map total bytes read-write, with
 * populate_write populate the first nbytes (MADV_POPULATE_WRITE; a kernel
 * without it is ignored), link the file to path (exclusive: EEXIST if
 * taken) and close it. It returns 0 and the mapping in *mem, or the stage
 * that failed with errno set and nothing left behind, except that after
 * SA_STAGE_SIZE the descriptor is left open in *fd for the caller to
 * describe the file system and close. fail_link (tests only) makes the
 * link fail with ENOENT, as on a system without /proc.
 */
int sa_create_linked(const char *dir, const char *path, unsigned mode, int64_t total, int sparse,
                     const void *trailer, size_t tlen, int populate_write, int64_t nbytes, int fail_link,
                     void **mem, int *fd);
void *sa_mmap(size_t length, int prot, int fd);
/* sa_mmap_private_read maps length bytes of fd read-only, private. */
void *sa_mmap_private_read(size_t length, int fd);
int sa_munmap(void *addr, size_t length);
int sa_mmap_none_fixed(void *addr, size_t length);
int sa_msync(void *addr, size_t length, int flags);
int sa_mlock(void *addr, size_t length);
int sa_munlock(void *addr, size_t length);
int sa_madvise(void *addr, size_t length, int advice);

#endif
