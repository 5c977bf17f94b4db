/* SPDX-License-Identifier: MIT */
/*
 * bpf/ax_check.c - GDB agent expressions: the validator.
 *
 * gdbserver interprets agent bytecode with a run-time stack and run-time
 * checks.  A BPF program cannot do that: the verifier wants every stack
 * access, every jump and every size proven before the program runs.  So
 * this file proves, once, when GDB defines the tracepoint, what gdbserver
 * checks on every hit; bpf/ax.c then compiles what it has proven.  The
 * two halves meet only in struct bpfc_ax: this one runs when QTDP arrives
 * (so GDB gets a precise "E.<message>" while the tracepoint is defined),
 * the compiler runs at tstart.
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
 *  - Collection sites (trace, trace_quick, trace16, tracenz, tracev) get
 *    their record blocks here, at offsets fixed in bytecode order: a
 *    forward-only program runs each instruction at most once per hit, so
 *    one block per site is enough.  A length known at build time reserves
 *    exactly that; a run-time length reserves BPFC_AX_TRACE_MAX and is cut
 *    there, visibly (record.h), or less when an upper bound is proven (a
 *    bit_and with a constant: struct st).
 *
 *  - The result is struct bpfc_ax: the reachable instructions as struct
 *    bpfc_ax_op (ax_int.h), each with its depth, operand and block.
 *
 * Everything here is pure: no libbpf, no I/O, no globals but const tables.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/ax.h"
#include "bpf/ax_int.h"
#include "bpf/record.h"

_Static_assert(BPFC_AX_MAX_DEPTH <= 64, "the known-constant mask is 64 bits");

const struct bpfc_ax_opinfo bpfc_ax__optab[256] = {
	[BPFC_AXOP_FLOAT] = {"float", BPFC_AXK_FLOAT, 0, 0, 0},
	[BPFC_AXOP_ADD] = {"add", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_SUB] = {"sub", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_MUL] = {"mul", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_DIV_SIGNED] = {"div_signed", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_DIV_UNSIGNED] = {"div_unsigned", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_REM_SIGNED] = {"rem_signed", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_REM_UNSIGNED] = {"rem_unsigned", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_LSH] = {"lsh", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_RSH_SIGNED] = {"rsh_signed", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_RSH_UNSIGNED] = {"rsh_unsigned", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_TRACE] = {"trace", BPFC_AXK_OK, 0, 2, 0},
	[BPFC_AXOP_TRACE_QUICK] = {"trace_quick", BPFC_AXK_OK, 1, 1, 1},
	[BPFC_AXOP_LOG_NOT] = {"log_not", BPFC_AXK_OK, 0, 1, 1},
	[BPFC_AXOP_BIT_AND] = {"bit_and", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_BIT_OR] = {"bit_or", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_BIT_XOR] = {"bit_xor", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_BIT_NOT] = {"bit_not", BPFC_AXK_OK, 0, 1, 1},
	[BPFC_AXOP_EQUAL] = {"equal", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_LESS_SIGNED] = {"less_signed", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_LESS_UNSIGNED] = {"less_unsigned", BPFC_AXK_OK, 0, 2, 1},
	[BPFC_AXOP_EXT] = {"ext", BPFC_AXK_OK, 1, 1, 1},
	[BPFC_AXOP_REF8] = {"ref8", BPFC_AXK_OK, 0, 1, 1},
	[BPFC_AXOP_REF16] = {"ref16", BPFC_AXK_OK, 0, 1, 1},
	[BPFC_AXOP_REF32] = {"ref32", BPFC_AXK_OK, 0, 1, 1},
	[BPFC_AXOP_REF64] = {"ref64", BPFC_AXK_OK, 0, 1, 1},
	[BPFC_AXOP_REF_FLOAT] = {"ref_float", BPFC_AXK_FLOAT, 0, 1, 1},
	[BPFC_AXOP_REF_DOUBLE] = {"ref_double", BPFC_AXK_FLOAT, 0, 1, 1},
	[BPFC_AXOP_REF_LONG_DOUBLE] = {"ref_long_double", BPFC_AXK_FLOAT, 0, 1, 1},
	[BPFC_AXOP_L_TO_D] = {"l_to_d", BPFC_AXK_FLOAT, 0, 1, 1},
	[BPFC_AXOP_D_TO_L] = {"d_to_l", BPFC_AXK_FLOAT, 0, 1, 1},
	[BPFC_AXOP_IF_GOTO] = {"if_goto", BPFC_AXK_OK, 2, 1, 0},
	[BPFC_AXOP_GOTO] = {"goto", BPFC_AXK_OK, 2, 0, 0},
	[BPFC_AXOP_CONST8] = {"const8", BPFC_AXK_OK, 1, 0, 1},
	[BPFC_AXOP_CONST16] = {"const16", BPFC_AXK_OK, 2, 0, 1},
	[BPFC_AXOP_CONST32] = {"const32", BPFC_AXK_OK, 4, 0, 1},
	[BPFC_AXOP_CONST64] = {"const64", BPFC_AXK_OK, 8, 0, 1},
	[BPFC_AXOP_REG] = {"reg", BPFC_AXK_OK, 2, 0, 1},
	[BPFC_AXOP_END] = {"end", BPFC_AXK_OK, 0, 0, 0},
	[BPFC_AXOP_DUP] = {"dup", BPFC_AXK_OK, 0, 1, 2},
	[BPFC_AXOP_POP] = {"pop", BPFC_AXK_OK, 0, 1, 0},
	[BPFC_AXOP_ZERO_EXT] = {"zero_ext", BPFC_AXK_OK, 1, 1, 1},
	[BPFC_AXOP_SWAP] = {"swap", BPFC_AXK_OK, 0, 2, 2},
	[BPFC_AXOP_GETV] = {"getv", BPFC_AXK_OK, 2, 0, 1},
	[BPFC_AXOP_SETV] = {"setv", BPFC_AXK_OK, 2, 1, 1},
	[BPFC_AXOP_TRACEV] = {"tracev", BPFC_AXK_OK, 2, 0, 0},
	[BPFC_AXOP_TRACENZ] = {"tracenz", BPFC_AXK_OK, 0, 2, 0},
	[BPFC_AXOP_TRACE16] = {"trace16", BPFC_AXK_OK, 2, 1, 1},
	[BPFC_AXOP_PICK] = {"pick", BPFC_AXK_OK, 1, 0, 1},
	[BPFC_AXOP_ROT] = {"rot", BPFC_AXK_OK, 0, 3, 3},
	[BPFC_AXOP_PRINTF] = {"printf", BPFC_AXK_PRINTF, 0, 0, 0},
};

const char *bpfc_ax__opname(unsigned int op, char buf[8])
{
	if (op < 256 && bpfc_ax__optab[op].name)
		return bpfc_ax__optab[op].name;
	snprintf(buf, 8, "0x%02x", op & 0xff);
	return buf;
}

/* "agent expression: " + the formatted text into msg (one line, truncated to fit). */
void bpfc_ax__vput_msg(char *msg, size_t mlen, const char *fmt, va_list ap)
{
	int n;

	if (!msg || !mlen)
		return;
	n = snprintf(msg, mlen, "agent expression: ");
	if (n >= 0 && (size_t)n < mlen)
		vsnprintf(msg + n, mlen - (size_t)n, fmt, ap);
}

