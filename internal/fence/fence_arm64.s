#include "textflag.h"

// func Full()
TEXT ·Full(SB), NOSPLIT, $0-0
	DMB	$0xb // ISH
	RET
