package main

import (
	"os"
	"syscall"
	"time"
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
