/* SPDX-License-Identifier: MIT */
/*
 * bpf/ax.c - GDB agent expressions: the compiler into BPF.
 *
 * bpf/ax_check.c has already proven everything about the expression that
 * the verifier will want (the stack depth at every instruction, forward
 * jumps only, the record block of every collection site) and left it in
 * struct bpfc_ax.  This file turns that into BPF instructions at tstart;
 * it never looks at the bytecode itself, only at the decoded
 * instructions (struct bpfc_ax_op, ax_int.h).
 *
 *  - Each reachable instruction becomes a few BPF instructions over stack
 *    slots whose positions are fixed: the depth at every instruction is
 *    static, so slot i is always fp - 24 - 8 * i.  Values are reloaded
 *    from the slots around each operation rather than kept in registers;
 *    the whole expression costs a few nanoseconds next to the uprobe trap,
 *    and the simple shape keeps the verifier's job trivial.  Conditional
 *    jumps become forward BPF jumps to per-target labels.  Memory reads go
 *    through bpf_probe_read_user into a zeroed slot; a failure ends the
 *    expression through the caller's label.
 *
 *  - Collection (trace, trace_quick, trace16, tracenz, tracev) writes the
 *    blocks the validator laid out.  A static length is written as such; a
 *    run-time one is clamped to the block's capacity, and a longer request
 *    is marked cut, visibly (record.h).
 *
 *  - "teval $c = $c + 1" arrives as getv, const, add, ext 64, setv.  Run
 *    as written on several threads at once, increments are lost; the
 *    compiler recognises the pattern and emits one atomic fetch-and-add.
 *
 * Everything here is pure: no libbpf, no I/O, no globals.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "bpf/ax.h"
#include "bpf/ax_int.h"
#include "bpf/emit.h"
#include "bpf/insn.h"
#include "bpf/record.h"

_Static_assert(BPFC_AX_FP_SLOT0 + 8 * (BPFC_AX_MAX_DEPTH - 1) <= 512, "BPF stack");

struct cc {
	struct bpfc_emit *e;
	const struct bpfc_ax *ax;
	const struct bpfc_tsvs *vars;
	size_t rec_off;
	int l_fail, l_end;
	int *labels; /* per op: its label when a jump lands there */
	char *msg;
	size_t mlen;
};

