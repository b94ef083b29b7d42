package main

import (
	"os"
	"syscall"
	"time"

	"github.com/sharedarray/sharedarray"
)

// changeTime returns the ctime of a file os.Lstat described, or false
// when the system does not say it.
func changeTime(fi os.FileInfo) (time.Time, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(st.Ctim.Unix()), true
}

// sameFile reports whether fi (from os.Lstat) describes the file in was
// read from, unchanged: the same device and inode number, size and
// modification time.
func sameFile(in sharedarray.Info, fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && in.Ino != 0 && uint64(st.Dev) == in.Dev && uint64(st.Ino) == in.Ino &&
		fi.Size() == in.Size && fi.ModTime().Equal(in.ModTime)
}
