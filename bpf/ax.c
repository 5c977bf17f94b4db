/* SPDX-License-Identifier: MIT */
/*
 * bpf/ax.c - GDB agent expressions: the validator and the BPF compiler.
 *
 * gdbserver interprets agent bytecode with a run-time stack and run-time
 * checks.  A BPF program cannot do that: the verifier wants every stack
 * access, every jump and every size proven before the program runs.  So
 * this file does at build time what gdbserver does at run time, once:
 *
 *  - The validator walks the bytecode in byte order, following only what
 *    is reachable from byte 0.  Control flow may only go forward (a loop
 *    cannot be proven to end, and GDB never emits one), so one pass in
 *    increasing offset order sees every path into an instruction before
 *    the instruction itself: a state reaching a byte is merged there, and
 *    the depths must agree.  The state is the stack depth plus, per slot,
 *    a constant when one is known on every path; that is how the length of
 *    "const8 16; trace" is known when the program is built.  Every refusal
 *    names the instruction and its byte offset, because it goes back to
 *    the user as GDB's error text.
 *
 *  - The compiler turns each reachable instruction into a few BPF
 *    instructions over stack slots whose positions are fixed: the depth
 *    at every instruction is static, so slot i is always fp - 24 - 8 * i.
 *    Values are reloaded from the slots around each operation rather than
 *    kept in registers; the whole expression costs a few nanoseconds next
 *    to the uprobe trap, and the simple shape keeps the verifier's job
 *    trivial.  Conditional jumps become forward BPF jumps to per-target
 *    labels.  Memory reads go through bpf_probe_read_user into a zeroed
 *    slot; a failure ends the expression through the caller's label.
 *
 *  - Collection (trace, trace_quick, trace16, tracenz, tracev) writes
 *    blocks at record offsets fixed by the validator, in bytecode order: a
 *    forward-only program runs each instruction at most once per hit, so
 *    one block per site is enough.  A length known at build time reserves
 *    exactly that; a run-time length reserves BPFC_AX_TRACE_MAX and is cut
 *    there, visibly (record.h), or less when the validator has proven an
 *    upper bound (a bit_and with a constant: struct st).
 *
 *  - "teval $c = $c + 1" arrives as getv, const, add, ext 64, setv.  Run
 *    as written on several threads at once, increments are lost; the
 *    compiler recognises the pattern and emits one atomic fetch-and-add.
 *
 * Everything here is pure: no libbpf, no I/O, no globals but const tables.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/ax.h"
#include "bpf/emit.h"
#include "bpf/insn.h"
#include "bpf/record.h"

_Static_assert(BPFC_AX_MAX_DEPTH <= 64, "the known-constant mask is 64 bits");
_Static_assert(BPFC_AX_FP_SLOT0 + 8 * (BPFC_AX_MAX_DEPTH - 1) <= 512, "BPF stack");

enum op_kind {
	K_BAD, /* not an opcode */
	K_FLOAT,
	K_PRINTF,
	K_OK,
};

struct opinfo {
	const char *name;
	unsigned char kind;
	unsigned char osize;   /* operand bytes */
	unsigned char in, out; /* values consumed / produced (pick: see parse) */
};

