/* SPDX-License-Identifier: MIT */
/*
 * bpf/fpchain.c - the frame-pointer walk, emitted (see fpchain.h).
 *
 * The walk is unrolled: step k loads the address to read from the record
 * itself (rbp at the hit, then the saved rbp record k - 1 holds), checks
 * it against rsp and the record before it, and reads 16 bytes there into
 * record k.  Every failed check jumps forward to the end of the walk, so
 * the program has no back edge and every size is a constant: the
 * verifier sees `frames` short straight blocks.  Nothing lives in a
 * register across a helper call but r6, r7 and r9 (ctx, record, block),
 * so the walk needs no scratch stack either.
 *
 * The window is read last, so the program knows by then whether the chain
 * held (at least BPFC_FP_MIN_CHAIN records): if so, `window` bytes at rsp;
 * if not, the records' space too, as one wide window.  Like a plain stack
 * window (collect.c, BPFC_MEM_CLAMP), a read that runs off the top of the
 * stack mapping fails whole, so it is retried up to each page boundary
 * inside it, last first.
 */
#include <errno.h>

#include "bpf/fpchain.h"
#include "bpf/insn.h"

#define GDB_RBP 6
#define GDB_RSP 7

int bpfc_fp__check(const struct bpfc_fp *fp)
{
	if (!fp || !fp->frames || fp->frames > BPFC_FP_FRAMES_MAX || fp->window < 8 ||
	    fp->window > BPFC_FP_WINDOW_MAX || (fp->window & 7))
		return -EINVAL;
	return 0;
}

/* Offset in the block of record k. */
static int rec_off(const struct bpfc_fp *fp, __u32 k)
{
	return (int)(BPFC_FBLK_HDR + fp->window + 16u * k);
}

/*
 * `len` bytes at rsp into the area, clamped below the first unmapped page;
 * the bytes read into the LEN field.  Ends with a jump to l_end.
 */
static void emit_window(struct bpfc_emit *e, __u32 len, int l_end)
{
	__u32 k, tries = len / 4096 + 1;
	int l_retry = bpfc_emit__label(e);

	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R9));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, BPFC_FBLK_HDR));
	bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R2, (__s32)len));
	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R3, BPFC_R9, BPFC_FBLK_OFF_ADDR));
	bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_user));
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), l_retry);
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_H, BPFC_R9, BPFC_FBLK_OFF_LEN, (__s32)len));
	bpfc_emit__jmp(e, BPF_JMP_A(0), l_end);
	bpfc_emit__bind(e, l_retry);
	for (k = 0; k < tries; k++) {
		/* r2 = ((rsp + len) & -4096) - k * 4096 - rsp, in 1..len */
		bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R3, BPFC_R9, BPFC_FBLK_OFF_ADDR));
		bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R2, BPFC_R3));
		bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, (__s32)len));
		bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_AND, BPFC_R2, -4096));
		if (k)
			bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_SUB, BPFC_R2, (__s32)(k * 4096)));
		bpfc_emit__insn(e, BPF_ALU64_REG(BPF_SUB, BPFC_R2, BPFC_R3));
		bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JSLE, BPFC_R2, 0, 0), l_end);
		bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JGT, BPFC_R2, (__s32)len, 0), l_end);
		bpfc_emit__insn(e, BPF_STX_MEM(BPF_H, BPFC_R9, BPFC_R2, BPFC_FBLK_OFF_LEN));
		bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R9));
		bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, BPFC_FBLK_HDR));
		bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_user));
		bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JEQ, BPFC_R0, 0, 0), l_end);
		bpfc_emit__insn(e, BPF_ST_MEM(BPF_H, BPFC_R9, BPFC_FBLK_OFF_LEN, 0));
	}
	bpfc_emit__jmp(e, BPF_JMP_A(0), l_end);
}

