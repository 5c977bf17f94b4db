// SPDX-License-Identifier: MIT
#include "textflag.h"

// func spin20e(): an entry the kernel emulates under a uprobe (push %rbp).
TEXT ·spin20e(SB), NOSPLIT|NOFRAME, $0-0
	PUSHQ BP
	MOVQ SP, BP
	CALL ·spin20body(SB)
	POPQ BP
	RET