static int cc_fail(struct cc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cc_fail(struct cc *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bpfc_ax__vput_msg(c->msg, c->mlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void insn(struct cc *c, struct bpf_insn i)
{
	bpfc_emit__insn(c->e, i);
}

static short slot(unsigned int i)
{
	return (short)(-BPFC_AX_FP_SLOT0 - 8 * (int)i);
}

static void ld(struct cc *c, int reg, unsigned int i)
{
	insn(c, BPF_LDX_MEM(BPF_DW, reg, BPFC_R10, slot(i)));
}

static void st(struct cc *c, unsigned int i, int reg)
{
	insn(c, BPF_STX_MEM(BPF_DW, BPFC_R10, reg, slot(i)));
}

static bool fits_imm(__u64 v)
{
	return (__s64)v >= INT32_MIN && (__s64)v <= INT32_MAX;
}

static void mov_imm(struct cc *c, int reg, __u64 v)
{
	if (fits_imm(v))
		insn(c, BPF_MOV64_IMM(reg, (__s32)v));
	else
		bpfc_emit__ld_imm64(c->e, reg, 0, v);
}

static void st_imm(struct cc *c, unsigned int i, __u64 v)
{
	if (fits_imm(v)) {
		insn(c, BPF_ST_MEM(BPF_DW, BPFC_R10, slot(i), (__s32)v));
	} else {
		bpfc_emit__ld_imm64(c->e, BPFC_R1, 0, v);
		st(c, i, BPFC_R1);
	}
}

static bool builtin(const struct cc *c, __u64 num)
{
	return c->vars && num &&
	       (num == c->vars->timestamp || num == c->vars->thread || num == c->vars->pid);
}

/* r0 = &variable num (r1, r2 clobbered), or off to l_fail. */
static int var_ptr(struct cc *c, const struct bpfc_ax_op *o)
{
	const struct bpfc_tsvs *v = c->vars;
	size_t i;

	for (i = 0; v && i < v->n; i++)
		if (v->map[i].num == o->arg)
			break;
	if (!v || i == v->n)
		return cc_fail(c, "trace state variable %llu is not defined (%s at byte %u)",
			       (unsigned long long)o->arg, bpfc_ax__optab[o->op].name, o->off);
	insn(c, BPF_ST_MEM(BPF_W, BPFC_R10, BPFC_AX_FP_KEY, (__s32)v->map[i].slot));
	bpfc_emit__ld_map_fd(c->e, BPFC_R1, v->fd);
	insn(c, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
	insn(c, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, BPFC_AX_FP_KEY));
	insn(c, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bpfc_emit__jmp(c->e, BPF_JMP_IMM(BPF_JEQ, BPFC_R0, 0, 0), c->l_fail);
	return 0;
}

/* reg = the value of variable o->arg (r0-r5 clobbered). */
static int var_read(struct cc *c, int reg, const struct bpfc_ax_op *o)
{
	const struct bpfc_tsvs *v = c->vars;
	int err;

	if (builtin(c, o->arg) && o->arg == v->timestamp) {
		insn(c, BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns));
		insn(c, BPF_ALU64_IMM(BPF_DIV, BPFC_R0, 1000));
		if (fits_imm((__u64)v->timestamp_offset_us)) {
			insn(c, BPF_ALU64_IMM(BPF_ADD, BPFC_R0, (__s32)v->timestamp_offset_us));
		} else {
			bpfc_emit__ld_imm64(c->e, BPFC_R1, 0, (__u64)v->timestamp_offset_us);
			insn(c, BPF_ALU64_REG(BPF_ADD, BPFC_R0, BPFC_R1));
		}
		insn(c, BPF_MOV64_REG(reg, BPFC_R0));
		return 0;
	}
	if (builtin(c, o->arg) && o->arg == v->pid) {
		/* trace_pid: the process id, the high half. */
		insn(c, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid));
		insn(c, BPF_ALU64_IMM(BPF_RSH, BPFC_R0, 32));
		insn(c, BPF_MOV64_REG(reg, BPFC_R0));
		return 0;
	}
	if (builtin(c, o->arg)) {
		/* trace_thread: the thread id, the low half. */
		insn(c, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid));
		insn(c, BPF_MOV32_REG(reg, BPFC_R0));
		return 0;
	}
	err = var_ptr(c, o);
	if (err)
		return err;
	insn(c, BPF_LDX_MEM(BPF_DW, reg, BPFC_R0, 0));
	return 0;
}

static bool is_const(unsigned int op)
{
	return op >= BPFC_AXOP_CONST8 && op <= BPFC_AXOP_CONST64;
}

/*
 * "getv N; const K; add|sub; [ext 64;] setv N" or "const K; getv N; add;
 * [ext 64;] setv N" from ops[i], no jump landing inside: the number of
 * instructions it spans (their effect: variable N += K, its new value
 * pushed), else 0.
 */
static size_t atomic_span(const struct cc *c, size_t i, __u64 *num, __u64 *k)
{
	const struct bpfc_ax_op *o = c->ax->ops;
	size_t n = c->ax->nops, j;
	bool neg = false;

	if (i + 3 >= n)
		return 0;
	if (o[i].op == BPFC_AXOP_GETV && is_const(o[i + 1].op) &&
	    (o[i + 2].op == BPFC_AXOP_ADD || o[i + 2].op == BPFC_AXOP_SUB)) {
		*num = o[i].arg;
		*k = o[i + 1].arg;
		neg = o[i + 2].op == BPFC_AXOP_SUB;
	} else if (is_const(o[i].op) && o[i + 1].op == BPFC_AXOP_GETV &&
		   o[i + 2].op == BPFC_AXOP_ADD) {
		*num = o[i + 1].arg;
		*k = o[i].arg;
	} else {
		return 0;
	}
	j = i + 3;
	if ((o[j].op == BPFC_AXOP_EXT || o[j].op == BPFC_AXOP_ZERO_EXT) && o[j].arg >= 64)
		j++;
	if (j >= n || o[j].op != BPFC_AXOP_SETV || o[j].arg != *num || builtin(c, *num))
		return 0;
	for (n = i + 1; n <= j; n++)
		if (o[n].flags & BPFC_AX_OPF_TARGET)
			return 0;
	if (neg)
		*k = 0 - *k;
	return j - i + 1;
}

/* r9 = the block of o. */
static void blk_reg(struct cc *c, const struct bpfc_ax_op *o)
{
	insn(c, BPF_MOV64_REG(BPFC_R9, BPFC_R7));
	insn(c, BPF_ALU64_IMM(BPF_ADD, BPFC_R9, (__s32)(c->rec_off + o->blk)));
}

/*
 * r2 = the run-time length in slot li, also stored as the block's want.
 * It is read back from the record rather than kept: a helper's size must
 * be bounded, so the verifier tracks where the value came from, and a
 * length computed through many branches would make it explore every
 * combination of them; a value loaded from the record is just unknown,
 * and the clamp that follows bounds it.
 */
static void ld_len(struct cc *c, unsigned int li)
{
	ld(c, BPFC_R2, li);
	insn(c, BPF_STX_MEM(BPF_DW, BPFC_R9, BPFC_R2, BPFC_VBLK_OFF_WANT));
	insn(c, BPF_LDX_MEM(BPF_DW, BPFC_R2, BPFC_R9, BPFC_VBLK_OFF_WANT));
}

/* trace, trace_quick, trace16: addr in slot ai, length in slot li (or static). */
static void emit_trace(struct cc *c, const struct bpfc_ax_op *o, unsigned int ai, unsigned int li)
{
	int l_done, l_fit;

	if (!(o->flags & BPFC_AX_OPF_BLOCK))
		return; /* a static length of 0: nothing to collect */
	l_done = bpfc_emit__label(c->e);
	blk_reg(c, o);
	ld(c, BPFC_R3, ai);
	insn(c, BPF_STX_MEM(BPF_DW, BPFC_R9, BPFC_R3, BPFC_VBLK_OFF_ADDR));
	if (o->flags & BPFC_AX_OPF_STATIC) {
		mov_imm(c, BPFC_R2, o->len);
		insn(c, BPF_STX_MEM(BPF_DW, BPFC_R9, BPFC_R2, BPFC_VBLK_OFF_WANT));
		insn(c, BPF_ST_MEM(BPF_B, BPFC_R9, BPFC_VBLK_OFF_FLAGS,
				   o->len > o->cap ? BPFC_VBLK_CUT : 0));
		insn(c, BPF_MOV64_IMM(BPFC_R2, (__s32)o->cap));
	} else {
		l_fit = bpfc_emit__label(c->e);
		ld_len(c, li);
		bpfc_emit__jmp(c->e, BPF_JMP_IMM(BPF_JEQ, BPFC_R2, 0, 0), l_done);
		insn(c, BPF_ST_MEM(BPF_B, BPFC_R9, BPFC_VBLK_OFF_FLAGS, 0));
		bpfc_emit__jmp(c->e, BPF_JMP_IMM(BPF_JLE, BPFC_R2, (__s32)o->cap, 0), l_fit);
		insn(c, BPF_MOV64_IMM(BPFC_R2, (__s32)o->cap));
		insn(c, BPF_ST_MEM(BPF_B, BPFC_R9, BPFC_VBLK_OFF_FLAGS, BPFC_VBLK_CUT));
		bpfc_emit__bind(c->e, l_fit);
	}
	insn(c, BPF_STX_MEM(BPF_H, BPFC_R9, BPFC_R2, BPFC_VBLK_OFF_LEN));
	insn(c, BPF_MOV64_REG(BPFC_R1, BPFC_R9));
	insn(c, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, BPFC_VBLK_HDR));
	insn(c, BPF_EMIT_CALL(BPF_FUNC_probe_read_user));
	bpfc_emit__jmp(c->e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), l_done);
	insn(c, BPF_ST_MEM(BPF_B, BPFC_R9, 0, BPFC_BLK_VMEM));
	bpfc_emit__bind(c->e, l_done);
}