static const struct opinfo optab[256] = {
	[BPFC_AXOP_FLOAT] = {"float", K_FLOAT, 0, 0, 0},
	[BPFC_AXOP_ADD] = {"add", K_OK, 0, 2, 1},
	[BPFC_AXOP_SUB] = {"sub", K_OK, 0, 2, 1},
	[BPFC_AXOP_MUL] = {"mul", K_OK, 0, 2, 1},
	[BPFC_AXOP_DIV_SIGNED] = {"div_signed", K_OK, 0, 2, 1},
	[BPFC_AXOP_DIV_UNSIGNED] = {"div_unsigned", K_OK, 0, 2, 1},
	[BPFC_AXOP_REM_SIGNED] = {"rem_signed", K_OK, 0, 2, 1},
	[BPFC_AXOP_REM_UNSIGNED] = {"rem_unsigned", K_OK, 0, 2, 1},
	[BPFC_AXOP_LSH] = {"lsh", K_OK, 0, 2, 1},
	[BPFC_AXOP_RSH_SIGNED] = {"rsh_signed", K_OK, 0, 2, 1},
	[BPFC_AXOP_RSH_UNSIGNED] = {"rsh_unsigned", K_OK, 0, 2, 1},
	[BPFC_AXOP_TRACE] = {"trace", K_OK, 0, 2, 0},
	[BPFC_AXOP_TRACE_QUICK] = {"trace_quick", K_OK, 1, 1, 1},
	[BPFC_AXOP_LOG_NOT] = {"log_not", K_OK, 0, 1, 1},
	[BPFC_AXOP_BIT_AND] = {"bit_and", K_OK, 0, 2, 1},
	[BPFC_AXOP_BIT_OR] = {"bit_or", K_OK, 0, 2, 1},
	[BPFC_AXOP_BIT_XOR] = {"bit_xor", K_OK, 0, 2, 1},
	[BPFC_AXOP_BIT_NOT] = {"bit_not", K_OK, 0, 1, 1},
	[BPFC_AXOP_EQUAL] = {"equal", K_OK, 0, 2, 1},
	[BPFC_AXOP_LESS_SIGNED] = {"less_signed", K_OK, 0, 2, 1},
	[BPFC_AXOP_LESS_UNSIGNED] = {"less_unsigned", K_OK, 0, 2, 1},
	[BPFC_AXOP_EXT] = {"ext", K_OK, 1, 1, 1},
	[BPFC_AXOP_REF8] = {"ref8", K_OK, 0, 1, 1},
	[BPFC_AXOP_REF16] = {"ref16", K_OK, 0, 1, 1},
	[BPFC_AXOP_REF32] = {"ref32", K_OK, 0, 1, 1},
	[BPFC_AXOP_REF64] = {"ref64", K_OK, 0, 1, 1},
	[BPFC_AXOP_REF_FLOAT] = {"ref_float", K_FLOAT, 0, 1, 1},
	[BPFC_AXOP_REF_DOUBLE] = {"ref_double", K_FLOAT, 0, 1, 1},
	[BPFC_AXOP_REF_LONG_DOUBLE] = {"ref_long_double", K_FLOAT, 0, 1, 1},
	[BPFC_AXOP_L_TO_D] = {"l_to_d", K_FLOAT, 0, 1, 1},
	[BPFC_AXOP_D_TO_L] = {"d_to_l", K_FLOAT, 0, 1, 1},
	[BPFC_AXOP_IF_GOTO] = {"if_goto", K_OK, 2, 1, 0},
	[BPFC_AXOP_GOTO] = {"goto", K_OK, 2, 0, 0},
	[BPFC_AXOP_CONST8] = {"const8", K_OK, 1, 0, 1},
	[BPFC_AXOP_CONST16] = {"const16", K_OK, 2, 0, 1},
	[BPFC_AXOP_CONST32] = {"const32", K_OK, 4, 0, 1},
	[BPFC_AXOP_CONST64] = {"const64", K_OK, 8, 0, 1},
	[BPFC_AXOP_REG] = {"reg", K_OK, 2, 0, 1},
	[BPFC_AXOP_END] = {"end", K_OK, 0, 0, 0},
	[BPFC_AXOP_DUP] = {"dup", K_OK, 0, 1, 2},
	[BPFC_AXOP_POP] = {"pop", K_OK, 0, 1, 0},
	[BPFC_AXOP_ZERO_EXT] = {"zero_ext", K_OK, 1, 1, 1},
	[BPFC_AXOP_SWAP] = {"swap", K_OK, 0, 2, 2},
	[BPFC_AXOP_GETV] = {"getv", K_OK, 2, 0, 1},
	[BPFC_AXOP_SETV] = {"setv", K_OK, 2, 1, 1},
	[BPFC_AXOP_TRACEV] = {"tracev", K_OK, 2, 0, 0},
	[BPFC_AXOP_TRACENZ] = {"tracenz", K_OK, 0, 2, 0},
	[BPFC_AXOP_TRACE16] = {"trace16", K_OK, 2, 1, 1},
	[BPFC_AXOP_PICK] = {"pick", K_OK, 1, 0, 1},
	[BPFC_AXOP_ROT] = {"rot", K_OK, 0, 3, 3},
	[BPFC_AXOP_PRINTF] = {"printf", K_PRINTF, 0, 0, 0},
};

