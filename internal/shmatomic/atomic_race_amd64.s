//go:build race

#include "textflag.h"

// Sequentially consistent as sync/atomic on amd64: plain loads (TSO),
// XCHG for stores, LOCK-prefixed read-modify-writes.

// func Load32(p *uint32) uint32
TEXT ·Load32(SB), NOSPLIT, $0-12
	MOVQ	p+0(FP), AX
	MOVL	0(AX), AX
	MOVL	AX, ret+8(FP)
	RET

// func Load64(p *uint64) uint64
TEXT ·Load64(SB), NOSPLIT, $0-16
	MOVQ	p+0(FP), AX
	MOVQ	0(AX), AX
	MOVQ	AX, ret+8(FP)
	RET

// func Store32(p *uint32, v uint32)
TEXT ·Store32(SB), NOSPLIT, $0-12
	MOVQ	p+0(FP), BX
	MOVL	v+8(FP), AX
	XCHGL	AX, 0(BX)
	RET

// func Store64(p *uint64, v uint64)
TEXT ·Store64(SB), NOSPLIT, $0-16
	MOVQ	p+0(FP), BX
	MOVQ	v+8(FP), AX
	XCHGQ	AX, 0(BX)
	RET

// func Add32(p *uint32, delta uint32) uint32
TEXT ·Add32(SB), NOSPLIT, $0-20
	MOVQ	p+0(FP), BX
	MOVL	delta+8(FP), AX
	MOVL	AX, CX
	LOCK
	XADDL	AX, 0(BX)
	ADDL	CX, AX
	MOVL	AX, ret+16(FP)
	RET

// func Add64(p *uint64, delta uint64) uint64
TEXT ·Add64(SB), NOSPLIT, $0-24
	MOVQ	p+0(FP), BX
	MOVQ	delta+8(FP), AX
	MOVQ	AX, CX
	LOCK
	XADDQ	AX, 0(BX)
	ADDQ	CX, AX
	MOVQ	AX, ret+16(FP)
	RET

// func And32(p *uint32, mask uint32)
TEXT ·And32(SB), NOSPLIT, $0-12
	MOVQ	p+0(FP), BX
	MOVL	mask+8(FP), AX
	LOCK
	ANDL	AX, 0(BX)
	RET

// func Or32(p *uint32, mask uint32)
TEXT ·Or32(SB), NOSPLIT, $0-12
	MOVQ	p+0(FP), BX
	MOVL	mask+8(FP), AX
	LOCK
	ORL	AX, 0(BX)
	RET
