//go:build !linux

package sharedarray

// Off Linux the system-call layer (shm_unsupported.go) fails every call
// with errors.ErrUnsupported before any of these reach the system; they
// only let the portable files compile on every GOOS.
const (
	protRead  = 0x1
	protWrite = 0x2
	oTmpfile  = 0
	oNonblock = 0
	oNoctty   = 0
	oNofollow = 0
)

func addressSpaceLimit() (uint64, bool) { return 0, false }

func memlockLimit() (uint64, bool) { return 0, false }