/* One reachable instruction. */
struct bpfc_ax_op {
	__u64 arg; /* operand: constant, register, variable, size, pick index, jump target */
	__u64 len; /* trace*, tracenz: the length when OPF_STATIC */
	__u32 off; /* byte offset in the bytecode */
	__u32 blk; /* its block's offset from the expression's first block */
	__u32 cap; /* bytes its block reserves after the header */
	__u8 op;
	__u8 depth; /* stack depth before it */
	__u8 flags; /* OPF_* */
};

#define OPF_TARGET 0x1 /* a jump lands here */
#define OPF_STATIC 0x2 /* len is known */
#define OPF_BLOCK  0x4 /* writes the block at blk */

const char *bpfc_ax__opname(unsigned int op, char buf[8])
{
	if (op < 256 && optab[op].name)
		return optab[op].name;
	snprintf(buf, 8, "0x%02x", op & 0xff);
	return buf;
}

/* ---- arithmetic shared by constant folding (the emitted code matches) ---- */

static __u64 sign_ext(__u64 v, __u64 bits)
{
	unsigned int sh;

	if (bits >= 64 || !bits)
		return v;
	sh = 64 - (unsigned int)bits;
	return (__u64)((__s64)(v << sh) >> sh);
}

static __u64 zero_ext(__u64 v, __u64 bits)
{
	if (bits >= 64)
		return v;
	return bits ? v & ((1ull << bits) - 1) : 0;
}

/* a OP b; false when it ends the expression (division by zero). */
static bool fold2(unsigned int op, __u64 a, __u64 b, __u64 *r)
{
	__s64 sa = (__s64)a, sb = (__s64)b;

	switch (op) {
	case BPFC_AXOP_ADD:
		*r = a + b;
		return true;
	case BPFC_AXOP_SUB:
		*r = a - b;
		return true;
	case BPFC_AXOP_MUL:
		*r = a * b;
		return true;
	case BPFC_AXOP_DIV_SIGNED:
		if (!b)
			return false;
		*r = sb == -1 ? 0 - a : (__u64)(sa / sb);
		return true;
	case BPFC_AXOP_DIV_UNSIGNED:
		if (!b)
			return false;
		*r = a / b;
		return true;
	case BPFC_AXOP_REM_SIGNED:
		if (!b)
			return false;
		*r = sb == -1 ? 0 : (__u64)(sa % sb);
		return true;
	case BPFC_AXOP_REM_UNSIGNED:
		if (!b)
			return false;
		*r = a % b;
		return true;
	case BPFC_AXOP_LSH:
		*r = a << (b & 63);
		return true;
	case BPFC_AXOP_RSH_SIGNED:
		*r = (__u64)(sa >> (b & 63));
		return true;
	case BPFC_AXOP_RSH_UNSIGNED:
		*r = a >> (b & 63);
		return true;
	case BPFC_AXOP_BIT_AND:
		*r = a & b;
		return true;
	case BPFC_AXOP_BIT_OR:
		*r = a | b;
		return true;
	case BPFC_AXOP_BIT_XOR:
		*r = a ^ b;
		return true;
	case BPFC_AXOP_EQUAL:
		*r = a == b;
		return true;
	case BPFC_AXOP_LESS_SIGNED:
		*r = sa < sb;
		return true;
	case BPFC_AXOP_LESS_UNSIGNED:
		*r = a < b;
		return true;
	}
	return false;
}

/* ---- the validator ---- */

/* What is known at one point: the depth, and which slots hold which constants. */
struct st {
	unsigned int depth;
	__u64 known; /* bit i: val[i] holds slot i's value on every path */
	__u64 val[BPFC_AX_MAX_DEPTH];
	/*
	 * bit i: slot i is at most bnd[i] on every path (a constant, or a
	 * bit_and with one): "len; const 255; bit_and; trace" reserves 255
	 * bytes, not BPFC_AX_TRACE_MAX (stub/deep.c bounds its lengths so).
	 */
	__u64 bounded;
	__u64 bnd[BPFC_AX_MAX_DEPTH];
};

