package sharedarray

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// A SpaceError reports that a segment does not fit: the file system is
// full, or the memory the system can still give is smaller than the
// segment. It unwraps to syscall.ENOSPC or syscall.ENOMEM.
type SpaceError struct {
	Need  int64  // bytes the segment needs
	Avail int64  // bytes available, -1 if unknown
	Where string // "file system" or "memory (MemAvailable)"
	Err   error  // syscall.ENOSPC or syscall.ENOMEM
}

func (e *SpaceError) Error() string {
	avail := "unknown"
	if e.Avail >= 0 {
		avail = fmt.Sprintf("%d bytes (%s)", e.Avail, human(e.Avail))
	}
	s := fmt.Sprintf("%v: need %d bytes (%s), %s has %s available", e.Err, e.Need, human(e.Need), e.Where, avail)
	if e.Err == syscall.ENOMEM {
		s += "; SkipMemoryCheck() overrides this check"
	}
	return s
}

func (e *SpaceError) Unwrap() error { return e.Err }

// spaceError describes an ENOSPC from reserving total bytes on fd.
func spaceError(fd int, total int64) error {
	var st syscall.Statfs_t
	avail := int64(-1)
	if syscall.Fstatfs(fd, &st) == nil {
		avail = int64(st.Bavail) * int64(st.Bsize)
	}
	return &SpaceError{Need: total, Avail: avail, Where: "file system", Err: syscall.ENOSPC}
}

// memCheckFloor is the size under which Create does not read
// /proc/meminfo: such a segment cannot, alone, exhaust memory.
const memCheckFloor = 64 << 20

// checkMemory refuses to reserve a shm segment larger than MemAvailable:
// tmpfs pages are memory, and reserving more than is available could make
// the OOM killer choose a victim.
func checkMemory(total int64) error {
	if total < memCheckFloor {
		return nil
	}
	avail, err := memAvailableFunc()
	if err != nil || total <= avail {
		return nil // unknown: let the reservation decide
	}
	return &SpaceError{Need: total, Avail: avail, Where: "memory (MemAvailable)", Err: syscall.ENOMEM}
}

// memAvailableFunc is memAvailable; tests replace it.
var memAvailableFunc = memAvailable

// memAvailable reads MemAvailable from /proc/meminfo, in bytes.
func memAvailable() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no MemAvailable in /proc/meminfo")
}

// human formats a byte count with a binary unit.
func human(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", f, units[i])
}
