/* SPDX-License-Identifier: MIT */
/*
 * bpf/ax_int.h - what the agent expression validator and compiler share.
 *
 * Internal to bpf/ax_check.c (the validator) and bpf/ax.c (the compiler);
 * nothing else includes it.  The validator decodes the bytecode into an
 * array of struct bpfc_ax_op, one per reachable instruction, with the
 * stack depth before it, its operand and, for a collection site, its
 * record block; the compiler reads that array and nothing else of the
 * bytecode.  Both name instructions from the one opcode table, and both
 * word their refusals the same way ("agent expression: ...").
 */
#ifndef BPF_AX_INT_H
#define BPF_AX_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <linux/types.h>

#include "bpf/ax.h"

enum bpfc_ax_kind {
	BPFC_AXK_BAD, /* not an opcode */
	BPFC_AXK_FLOAT,
	BPFC_AXK_PRINTF,
	BPFC_AXK_OK,
};

struct bpfc_ax_opinfo {
	const char *name;
	unsigned char kind;
	unsigned char osize;   /* operand bytes */
	unsigned char in, out; /* values consumed / produced (pick: see step() in ax_check.c) */
};

/* Indexed by opcode (ax_check.c). */
extern const struct bpfc_ax_opinfo bpfc_ax__optab[256];

/* One reachable instruction. */
struct bpfc_ax_op {
	__u64 arg; /* operand: constant, register, variable, size, pick index, jump target */
	__u64 len; /* trace*, tracenz: the length when BPFC_AX_OPF_STATIC */
	__u32 off; /* byte offset in the bytecode */
	__u32 blk; /* its block's offset from the expression's first block */
	__u32 cap; /* bytes its block reserves after the header */
	__u8 op;
	__u8 depth; /* stack depth before it */
	__u8 flags; /* OPF_* */
};

#define BPFC_AX_OPF_TARGET 0x1 /* a jump lands here */
#define BPFC_AX_OPF_STATIC 0x2 /* len is known */
#define BPFC_AX_OPF_BLOCK  0x4 /* writes the block at blk */

/* "agent expression: " + the formatted text into msg (one line, truncated to fit). */
void bpfc_ax__vput_msg(char *msg, size_t mlen, const char *fmt, va_list ap);

#endif