/*
 * tracenz: at most limit bytes of the string at addr, with its NUL when
 * that is among them (gdbserver's rule).  bpf_probe_read_user_str always
 * writes a NUL, so it gets one byte more than may be recorded: a result
 * of n + 1 means no NUL within the first n bytes, and n are kept.
 */
static void emit_tracenz(struct cc *c, const struct bpfc_ax_op *o, unsigned int ai, unsigned int li)
{
	__u32 max = o->cap - 1;
	int l_done, l_fit, l_have;

	if (!(o->flags & BPFC_AX_OPF_BLOCK))
		return;
	l_done = bpfc_emit__label(c->e);
	l_have = bpfc_emit__label(c->e);
	blk_reg(c, o);
	ld(c, BPFC_R3, ai);
	insn(c, BPF_STX_MEM(BPF_DW, BPFC_R9, BPFC_R3, BPFC_VBLK_OFF_ADDR));
	if (o->flags & BPFC_AX_OPF_STATIC) {
		mov_imm(c, BPFC_R2, o->len);
		insn(c, BPF_STX_MEM(BPF_DW, BPFC_R9, BPFC_R2, BPFC_VBLK_OFF_WANT));
		insn(c, BPF_MOV64_IMM(BPFC_R2, (__s32)max));
	} else {
		l_fit = bpfc_emit__label(c->e);
		ld_len(c, li);
		bpfc_emit__jmp(c->e, BPF_JMP_IMM(BPF_JEQ, BPFC_R2, 0, 0), l_done);
		bpfc_emit__jmp(c->e, BPF_JMP_IMM(BPF_JLE, BPFC_R2, (__s32)max, 0), l_fit);
		insn(c, BPF_MOV64_IMM(BPFC_R2, (__s32)max));
		bpfc_emit__bind(c->e, l_fit);
	}
	/* The len field holds n, the most to keep, across the call. */
	insn(c, BPF_STX_MEM(BPF_H, BPFC_R9, BPFC_R2, BPFC_VBLK_OFF_LEN));
	insn(c, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, 1));
	insn(c, BPF_MOV64_REG(BPFC_R1, BPFC_R9));
	insn(c, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, BPFC_VBLK_HDR));
	insn(c, BPF_EMIT_CALL(BPF_FUNC_probe_read_user_str));
	bpfc_emit__jmp(c->e, BPF_JMP_IMM(BPF_JSLE, BPFC_R0, 0, 0), l_done);
	insn(c, BPF_LDX_MEM(BPF_H, BPFC_R2, BPFC_R9, BPFC_VBLK_OFF_LEN));
	insn(c, BPF_ST_MEM(BPF_B, BPFC_R9, BPFC_VBLK_OFF_FLAGS, 0));
	bpfc_emit__jmp(c->e, BPF_JMP_REG(BPF_JLE, BPFC_R0, BPFC_R2, 0), l_have);
	/* No NUL in the first n bytes: keep n; cut if more were asked than fit. */
	insn(c, BPF_MOV64_REG(BPFC_R0, BPFC_R2));
	insn(c, BPF_LDX_MEM(BPF_DW, BPFC_R4, BPFC_R9, BPFC_VBLK_OFF_WANT));
	bpfc_emit__jmp(c->e, BPF_JMP_IMM(BPF_JLE, BPFC_R4, (__s32)max, 0), l_have);
	insn(c, BPF_ST_MEM(BPF_B, BPFC_R9, BPFC_VBLK_OFF_FLAGS, BPFC_VBLK_CUT));
	bpfc_emit__bind(c->e, l_have);
	insn(c, BPF_STX_MEM(BPF_H, BPFC_R9, BPFC_R0, BPFC_VBLK_OFF_LEN));
	insn(c, BPF_ST_MEM(BPF_B, BPFC_R9, 0, BPFC_BLK_VMEM));
	bpfc_emit__bind(c->e, l_done);
}

