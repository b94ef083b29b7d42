package main

import (
	"os"
	"testing"
	"time"

	"github.com/sharedarray/sharedarray"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// sameFile holds an Info to the file Stat read: not one built by hand,
// not the file swapped in under its name, not the file once modified.
func TestSameFile(t *testing.T) {
	a, b := name(t), name(t)
	mkArray(t, a, 0)
	mkArray(t, b, 0)
	in, err := sharedarray.Stat(a)
	assert.NilError(t, err)
	fi, err := os.Lstat("/dev/shm/" + a)
	assert.NilError(t, err)
	assert.Assert(t, sameFile(in, fi))
	assert.Assert(t, !sameFile(sharedarray.Info{Name: a, Size: in.Size, ModTime: in.ModTime}, fi))
	assert.NilError(t, unix.Renameat2(unix.AT_FDCWD, "/dev/shm/"+a, unix.AT_FDCWD, "/dev/shm/"+b, unix.RENAME_EXCHANGE))
	fi, err = os.Lstat("/dev/shm/" + a)
	assert.NilError(t, err)
	assert.Assert(t, !sameFile(in, fi))
	fi, err = os.Lstat("/dev/shm/" + b)
	assert.NilError(t, err)
	assert.Assert(t, sameFile(in, fi))
	old := time.Now().Add(-time.Hour)
	assert.NilError(t, os.Chtimes("/dev/shm/"+b, old, old))
	fi, err = os.Lstat("/dev/shm/" + b)
	assert.NilError(t, err)
	assert.Assert(t, !sameFile(in, fi), "modified")
}
