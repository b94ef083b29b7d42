package bigcopy

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// fast: the AVX2 non-temporal path (cpu.X86.HasAVX2 includes the OS's
// support for the AVX state).
var fast = cpu.X86.HasAVX2

// copy4x copies blocks*16 KiB from src to dst, four 4 KiB pages at a time
// (128 bytes of each page in turn), with non-temporal stores. dst must be
// 32-byte aligned; the ranges must not overlap. Implemented in
// bigcopy_amd64.s.
//
//go:noescape
func copy4x(dst, src unsafe.Pointer, blocks uintptr)
