//go:build !linux

package main

import (
	"errors"
	"os"
	"strings"
	"syscall"
)

// forceRemove removes a regular file that Delete refused as not a valid
// SharedArray. Delete parsed the name already; only the scheme goes. It
// never removes a directory (unlink(2), unlike os.Remove, does not fall
// back to rmdir), nor a link, FIFO, socket or device.
func forceRemove(name string) error {
	path := name
	if p, ok := strings.CutPrefix(name, "file://"); ok {
		path = p
	} else {
		path = "/dev/shm/" + strings.TrimLeft(strings.TrimPrefix(name, "shm://"), "/")
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file; --force removes only regular files")
	}
	return syscall.Unlink(path)
}
