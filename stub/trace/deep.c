/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/deep.c - deep collection as agent bytecode (stub/trace/deep.h).
 *
 * A variable's value is read where its DWARF location says at the
 * tracepoint's pc: a register ("reg N", GDB numbering through dw__gdb_reg),
 * memory at a register plus an offset ("reg N; const OFF; add; ref64"), or
 * an absolute address.  From that value each kind of pointer gets its
 * collection (the table in deep.h).  Lengths known only at run time (a Go
 * string's len, a slice's len * element size, an interface's dynamic size)
 * are clamped and masked:
 *
 *     dup; const N; less_unsigned; if_goto L; pop; const N; L: const N; bit_and
 *
 * with N = 2^k - 1, which the validator (bpf/ax_check.c) reads as "at most N", so
 * the block reserves N bytes and the hit copies only the real length.
 *
 * One expression per parameter: a failed read (a NULL pointer) ends that
 * parameter's expression and no other.
 */
#include <dwarf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/ax.h"
#include "bpf/record.h"
#include "rsp/buf.h"
#include "stub/program/program.h"
#include "stub/trace/deep.h"
#include "stub/trace/montrace.h"
#include "stub/trace/trace.h"

#define BLK_COST(n) (BPFC_VBLK_HDR + (n))
#define STRUCT_MAX  1023u /* bytes of one pointed-to struct */
#define NPATCH	    (DEEP_SLICE_ELEMS + 1)

/*
 * A value deep collection reads: a parameter (its DWARF location), or a
 * `monitor trace` expression's value in memory at the address the bytecode
 * pre pushes (deep__path).
 */
struct dval {
	const char *name;
	const struct dw_type *type;
	const struct dw_loc *loc; /* NULL: at the address pre pushes */
	const uint8_t *pre;
	size_t prelen;
};

/* The plan under construction: budget and the summary text. */
struct pl {
	uint32_t budget, used;
	char *sum;
	size_t sumlen;
	bool cut; /* something left out for the budget */
};

void deep__op(struct deep_bc *b, uint8_t o)
{
	if (b->n + 1 > sizeof(b->b)) {
		b->bad = true;
		return;
	}
	b->b[b->n++] = o;
}

static void op16(struct deep_bc *b, uint8_t o, uint16_t v)
{
	deep__op(b, o);
	deep__op(b, (uint8_t)(v >> 8));
	deep__op(b, (uint8_t)v);
}

/* const8/16/32/64: GDB's constants are unsigned, big-endian. */
void deep__const(struct deep_bc *b, uint64_t v)
{
	int i, w;

	if (v < 0x100) {
		deep__op(b, BPFC_AXOP_CONST8);
		w = 1;
	} else if (v < 0x10000) {
		deep__op(b, BPFC_AXOP_CONST16);
		w = 2;
	} else if (v < 0x100000000ull) {
		deep__op(b, BPFC_AXOP_CONST32);
		w = 4;
	} else {
		deep__op(b, BPFC_AXOP_CONST64);
		w = 8;
	}
	for (i = w - 1; i >= 0; i--)
		deep__op(b, (uint8_t)(v >> (8 * i)));
}

/* addr + off on the stack (off may be negative: const64 and wrap). */
static void add_off(struct deep_bc *b, int64_t off)
{
	if (!off)
		return;
	deep__const(b, (uint64_t)off);
	deep__op(b, BPFC_AXOP_ADD);
}

static void ref(struct deep_bc *b, uint32_t size)
{
	deep__op(b, size == 1	? BPFC_AXOP_REF8
		    : size == 2 ? BPFC_AXOP_REF16
		    : size == 4 ? BPFC_AXOP_REF32
				: BPFC_AXOP_REF64);
}

static bool reg(struct deep_bc *b, int dwreg)
{
	int g = dw__gdb_reg(dwreg);

	if (g < 0) {
		b->bad = true;
		return false;
	}
	op16(b, BPFC_AXOP_REG, (uint16_t)g);
	return true;
}

/* Push register dwreg + off, or the constant off when dwreg is -1. */
static bool reg_plus(struct deep_bc *b, int dwreg, int64_t off)
{
	if (dwreg < 0) {
		deep__const(b, (uint64_t)off);
		return true;
	}
	if (!reg(b, dwreg))
		return false;
	add_off(b, off);
	return true;
}

/* Clamp the top of the stack to n (2^k - 1) so the validator bounds it. */
static void clamp(struct deep_bc *b, uint32_t n)
{
	size_t at;

	deep__op(b, BPFC_AXOP_DUP);
	deep__const(b, n);
	deep__op(b, BPFC_AXOP_LESS_UNSIGNED);
	op16(b, BPFC_AXOP_IF_GOTO, 0);
	at = b->n - 2;
	deep__op(b, BPFC_AXOP_POP);
	deep__const(b, n);
	if (b->n > 0xffff) {
		b->bad = true;
		return;
	}
	b->b[at] = (uint8_t)(b->n >> 8);
	b->b[at + 1] = (uint8_t)b->n;
	deep__const(b, n);
	deep__op(b, BPFC_AXOP_BIT_AND);
}

/* The largest 2^k - 1 <= n (0 when n is 0). */
static uint32_t mask_below(uint32_t n)
{
	uint32_t m = 1;

	while (m * 2 - 1 <= n && m < (1u << 30))
		m *= 2;
	return m - 1;
}

/*
 * Push the word of size bytes at byte `at` of the variable with location l.
 * False (nothing pushed) when the location cannot give it.
 */
static bool push_word(struct deep_bc *b, const struct dval *v, uint32_t at, uint32_t size)
{
	const struct dw_loc *l = v->loc;
	uint32_t start = 0;
	size_t i;

	if (!l) {
		for (i = 0; i < v->prelen; i++)
			deep__op(b, v->pre[i]);
		add_off(b, at);
		ref(b, size);
		return true;
	}

	for (i = 0; i < l->npieces; i++) {
		const struct dw_piece *p = &l->pieces[i];
		uint32_t psz = p->size ? p->size : 0xffffffffu;

		if (at < start || at - start >= psz) {
			start += p->size;
			continue;
		}
		switch (p->kind) {
		case DWP_REG:
			if (at != start || size > 8 || !reg(b, p->reg))
				return false;
			if (size < 8)
				deep__op(b, BPFC_AXOP_ZERO_EXT), deep__op(b, (uint8_t)(size * 8));
			return true;
		case DWP_MEM:
			if (!reg_plus(b, p->reg, p->off + (int64_t)(at - start)))
				return false;
			ref(b, size);
			return true;
		case DWP_VALUE:
			return at == start && reg_plus(b, p->reg, p->off);
		default:
			return false;
		}
	}
	return false;
}

/* Where the variable itself lives when it is one piece of memory: push its address. */
static bool push_addr(struct deep_bc *b, const struct dval *v)
{
	const struct dw_loc *l = v->loc;
	const struct dw_piece *p = l ? &l->pieces[0] : NULL;
	size_t i;

	if (!l) {
		for (i = 0; i < v->prelen; i++)
			deep__op(b, v->pre[i]);
		return true;
	}

	return l->npieces == 1 && p->kind == DWP_MEM && reg_plus(b, p->reg, p->off);
}

static void sumf(struct pl *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sumf(struct pl *p, const char *fmt, ...)
{
	size_t l = strlen(p->sum);
	va_list ap;

	if (l + 1 >= p->sumlen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->sum + l, p->sumlen - l, fmt, ap);
	va_end(ap);
}

static bool take(struct pl *p, uint32_t cost)
{
	if (p->used + cost > p->budget) {
		p->cut = true;
		return false;
	}
	p->used += cost;
	return true;
}

static bool is_char(const struct dw_type *t)
{
	t = dw_type__strip(t);
	return t && t->kind == DWT_BASE && t->size == 1 &&
	       (t->encoding == DW_ATE_signed_char || t->encoding == DW_ATE_unsigned_char ||
		(t->name && strstr(t->name, "char")));
}

static bool is_record(const struct dw_type *t)
{
	t = dw_type__strip(t);
	return t &&
	       (t->kind == DWT_STRUCT || t->kind == DWT_UNION || t->kind == DWT_CLASS ||
		t->kind == DWT_RUST_ENUM || t->kind == DWT_RUST_STR || t->kind == DWT_RUST_VEC) &&
	       t->size > 0;
}

/* A {ptr, len} string: Go's string, Rust's &str and String. */
static bool is_str(const struct dw_type *t)
{
	return t && (t->kind == DWT_GO_STRING || t->kind == DWT_RUST_STR);
}

/* A {ptr, len} run of elements: Go's slice, Rust's Vec and &[T]. */
static bool is_slice(const struct dw_type *t)
{
	return t && (t->kind == DWT_GO_SLICE || t->kind == DWT_RUST_VEC) && t->target;
}

/* Bytes of a pointee record we copy (bounded). */
static uint32_t rec_size(const struct dw_type *t)
{
	t = dw_type__strip(t);
	return t->size > STRUCT_MAX ? STRUCT_MAX : (uint32_t)t->size;
}

/*
 * Stack [.. addr] -> [.. addr]: the {ptr, len} header (a string or slice of
 * type t) at addr + off: len * es bytes at ptr, clamped to max (2^k - 1).
 */
static void emit_header(struct deep_bc *b, int64_t off, const struct dw_type *t, uint64_t es,
			uint32_t max)
{
	deep__op(b, BPFC_AXOP_DUP);
	add_off(b, off + (int64_t)t->ptr_off);
	deep__op(b, BPFC_AXOP_REF64);
	deep__op(b, BPFC_AXOP_PICK), deep__op(b, 1);
	add_off(b, off + (int64_t)t->len_off);
	deep__op(b, BPFC_AXOP_REF64);
	if (es != 1) {
		deep__const(b, es);
		deep__op(b, BPFC_AXOP_MUL);
	}
	clamp(b, max);
	deep__op(b, BPFC_AXOP_TRACE);
}

/*
 * Stack [.. addr] -> [.. addr]: the string t whose header is at addr + off:
 * its bytes, clamped.
 */
static void emit_str(struct deep_bc *b, int64_t off, const struct dw_type *t)
{
	emit_header(b, off, t, 1, DEEP_STR_MAX);
}

static bool str_at(struct deep_bc *b, struct pl *p, int64_t off, const struct dw_type *t)
{
	if (!take(p, BLK_COST(DEEP_STR_MAX)))
		return false;
	emit_str(b, off, t);
	return true;
}

/* [.. addr] -> [.. addr]: the C string pointed to by the word at addr + off. */
static bool cstr_at(struct deep_bc *b, struct pl *p, int64_t off)
{
	if (!take(p, BLK_COST(DEEP_STR_MAX + 1)))
		return false;
	deep__op(b, BPFC_AXOP_DUP);
	add_off(b, off);
	deep__op(b, BPFC_AXOP_REF64);
	deep__const(b, DEEP_STR_MAX);
	deep__op(b, BPFC_AXOP_TRACENZ);
	return true;
}

/* [.. addr] -> [.. addr]: the slice elements of the header at addr + off. */
static bool slice_at(struct deep_bc *b, struct pl *p, int64_t off, const struct dw_type *t)
{
	uint64_t es = t->target->size;
	uint32_t room = p->budget - p->used, m;

	if (!es || room < BLK_COST(16))
		return false;
	m = mask_below(room - BPFC_VBLK_HDR < 1023 ? room - BPFC_VBLK_HDR : 1023);
	if (!take(p, BLK_COST(m)))
		return false;
	emit_header(b, off, t, es, m);
	return true;
}

/* Collect len bytes at the address on the stack, keeping it: trace_quick or trace16. */
static void trace_keep(struct deep_bc *b, uint32_t len)
{
	if (len < 256) {
		deep__op(b, BPFC_AXOP_TRACE_QUICK), deep__op(b, (uint8_t)len);
	} else {
		op16(b, BPFC_AXOP_TRACE16, (uint16_t)len);
	}
}

/*
 * [.. addr] -> [.. addr], jumping (to a patch in patch[]) unless the Rust
 * enum t at addr holds variant vi: its discriminant equals the variant's
 * value, or for the default variant equals no other's.  The count of patches.
 */
static size_t unless_variant(struct deep_bc *b, const struct dw_type *t, size_t vi, size_t *patch,
			     size_t max)
{
	size_t j, n = 0;

	for (j = 0; t->discr_size && j < t->nmembers && n < max; j++) {
		const struct dw_member *m = &t->members[j];

		if (t->members[vi].dflt ? (j == vi || m->dflt) : j != vi)
			continue;
		deep__op(b, BPFC_AXOP_DUP);
		add_off(b, (int64_t)t->discr_off);
		ref(b, t->discr_size);
		deep__const(b, m->discr);
		deep__op(b, BPFC_AXOP_EQUAL);
		if (!t->members[vi].dflt)
			deep__op(b, BPFC_AXOP_LOG_NOT);
		op16(b, BPFC_AXOP_IF_GOTO, 0);
		patch[n++] = b->n - 2;
	}
	return n;
}

/*
 * A Rust enum at the address on the stack: [.. addr] -> [.. addr], and the
 * strings and Vecs in the fields of the variant it holds (each behind a
 * test of the discriminant: another variant's bytes are not pointers).
 */
static void variant_fields(struct deep_bc *b, struct pl *p, const struct dw_type *t,
			   const char *what)
{
	size_t i, j, n = 0, patch[DW_MAX_MEMBERS], np, k;

	for (i = 0; i < t->nmembers; i++) {
		const struct dw_type *vt = dw_type__strip(t->members[i].type);

		for (j = 0; vt && j < vt->nmembers; j++) {
			const struct dw_member *m = &vt->members[j];
			const struct dw_type *mt = dw_type__strip(m->type);
			uint64_t off = t->members[i].offset + m->offset;
			bool ok;

			if (!(is_str(mt) || is_slice(mt)) || off + 16 > rec_size(t) ||
			    p->budget - p->used < BLK_COST(DEEP_STR_MAX))
				continue;
			np = unless_variant(b, t, i, patch, DW_MAX_MEMBERS);
			ok = is_str(mt) ? str_at(b, p, (int64_t)off, mt)
					: slice_at(b, p, (int64_t)off, mt);
			for (k = 0; k < np; k++) {
				b->b[patch[k]] = (uint8_t)(b->n >> 8);
				b->b[patch[k] + 1] = (uint8_t)b->n;
			}
			if (ok)
				sumf(p, "%s%s.%s.%s", n++ ? ", " : " (", what,
				     t->members[i].name ? t->members[i].name : "?",
				     m->name ? m->name : "?");
		}
	}
	if (n)
		sumf(p, ")");
}

/* A struct at the address on the stack: [.. addr] -> [.. addr], and its fields (depth 2). */
static void record_fields(struct deep_bc *b, struct pl *p, const struct dw_type *t,
			  const char *what)
{
	size_t i, n = 0;

	t = dw_type__strip(t);
	if (t->kind == DWT_RUST_ENUM) {
		variant_fields(b, p, t, what);
		return;
	}
	if (is_str(t) || is_slice(t)) {
		/* A Rust String or Vec pointed to: its bytes or elements. */
		if (is_str(t) ? str_at(b, p, 0, t) : slice_at(b, p, 0, t))
			sumf(p, " (%s's %s)", what, is_str(t) ? "text" : "elements");
		return;
	}
	for (i = 0; i < t->nmembers; i++) {
		const struct dw_member *m = &t->members[i];
		const struct dw_type *mt = dw_type__strip(m->type);
		bool ok = false;

		if (!mt || m->offset + 8 > rec_size(t))
			continue;
		if (mt->kind == DWT_PTR && is_char(mt->target))
			ok = cstr_at(b, p, (int64_t)m->offset);
		else if (is_str(mt))
			ok = str_at(b, p, (int64_t)m->offset, mt);
		else if (is_slice(mt))
			ok = slice_at(b, p, (int64_t)m->offset, mt);
		else if (mt->kind == DWT_PTR && is_record(mt->target) &&
			 take(p, BLK_COST(rec_size(mt->target)))) {
			deep__op(b, BPFC_AXOP_DUP);
			add_off(b, (int64_t)m->offset);
			deep__op(b, BPFC_AXOP_REF64);
			trace_keep(b, rec_size(mt->target));
			deep__op(b, BPFC_AXOP_POP);
			ok = true;
		}
		if (ok)
			sumf(p, "%s%s.%s", n++ ? ", " : " (", what, m->name ? m->name : "?");
	}
	if (n)
		sumf(p, ")");
}

/* Go slice held by the variable: elements, then what the first ones point to. */
static void slice_var(struct deep_bc *b, struct pl *p, const struct dval *v,
		      const struct dw_type *t)
{
	const struct dw_type *et = dw_type__strip(t->target);
	uint64_t es = t->target ? t->target->size : 0, po = t->ptr_off, lo = t->len_off;
	uint32_t room = p->budget - p->used, m, cost = 0, i, k = 0;
	size_t patch[NPATCH], np = 0, j;
	char tn[96];

	if (!es || room < BLK_COST(16)) {
		p->cut = true;
		return;
	}
	m = mask_below(room - BPFC_VBLK_HDR < 1023 ? room - BPFC_VBLK_HDR : 1023);
	if (m > room / 2 && room > 512)
		m = mask_below(room / 2);
	if (!push_word(b, v, (uint32_t)po, 8) || !push_word(b, v, (uint32_t)lo, 8)) {
		b->bad = true;
		return;
	}
	take(p, BLK_COST(m));
	deep__const(b, es);
	deep__op(b, BPFC_AXOP_MUL);
	clamp(b, m);
	deep__op(b, BPFC_AXOP_TRACE);
	sumf(p, "%s (%s, %u bytes of elements", v->name, dw_type__name(t, tn, sizeof(tn)), m);
	if (is_str(et))
		cost = BLK_COST(DEEP_STR_MAX);
	else if (et && et->kind == DWT_PTR && is_char(et->target))
		cost = BLK_COST(DEEP_STR_MAX + 1);
	else if (et && et->kind == DWT_PTR && is_record(et->target) && rec_size(et->target) < 256)
		cost = BLK_COST(rec_size(et->target));
	for (i = 0; cost && i < DEEP_SLICE_ELEMS && i < m / es + 1; i++) {
		if (!take(p, cost))
			break;
		/* if (!(i < len)) goto end */
		deep__const(b, i);
		if (!push_word(b, v, (uint32_t)lo, 8)) {
			b->bad = true;
			return;
		}
		deep__op(b, BPFC_AXOP_LESS_UNSIGNED);
		deep__op(b, BPFC_AXOP_LOG_NOT);
		op16(b, BPFC_AXOP_IF_GOTO, 0);
		patch[np++] = b->n - 2;
		push_word(b, v, (uint32_t)po, 8);
		add_off(b, (int64_t)(i * es));
		if (is_str(et)) {
			emit_str(b, 0, et);
		} else if (is_char(et->target)) {
			deep__op(b, BPFC_AXOP_REF64);
			deep__const(b, DEEP_STR_MAX);
			deep__op(b, BPFC_AXOP_TRACENZ);
			deep__const(b, 0); /* str_at keeps the address: keep the depth alike */
		} else {
			deep__op(b, BPFC_AXOP_REF64);
			trace_keep(b, rec_size(et->target));
		}
		deep__op(b, BPFC_AXOP_POP);
		k++;
	}
	for (j = 0; j < np; j++) {
		b->b[patch[j]] = (uint8_t)(b->n >> 8);
		b->b[patch[j] + 1] = (uint8_t)b->n;
	}
	if (k)
		sumf(p, "; what %u element%s point to", k, k > 1 ? "s" : "");
	sumf(p, ")");
}

/*
 * Where the runtime keeps what deep collection reads of a dynamic type, from
 * the binary's own DWARF when the scope carries it (iface: tab -> itab._type;
 * eface: _type), else Go 1.17-1.22's layout: runtime._type.size at 0, .kind
 * at 23, and a pointer type's elem right after the 48-byte _type.
 */
struct go_rtype {
	uint64_t tab_type; /* offset of _type in the itab (iface) */
	uint64_t size, kind, elem;
};

static void go_rtype(const struct dw_type *t, struct go_rtype *r)
{
	const struct dw_member *m;
	const struct dw_type *rt = NULL;

	*r = (struct go_rtype){8, 0, 23, 48};
	if (t->kind == DWT_GO_IFACE && (m = dw_type__member(t, "tab")) && m->type &&
	    dw_type__strip(m->type)->kind == DWT_PTR) {
		const struct dw_type *itab = dw_type__strip(dw_type__strip(m->type)->target);

		if ((m = dw_type__member(itab, "_type"))) {
			r->tab_type = m->offset;
			rt = m->type;
		}
	} else if (t->kind == DWT_GO_EFACE && (m = dw_type__member(t, "_type"))) {
		rt = m->type;
	}
	rt = rt ? dw_type__strip(rt) : NULL;
	rt = rt && rt->kind == DWT_PTR ? dw_type__strip(rt->target) : NULL;
	if (!rt || !dw_type__member(rt, "size") || !dw_type__member(rt, "kind"))
		return;
	r->size = dw_type__member(rt, "size")->offset;
	r->kind = dw_type__member(rt, "kind")->offset;
	r->elem = rt->size;
}

/*
 * A Go interface: what its data word points to.  A pointer-shaped dynamic
 * type (kindDirectIface | kindPtr) keeps the pointer itself in the data
 * word: then the pointee, as long as the pointer type's elem says; any
 * other: the value boxed at data, as long as the type says.
 *
 *     data; type; dup; const KIND; add; ref8; const 0x3f; bit_and; const 0x36;
 *     equal; log_not; if_goto VALUE;
 *     const ELEM; add; ref64; ref64(size) ; clamp; trace; goto END;
 *     VALUE: ref64(size); clamp; trace; END:
 */
static void iface_var(struct deep_bc *b, struct pl *p, const struct dval *v,
		      const struct dw_type *t)
{
	struct go_rtype r;
	size_t to_value, to_end;
	char tn[96];

	go_rtype(t, &r);
	if (!take(p, 2 * BLK_COST(DEEP_STR_MAX)) || !push_word(b, v, 8, 8) ||
	    !push_word(b, v, 0, 8))
		return;
	if (t->kind == DWT_GO_IFACE) {
		add_off(b, (int64_t)r.tab_type);
		deep__op(b, BPFC_AXOP_REF64);
	}
	deep__op(b, BPFC_AXOP_DUP);
	add_off(b, (int64_t)r.kind);
	deep__op(b, BPFC_AXOP_REF8);
	deep__const(b, 0x3f);
	deep__op(b, BPFC_AXOP_BIT_AND);
	deep__const(b, 0x20 | 22); /* kindDirectIface | kindPtr */
	deep__op(b, BPFC_AXOP_EQUAL);
	deep__op(b, BPFC_AXOP_LOG_NOT);
	op16(b, BPFC_AXOP_IF_GOTO, 0);
	to_value = b->n - 2;
	add_off(b, (int64_t)r.elem);
	deep__op(b, BPFC_AXOP_REF64);
	add_off(b, (int64_t)r.size);
	deep__op(b, BPFC_AXOP_REF64);
	clamp(b, DEEP_STR_MAX);
	deep__op(b, BPFC_AXOP_TRACE);
	op16(b, BPFC_AXOP_GOTO, 0);
	to_end = b->n - 2;
	b->b[to_value] = (uint8_t)(b->n >> 8);
	b->b[to_value + 1] = (uint8_t)b->n;
	add_off(b, (int64_t)r.size);
	deep__op(b, BPFC_AXOP_REF64);
	clamp(b, DEEP_STR_MAX);
	deep__op(b, BPFC_AXOP_TRACE);
	b->b[to_end] = (uint8_t)(b->n >> 8);
	b->b[to_end + 1] = (uint8_t)b->n;
	sumf(p, "%s (%s: the value, %u)", v->name, dw_type__name(v->type, tn, sizeof(tn)),
	     DEEP_STR_MAX);
}

/* One parameter: its expression into b, its summary into p.  False: nothing. */
static bool var_plan(struct deep_bc *b, struct pl *p, const struct dval *v)
{
	const struct dw_type *t = dw_type__strip(v->type);
	uint32_t before = p->used, sz;
	size_t mark;
	bool own;

	if (!t || (v->loc && (v->loc->npieces == 0 || v->loc->pieces[0].kind == DWP_UNAVAIL)))
		return false;
	/* A struct a path names (`*it`, `p.Pos`): all of it and what its fields point to. */
	if (!v->loc && is_record(t) && take(p, BLK_COST(rec_size(t)))) {
		push_addr(b, v);
		trace_keep(b, rec_size(t));
		sumf(p, "%s (%u bytes", v->name, rec_size(t));
		record_fields(b, p, t, v->name);
		sumf(p, ")");
		deep__op(b, BPFC_AXOP_END);
		return !b->bad;
	}
	/* In memory (stack ABI, -O0): its own bytes, so GDB can read the value itself. */
	sz = t->size > 64 ? 64 : (uint32_t)t->size;
	if (sz && push_addr(b, v)) {
		if (take(p, BLK_COST(sz)))
			trace_keep(b, sz);
		deep__op(b, BPFC_AXOP_POP);
	}
	own = p->used != before;
	mark = strlen(p->sum);
	switch (t->kind) {
	case DWT_PTR:
		if (is_char(t->target)) {
			if (!take(p, BLK_COST(DEEP_STR_MAX + 1)) || !push_word(b, v, 0, 8))
				break;
			deep__const(b, DEEP_STR_MAX);
			deep__op(b, BPFC_AXOP_TRACENZ);
			sumf(p, "%s (C string, %u)", v->name, DEEP_STR_MAX);
		} else if (is_record(t->target)) {
			sz = rec_size(t->target);
			if (!take(p, BLK_COST(sz)) || !push_word(b, v, 0, 8))
				break;
			trace_keep(b, sz);
			sumf(p, "*%s (%u bytes", v->name, sz);
			record_fields(b, p, t->target, v->name);
			sumf(p, ")");
		}
		break;
	case DWT_GO_STRING:
	case DWT_RUST_STR:
		if (!take(p, BLK_COST(DEEP_STR_MAX)) || !push_word(b, v, (uint32_t)t->ptr_off, 8) ||
		    !push_word(b, v, (uint32_t)t->len_off, 8))
			break;
		clamp(b, DEEP_STR_MAX);
		deep__op(b, BPFC_AXOP_TRACE);
		sumf(p, "%s (%s string, %u)", v->name, t->kind == DWT_GO_STRING ? "Go" : "Rust",
		     DEEP_STR_MAX);
		break;
	case DWT_GO_SLICE:
	case DWT_RUST_VEC:
		slice_var(b, p, v, t);
		break;
	case DWT_RUST_ENUM:
		/* In memory: its own bytes are collected above; what its variant points to. */
		if (own && push_addr(b, v)) {
			sumf(p, "%s (its %u bytes", v->name, sz);
			variant_fields(b, p, t, v->name);
			sumf(p, ")");
			deep__op(b, BPFC_AXOP_POP);
		}
		break;
	case DWT_GO_IFACE:
	case DWT_GO_EFACE:
		iface_var(b, p, v, t);
		break;
	case DWT_GO_MAP:
	case DWT_GO_CHAN: {
		const struct dw_type *h = t->target ? dw_type__strip(t->target) : NULL;

		if (h && h->kind == DWT_PTR)
			h = h->target;
		if (!h || !is_record(h) || !take(p, BLK_COST(rec_size(h))) ||
		    !push_word(b, v, 0, 8))
			break;
		trace_keep(b, rec_size(h));
		sumf(p, "*%s (%s header, %u bytes)", v->name,
		     t->kind == DWT_GO_MAP ? "map" : "chan", rec_size(h));
		break;
	}
	default:
		break;
	}
	if (p->used == before)
		return false;
	if (own && strlen(p->sum) == mark)
		sumf(p, "%s (its %u bytes)", v->name, sz);
	deep__op(b, BPFC_AXOP_END);
	return !b->bad;
}

int deep__plan(const struct dw_scope *s, uint32_t budget, struct deep_plan *out)
{
	struct pl p = {.budget = budget, .sum = out->summary, .sumlen = sizeof(out->summary)};
	struct deep_bc *b;
	size_t i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	b = malloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	sumf(&p, "deep: ");
	for (i = 0; i < s->nvars && out->n < DEEP_MAX_EXPRS; i++) {
		const struct dw_var *dv = &s->vars[i];
		const struct dval val = {dv->name, dv->type, &dv->loc, NULL, 0}, *v = &val;
		size_t mark = strlen(out->summary);
		uint32_t used = p.used;

		if (!dv->param)
			continue;
		b->n = 0;
		b->bad = false;
		if (mark > 6)
			sumf(&p, ", ");
		if (!var_plan(b, &p, v)) {
			/* Nothing for it: take back its text and its bytes. */
			out->summary[mark] = '\0';
			p.used = used;
			continue;
		}
		out->code[out->n] = malloc(b->n);
		if (!out->code[out->n]) {
			err = -ENOMEM;
			break;
		}
		memcpy(out->code[out->n], b->b, b->n);
		out->len[out->n++] = b->n;
	}
	free(b);
	if (err) {
		deep__plan_free(out);
		return err;
	}
	out->bytes = p.used;
	if (!out->n)
		snprintf(out->summary, sizeof(out->summary),
			 "deep: nothing to follow in %s (no parameter points to a string, struct, "
			 "slice or interface%s)",
			 s->func, p.cut ? " within the budget" : "");
	else if (p.cut)
		sumf(&p, "; more left out (budget %u bytes per hit)", budget);
	return 0;
}

/*
 * Go: the goroutine id, runtime.g.goid at r14 + off (Go keeps the current
 * g in r14 on amd64), so tframes/tdump can say which goroutine hit:
 *     reg r14; const OFF; add; const 8; trace; end
 */
int deep__plan_goid(struct deep_plan *p, int64_t off)
{
	struct deep_bc b = {0};

	if (p->n >= DEEP_MAX_EXPRS)
		return -E2BIG;
	op16(&b, BPFC_AXOP_REG, 14);
	add_off(&b, off);
	deep__const(&b, 8);
	deep__op(&b, BPFC_AXOP_TRACE);
	deep__op(&b, BPFC_AXOP_END);
	p->code[p->n] = malloc(b.n);
	if (!p->code[p->n])
		return -ENOMEM;
	memcpy(p->code[p->n], b.b, b.n);
	p->len[p->n++] = b.n;
	p->bytes += 8;
	return 0;
}

/* The part of location l from byte off on (whole pieces only). */
static bool sub_loc(const struct dw_loc *l, uint32_t off, struct dw_loc *out)
{
	uint32_t start = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (l->npieces == 1 && !l->pieces[0].size && l->pieces[0].kind == DWP_MEM) {
		*out = *l;
		out->pieces[0].off += off;
		return true;
	}
	for (i = 0; i < l->npieces; i++) {
		if (start >= off)
			out->pieces[out->npieces++] = l->pieces[i];
		else if (start + l->pieces[i].size > off)
			return false; /* inside a piece */
		start += l->pieces[i].size;
	}
	return out->npieces > 0 || !off;
}

static bool all_regs(const struct dw_loc *l)
{
	size_t i;

	for (i = 0; i < l->npieces; i++)
		if (l->pieces[i].kind != DWP_REG)
			return false;
	return l->npieces > 0;
}

/* The bytecode pushing the address path ends at (nderef >= 1); trace: collect
 * each pointer read on the way, popping the address at the end. */
static void path_addr(struct deep_bc *b, const struct deep_path *path, const struct dval *var,
		      bool trace)
{
	size_t k;

	if (trace && push_addr(b, var)) {
		/* The first pointer itself is in memory: GDB reads it there. */
		add_off(b, path->off0);
		trace_keep(b, 8);
		deep__op(b, BPFC_AXOP_POP);
	}
	if (!push_word(b, var, path->off0, 8))
		b->bad = true;
	add_off(b, path->off[0]);
	for (k = 1; k < path->nderef; k++) {
		if (trace)
			trace_keep(b, 8);
		deep__op(b, BPFC_AXOP_REF64);
		add_off(b, path->off[k]);
	}
	if (trace)
		deep__op(b, BPFC_AXOP_POP);
}

/* The value at path as a struct dval (pre: the address bytecode, in pre). */
static int path_val(const struct deep_path *path, struct dval *v, struct dw_loc *loc,
		    struct deep_bc *pre)
{
	const struct dw_loc *l = &path->var->loc;

	memset(v, 0, sizeof(*v));
	v->name = path->text;
	v->type = path->type;
	if (!l->npieces || l->pieces[0].kind == DWP_UNAVAIL)
		return -ENOENT;
	if (!path->nderef) {
		if (!sub_loc(l, path->off0, loc))
			return -EOPNOTSUPP;
		v->loc = loc;
		return 0;
	}
	if (path->nderef > DEEP_PATH_MAX)
		return -E2BIG;
	{
		const struct dval var = {path->var->name, path->var->type, l, NULL, 0};

		pre->n = 0;
		pre->bad = false;
		path_addr(pre, path, &var, false);
		if (pre->bad)
			return -EOPNOTSUPP;
	}
	v->pre = pre->b;
	v->prelen = pre->n;
	return 0;
}

int deep__path(const struct deep_path *path, uint32_t budget, struct deep_plan *out)
{
	struct pl p = {.budget = budget, .sum = out->summary, .sumlen = sizeof(out->summary)};
	struct deep_bc *b, *pre;
	struct dw_loc loc;
	struct dval v;
	int err;

	memset(out, 0, sizeof(*out));
	b = calloc(2, sizeof(*b));
	if (!b)
		return -ENOMEM;
	pre = &b[1];
	err = path_val(path, &v, &loc, pre);
	if (err) {
		snprintf(out->summary, sizeof(out->summary), "%s %s", path->text,
			 err == -ENOENT ? "is optimized out at this pc"
					: "is at a location that cannot be collected");
		goto cleanup;
	}
	if (path->nderef) {
		const struct dval var = {path->var->name, path->var->type, &path->var->loc, NULL,
					 0};

		/* The pointers on the way, so GDB can follow them in the frame. */
		take(&p, (uint32_t)(path->nderef + 1) * BLK_COST(8));
		path_addr(b, path, &var, true);
	}
	if (!var_plan(b, &p, &v)) {
		if (!path->nderef && all_regs(v.loc)) {
			snprintf(out->summary, sizeof(out->summary), "%s (in the registers)",
				 path->text);
			goto cleanup;
		}
		err = b->bad ? -E2BIG : -EOPNOTSUPP;
		if (b->bad)
			snprintf(out->summary, sizeof(out->summary),
				 "%s needs a longer expression than the agent takes", path->text);
		else if (p.cut)
			snprintf(out->summary, sizeof(out->summary),
				 "%s does not fit in %u bytes per hit (monitor set deep-collect)",
				 path->text, budget);
		else {
			char tn[96];

			snprintf(out->summary, sizeof(out->summary),
				 "%s has a type that cannot be collected (%s)", path->text,
				 dw_type__name(path->type, tn, sizeof(tn)));
		}
		goto cleanup;
	}
	out->code[0] = malloc(b->n);
	if (!out->code[0]) {
		err = -ENOMEM;
		goto cleanup;
	}
	memcpy(out->code[0], b->b, b->n);
	out->len[0] = b->n;
	out->n = 1;
	out->bytes = p.used;
cleanup:
	free(b);
	return err;
}

bool deep__push_value(struct deep_bc *b, const struct deep_path *path)
{
	const struct dw_type *t = dw_type__strip(path->type);
	struct deep_bc *pre = malloc(sizeof(*pre));
	struct dw_loc loc;
	struct dval v;
	uint32_t size;
	bool ok = false;

	if (!pre || !t || !t->size || t->size > 8 || (t->size & (t->size - 1)))
		goto cleanup;
	size = (uint32_t)t->size;
	if (path_val(path, &v, &loc, pre) || !push_word(b, &v, 0, size))
		goto cleanup;
	if (size < 8 && t->kind == DWT_BASE &&
	    (t->encoding == DW_ATE_signed || t->encoding == DW_ATE_signed_char)) {
		deep__op(b, BPFC_AXOP_EXT);
		deep__op(b, (uint8_t)(size * 8));
	}
	ok = !b->bad;
cleanup:
	free(pre);
	return ok;
}

void deep__plan_free(struct deep_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->code[i]);
	p->n = 0;
}

/* ---- the trace's side ---- */

struct deep_tp {
	uint32_t num;
	uint64_t addr;
	struct deep_plan plan;
	char note[700]; /* summary, or why nothing */
};

struct deep {
	struct deep_tp *tp[256]; /* by slot */
	struct program *own;	 /* only for a trace without tr->pgm: see program_of() */
};

struct deep *deep__new(void)
{
	return calloc(1, sizeof(struct deep));
}

void deep__free(struct deep *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < sizeof(d->tp) / sizeof(d->tp[0]); i++)
		if (d->tp[i]) {
			deep__plan_free(&d->tp[i]->plan);
			free(d->tp[i]);
		}
	program__free(d->own);
	free(d);
}