struct parse {
	const __u8 *code;
	size_t len;
	unsigned int flags;
	int *pend_at; /* per byte: index in pend of the state jumped there, or -1 */
	struct st *pend;
	size_t npend, cappend;
	size_t capops;
	struct bpfc_ax *ax;
	char *msg;
	size_t mlen;
};

/* "agent expression: " + the formatted text into msg (one line, truncated to fit). */
static void vput_msg(char *msg, size_t mlen, const char *fmt, va_list ap)
{
	int n;

	if (!msg || !mlen)
		return;
	n = snprintf(msg, mlen, "agent expression: ");
	if (n >= 0 && (size_t)n < mlen)
		vsnprintf(msg + n, mlen - (size_t)n, fmt, ap);
}

static int fail(struct parse *p, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parse *p, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput_msg(p->msg, p->mlen, fmt, ap);
	va_end(ap);
	return err;
}

static bool known(const struct st *s, unsigned int i)
{
	return (s->known >> i) & 1;
}

static bool bounded(const struct st *s, unsigned int i)
{
	return (s->bounded >> i) & 1;
}

static void set_bound(struct st *s, unsigned int i, bool b, __u64 v)
{
	if (b) {
		s->bounded |= 1ull << i;
		s->bnd[i] = v;
	} else {
		s->bounded &= ~(1ull << i);
		s->bnd[i] = 0;
	}
}

static void set_slot(struct st *s, unsigned int i, bool k, __u64 v)
{
	if (k) {
		s->known |= 1ull << i;
		s->val[i] = v;
	} else {
		s->known &= ~(1ull << i);
		s->val[i] = 0;
	}
	set_bound(s, i, k, v);
}

static void copy_slot(struct st *s, unsigned int to, unsigned int from)
{
	bool b = bounded(s, from);
	__u64 v = s->bnd[from];

	set_slot(s, to, known(s, from), s->val[from]);
	set_bound(s, to, b, v);
}

static int merge(struct parse *p, struct st *into, const struct st *from, size_t at)
{
	unsigned int i;

	if (into->depth != from->depth)
		return fail(p, -EINVAL,
			    "stack depth differs where paths join at byte %zu (%u on one path, %u "
			    "on another)",
			    at, into->depth, from->depth);
	for (i = 0; i < into->depth; i++) {
		bool b = bounded(into, i) && bounded(from, i);
		__u64 v = into->bnd[i] > from->bnd[i] ? into->bnd[i] : from->bnd[i];

		if (known(into, i) && (!known(from, i) || into->val[i] != from->val[i]))
			set_slot(into, i, false, 0);
		if (!known(into, i))
			set_bound(into, i, b, v);
	}
	return 0;
}

/* Record that state s jumps from the instruction at pc (ending at next) to t. */
static int add_jump(struct parse *p, size_t pc, size_t next, __u64 t, const struct st *s)
{
	const char *name = optab[p->code[pc]].name;
	struct st *np;
	size_t ncap;

	if (t >= p->len)
		return fail(p, -EINVAL,
			    "%s at byte %zu jumps to byte %llu, outside the expression (%zu bytes)",
			    name, pc, (unsigned long long)t, p->len);
	if (t == pc)
		return fail(p, -EINVAL,
			    "%s at byte %zu jumps to itself (loops cannot be proven to end)", name,
			    pc);
	if (t < pc)
		return fail(
			p, -EINVAL,
			"backward jump at byte %zu to byte %llu (loops cannot be proven to end)",
			pc, (unsigned long long)t);
	if (t < next)
		return fail(p, -EINVAL, "%s at byte %zu jumps to byte %llu, inside its own operand",
			    name, pc, (unsigned long long)t);
	if (p->pend_at[t] >= 0)
		return merge(p, &p->pend[p->pend_at[t]], s, (size_t)t);
	if (p->npend == p->cappend) {
		ncap = p->cappend ? 2 * p->cappend : 8;
		np = realloc(p->pend, ncap * sizeof(*np));
		if (!np)
			return fail(p, -ENOMEM, "out of memory");
		p->pend = np;
		p->cappend = ncap;
	}
	p->pend[p->npend] = *s;
	p->pend_at[t] = (int)p->npend++;
	return 0;
}

static struct bpfc_ax_op *new_op(struct parse *p)
{
	struct bpfc_ax *ax = p->ax;
	struct bpfc_ax_op *ops;
	size_t ncap;

