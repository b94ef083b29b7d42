//go:build linux && cgo

package sharedarray

import (
	"encoding/binary"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// List returns every SharedArray in /dev/shm, of any layout, sorted by
// name, as SharedArray.list() does for its own layout. Info.Name is the bare
// shm name, which Attach accepts. Entries the directory reports as not
// regular files are skipped without being opened; the rest are opened
// without following links and without blocking (a FIFO never stalls the
// listing). Files that are not valid SharedArrays, cannot be read or vanish
// while listed are skipped too.
func List() ([]Info, error) {
	dirfd, err := unix.Open(shmDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, pathError("list", shmDir, err)
	}
	defer unix.Close(dirfd)
	names, err := regularNames(dirfd)
	if err != nil {
		return nil, pathError("list", shmDir, err)
	}
	slices.Sort(names)
	// One C call an entry (open relative to the directory, fstat, pread,
	// close) and one buffer for the whole listing.
	buf := new(tailBuf)
	cname := make([]byte, 0, 256)
	out := make([]Info, 0, len(names))
	for _, name := range names {
		if strings.HasPrefix(name, deletePrefix) {
			continue // being deleted
		}
		cname = append(append(cname[:0], name...), 0)
		st, tail, err := sysReadTailAt(dirfd, cname, buf)
		if err != nil {
			continue
		}
		if m, err := checkMeta(st, tail, name); err == nil {
			out = append(out, makeInfo(name, m, st))
		}
	}
	return slices.Clip(out), nil
}

// regularNames reads the directory dirfd with getdents64 and returns the
// names of its regular files (and of entries whose type the file system
// does not report; the open that follows checks them).
func regularNames(dirfd int) ([]string, error) {
	var names []string
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Getdents(dirfd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return names, nil
		}
		// struct linux_dirent64: d_ino u64, d_off i64, d_reclen u16,
		// d_type u8, d_name (NUL-terminated).
		for b := buf[:n]; len(b) >= 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:]))
			if reclen < 19 || reclen > len(b) {
				break
			}
			typ, name := b[18], b[19:reclen]
			if i := slices.Index(name, 0); i >= 0 {
				name = name[:i]
			}
			if (typ == unix.DT_REG || typ == unix.DT_UNKNOWN) && len(name) > 0 && string(name) != "." && string(name) != ".." {
				names = append(names, string(name))
			}
			b = b[reclen:]
		}
	}
}
