#include "textflag.h"

// func seqFence()
TEXT ·seqFence(SB), NOSPLIT, $0-0
	DMB	$0xb // ISH
	RET