static int emit_tracev(struct cc *c, const struct bpfc_ax_op *o)
{
	int err = var_read(c, BPFC_R1, o);

	if (err)
		return err;
	blk_reg(c, o);
	insn(c, BPF_ST_MEM(BPF_W, BPFC_R9, 1, (__s32)o->arg));
	insn(c, BPF_STX_MEM(BPF_DW, BPFC_R9, BPFC_R1, 5));
	insn(c, BPF_ST_MEM(BPF_B, BPFC_R9, 0, BPFC_BLK_TSV));
	return 0;
}

/* a OP b -> r (a at d - 2, b at d - 1) for the ALU operations. */
static void emit_alu(struct cc *c, unsigned int d, int bpf_op, bool is_signed, bool div)
{
	struct bpf_insn i = BPF_ALU64_REG(bpf_op, BPFC_R1, BPFC_R2);

	ld(c, BPFC_R1, d - 2);
	ld(c, BPFC_R2, d - 1);
	if (div)
		bpfc_emit__jmp(c->e, BPF_JMP_IMM(BPF_JEQ, BPFC_R2, 0, 0), c->l_fail);
	if (bpf_op == BPF_LSH || bpf_op == BPF_RSH || bpf_op == BPF_ARSH)
		insn(c, BPF_ALU64_IMM(BPF_AND, BPFC_R2, 63));
	/* BPF ISA v4: off 1 makes div/mod signed. */
	i.off = is_signed ? 1 : 0;
	insn(c, i);
	st(c, d - 2, BPFC_R1);
}