	if (ax->nops == p->capops) {
		ncap = p->capops ? 2 * p->capops : 16;
		ops = realloc(ax->ops, ncap * sizeof(*ops));
		if (!ops)
			return NULL;
		ax->ops = ops;
		p->capops = ncap;
	}
	ops = &ax->ops[ax->nops++];
	memset(ops, 0, sizeof(*ops));
	return ops;
}

/* Give o a block of hdr + cap bytes in the record. */
static int add_block(struct parse *p, struct bpfc_ax_op *o, size_t hdr, __u64 cap)
{
	struct bpfc_ax *ax = p->ax;

	o->flags |= OPF_BLOCK;
	o->blk = (__u32)ax->rec_size;
	o->cap = (__u32)cap;
	ax->rec_size += hdr + (size_t)cap;
	ax->nblocks++;
	if (ax->rec_size > BPFC_AX_REC_MAX)
		return fail(p, -E2BIG,
			    "collects more than %u bytes per hit (at the %s at byte %u), more than "
			    "one record holds",
			    BPFC_AX_REC_MAX, optab[o->op].name, o->off);
	return 0;
}

/* Collection sites: reserve their blocks; s is the state before o. */
static int site(struct parse *p, struct bpfc_ax_op *o, const struct st *s)
{
	unsigned int top = s->depth - 1;
	__u64 n;

	switch (o->op) {
	case BPFC_AXOP_TRACEV:
		return add_block(p, o, BPFC_TBLK_SIZE, 0);
	case BPFC_AXOP_TRACE_QUICK:
	case BPFC_AXOP_TRACE16:
		o->flags |= OPF_STATIC;
		o->len = o->arg;
		return o->len ? add_block(p, o, BPFC_VBLK_HDR, o->len) : 0;
	case BPFC_AXOP_TRACE:
		if (!known(s, top) && bounded(s, top) && s->bnd[top] &&
		    s->bnd[top] < BPFC_AX_TRACE_MAX)
			return add_block(p, o, BPFC_VBLK_HDR, s->bnd[top]);
		if (!known(s, top))
			return add_block(p, o, BPFC_VBLK_HDR, BPFC_AX_TRACE_MAX);
		o->flags |= OPF_STATIC;
		o->len = s->val[top];
		n = o->len < BPFC_AX_CONST_MAX ? o->len : BPFC_AX_CONST_MAX;
		return n ? add_block(p, o, BPFC_VBLK_HDR, n) : 0;
	case BPFC_AXOP_TRACENZ:
		/* One more byte than recorded: the helper always writes a NUL. */
		if (!known(s, top) && bounded(s, top) && s->bnd[top] &&
		    s->bnd[top] < BPFC_AX_TRACE_MAX)
			return add_block(p, o, BPFC_VBLK_HDR, s->bnd[top] + 1);
		if (!known(s, top))
			return add_block(p, o, BPFC_VBLK_HDR, BPFC_AX_TRACE_MAX + 1);
		o->flags |= OPF_STATIC;
		o->len = s->val[top];
		n = o->len < BPFC_AX_CONST_MAX - 1 ? o->len : BPFC_AX_CONST_MAX - 1;
		return n ? add_block(p, o, BPFC_VBLK_HDR, n + 1) : 0;
	}
	return 0;
}

