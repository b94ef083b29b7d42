package sharedarray

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Every mapping the package makes comes from mapSegment and leaves through
// unmapSegment (never handed out) or retire (Close). Two process-wide
// limits are kept here:
//
//   - vm.max_map_count: the kernel refuses a mapping beyond it, and the Go
//     runtime dies ("fatal error: out of memory") when its own next mapping
//     is refused. mapSegment refuses to map when the process would come
//     within mapHeadroom of the limit, with an error saying how to raise it.
//   - the quarantine: Close does not unmap. It replaces the range with an
//     inaccessible reservation (PROT_NONE, no memory, no file), so a slice
//     kept past Close faults instead of reaching whatever would be mapped
//     at that address next. The reservations of the most recent closes are
//     kept, up to quarantineMaps ranges and quarantineBytes of address
//     space; older ones are unmapped, and their addresses can be reused.

// The quarantine's bounds. A range larger than quarantineBytes is still
// kept, alone.
var (
	quarantineMaps  = 1024
	quarantineBytes = int64(64 << 30)
)

// mapRecount is how old the count of the process's mappings may get
// before mapSegment counts them again (/proc/self/maps).
const mapRecount = time.Second

// Test hooks: where the limit and the process's map count come from.
var (
	maxMapCountFunc = readMaxMapCount
	mapCountFunc    = countProcessMaps
)

var vm struct {
	mu sync.Mutex

	// closed holds the quarantined reservations, oldest first.
	closed      [][]byte
	closedBytes int64

	ours    int       // mappings and reservations the package holds now
	others  int       // the process's other mappings at the last count
	limit   int       // vm.max_map_count at the last count
	counted time.Time // when
}

// mapHeadroom is how many mappings below vm.max_map_count the package
// leaves to the rest of the process: the Go runtime maps its heap and
// thread stacks as it grows.
func mapHeadroom(limit int) int { return min(max(limit/16, 64), 16384) }

// A mapLimitError is the refusal to map past vm.max_map_count.
type mapLimitError struct{ maps, limit, headroom int }

func (e *mapLimitError) Error() string {
	return fmt.Sprintf("%v: the process has %d memory mappings and vm.max_map_count is %d, of which the last %d are left to the Go runtime; "+
		"close arrays, or raise the limit (sysctl -w vm.max_map_count=%d)",
		syscall.ENOMEM, e.maps, e.limit, e.headroom, max(2*e.limit, 262144))
}

func (e *mapLimitError) Unwrap() error { return syscall.ENOMEM }

// mapSegment maps length bytes of fd shared, unless that would bring the
// process within mapHeadroom of vm.max_map_count.
func mapSegment(fd int, length int, prot int) ([]byte, error) {
	if err := admitMapping(); err != nil {
		return nil, err
	}
	mem, err := sysMmap(fd, length, prot)
	if err != nil {
		return nil, mappingFailed(err, true)
	}
	return mem, nil
}

// admitMapping counts one more mapping of the package's, or refuses it
// near vm.max_map_count. A mapping that then fails is given back with
// mappingFailed.
func admitMapping() error {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if err := admitMap(); err != nil {
		return err
	}
	vm.ours++ // counted before the call, so a concurrent check sees it
	return nil
}

// mappingFailed gives back the count admitMapping took for a mapping that
// failed with err, and returns the error to report: an ENOMEM from mmap
// itself (mmap is true) near vm.max_map_count says which limit it is.
func mappingFailed(err error, mmap bool) error {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	vm.ours--
	if mmap && err == syscall.ENOMEM {
		recountMaps(time.Now())
		if vm.others+vm.ours+1 > vm.limit-mapHeadroom(vm.limit) {
			return &mapLimitError{vm.others + vm.ours, vm.limit, mapHeadroom(vm.limit)}
		}
	}
	return err
}

// admitMap checks, under vm.mu, that one more mapping leaves the headroom
// free. It trusts its own count between recounts and recounts when the
// last count is old or when the estimate says no, evicting quarantined
// reservations before it refuses.
func admitMap() error {
	now := time.Now()
	if vm.limit == 0 || now.Sub(vm.counted) >= mapRecount || vm.others+vm.ours+1 > vm.limit-mapHeadroom(vm.limit) {
		recountMaps(now)
	}
	for vm.others+vm.ours+1 > vm.limit-mapHeadroom(vm.limit) && len(vm.closed) > 0 {
		evictOldest()
	}
	if vm.others+vm.ours+1 > vm.limit-mapHeadroom(vm.limit) {
		return &mapLimitError{vm.others + vm.ours, vm.limit, mapHeadroom(vm.limit)}
	}
	return nil
}

// recountMaps reads the limit and counts the process's mappings. Where
// either cannot be read, the check is off until the next count.
func recountMaps(now time.Time) {
	vm.counted = now
	limit, err := maxMapCountFunc()
	n, err2 := mapCountFunc()
	if err != nil || err2 != nil || limit <= 0 {
		vm.limit, vm.others = math.MaxInt/2, 0
		return
	}
	vm.limit, vm.others = limit, max(n-vm.ours, 0)
}

// unmapSegment unmaps a mapping no slice of which has left the package.
func unmapSegment(mem []byte) error {
	err := sysMunmap(mem)
	if err == nil {
		vm.mu.Lock()
		vm.ours--
		vm.mu.Unlock()
	}
	return err
}

// retire takes a mapping out of use for good: its range becomes a
// quarantined reservation, or, where that fails or the quarantine is off,
// is unmapped.
func retire(mem []byte) error {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if quarantineMaps > 0 && sysReserve(mem) == nil {
		vm.closed = append(vm.closed, mem)
		vm.closedBytes += int64(len(mem))
		for len(vm.closed) > quarantineMaps || (vm.closedBytes > quarantineBytes && len(vm.closed) > 1) {
			evictOldest()
		}
		return nil
	}
	err := sysMunmap(mem)
	if err == nil {
		vm.ours--
	}
	return err
}

// evictOldest unmaps the oldest quarantined reservation, under vm.mu.
func evictOldest() {
	r := vm.closed[0]
	vm.closed[0] = nil
	vm.closed = vm.closed[1:]
	vm.closedBytes -= int64(len(r))
	if sysMunmap(r) == nil {
		vm.ours--
	}
}

// quarantined reports whether addr lies in a closed Array's reservation.
func quarantined(addr uintptr) bool {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	for _, r := range vm.closed {
		start := uintptr(unsafe.Pointer(unsafe.SliceData(r)))
		if addr >= start && addr-start < uintptr(len(r)) {
			return true
		}
	}
	return false
}

func readMaxMapCount() (int, error) {
	b, err := readSmallFile("/proc/sys/vm/max_map_count", make([]byte, 32))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(bytes.TrimSpace(b)))
}

// countProcessMaps counts the lines of /proc/self/maps: one a mapping.
func countProcessMaps() (int, error) {
	fd, err := syscall.Open("/proc/self/maps", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer syscall.Close(fd)
	buf := make([]byte, 64<<10)
	n := 0
	for {
		got, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if got == 0 {
			return n, nil
		}
		n += bytes.Count(buf[:got], []byte{'\n'})
	}
}

// readSmallFile reads a /proc file of at most len(buf) bytes.
func readSmallFile(path string, buf []byte) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	n := 0
	for n < len(buf) {
		got, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if got == 0 {
			break
		}
		n += got
	}
	return buf[:n], nil
}