/* (a CMP b) ? 1 : 0, with a and b already in r1 and r2, into slot i. */
static void emit_cmp(struct cc *c, unsigned int i, struct bpf_insn jmp)
{
	int l = bpfc_emit__label(c->e);

	insn(c, BPF_MOV64_IMM(BPFC_R0, 1));
	bpfc_emit__jmp(c->e, jmp, l);
	insn(c, BPF_MOV64_IMM(BPFC_R0, 0));
	bpfc_emit__bind(c->e, l);
	st(c, i, BPFC_R0);
}

static int label_of(struct cc *c, __u64 off)
{
	size_t lo = 0, hi = c->ax->nops;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->ax->ops[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->ax->nops ? c->labels[lo] : -1;
}

static int emit_op(struct cc *c, size_t i)
{
	const struct bpfc_ax_op *o = &c->ax->ops[i];
	unsigned int d = o->depth;
	int err, size;

	switch (o->op) {
	case BPFC_AXOP_ADD:
		emit_alu(c, d, BPF_ADD, false, false);
		break;
	case BPFC_AXOP_SUB:
		emit_alu(c, d, BPF_SUB, false, false);
		break;
	case BPFC_AXOP_MUL:
		emit_alu(c, d, BPF_MUL, false, false);
		break;
	case BPFC_AXOP_DIV_SIGNED:
		emit_alu(c, d, BPF_DIV, true, true);
		break;
	case BPFC_AXOP_DIV_UNSIGNED:
		emit_alu(c, d, BPF_DIV, false, true);
		break;
	case BPFC_AXOP_REM_SIGNED:
		emit_alu(c, d, BPF_MOD, true, true);
		break;
	case BPFC_AXOP_REM_UNSIGNED:
		emit_alu(c, d, BPF_MOD, false, true);
		break;
	case BPFC_AXOP_LSH:
		emit_alu(c, d, BPF_LSH, false, false);
		break;
	case BPFC_AXOP_RSH_SIGNED:
		emit_alu(c, d, BPF_ARSH, false, false);
		break;
	case BPFC_AXOP_RSH_UNSIGNED:
		emit_alu(c, d, BPF_RSH, false, false);
		break;
	case BPFC_AXOP_BIT_AND:
		emit_alu(c, d, BPF_AND, false, false);
		break;
	case BPFC_AXOP_BIT_OR:
		emit_alu(c, d, BPF_OR, false, false);
		break;
	case BPFC_AXOP_BIT_XOR:
		emit_alu(c, d, BPF_XOR, false, false);
		break;
	case BPFC_AXOP_LOG_NOT:
		ld(c, BPFC_R1, d - 1);
		emit_cmp(c, d - 1, BPF_JMP_IMM(BPF_JEQ, BPFC_R1, 0, 0));
		break;
	case BPFC_AXOP_BIT_NOT:
		ld(c, BPFC_R1, d - 1);
		insn(c, BPF_ALU64_IMM(BPF_XOR, BPFC_R1, -1));
		st(c, d - 1, BPFC_R1);
		break;
	case BPFC_AXOP_EQUAL:
	case BPFC_AXOP_LESS_SIGNED:
	case BPFC_AXOP_LESS_UNSIGNED:
		ld(c, BPFC_R1, d - 2);
		ld(c, BPFC_R2, d - 1);
		emit_cmp(c, d - 2,
			 BPF_JMP_REG(o->op == BPFC_AXOP_EQUAL	      ? BPF_JEQ
				     : o->op == BPFC_AXOP_LESS_SIGNED ? BPF_JSLT
								      : BPF_JLT,
				     BPFC_R1, BPFC_R2, 0));
		break;
	case BPFC_AXOP_EXT:
	case BPFC_AXOP_ZERO_EXT:
		if (o->arg >= 64)
			break;
		if (!o->arg) { /* zero_ext 0 (ext 0 was refused) */
			st_imm(c, d - 1, 0);
			break;
		}
		ld(c, BPFC_R1, d - 1);
		insn(c, BPF_ALU64_IMM(BPF_LSH, BPFC_R1, 64 - (int)o->arg));
		insn(c, BPF_ALU64_IMM(o->op == BPFC_AXOP_EXT ? BPF_ARSH : BPF_RSH, BPFC_R1,
				      64 - (int)o->arg));
		st(c, d - 1, BPFC_R1);
		break;
	case BPFC_AXOP_REF8:
	case BPFC_AXOP_REF16:
	case BPFC_AXOP_REF32:
	case BPFC_AXOP_REF64:
		size = 1 << (o->op - BPFC_AXOP_REF8);
		ld(c, BPFC_R3, d - 1);
		insn(c, BPF_ST_MEM(BPF_DW, BPFC_R10, slot(d - 1), 0));
		insn(c, BPF_MOV64_REG(BPFC_R1, BPFC_R10));
		insn(c, BPF_ALU64_IMM(BPF_ADD, BPFC_R1, slot(d - 1)));
		insn(c, BPF_MOV64_IMM(BPFC_R2, size));
		insn(c, BPF_EMIT_CALL(BPF_FUNC_probe_read_user));
		bpfc_emit__jmp(c->e, BPF_JMP_IMM(BPF_JNE, BPFC_R0, 0, 0), c->l_fail);
		break;
	case BPFC_AXOP_IF_GOTO:
		ld(c, BPFC_R1, d - 1);
		bpfc_emit__jmp(c->e, BPF_JMP_IMM(BPF_JNE, BPFC_R1, 0, 0), label_of(c, o->arg));
		break;
	case BPFC_AXOP_GOTO:
		bpfc_emit__jmp(c->e, BPF_JMP_A(0), label_of(c, o->arg));
		break;
	case BPFC_AXOP_CONST8:
	case BPFC_AXOP_CONST16:
	case BPFC_AXOP_CONST32:
	case BPFC_AXOP_CONST64:
		st_imm(c, d, o->arg);
		break;
	case BPFC_AXOP_REG:
		insn(c,
		     BPF_LDX_MEM(BPF_DW, BPFC_R1, BPFC_R6, bpfc_regs__ptregs_offset((int)o->arg)));
		st(c, d, BPFC_R1);
		break;
	case BPFC_AXOP_END:
		if (c->ax->flags & BPFC_AX_COND) {
			ld(c, BPFC_R1, d - 1);
			bpfc_emit__jmp(c->e, BPF_JMP_IMM(BPF_JEQ, BPFC_R1, 0, 0), c->l_fail);
		}
		if (i + 1 < c->ax->nops)
			bpfc_emit__jmp(c->e, BPF_JMP_A(0), c->l_end);
		break;
	case BPFC_AXOP_DUP:
		ld(c, BPFC_R1, d - 1);
		st(c, d, BPFC_R1);
		break;
	case BPFC_AXOP_POP:
		break;
	case BPFC_AXOP_SWAP:
		ld(c, BPFC_R1, d - 2);
		ld(c, BPFC_R2, d - 1);
		st(c, d - 2, BPFC_R2);
		st(c, d - 1, BPFC_R1);
		break;
	case BPFC_AXOP_PICK:
		ld(c, BPFC_R1, d - 1 - (unsigned int)o->arg);
		st(c, d, BPFC_R1);
		break;
	case BPFC_AXOP_ROT:
		/* a b c -> c a b */
		ld(c, BPFC_R1, d - 3);
		ld(c, BPFC_R2, d - 2);
		ld(c, BPFC_R3, d - 1);
		st(c, d - 3, BPFC_R3);
		st(c, d - 2, BPFC_R1);
		st(c, d - 1, BPFC_R2);
		break;
	case BPFC_AXOP_GETV:
		err = var_read(c, BPFC_R1, o);
		if (err)
			return err;
		st(c, d, BPFC_R1);
		break;
	case BPFC_AXOP_SETV:
		if (builtin(c, o->arg))
			return cc_fail(c, "setv at byte %u assigns the builtin variable %llu",
				       o->off, (unsigned long long)o->arg);
		err = var_ptr(c, o);
		if (err)
			return err;
		ld(c, BPFC_R1, d - 1);
		insn(c, BPF_STX_MEM(BPF_DW, BPFC_R0, BPFC_R1, 0));
		break;
	case BPFC_AXOP_TRACEV:
		return emit_tracev(c, o);
	case BPFC_AXOP_TRACE:
		emit_trace(c, o, d - 2, d - 1);
		break;
	case BPFC_AXOP_TRACE_QUICK:
	case BPFC_AXOP_TRACE16:
		emit_trace(c, o, d - 1, 0);
		break;
	case BPFC_AXOP_TRACENZ:
		emit_tracenz(c, o, d - 2, d - 1);
		break;
	default:
		return cc_fail(c, "internal error: opcode 0x%02x at byte %u", o->op, o->off);
	}
	return 0;
}

/* variable num += k, atomically; its new value into slot d. */
static int emit_atomic_add(struct cc *c, const struct bpfc_ax_op *o, __u64 num, __u64 k)
{
	struct bpfc_ax_op v = *o;
	int err;

	v.op = BPFC_AXOP_GETV;
	v.arg = num;
	err = var_ptr(c, &v);
	if (err)
		return err;
	mov_imm(c, BPFC_R1, k);
	insn(c, BPF_MOV64_REG(BPFC_R2, BPFC_R1));
	insn(c, BPF_ATOMIC_OP(BPF_DW, BPF_ADD | BPF_FETCH, BPFC_R0, BPFC_R1, 0));
	insn(c, BPF_ALU64_REG(BPF_ADD, BPFC_R1, BPFC_R2));
	st(c, o->depth, BPFC_R1);
	return 0;
}

void bpfc_ax__emit_blocks(const struct bpfc_ax *ax, struct bpfc_emit *e, size_t rec_off)
{
	size_t i;

	for (i = 0; i < ax->nops; i++) {
		const struct bpfc_ax_op *o = &ax->ops[i];
		size_t off = rec_off + o->blk;
		int reg = BPFC_R7;

		if (!(o->flags & BPFC_AX_OPF_BLOCK))
			continue;
		if (off + BPFC_VBLK_HDR > SHRT_MAX) {
			bpfc_emit__insn(e, BPF_MOV64_REG(BPFC_R9, BPFC_R7));
			bpfc_emit__insn(e, BPF_ALU64_IMM(BPF_ADD, BPFC_R9, (__s32)off));
			reg = BPFC_R9;
			off = 0;
		}
		if (o->op == BPFC_AXOP_TRACEV) {
			bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, reg, (short)off, BPFC_BLK_TSV_SKIP));
			continue;
		}
		bpfc_emit__insn(e, BPF_ST_MEM(BPF_B, reg, (short)off, BPFC_BLK_VMEM_SKIP));
		bpfc_emit__insn(
			e, BPF_ST_MEM(BPF_H, reg, (short)(off + BPFC_VBLK_OFF_CAP), (__s32)o->cap));
	}
}