/* The state after o, given the state before. */
static void transfer(struct st *s, const struct bpfc_ax_op *o)
{
	unsigned int d = s->depth;
	__u64 r;
	bool ok;

	switch (o->op) {
	case BPFC_AXOP_ADD:
	case BPFC_AXOP_SUB:
	case BPFC_AXOP_MUL:
	case BPFC_AXOP_DIV_SIGNED:
	case BPFC_AXOP_DIV_UNSIGNED:
	case BPFC_AXOP_REM_SIGNED:
	case BPFC_AXOP_REM_UNSIGNED:
	case BPFC_AXOP_LSH:
	case BPFC_AXOP_RSH_SIGNED:
	case BPFC_AXOP_RSH_UNSIGNED:
	case BPFC_AXOP_BIT_AND:
	case BPFC_AXOP_BIT_OR:
	case BPFC_AXOP_BIT_XOR:
	case BPFC_AXOP_EQUAL:
	case BPFC_AXOP_LESS_SIGNED:
	case BPFC_AXOP_LESS_UNSIGNED: {
		bool b = o->op == BPFC_AXOP_BIT_AND && (bounded(s, d - 2) || bounded(s, d - 1));
		__u64 v = !bounded(s, d - 2)					? s->bnd[d - 1]
			  : !bounded(s, d - 1) || s->bnd[d - 2] < s->bnd[d - 1] ? s->bnd[d - 2]
										: s->bnd[d - 1];

		ok = known(s, d - 2) && known(s, d - 1) &&
		     fold2(o->op, s->val[d - 2], s->val[d - 1], &r);
		set_slot(s, d - 1, false, 0);
		set_slot(s, d - 2, ok, ok ? r : 0);
		if (!ok && b)
			set_bound(s, d - 2, true, v);
		s->depth = d - 1;
		break;
	}
	case BPFC_AXOP_LOG_NOT:
		set_slot(s, d - 1, known(s, d - 1), !s->val[d - 1]);
		break;
	case BPFC_AXOP_BIT_NOT:
		set_slot(s, d - 1, known(s, d - 1), ~s->val[d - 1]);
		break;
	case BPFC_AXOP_EXT:
		set_slot(s, d - 1, known(s, d - 1), sign_ext(s->val[d - 1], o->arg));
		break;
	case BPFC_AXOP_ZERO_EXT:
		set_slot(s, d - 1, known(s, d - 1), zero_ext(s->val[d - 1], o->arg));
		break;
	case BPFC_AXOP_REF8:
	case BPFC_AXOP_REF16:
	case BPFC_AXOP_REF32:
	case BPFC_AXOP_REF64:
		set_slot(s, d - 1, false, 0);
		break;
	case BPFC_AXOP_CONST8:
	case BPFC_AXOP_CONST16:
	case BPFC_AXOP_CONST32:
	case BPFC_AXOP_CONST64:
		set_slot(s, d, true, o->arg);
		s->depth = d + 1;
		break;
	case BPFC_AXOP_REG:
	case BPFC_AXOP_GETV:
		set_slot(s, d, false, 0);
		s->depth = d + 1;
		break;
	case BPFC_AXOP_DUP:
		copy_slot(s, d, d - 1);
		s->depth = d + 1;
		break;
	case BPFC_AXOP_PICK:
		copy_slot(s, d, d - 1 - (unsigned int)o->arg);
		s->depth = d + 1;
		break;
	case BPFC_AXOP_SWAP: {
		struct st t = *s;

		copy_slot(s, d - 1, d - 2);
		set_slot(s, d - 2, known(&t, d - 1), t.val[d - 1]);
		set_bound(s, d - 2, bounded(&t, d - 1), t.bnd[d - 1]);
		break;
	}
	case BPFC_AXOP_ROT: {
		/* a b c -> c a b */
		struct st t = *s;

		copy_slot(s, d - 1, d - 2);
		copy_slot(s, d - 2, d - 3);
		set_slot(s, d - 3, known(&t, d - 1), t.val[d - 1]);
		set_bound(s, d - 3, bounded(&t, d - 1), t.bnd[d - 1]);
		break;
	}
	case BPFC_AXOP_POP:
	case BPFC_AXOP_IF_GOTO:
		set_slot(s, d - 1, false, 0);
		s->depth = d - 1;
		break;
	case BPFC_AXOP_TRACE:
	case BPFC_AXOP_TRACENZ:
		set_slot(s, d - 1, false, 0);
		set_slot(s, d - 2, false, 0);
		s->depth = d - 2;
		break;
	default:
		/* setv, tracev, trace_quick, trace16, goto, end: no change */
		break;
	}
}

static bool collects(unsigned int op)
{
	return op == BPFC_AXOP_TRACE || op == BPFC_AXOP_TRACE_QUICK || op == BPFC_AXOP_TRACE16 ||
	       op == BPFC_AXOP_TRACENZ || op == BPFC_AXOP_TRACEV;
}