/*
 * The program whose DWARF the plans read: the trace's (tr__init makes it).
 * A trace put together by hand (a unit test: tr->tgt only) has none, and
 * gets one of deep's own, freed with it.
 */
static struct program *program_of(struct trace *tr)
{
	if (tr->pgm)
		return tr->pgm;
	if (!tr->deep)
		tr->deep = deep__new();
	if (tr->deep && !tr->deep->own)
		tr->deep->own = program__new(tr->tgt);
	return tr->deep ? tr->deep->own : NULL;
}

static struct deep_tp *slot_of(struct trace *tr, const struct tp *tp)
{
	struct deep_tp *e;

	if (!tr->deep)
		tr->deep = deep__new();
	if (!tr->deep || tp->slot >= sizeof(tr->deep->tp) / sizeof(tr->deep->tp[0]))
		return NULL;
	e = tr->deep->tp[tp->slot];
	if (!e) {
		e = calloc(1, sizeof(*e));
		tr->deep->tp[tp->slot] = e;
	}
	if (e) {
		deep__plan_free(&e->plan);
		e->num = tp->num;
		e->addr = tp->addr;
		e->note[0] = '\0';
	}
	return e;
}

void deep__append(struct trace *tr, const struct tp *tp, struct bpfc_expr *out, size_t *n,
		  size_t max)
{
	struct deep_tp *e = slot_of(tr, tp);
	struct program *pgm;
	struct dw_scope s;
	char msg[600];
	int64_t goid;
	size_t i;
	int err;

	if (!e)
		return;
	if (!tr->deep_budget) {
		snprintf(e->note, sizeof(e->note), "deep collection off");
		return;
	}
	/*
	 * Without the registers in the frame GDB cannot find a parameter (a
	 * register, or a slot off rbp or the CFA), so the blocks would serve
	 * nothing; and a tracepoint that names what it collects (`collect/s3
	 * buf`, for which GDB adds the registers its bytecode reads) gets
	 * exactly that.  So deep collection comes with `collect $regs`: an R
	 * action with every general register and rip (GDB 0-16); and, with
	 * always-regs on, with a tracepoint that names nothing but registers
	 * (tr__tp_regs_only: GDB sent no action for its `collect $args`, or
	 * could not compile one), whose frames hold the registers all the same.
	 */
	if (tp->mon && !tp->mon->args) {
		snprintf(e->note, sizeof(e->note), "collects what `monitor trace` names: %s",
			 tp->mon->plan);
		return;
	}
	for (i = 0; i < tp->nact; i++)
		if (tp->act[i].kind == TPA_REGS && (tp->act[i].regmask[0] & 0x1ffff) == 0x1ffff)
			break;
	if (i == tp->nact && !(tr->always_regs && tr__tp_regs_only(tp))) {
		snprintf(
			e->note, sizeof(e->note),
			"nothing deeper: deep collection comes with `collect $regs` (GDB finds the "
			"parameters through the registers)%s",
			tr->always_regs ? ""
					: " or, when the actions collect only registers, with "
					  "`monitor set always-regs on`");
		return;
	}
	pgm = program_of(tr);
	if (!pgm) {
		snprintf(e->note, sizeof(e->note), "nothing deeper: %s", strerror(ENOMEM));
		return;
	}
	err = dw_cache__scope(pgm->dwarf, pgm->tgt, tp->addr, &s, msg, sizeof(msg));
	if (err) {
		snprintf(e->note, sizeof(e->note), "nothing deeper: %s", msg);
		return;
	}
	err = deep__plan(&s, tr->deep_budget, &e->plan);
	if (err) {
		dw_scope__free(&s);
		snprintf(e->note, sizeof(e->note), "nothing deeper: %s", strerror(-err));
		return;
	}
	snprintf(e->note, sizeof(e->note), "%s", e->plan.summary);
	if (s.go && !tp->mon && /* montrace.c collects it for its own */
	    !dw_cache__go_goid(pgm->dwarf, pgm->tgt, tp->addr, &goid, msg, sizeof(msg)) &&
	    !deep__plan_goid(&e->plan, goid))
		snprintf(e->note + strlen(e->note), sizeof(e->note) - strlen(e->note),
			 "; goroutine id (8 bytes at r14%+lld)", (long long)goid);
	dw_scope__free(&s);
	for (i = 0; i < e->plan.n && *n < max; i++) {
		out[*n].code = e->plan.code[i];
		out[*n].len = e->plan.len[i];
		(*n)++;
	}
}

void deep__refused(struct trace *tr, const struct tp *tp, const char *why)
{
	struct deep_tp *e = slot_of(tr, tp);

	if (e)
		snprintf(e->note, sizeof(e->note),
			 "deep collection refused, tracing without it: %s", why);
}

int deep__status(const struct trace *tr, struct rsp_buf *out)
{
	size_t i;
	int err;

	if (!tr->deep_budget)
		return rsp_buf__puts(out, "deep collection: off\n");
	err = rsp_buf__printf(out, "deep collection: %u bytes per hit, depth %u\n", tr->deep_budget,
			      DEEP_DEPTH);
	for (i = 0; !err && tr->deep && i < sizeof(tr->deep->tp) / sizeof(tr->deep->tp[0]); i++) {
		const struct deep_tp *e = tr->deep->tp[i];

		/* Only tracepoints still defined (QTinit forgets them; slots are reused). */
		if (e && e->note[0] && i < tr->ntps && tr->tps[i].num == e->num &&
		    tr->tps[i].addr == e->addr)
			err = rsp_buf__printf(out, "  tracepoint %u at 0x%llx: %s\n", e->num,
					      (unsigned long long)e->addr, e->note);
	}
	return err;
}
