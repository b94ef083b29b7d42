//go:build !linux

package main

import (
	"os"
	"syscall"
)

// forceRemove removes a regular file that Delete refused as not a valid
// SharedArray. Delete parsed the name already; only the scheme goes. It
// never removes a directory (unlink(2), unlike os.Remove, does not fall
// back to rmdir), nor a link, FIFO, socket or device.
func forceRemove(name string) error {
	path := forcePath(name)
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errNotRegular
	}
	return syscall.Unlink(path)
}
