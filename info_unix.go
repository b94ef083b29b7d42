//go:build unix

package sharedarray

import (
	"io/fs"
	"syscall"
)

// SameFile reports whether fi (from os.Lstat or os.Stat) describes the
// file the Info was read from, unchanged: the same device and inode
// number, size and modification time. It is false for an Info that List
// or Stat did not return, and for a nil fi (what a failed os.Lstat returns).
func (i Info) SameFile(fi fs.FileInfo) bool {
	if fi == nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && i.id != (fileID{}) && i.id == fileID{uint64(st.Dev), uint64(st.Ino)} &&
		fi.Size() == i.Size && fi.ModTime().Equal(i.ModTime)
}
