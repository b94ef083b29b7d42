package main

import (
	"errors"
	"strings"
)

// forcePath is the file path of an array name Delete parsed already: a
// file:// name loses its scheme, any other is a POSIX shared memory name
// under /dev/shm.
func forcePath(name string) string {
	if p, ok := strings.CutPrefix(name, "file://"); ok {
		return p
	}
	return "/dev/shm/" + strings.TrimLeft(strings.TrimPrefix(name, "shm://"), "/")
}

// errNotRegular is forceRemove's refusal of anything but a regular file.
var errNotRegular = errors.New("not a regular file; --force removes only regular files")
