//go:build linux && cgo && !(ppc64 || s390x || mips || mips64)

package sharedarray

import (
	"encoding/binary"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// List returns every SharedArray in /dev/shm, of any layout, sorted by
// name, as SharedArray.list() does for its own layout. Info.Name is the bare
// shm name, which Attach accepts. Entries the directory reports as not
// regular files are skipped without being opened; the rest are opened
// without following links and without blocking (a FIFO never stalls the
// listing). Files that are not valid SharedArrays, cannot be read or vanish
// while listed are skipped too, and so are names starting with
// ".sharedarray-delete-": the private names arrays pass through while
// Delete removes them (one that stays was left by a Delete killed
// between its rename and its unlink; `sharedarray gc` removes it). A long listing is read on up to four goroutines.
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
	names = slices.DeleteFunc(names, func(n string) bool { return strings.HasPrefix(n, deletePrefix) }) // being deleted
	slices.Sort(names)
	// The per-entry work (open relative to the directory, fstat, pread,
	// close) is done in C, tailBatchLen entries a call. Long listings are
	// split among a few goroutines, each with its own buffer: the kernel
	// work of one entry does not wait for another's.
	infos := make([]Info, len(names))
	valid := make([]bool, len(names))
	batches := (len(names) + tailBatchLen - 1) / tailBatchLen
	workers := min(batches, runtime.GOMAXPROCS(0), listWorkers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := new(tailBatch)
			cnames := make([]byte, 0, tailBatchLen*64)
			for {
				start := int(next.Add(1)-1) * tailBatchLen
				if start >= len(names) {
					return
				}
				todo := names[start:min(start+tailBatchLen, len(names))]
				cnames = cnames[:0]
				for _, name := range todo {
					cnames = append(append(cnames, name...), 0)
				}
				batch.sysReadTailsAt(dirfd, cnames, len(todo))
				for i, name := range todo {
					st, tail, err := batch.entry(i)
					if err != nil {
						continue
					}
					if m, err := checkMeta(st, tail, name); err == nil {
						infos[start+i], valid[start+i] = makeInfo(name, m, st), true
					}
				}
			}
		}()
	}
	wg.Wait()
	out := infos[:0]
	for i := range infos {
		if valid[i] {
			out = append(out, infos[i])
		}
	}
	return slices.Clip(out), nil
}

// listWorkers bounds the goroutines List reads entries with.
const listWorkers = 4

// Field offsets in a getdents64 record.
var (
	direntReclen = int(unsafe.Offsetof(unix.Dirent{}.Reclen))
	direntType   = int(unsafe.Offsetof(unix.Dirent{}.Type))
	direntName   = int(unsafe.Offsetof(unix.Dirent{}.Name))
)

// regularNames reads the directory dirfd with getdents64 and returns the
// names of its regular files (and of entries whose type the file system
// does not report; the open that follows checks them).
func regularNames(dirfd int) ([]string, error) {
	var names []string
	err := readDirents(dirfd, make([]byte, 64<<10), func(b []byte) {
		// struct linux_dirent64, as unix.Dirent declares it: d_ino,
		// d_off, d_reclen, d_type, d_name (NUL-terminated). ParseDirent
		// would drop d_type, which keeps non-regular entries unopened.
		for len(b) >= direntName {
			reclen := int(binary.NativeEndian.Uint16(b[direntReclen:]))
			if reclen < direntName || reclen > len(b) {
				break
			}
			typ, name := b[direntType], b[direntName:reclen]
			if i := slices.Index(name, 0); i >= 0 {
				name = name[:i]
			}
			if (typ == unix.DT_REG || typ == unix.DT_UNKNOWN) && len(name) > 0 && string(name) != "." && string(name) != ".." {
				names = append(names, string(name))
			}
			b = b[reclen:]
		}
	})
	if err != nil {
		return nil, err
	}
	return names, nil
}
