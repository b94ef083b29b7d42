//go:build !amd64

package bigcopy

import "unsafe"

// fast: no faster path than Go's copy on this architecture.
var fast = false

func copy4x(dst, src unsafe.Pointer, blocks uintptr) {
	n := int(blocks) * blockSize
	copy(unsafe.Slice((*byte)(dst), n), unsafe.Slice((*byte)(src), n))
}