/* Decode and check the instruction at pc, reached with state cur. */
static int step(struct parse *p, size_t pc, struct st *cur, bool target, size_t *next, bool *live)
{
	const __u8 *c = p->code;
	const struct opinfo *info = &optab[c[pc]];
	unsigned int need, out, i;
	struct bpfc_ax_op *o;
	__u64 arg = 0;
	size_t b;
	int err;

	switch (info->kind) {
	case K_BAD:
		return fail(p, -EINVAL, "unknown opcode 0x%02x at byte %zu", c[pc], pc);
	case K_FLOAT:
		return fail(p, -EINVAL, "%s at byte %zu: floating point is not supported",
			    info->name, pc);
	case K_PRINTF:
		return fail(p, -EINVAL,
			    "printf at byte %zu is not supported (bpfstub never writes to the "
			    "target's output)",
			    pc);
	}
	*next = pc + 1 + info->osize;
	if (*next > p->len)
		return fail(p, -EINVAL,
			    "truncated %s at byte %zu (%u operand bytes, %zu left in the "
			    "expression)",
			    info->name, pc, info->osize, p->len - pc - 1);
	for (b = pc + 1; b < *next; b++)
		if (p->pend_at[b] >= 0)
			return fail(
				p, -EINVAL,
				"a jump lands at byte %zu, inside the %s at byte %zu (not on an "
				"instruction boundary)",
				b, info->name, pc);
	/* Operands are big-endian whatever the target. */
	for (b = pc + 1; b < *next; b++)
		arg = arg << 8 | c[b];

	need = info->in;
	out = info->out;
	if (c[pc] == BPFC_AXOP_PICK)
		need = (unsigned int)arg + 1;
	if (cur->depth < need)
		return fail(p, -EINVAL,
			    "stack underflow at byte %zu: %s needs %u value%s, the stack holds %u",
			    pc, info->name, need, need == 1 ? "" : "s", cur->depth);
	if (c[pc] == BPFC_AXOP_PICK)
		need = 0;
	if (cur->depth - need + out > BPFC_AX_MAX_DEPTH)
		return fail(
			p, -EINVAL,
			"stack overflow at byte %zu: %s makes %u values, at most %u fit the BPF "
			"stack",
			pc, info->name, cur->depth - need + out, BPFC_AX_MAX_DEPTH);

	switch (c[pc]) {
	case BPFC_AXOP_REG:
		if (arg >= BPFC_AX_NREGS)
			return fail(
				p, -EINVAL,
				"reg %llu at byte %zu: BPF reads registers 0-17 only (rax..r15, "
				"rip, eflags)",
				(unsigned long long)arg, pc);
		break;
	case BPFC_AXOP_EXT:
		if (!arg)
			return fail(p, -EINVAL, "ext 0 at byte %zu (a zero-bit field has no sign)",
				    pc);
		break;
	case BPFC_AXOP_END:
		if ((p->flags & BPFC_AX_COND) && !cur->depth)
			return fail(p, -EINVAL,
				    "end at byte %zu leaves no value, and a condition needs one",
				    pc);
		break;
	}
	if ((p->flags & BPFC_AX_COND) && collects(c[pc]))
		return fail(p, -EINVAL, "%s at byte %zu collects, and a condition cannot collect",
			    info->name, pc);

	o = new_op(p);
	if (!o)
		return fail(p, -ENOMEM, "out of memory");
	o->off = (__u32)pc;
	o->op = c[pc];
	o->depth = (__u8)cur->depth;
	o->arg = arg;
	o->flags = target ? OPF_TARGET : 0;
	if (c[pc] == BPFC_AXOP_GETV || c[pc] == BPFC_AXOP_SETV || c[pc] == BPFC_AXOP_TRACEV)
		p->ax->uses_vars = true;
	err = site(p, o, cur);
	if (err)
		return err;
	transfer(cur, o);
	for (i = cur->depth; i < BPFC_AX_MAX_DEPTH; i++)
		set_slot(cur, i, false, 0);
	if (cur->depth > p->ax->max_depth)
		p->ax->max_depth = cur->depth;

	*live = true;
	switch (c[pc]) {
	case BPFC_AXOP_IF_GOTO:
		return add_jump(p, pc, *next, arg, cur);
	case BPFC_AXOP_GOTO:
		*live = false;
		return add_jump(p, pc, *next, arg, cur);
	case BPFC_AXOP_END:
		*live = false;
		break;
	}
	return 0;
}

