package sharedarray

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
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

// The quarantine's bounds. It keeps at least the quarantineMaps most
// recently closed ranges, and at most quarantineBytes of address space, or
// an eighth of RLIMIT_AS where that is set (reservations count against
// it): when it holds quarantineMaps+evictBatch, the
// evictBatch oldest go, in as few munmap calls as they have contiguous
// runs (usually one: the kernel hands the freed addresses out again in
// the same order). Past quarantineBytes of address space the oldest go
// one by one; the most recent range is kept whatever its size.
var (
	quarantineMaps  = 1024
	quarantineBytes = int64(64 << 30)
)

const evictBatch = 64

// mapRecount is how old the count of the process's mappings may get
// before mapSegment counts them again (/proc/self/maps), unless counting
// took longer than a hundredth of that: the counts then take at most 1 %
// of the time.
const mapRecount = time.Second

// Test hooks: where the limit and the process's map count come from.
var (
	maxMapCountFunc = readMaxMapCount
	mapCountFunc    = countProcessMaps
)

var vm struct {
	mu sync.Mutex

	// closed is a ring of the quarantined reservations: n of them, the
	// oldest at closed[head]. It grows to the quarantine's bound and is
	// reused from then on.
	closed      [][]byte
	head, n     int
	closedBytes int64

	maxBytes int64 // quarantineBytes, or less under RLIMIT_AS

	ours    int       // mappings and reservations the package holds now
	others  int       // the process's other mappings at the last count
	limit   int       // vm.max_map_count at the last count
	counted time.Time // when
	took    time.Duration
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
	if err == syscall.ENOMEM && flushQuarantine() {
		mem, err = sysMmap(fd, length, prot) // the reservations were in the way (RLIMIT_AS)
	}
	if err != nil {
		return nil, mappingFailed(err, true)
	}
	return mem, nil
}

// flushQuarantine unmaps every quarantined reservation and reports
// whether there was any.
func flushQuarantine() bool {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	n := vm.n
	if n > 0 {
		evictOldest(n)
	}
	return n > 0
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
	if vm.limit == 0 || now.Sub(vm.counted) >= max(mapRecount, 100*vm.took) || vm.others+vm.ours+1 > vm.limit-mapHeadroom(vm.limit) {
		recountMaps(now)
	}
	if over := vm.others + vm.ours + 1 - (vm.limit - mapHeadroom(vm.limit)); over > 0 && vm.n > 0 {
		evictOldest(min(max(over, evictBatch), vm.n))
	}
	if vm.others+vm.ours+1 > vm.limit-mapHeadroom(vm.limit) {
		return &mapLimitError{vm.others + vm.ours, vm.limit, mapHeadroom(vm.limit)}
	}
	return nil
}

// recountMaps reads the limit and counts the process's mappings. Where
// either cannot be read, the check is off until the next count.
func recountMaps(now time.Time) {
	vm.maxBytes = 0 // RLIMIT_AS again, at the next close
	limit, err := maxMapCountFunc()
	n, err2 := mapCountFunc()
	vm.counted = time.Now()
	vm.took = vm.counted.Sub(now)
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
		pushClosed(mem)
		if vm.n >= quarantineMaps+evictBatch {
			evictOldest(evictBatch)
		}
		for vm.closedBytes > quarantineMaxBytes() && vm.n > 1 {
			evictOldest(1)
		}
		return nil
	}
	err := sysMunmap(mem)
	if err == nil {
		vm.ours--
	}
	return err
}

// pushClosed adds a reservation to the quarantine, under vm.mu.
func pushClosed(r []byte) {
	if vm.n == len(vm.closed) {
		ring := make([][]byte, max(2*vm.n, 16))
		for i := range vm.n {
			ring[i] = vm.closed[(vm.head+i)%len(vm.closed)]
		}
		vm.closed, vm.head = ring, 0
	}
	vm.closed[(vm.head+vm.n)%len(vm.closed)] = r
	vm.n++
	vm.closedBytes += int64(len(r))
}

// quarantineMaxBytes is the quarantine's address-space budget, under vm.mu.
func quarantineMaxBytes() int64 {
	if vm.maxBytes == 0 {
		vm.maxBytes = quarantineBytes
		if limit, ok := addressSpaceLimit(); ok && limit < uint64(math.MaxInt64) {
			vm.maxBytes = min(vm.maxBytes, int64(limit/8))
		}
	}
	return min(vm.maxBytes, quarantineBytes)
}

// evictOldest unmaps the k oldest quarantined reservations, under vm.mu,
// one munmap per run of adjacent ones.
func evictOldest(k int) {
	batch := make([][]byte, k)
	for i := range batch {
		batch[i] = vm.closed[vm.head]
		vm.closed[vm.head] = nil
		vm.head = (vm.head + 1) % len(vm.closed)
		vm.n--
		vm.closedBytes -= int64(len(batch[i]))
	}
	slices.SortFunc(batch, func(a, b []byte) int { return cmp.Compare(addrOf(a), addrOf(b)) })
	page := uintptr(syscall.Getpagesize())
	end := func(r []byte) uintptr { return (addrOf(r) + uintptr(len(r)) + page - 1) &^ (page - 1) }
	for i := 0; i < len(batch); {
		j := i + 1
		for j < len(batch) && addrOf(batch[j]) == end(batch[j-1]) {
			j++
		}
		if sysMunmapRange(batch[i], int(end(batch[j-1])-addrOf(batch[i]))) == nil {
			vm.ours -= j - i
		}
		i = j
	}
}

func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// quarantined reports whether addr lies in a closed Array's reservation.
func quarantined(addr uintptr) bool {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	for i := range vm.n {
		r := vm.closed[(vm.head+i)%len(vm.closed)]
		start := addrOf(r)
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
	return readUpTo(func(b []byte) (int, error) { return syscall.Read(fd, b) }, buf)
}

// readUpTo reads with read (syscall.Read of a descriptor: its type differs
// between systems) until buf is full or the file ends, retrying on EINTR,
// and returns what it read.
func readUpTo(read func([]byte) (int, error), buf []byte) ([]byte, error) {
	n := 0
	for n < len(buf) {
		got, err := read(buf[n:])
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
