#include "textflag.h"

// func copy4x(dst, src unsafe.Pointer, blocks uintptr)
//
// For each 16 KiB block: 32 rounds, each copying 128 bytes from each of
// the block's four pages (loads, then non-temporal stores), the way
// glibc's large_memcpy_4x walks memory. A fault in a load or store is an
// ordinary Go memory fault at that instruction.
TEXT ·copy4x(SB), NOSPLIT, $0-24
	MOVQ	dst+0(FP), DI
	MOVQ	src+8(FP), SI
	MOVQ	blocks+16(FP), CX
	TESTQ	CX, CX
	JZ	done
block:
	MOVQ	$32, DX
round:
	VMOVDQU	0(SI), Y0
	VMOVDQU	32(SI), Y1
	VMOVDQU	64(SI), Y2
	VMOVDQU	96(SI), Y3
	VMOVNTDQ	Y0, 0(DI)
	VMOVNTDQ	Y1, 32(DI)
	VMOVNTDQ	Y2, 64(DI)
	VMOVNTDQ	Y3, 96(DI)
	VMOVDQU	4096(SI), Y0
	VMOVDQU	4128(SI), Y1
	VMOVDQU	4160(SI), Y2
	VMOVDQU	4192(SI), Y3
	VMOVNTDQ	Y0, 4096(DI)
	VMOVNTDQ	Y1, 4128(DI)
	VMOVNTDQ	Y2, 4160(DI)
	VMOVNTDQ	Y3, 4192(DI)
	VMOVDQU	8192(SI), Y0
	VMOVDQU	8224(SI), Y1
	VMOVDQU	8256(SI), Y2
	VMOVDQU	8288(SI), Y3
	VMOVNTDQ	Y0, 8192(DI)
	VMOVNTDQ	Y1, 8224(DI)
	VMOVNTDQ	Y2, 8256(DI)
	VMOVNTDQ	Y3, 8288(DI)
	VMOVDQU	12288(SI), Y0
	VMOVDQU	12320(SI), Y1
	VMOVDQU	12352(SI), Y2
	VMOVDQU	12384(SI), Y3
	VMOVNTDQ	Y0, 12288(DI)
	VMOVNTDQ	Y1, 12320(DI)
	VMOVNTDQ	Y2, 12352(DI)
	VMOVNTDQ	Y3, 12384(DI)
	ADDQ	$128, SI
	ADDQ	$128, DI
	DECQ	DX
	JNZ	round
	ADDQ	$12288, SI
	ADDQ	$12288, DI
	DECQ	CX
	JNZ	block
	SFENCE
	VZEROUPPER
done:
	RET
