//go:build linux

package main

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// forceRemove removes a regular file that Delete refused as not a valid
// SharedArray. Delete parsed the name already; only the scheme goes. It
// never removes a directory (unlink(2), unlike os.Remove, does not fall
// back to rmdir), nor a link, FIFO, socket or device, and it removes the
// very file it checked: the name is moved to a private name beside it
// (never replacing one), checked there and unlinked, or moved back if
// another process swapped another file in after the check.
func forceRemove(name string) error {
	path := forcePath(name)
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return errNotRegular
	}
	if rmBeforeRemove != nil {
		rmBeforeRemove(path)
	}
	tmp := fmt.Sprintf("%s%x", deletePrefix, rand.Uint64())
	if err := renameNoreplace(dfd, base, tmp); err != nil {
		return err
	}
	var now unix.Stat_t
	err = unix.Fstatat(dfd, tmp, &now, unix.AT_SYMLINK_NOFOLLOW)
	if err == nil {
		if now.Dev == st.Dev && now.Ino == st.Ino && now.Mode&unix.S_IFMT == unix.S_IFREG {
			return unix.Unlinkat(dfd, tmp, 0)
		}
		err = fmt.Errorf("another file took the name after it was checked; it was left in place: %w", syscall.ESTALE)
	}
	if rerr := renameNoreplace(dfd, tmp, base); rerr != nil {
		return fmt.Errorf("%w, and moving the file back failed (%v): it is now named %s", err, rerr, quote(filepath.Join(dir, tmp)))
	}
	return err
}

// rmBeforeRemove, when a test sets it, runs in forceRemove between the
// check and the removal.
var rmBeforeRemove func(path string)

// renameNoreplace renames from to to in the directory dfd, never replacing
// to; where the file system lacks RENAME_NOREPLACE, it links then unlinks,
// which never replaces either (as sharedarray.Delete does).
func renameNoreplace(dfd int, from, to string) error {
	err := unix.Renameat2(dfd, from, dfd, to, unix.RENAME_NOREPLACE)
	if err != unix.EINVAL && err != unix.ENOSYS {
		return err
	}
	if err := unix.Linkat(dfd, from, dfd, to, 0); err != nil {
		return err
	}
	return unix.Unlinkat(dfd, from, 0)
}