int bpfc_ax__parse(struct bpfc_ax *ax, const void *code, size_t len, unsigned int flags, char *msg,
		   size_t mlen)
{
	struct parse p = {
		.code = code, .len = len, .flags = flags, .ax = ax, .msg = msg, .mlen = mlen};
	size_t pc = 0, next = 0, prev = 0;
	bool live = true, target;
	struct st cur;
	int err = 0;

	memset(ax, 0, sizeof(*ax));
	memset(&cur, 0, sizeof(cur));
	ax->flags = flags;
	if (msg && mlen)
		msg[0] = '\0';
	if (!len || !code) {
		err = fail(&p, -EINVAL, "empty (not even an end)");
		goto cleanup;
	}
	if (len > BPFC_AX_MAX_LEN) {
		err = fail(&p, -E2BIG, "%zu bytes, more than the %u bpfstub compiles", len,
			   BPFC_AX_MAX_LEN);
		goto cleanup;
	}
	p.pend_at = malloc(len * sizeof(*p.pend_at));
	if (!p.pend_at) {
		err = fail(&p, -ENOMEM, "out of memory");
		goto cleanup;
	}
	memset(p.pend_at, 0xff, len * sizeof(*p.pend_at));

	for (;;) {
		target = false;
		if (!live) {
			/* Unreachable bytes are never decoded: go to the next jump target. */
			while (pc < len && p.pend_at[pc] < 0)
				pc++;
			if (pc >= len)
				break;
			cur = p.pend[p.pend_at[pc]];
			target = true;
		} else {
			if (pc >= len) {
				char nb[8];

				err = fail(
					&p, -EINVAL,
					"runs past its last byte after the %s at byte %zu (no end)",
					bpfc_ax__opname(p.code[prev], nb), prev);
				goto cleanup;
			}
			if (p.pend_at[pc] >= 0) {
				err = merge(&p, &cur, &p.pend[p.pend_at[pc]], pc);
				if (err)
					goto cleanup;
				target = true;
			}
		}
		err = step(&p, pc, &cur, target, &next, &live);
		if (err)
			goto cleanup;
		prev = pc;
		pc = next;
	}
cleanup:
	free(p.pend_at);
	free(p.pend);
	if (err)
		bpfc_ax__free(ax);
	return err;
}

void bpfc_ax__free(struct bpfc_ax *ax)
{
	if (!ax)
		return;
	free(ax->ops);
	memset(ax, 0, sizeof(*ax));
}

int bpfc_ax__check(const void *code, size_t len, unsigned int flags, char *msg, size_t mlen)
{
	struct bpfc_ax ax;
	int err = bpfc_ax__parse(&ax, code, len, flags, msg, mlen);

	bpfc_ax__free(&ax);
	return err;
}

/* ---- the compiler ---- */

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
	vput_msg(c->msg, c->mlen, fmt, ap);
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
	return c->vars && num && (num == c->vars->timestamp || num == c->vars->thread);
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
			       (unsigned long long)o->arg, optab[o->op].name, o->off);
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
		if (o[n].flags & OPF_TARGET)
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

	if (!(o->flags & OPF_BLOCK))
		return; /* a static length of 0: nothing to collect */
	l_done = bpfc_emit__label(c->e);
	blk_reg(c, o);
	ld(c, BPFC_R3, ai);
	insn(c, BPF_STX_MEM(BPF_DW, BPFC_R9, BPFC_R3, BPFC_VBLK_OFF_ADDR));
	if (o->flags & OPF_STATIC) {
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

	if (!(o->flags & OPF_BLOCK))
		return;
	l_done = bpfc_emit__label(c->e);
	l_have = bpfc_emit__label(c->e);
	blk_reg(c, o);
	ld(c, BPFC_R3, ai);
	insn(c, BPF_STX_MEM(BPF_DW, BPFC_R9, BPFC_R3, BPFC_VBLK_OFF_ADDR));
	if (o->flags & OPF_STATIC) {
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

		if (!(o->flags & OPF_BLOCK))
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
		c.labels[i] = ax->ops[i].flags & OPF_TARGET ? bpfc_emit__label(e) : -1;
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
