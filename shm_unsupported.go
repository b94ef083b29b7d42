//go:build !linux || !cgo || ppc64 || s390x || mips || mips64

package sharedarray

import (
	"errors"
	"fmt"
	"runtime"
)

// This build has no system-call layer: shared arrays need Linux (POSIX shm
// in /dev/shm, O_TMPFILE, fallocate), cgo (shm_open and the other calls
// are made in C) and a little-endian machine (the trailer is written
// little-endian and the dtypes are NumPy's little-endian ones, where
// SharedArray on a big-endian machine writes both big-endian). Everything that would touch a segment fails with an
// error wrapping errors.ErrUnsupported; the rest of the API (dtypes,
// layouts, names, .npy headers) works. docs/platforms.md says what a port
// would take.

// errUnsupported says why this build cannot share arrays.
var errUnsupported = unsupportedError()

func unsupportedError() error {
	if runtime.GOOS == "linux" {
		switch runtime.GOARCH {
		case "ppc64", "s390x", "mips", "mips64":
			return fmt.Errorf("shared arrays are implemented for little-endian machines only, not linux/%s (see docs/platforms.md): %w", runtime.GOARCH, errors.ErrUnsupported)
		}
		return fmt.Errorf("shared arrays need cgo; this program was built with CGO_ENABLED=0: %w", errors.ErrUnsupported)
	}
	return fmt.Errorf("shared arrays are implemented for linux only, not %s (see docs/platforms.md): %w", runtime.GOOS, errors.ErrUnsupported)
}

// tailBuf holds a file's last bytes (see shm_cgo.go).
type tailBuf struct{ tail [maxTrailer]byte }

func getTailBuf() *tailBuf { return new(tailBuf) }
func putTailBuf(*tailBuf)  {}

func shmOpen(string, int, uint32) (int, error)   { return -1, errUnsupported }
func shmUnlink(string) error                     { return errUnsupported }
func sysOpen(string, int, uint32) (int, error)   { return -1, errUnsupported }
func sysUnlink(string) error                     { return errUnsupported }
func sysClose(int) error                         { return errUnsupported }
func sysFtruncate(int, int64) error              { return errUnsupported }
func sysFallocate(int, int64, int64) error       { return errUnsupported }
func sysFstatTail(int) (fileStat, []byte, error) { return fileStat{}, nil, errUnsupported }
func sysFstatTailInto(int, *tailBuf) (fileStat, []byte, error) {
	return fileStat{}, nil, errUnsupported
}
func sysPwrite(int, []byte, int64) error       { return errUnsupported }
func linkFd(int, string, string) error         { return errUnsupported }
func sysMmap(int, int, int) ([]byte, error)    { return nil, errUnsupported }
func sysMmapSource(int, int) ([]byte, error)   { return nil, errUnsupported }
func sysMunmap([]byte) error                   { return errUnsupported }
func sysMunmapRange([]byte, int) error         { return errUnsupported }
func sysReserve([]byte) error                  { return errUnsupported }
func sysMsync([]byte, int) error               { return errUnsupported }
func sysMlock([]byte) error                    { return errUnsupported }
func sysMunlock([]byte) error                  { return errUnsupported }
func sysMadvise([]byte, int) error             { return errUnsupported }
func sysLstatAt(int, []byte) (fileStat, error) { return fileStat{}, errUnsupported }
func sysLseek(int, int64, int) (int64, error)  { return -1, errUnsupported }
func sysOpenDir(string) (int, error)           { return -1, errUnsupported }
func sysUnlinkChecked(int, []byte, []byte, uint64, uint64) (bool, error) {
	return false, errUnsupported
}
func sysRenameNoreplace(int, []byte, []byte) error { return errUnsupported }
func sysUnlinkat(int, []byte) error                { return errUnsupported }
func sysReadTailAt(int, []byte, *tailBuf) (fileStat, []byte, error) {
	return fileStat{}, nil, errUnsupported
}

func sysCreateLinked(string, string, string, uint32, int64, bool, []byte, bool, int64) ([]byte, int, int, error) {
	return nil, stageOpen, -1, errUnsupported
}

// List needs /dev/shm and the system-call layer.
func List() ([]Info, error) { return nil, pathError("list", shmDir, errUnsupported) }
