package sharedarray

import (
	"os"
	"slices"
)

// List returns every SharedArray in /dev/shm, of any layout, sorted by
// name, as SharedArray.list() does for its own layout. Info.Name is the bare
// shm name, which Attach accepts. Entries that are not regular files are
// skipped without being opened (links are not followed, FIFOs never block
// the listing); files that are not valid SharedArrays, cannot be read or
// vanish while listed are skipped too.
func List() ([]Info, error) {
	d, err := os.Open(shmDir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ents, func(a, b os.DirEntry) int {
		switch {
		case a.Name() < b.Name():
			return -1
		case a.Name() > b.Name():
			return 1
		}
		return 0
	})
	// One C call an entry (open relative to the directory, fstat, pread,
	// close) and one buffer for the whole listing.
	dirfd := int(d.Fd())
	buf := new(tailBuf)
	cname := make([]byte, 0, 256)
	var out []Info
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		cname = append(append(cname[:0], e.Name()...), 0)
		st, tail, err := sysReadTailAt(dirfd, cname, buf)
		if err != nil {
			continue
		}
		if m, err := checkMeta(st, tail, e.Name()); err == nil {
			out = append(out, makeInfo(e.Name(), m, st))
		}
	}
	return out, nil
}