/* ---- constant folding (ax.h's semantics; the emitted code matches) ---- */

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
	 * bytes, not BPFC_AX_TRACE_MAX (stub/trace/deep.c bounds its lengths so).
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

static int fail(struct parse *p, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parse *p, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bpfc_ax__vput_msg(p->msg, p->mlen, fmt, ap);
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
	const char *name = bpfc_ax__optab[p->code[pc]].name;
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

	o->flags |= BPFC_AX_OPF_BLOCK;
	o->blk = (__u32)ax->rec_size;
	o->cap = (__u32)cap;
	ax->rec_size += hdr + (size_t)cap;
	ax->nblocks++;
	if (ax->rec_size > BPFC_AX_REC_MAX)
		return fail(p, -E2BIG,
			    "collects more than %u bytes per hit (at the %s at byte %u), more than "
			    "one record holds",
			    BPFC_AX_REC_MAX, bpfc_ax__optab[o->op].name, o->off);
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
		o->flags |= BPFC_AX_OPF_STATIC;
		o->len = o->arg;
		return o->len ? add_block(p, o, BPFC_VBLK_HDR, o->len) : 0;
	case BPFC_AXOP_TRACE:
		if (!known(s, top) && bounded(s, top) && s->bnd[top] &&
		    s->bnd[top] < BPFC_AX_TRACE_MAX)
			return add_block(p, o, BPFC_VBLK_HDR, s->bnd[top]);
		if (!known(s, top))
			return add_block(p, o, BPFC_VBLK_HDR, BPFC_AX_TRACE_MAX);
		o->flags |= BPFC_AX_OPF_STATIC;
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
		o->flags |= BPFC_AX_OPF_STATIC;
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
	const struct bpfc_ax_opinfo *info = &bpfc_ax__optab[c[pc]];
	unsigned int need, out, i;
	struct bpfc_ax_op *o;
	__u64 arg = 0;
	size_t b;
	int err;

	switch (info->kind) {
	case BPFC_AXK_BAD:
		return fail(p, -EINVAL, "unknown opcode 0x%02x at byte %zu", c[pc], pc);
	case BPFC_AXK_FLOAT:
		return fail(p, -EINVAL, "%s at byte %zu: floating point is not supported",
			    info->name, pc);
	case BPFC_AXK_PRINTF:
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
	o->flags = target ? BPFC_AX_OPF_TARGET : 0;
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
