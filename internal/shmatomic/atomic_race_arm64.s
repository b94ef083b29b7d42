//go:build race

#include "textflag.h"

// Sequentially consistent as sync/atomic on arm64: LDAR loads, STLR
// stores, LDAXR/STLXR loops for read-modify-writes (ARMv8.0, no LSE
// needed).

// func Load32(p *uint32) uint32
TEXT ·Load32(SB), NOSPLIT, $0-12
	MOVD	p+0(FP), R0
	LDARW	(R0), R0
	MOVW	R0, ret+8(FP)
	RET

// func Load64(p *uint64) uint64
TEXT ·Load64(SB), NOSPLIT, $0-16
	MOVD	p+0(FP), R0
	LDAR	(R0), R0
	MOVD	R0, ret+8(FP)
	RET

// func Store32(p *uint32, v uint32)
TEXT ·Store32(SB), NOSPLIT, $0-12
	MOVD	p+0(FP), R0
	MOVW	v+8(FP), R1
	STLRW	R1, (R0)
	RET

// func Store64(p *uint64, v uint64)
TEXT ·Store64(SB), NOSPLIT, $0-16
	MOVD	p+0(FP), R0
	MOVD	v+8(FP), R1
	STLR	R1, (R0)
	RET

// func Add32(p *uint32, delta uint32) uint32
TEXT ·Add32(SB), NOSPLIT, $0-20
	MOVD	p+0(FP), R0
	MOVW	delta+8(FP), R1
again:
	LDAXRW	(R0), R2
	ADDW	R1, R2, R2
	STLXRW	R2, (R0), R3
	CBNZ	R3, again
	MOVW	R2, ret+16(FP)
	RET

// func Add64(p *uint64, delta uint64) uint64
TEXT ·Add64(SB), NOSPLIT, $0-24
	MOVD	p+0(FP), R0
	MOVD	delta+8(FP), R1
again:
	LDAXR	(R0), R2
	ADD	R1, R2, R2
	STLXR	R2, (R0), R3
	CBNZ	R3, again
	MOVD	R2, ret+16(FP)
	RET

// func And32(p *uint32, mask uint32)
TEXT ·And32(SB), NOSPLIT, $0-12
	MOVD	p+0(FP), R0
	MOVW	mask+8(FP), R1
again:
	LDAXRW	(R0), R2
	ANDW	R1, R2, R2
	STLXRW	R2, (R0), R3
	CBNZ	R3, again
	RET

// func Or32(p *uint32, mask uint32)
TEXT ·Or32(SB), NOSPLIT, $0-12
	MOVD	p+0(FP), R0
	MOVW	mask+8(FP), R1
again:
	LDAXRW	(R0), R2
	ORRW	R1, R2, R2
	STLXRW	R2, (R0), R3
	CBNZ	R3, again
	RET
