//go:build !linux

package sharedarray

import (
	"errors"
	"fmt"
	"time"
	_ "unsafe" // go:linkname
)

// Frame rings need Linux futexes and OFD locks.

func futexWait(addr *uint32, val uint32, d time.Duration) {}
func futexWake(addr *uint32)                              {}

func (r *ring) lockByte(b int) error     { return errors.ErrUnsupported }
func (r *ring) writeLocked(b int) bool   { return false }
func (r *ring) readLocker(b int) string  { return "" }
func (r *ring) lockedReaderBytes() []int { return nil }

//go:linkname nanotime runtime.nanotime
func nanotime() int64

func ringSupported() error {
	return fmt.Errorf("frame rings need Linux (futex, OFD locks): %w", errors.ErrUnsupported)
}
