//go:build race

package bigcopy

import (
	"runtime"
	"unsafe"
)

// raceCopy tells the race detector about the reads and writes of the
// assembly path, which the compiler does not instrument (the built-in copy
// it replaces is instrumented).
func raceCopy(dst, src []byte) {
	if len(dst) == 0 {
		return
	}
	runtime.RaceReadRange(unsafe.Pointer(unsafe.SliceData(src)), len(src))
	runtime.RaceWriteRange(unsafe.Pointer(unsafe.SliceData(dst)), len(dst))
}