void bpfc_fp__emit(struct bpfc_emit *e, const struct bpfc_fp *fp, size_t blk_off)
{
	int l_walked = bpfc_emit__label(e), l_chain = bpfc_emit__label(e);
	int l_end = bpfc_emit__label(e);
	__u32 k;

	bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R9, BPFC_R7));
	bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R9, (__s32)blk_off));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, 0, BPFC_BLK_FPCHAIN));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, BPFC_FBLK_OFF_FLAGS, 0));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, BPFC_FBLK_OFF_N, 0));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, BPFC_FBLK_OFF_CAP, (__s32)fp->frames));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_H, BPFC_R9, BPFC_FBLK_OFF_WCAP, (__s32)fp->window));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_H, BPFC_R9, BPFC_FBLK_OFF_LEN, 0));
	bpfc_emit__insn(e,
			BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R6, bpfc_regs__ptregs_offset(GDB_RBP)));
	bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R9, BPFC_R1, BPFC_FBLK_OFF_FP0));
	bpfc_emit__insn(e,
			BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R6, bpfc_regs__ptregs_offset(GDB_RSP)));
	bpfc_emit__insn(e, BPF_STX_MEM(BPF_DW, BPFC_R9, BPFC_R1, BPFC_FBLK_OFF_ADDR));

	for (k = 0; k < fp->frames; k++) {
		/* r3 = where record k is: rbp, then the saved rbp of record k - 1 */
		if (k == 0) {
			bpfc_emit__insn(e,
					BPF_LDX_MEM(BPF_DW, BPFC_R3, BPFC_R9, BPFC_FBLK_OFF_FP0));
			/* at or above rsp */
			bpfc_emit__insn(e,
					BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R9, BPFC_FBLK_OFF_ADDR));
		} else {
			bpfc_emit__insn(e,
					BPF_LDX_MEM(BPF_DW, BPFC_R3, BPFC_R9, rec_off(fp, k - 1)));
			/* past the record before it: prev + 16 (prev is below rsp + 8 MiB) */
			bpfc_emit__insn(
				e, BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R9,
					       k == 1 ? BPFC_FBLK_OFF_FP0 : rec_off(fp, k - 2)));
			bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, 16));
		}
		bpfc_emit__jmp(e, BPF_JMP_REG(BPF_JLT, BPFC_R3, BPFC_R1, 0), l_walked);
		bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JSET, BPFC_R3, 7, 0), l_walked);
		/* within BPFC_FP_SPAN of rsp */
		bpfc_emit__insn(e, BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R9, BPFC_FBLK_OFF_ADDR));
		bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R2, BPFC_R3));
		bpfc_emit__insn(e, BPF_ALU64_REG(BPF_SUB, BPFC_R2, BPFC_R1));
		bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JGT, BPFC_R2, (__s32)BPFC_FP_SPAN, 0), l_walked);
		bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R1, BPFC_R9));
		bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, rec_off(fp, k)));
		bpfc_emit__insn(e, BPF_MOV64_IMM(BPFC_R2, 16));
		bpfc_emit__insn(e, BPF_EMIT_CALL(BPF_FUNC_probe_read_user));
		bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), l_walked);
		bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, BPFC_FBLK_OFF_N, (__s32)(k + 1)));
	}
	bpfc_emit__bind(e, l_walked);

	/* A chain: the small window.  None: the whole area as one window. */
	bpfc_emit__insn(e, BPF_LDX_MEM(BPF_B, BPFC_R1, BPFC_R9, BPFC_FBLK_OFF_N));
	bpfc_emit__jmp(e, BPF_JMP_IMM(BPF_JGE, BPFC_R1, BPFC_FP_MIN_CHAIN, 0), l_chain);
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, BPFC_FBLK_OFF_FLAGS, BPFC_FBLK_WIDE));
	bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, BPFC_R9, BPFC_FBLK_OFF_N, 0));
	emit_window(e, fp->window + 16u * fp->frames, l_end);
	bpfc_emit__bind(e, l_chain);
	emit_window(e, fp->window, l_end);
	bpfc_emit__bind(e, l_end);
}