int bpfc_ax__emit(const struct bpfc_ax *ax, struct bpfc_emit *e, const struct bpfc_tsvs *vars,
		  size_t rec_off, int l_fail, char *msg, size_t mlen)
{
	struct cc c = {.e = e,
		       .ax = ax,
		       .vars = vars,
		       .rec_off = rec_off,
		       .l_fail = l_fail,
		       .msg = msg,
		       .mlen = mlen};
	size_t i, span;
	__u64 num, k;
	int err = 0;

	if (!ax || !ax->nops || !e)
		return -EINVAL;
	if (rec_off + ax->rec_size > INT32_MAX)
		return cc_fail(&c, "record offset %zu out of range", rec_off);
	c.labels = malloc(ax->nops * sizeof(*c.labels));
	if (!c.labels)
		return -ENOMEM;
	c.l_end = bpfc_emit__label(e);
	for (i = 0; i < ax->nops; i++)
		c.labels[i] = ax->ops[i].flags & BPFC_AX_OPF_TARGET ? bpfc_emit__label(e) : -1;
	for (i = 0; i < ax->nops; i += span) {
		if (c.labels[i] >= 0)
			bpfc_emit__bind(e, c.labels[i]);
		span = atomic_span(&c, i, &num, &k);
		if (span) {
			err = emit_atomic_add(&c, &ax->ops[i], num, k);
		} else {
			span = 1;
			err = emit_op(&c, i);
		}
		if (err)
			goto cleanup;
	}
	bpfc_emit__bind(e, c.l_end);
cleanup:
	free(c.labels);
	return err;
}
