package sharedarray

import (
	"syscall"
	"time"
)

// The system-call layer is shm_cgo.go on Linux with cgo, and
// shm_unsupported.go everywhere else, where every call fails with
// errUnsupported. The rest of the package is portable Go.

// fileStat is what the package needs from fstat.
type fileStat struct {
	size    int64
	mode    uint32
	uid     uint32
	modTime time.Time
}

func (s fileStat) isRegular() bool { return s.mode&syscall.S_IFMT == syscall.S_IFREG }
