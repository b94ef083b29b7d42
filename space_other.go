//go:build !linux

package sharedarray

import "syscall"

// Outside Linux no segment is ever reserved (see shm_unsupported.go):
// there is nothing to check.

func checkSpace(dir string, total int64) error { return nil }

func fits(dir string, total int64) error { return errUnsupported }

func spaceError(fd int, total int64) error {
	return &SpaceError{Need: total, Avail: -1, Size: -1, Where: WhereFileSystem, Err: syscall.ENOSPC}
}
