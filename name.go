package sharedarray

import (
	"fmt"
	"path/filepath"
	"strings"
)

// shmDir is where Linux (glibc) keeps POSIX shared memory objects.
const shmDir = "/dev/shm"

// Name limits, checked before any system call.
const (
	nameMax = 255  // NAME_MAX: one path component
	pathMax = 4096 // PATH_MAX, including the terminating NUL
)

// location is a parsed array name.
type location struct {
	shm  bool   // POSIX shared memory object, else a regular file
	path string // shm: the object name without leading '/'; file: the path
}

// linkPrefix is what goes before path to make the file system path.
func (l location) linkPrefix() string {
	if l.shm {
		return shmDir + "/"
	}
	return ""
}

// dir is the directory holding the segment.
func (l location) dir() string {
	if l.shm {
		return shmDir
	}
	return filepath.Dir(l.path)
}

// openDir returns a descriptor of the directory holding the segment (for
// the *at system calls) and the path of the segment relative to it. A
// file:// directory is opened, so its path is resolved once; the caller
// closes it. shm segments are named by absolute path under /dev/shm with
// dirfd atFdcwd: that directory is the system's, and no descriptor is
// kept open.
func (l location) openDir() (dirfd int, prefix, base string, err error) {
	if l.shm {
		return atFdcwd, shmDir + "/", l.path, nil
	}
	fd, err := sysOpenDir(filepath.Dir(l.path))
	return fd, "", filepath.Base(l.path), err
}

// atFdcwd is Linux's AT_FDCWD: *at calls resolve relative paths from the
// working directory.
const atFdcwd = -100

// parseName splits "shm://NAME", "file://PATH" or a bare NAME (shm), the
// way SharedArray does, and refuses what the system would refuse or
// misread: other schemes, empty names, NUL bytes, a '/' inside a shm name,
// "." and "..", and names over NAME_MAX (255 bytes). A shm name of up to
// 255 bytes is what the kernel accepts for /dev/shm/NAME and what glibc
// 2.34 and later pass through (glibc before 2.34 refused names of 254 and
// 255 bytes).
func parseName(name string) (location, error) {
	scheme, rest, found := strings.Cut(name, "://")
	if !found {
		scheme, rest = "shm", name
	}
	if strings.IndexByte(rest, 0) >= 0 {
		return location{}, fmt.Errorf("name holds a NUL byte: %w", ErrInvalid)
	}
	switch scheme {
	case "shm":
		rest = strings.TrimLeft(rest, "/")
		switch {
		case rest == "":
			return location{}, fmt.Errorf("empty shm name: %w", ErrInvalid)
		case strings.IndexByte(rest, '/') >= 0:
			return location{}, fmt.Errorf("shm name holds '/': %w", ErrInvalid)
		case rest == "." || rest == "..":
			return location{}, fmt.Errorf("shm name %q: %w", rest, ErrInvalid)
		case len(rest) > nameMax:
			return location{}, fmt.Errorf("shm name is %d bytes, over NAME_MAX (%d): %w", len(rest), nameMax, ErrInvalid)
		}
		return location{shm: true, path: rest}, nil
	case "file":
		if rest == "" {
			return location{}, fmt.Errorf("empty file path: %w", ErrInvalid)
		}
		if len(rest) >= pathMax {
			return location{}, fmt.Errorf("file path is %d bytes, over %d: %w", len(rest), pathMax-1, ErrInvalid)
		}
		for _, part := range strings.Split(rest, "/") {
			if len(part) > nameMax {
				return location{}, fmt.Errorf("path component is %d bytes, over %d: %w", len(part), nameMax, ErrInvalid)
			}
		}
		base := filepath.Base(rest)
		if strings.HasSuffix(rest, "/") || base == "." || base == ".." {
			return location{}, fmt.Errorf("file path %q names a directory: %w", rest, ErrInvalid)
		}
		return location{path: rest}, nil
	}
	return location{}, fmt.Errorf("unknown scheme %q (want shm:// or file://): %w", scheme, ErrInvalid)
}
