/* SPDX-License-Identifier: MIT */
/*
 * stub/views/mprint.c - typed values of one stored trace frame (see mprint.h).
 *
 * A value is read from a source: memory at an address (the frame's M
 * blocks, then the constant memory the tfind rule allows) or a few bytes
 * gathered from registers and DW_OP_piece parts.  Printing walks the DWARF
 * type, reading each part only when it is printed, so a struct whose
 * second field points nowhere collected still shows its first.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rsp/buf.h"
#include "stub/program/regs.h"
#include "stub/views/mprint.h"

#define DW_ATE_boolean	     0x02
#define DW_ATE_complex_float 0x03
#define DW_ATE_float	     0x04
#define DW_ATE_signed	     0x05
#define DW_ATE_signed_char   0x06
#define DW_ATE_unsigned	     0x07
#define DW_ATE_unsigned_char 0x08
#define DW_ATE_UTF	     0x10

#define SRC_BUF 64 /* bytes of a value gathered from registers */

/* Where a value's bytes are. */
struct src {
	bool mem;
	uint64_t addr; /* mem */
	uint8_t buf[SRC_BUF];
	size_t len; /* !mem: bytes in buf */
};

struct pctx {
	struct rsp_buf *o;
	const struct mprint_frame *f;
	bool go;
	unsigned depth, elems; /* the bounds of this printing */
};

/* ---- reading ------------------------------------------------------------ */

void mprint__frame(struct mprint_frame *v, const struct tf_frame *f)
{
	uint64_t pc = 0;

	memset(v, 0, sizeof(*v));
	v->f = f;
	v->regs = f ? tf_frame__regs(f) : NULL;
	if (mprint__reg(v, AMD64_RIP, &pc))
		v->pc = pc;
}

/* Contiguous bytes at addr (frame, then live), at most len. */
static size_t read_upto(const struct mprint_frame *f, uint64_t addr, uint8_t *buf, size_t len)
{
	size_t done = 0, got;
	ssize_t n;

	while (done < len) {
		got = f->f ? tf_frame__read_mem(f->f, addr + done, buf + done, len - done) : 0;
		if (!got && f->live) {
			n = f->live(f->ctx, addr + done, buf + done, len - done);
			got = n > 0 ? (size_t)n : 0;
		}
		if (!got)
			break;
		done += got;
	}
	return done;
}

bool mprint__read(const struct mprint_frame *f, uint64_t addr, void *buf, size_t len)
{
	return read_upto(f, addr, buf, len) == len;
}

bool mprint__reg(const struct mprint_frame *f, int gdbreg, uint64_t *val)
{
	uint64_t v = 0;
	int off, i;

	/* BPF sees rax..r15, rip and eflags of pt_regs (stub/views/frame.c). */
	if (!f->regs || gdbreg < 0 || gdbreg > AMD64_EFLAGS)
		return false;
	off = regs_offset((unsigned)gdbreg);
	for (i = 7; i >= 0; i--)
		v = v << 8 | f->regs[off + i];
	if (gdbreg == AMD64_EFLAGS)
		v &= 0xffffffffu;
	*val = v;
	return true;
}

static bool src_read(const struct pctx *c, const struct src *s, uint64_t off, void *buf, size_t n)
{
	if (s->mem)
		return mprint__read(c->f, s->addr + off, buf, n);
	if (off > s->len || n > s->len - off)
		return false;
	memcpy(buf, s->buf + off, n);
	return true;
}

static struct src src_at(uint64_t addr)
{
	struct src s = {.mem = true, .addr = addr};

	return s;
}

/* The part of s at off (a member, an element). */
static struct src src_sub(const struct src *s, uint64_t off)
{
	struct src r = {.mem = s->mem, .addr = s->addr + off};

	if (!s->mem && off < s->len) {
		r.len = s->len - off;
		memcpy(r.buf, s->buf + off, r.len);
	}
	return r;
}

static bool src_word(const struct pctx *c, const struct src *s, uint64_t off, uint64_t *v)
{
	uint8_t b[8];
	int i;

	if (!src_read(c, s, off, b, 8))
		return false;
	*v = 0;
	for (i = 7; i >= 0; i--)
		*v = *v << 8 | b[i];
	return true;
}

/*
 * The source of a value of size bytes at loc.  -ENOENT: not collected,
 * -EINVAL: optimized out / not followed (why set), -E2BIG: too large.
 */
static int src_of_loc(const struct mprint_frame *f, const struct dw_loc *loc, uint64_t size,
		      struct src *s, char *why, size_t wlen)
{
	size_t i, at = 0;
	uint64_t base;

	memset(s, 0, sizeof(*s));
	if (!loc->npieces) {
		rsp_buf__msgf(why, wlen, "%s", loc->why[0] ? loc->why : "no location");
		return -EINVAL;
	}
	for (i = 0; i < loc->npieces; i++) {
		const struct dw_piece *p = &loc->pieces[i];
		uint64_t n = p->size ? p->size : size;

		if (p->kind == DWP_UNAVAIL) {
			rsp_buf__msgf(why, wlen, "%s", loc->why[0] ? loc->why : "optimized out");
			return -EINVAL;
		}
		base = 0;
		if (p->reg >= 0 && !mprint__reg(f, dw__gdb_reg(p->reg), &base))
			return -ENOENT;
		base += (uint64_t)p->off;
		if (p->kind == DWP_MEM && loc->npieces == 1) {
			*s = src_at(base);
			return 0;
		}
		if (at + n > SRC_BUF)
			return -E2BIG;
		if (p->kind == DWP_MEM) {
			if (!mprint__read(f, base, s->buf + at, n))
				return -ENOENT;
		} else {
			uint64_t v = p->kind == DWP_VALUE ? base : base - (uint64_t)p->off;
			size_t k;

			/* DWP_REG: the register itself (off is 0) */
			for (k = 0; k < n; k++)
				s->buf[at + k] = k < 8 ? (uint8_t)(v >> (8 * k)) : 0;
		}
		at += n;
	}
	s->len = at;
	return 0;
}

/* ---- printing ----------------------------------------------------------- */

static void print_val(struct pctx *c, const struct dw_type *t, const struct src *s, unsigned depth);

static void not_collected(struct pctx *c)
{
	rsp_buf__puts(c->o, "<not collected>");
}

static void put_escaped(struct rsp_buf *o, const uint8_t *p, size_t n)
{
	size_t i;

	rsp_buf__putc(o, '"');
	for (i = 0; i < n; i++) {
		uint8_t ch = p[i];

		if (ch == '"' || ch == '\\')
			rsp_buf__printf(o, "\\%c", ch);
		else if (ch == '\n')
			rsp_buf__puts(o, "\\n");
		else if (ch == '\t')
			rsp_buf__puts(o, "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			rsp_buf__printf(o, "\\%03o", ch);
		else
			rsp_buf__putc(o, (char)ch);
	}
	rsp_buf__putc(o, '"');
}

/* A string of len bytes at addr (Go), or up to its NUL (C: len < 0). */
static void print_str(struct pctx *c, uint64_t addr, int64_t len)
{
	uint8_t b[MPRINT_STR + 1];
	size_t want = len < 0 || len > MPRINT_STR ? MPRINT_STR : (size_t)len, got, n;
	uint8_t *nul;

	if (!want) {
		rsp_buf__puts(c->o, "\"\"");
		return;
	}
	got = read_upto(c->f, addr, b, want);
	if (len < 0) {
		nul = memchr(b, 0, got);
		if (!got) {
			not_collected(c);
			return;
		}
		n = nul ? (size_t)(nul - b) : got;
		put_escaped(c->o, b, n);
		if (!nul)
			rsp_buf__puts(c->o, "...");
		return;
	}
	if (got < want) {
		not_collected(c);
		return;
	}
	put_escaped(c->o, b, got);
	if ((uint64_t)len > got)
		rsp_buf__printf(c->o, "...(%lld bytes)", (long long)len);
}

static bool is_char(const struct dw_type *t, bool go)
{
	t = dw_type__strip(t);
	return !go && t && t->kind == DWT_BASE && t->size == 1 &&
	       (t->encoding == DW_ATE_signed_char || t->encoding == DW_ATE_unsigned_char);
}

static void print_base(struct pctx *c, const struct dw_type *t, const struct src *s)
{
	uint8_t b[16] = {0};
	uint64_t u = 0;
	int64_t v;
	int i;

	if (!t->size || t->size > 16) {
		rsp_buf__printf(c->o, "<%s: %llu-byte base type not printed>",
				t->name ? t->name : "?", (unsigned long long)t->size);
		return;
	}
	if (!src_read(c, s, 0, b, t->size)) {
		not_collected(c);
		return;
	}
	for (i = (int)(t->size > 8 ? 8 : t->size) - 1; i >= 0; i--)
		u = u << 8 | b[i];
	switch (t->encoding) {
	case DW_ATE_boolean:
		rsp_buf__puts(c->o, u ? "true" : "false");
		return;
	case DW_ATE_float:
		if (t->size == 4) {
			float fl;

			memcpy(&fl, b, 4);
			rsp_buf__printf(c->o, "%.9g", fl);
		} else if (t->size == 8) {
			double d;

			memcpy(&d, b, 8);
			rsp_buf__printf(c->o, "%.17g", d);
		} else {
			rsp_buf__printf(c->o, "<%llu-byte float not printed>",
					(unsigned long long)t->size);
		}
		return;
	case DW_ATE_complex_float:
		rsp_buf__puts(c->o, "<complex not printed>");
		return;
	default:
		break;
	}
	if (t->size > 8) {
		rsp_buf__printf(c->o, "<%llu-byte integer not printed>",
				(unsigned long long)t->size);
		return;
	}
	if (t->encoding == DW_ATE_signed || t->encoding == DW_ATE_signed_char) {
		unsigned sh = (unsigned)(64 - 8 * t->size);

		v = sh ? (int64_t)(u << sh) >> sh : (int64_t)u;
		rsp_buf__printf(c->o, "%lld", (long long)v);
	} else {
		rsp_buf__printf(c->o, "%llu", (unsigned long long)u);
	}
	if (is_char(t, c->go)) {
		uint8_t ch = (uint8_t)u;

		if (ch >= 0x20 && ch < 0x7f && ch != '\'' && ch != '\\')
			rsp_buf__printf(c->o, " '%c'", ch);
		else
			rsp_buf__printf(c->o, " '\\%03o'", ch);
	}
}

static void print_enum(struct pctx *c, const struct dw_type *t, const struct src *s)
{
	uint8_t b[8] = {0};
	int64_t v = 0;
	size_t i, n = t->size && t->size <= 8 ? t->size : 4;
	unsigned sh = (unsigned)(64 - 8 * n);

	if (!src_read(c, s, 0, b, n)) {
		not_collected(c);
		return;
	}
	for (i = n; i-- > 0;)
		v = (int64_t)((uint64_t)v << 8 | b[i]);
	if (sh)
		v = (int64_t)((uint64_t)v << sh) >> sh;
	for (i = 0; i < t->nenums; i++)
		if (t->enums[i].value == v) {
			rsp_buf__puts(c->o, t->enums[i].name);
			return;
		}
	rsp_buf__printf(c->o, "%lld", (long long)v);
}

/* Rust's tuple structs and tuple variants name their fields __0, __1... */
static bool rust_tuple(const struct dw_type *t)
{
	return t->nmembers && t->members[0].name && !strcmp(t->members[0].name, "__0");
}

/* The fields of t at s: {a = 1, b = "x"} (C), {A: 1, B: "x"} (Go), {a: 1} or (1, 2) (Rust). */
static void print_fields(struct pctx *c, const struct dw_type *t, const struct src *s,
			 unsigned depth)
{
	bool tuple = t->rust && rust_tuple(t);
	size_t i;

	if (t->cut || depth >= c->depth) {
		rsp_buf__puts(c->o, tuple ? "(...)" : "{...}");
		return;
	}
	rsp_buf__putc(c->o, tuple ? '(' : '{');
	for (i = 0; i < t->nmembers; i++) {
		const struct dw_member *m = &t->members[i];
		struct src sub = src_sub(s, m->offset);

		if (i)
			rsp_buf__puts(c->o, ", ");
		if (m->name && !tuple)
			rsp_buf__printf(c->o, c->go || t->rust ? "%s: " : "%s = ", m->name);
		print_val(c, m->type, &sub, depth + 1);
	}
	rsp_buf__putc(c->o, tuple ? ')' : '}');
}

/* C and Go: the fields; Rust, as GDB prints it: Point {x: 3, y: 4}, Wrapper(7). */
static void print_struct(struct pctx *c, const struct dw_type *t, const struct src *s,
			 unsigned depth)
{
	if (t->rust && t->name)
		rsp_buf__printf(c->o, rust_tuple(t) ? "%s" : "%s ", t->name);
	print_fields(c, t, s, depth);
}

/*
 * A Rust enum: the variant its discriminant names (or the default one, a
 * niche-optimised enum's dataful variant) and its fields, as GDB prints
 * it: Some(42), None, Rect{w: 3, h: 4}.
 */
static void print_rust_enum(struct pctx *c, const struct dw_type *t, const struct src *s,
			    unsigned depth)
{
	uint64_t d = 0;
	size_t i, pick = t->nmembers;
	const struct dw_member *v;
	const struct dw_type *vt;

	if (t->discr_size) {
		uint8_t b[8] = {0};

		if (!src_read(c, s, t->discr_off, b, t->discr_size)) {
			not_collected(c);
			return;
		}
		for (i = t->discr_size; i-- > 0;)
			d = d << 8 | b[i];
	}
	for (i = 0; i < t->nmembers && pick == t->nmembers; i++)
		if (t->discr_size && !t->members[i].dflt && t->members[i].discr == d)
			pick = i;
	for (i = 0; i < t->nmembers && pick == t->nmembers; i++)
		if (t->members[i].dflt || !t->discr_size)
			pick = i;
	if (pick == t->nmembers) {
		rsp_buf__printf(c->o, "<%s: no variant for discriminant %llu>",
				t->name ? t->name : "enum", (unsigned long long)d);
		return;
	}
	v = &t->members[pick];
	vt = dw_type__strip(v->type);
	rsp_buf__puts(c->o, v->name ? v->name : "?");
	if (vt && vt->nmembers) {
		struct src sub = src_sub(s, v->offset);

		print_fields(c, vt, &sub, depth);
	}
}

/* Rust's &str and String: "text". */
static void print_rust_str(struct pctx *c, const struct dw_type *t, const struct src *s)
{
	uint64_t p, n;

	if (!src_word(c, s, t->ptr_off, &p) || !src_word(c, s, t->len_off, &n)) {
		not_collected(c);
		return;
	}
	print_str(c, p, (int64_t)(n > INT64_MAX ? INT64_MAX : n));
}

/* Elements [first, n) of type et at base, each es bytes apart. */
static void print_elems(struct pctx *c, const struct dw_type *et, const struct src *s, uint64_t n,
			unsigned depth)
{
	uint64_t es = dw_type__strip(et) ? dw_type__strip(et)->size : 0, i;

	rsp_buf__putc(c->o, c->go ? '[' : '{');
	for (i = 0; i < n && i < c->elems; i++) {
		struct src sub = src_sub(s, i * es);

		if (i)
			rsp_buf__puts(c->o, ", ");
		print_val(c, et, &sub, depth + 1);
	}
	if (n > c->elems)
		rsp_buf__puts(c->o, ", ...");
	rsp_buf__putc(c->o, c->go ? ']' : '}');
}

static void print_array(struct pctx *c, const struct dw_type *t, const struct src *s,
			unsigned depth)
{
	uint8_t b[MPRINT_STR];
	size_t n;

	if (t->count < 0 || !t->target) {
		rsp_buf__puts(c->o, "<array of unknown length>");
		return;
	}
	if (is_char(t->target, c->go)) {
		n = t->count < MPRINT_STR ? (size_t)t->count : MPRINT_STR;
		if (!src_read(c, s, 0, b, n)) {
			not_collected(c);
			return;
		}
		put_escaped(c->o, b, memchr(b, 0, n) ? strlen((char *)b) : n);
		return;
	}
	if (depth >= c->depth) {
		rsp_buf__puts(c->o, c->go ? "[...]" : "{...}");
		return;
	}
	print_elems(c, t->target, s, (uint64_t)t->count, depth);
}

static bool pointee_readable(struct pctx *c, uint64_t addr)
{
	uint8_t b;

	return mprint__read(c->f, addr, &b, 1);
}

static void print_ptr(struct pctx *c, const struct dw_type *t, const struct src *s, unsigned depth)
{
	const struct dw_type *pt = dw_type__strip(t->target);
	uint64_t p;

	if (!src_word(c, s, 0, &p)) {
		not_collected(c);
		return;
	}
	if (!p) {
		rsp_buf__puts(c->o, c->go ? "nil" : "0x0");
		return;
	}
	if (is_char(t->target, c->go)) {
		print_str(c, p, -1);
		return;
	}
	rsp_buf__printf(c->o, "0x%llx", (unsigned long long)p);
	if (!pt || pt->kind == DWT_VOID || pt->kind == DWT_FUNC || depth >= c->depth ||
	    (t->cut && !pt->size) || !pointee_readable(c, p))
		return;
	rsp_buf__puts(c->o, " -> ");
	{
		struct src sub = src_at(p);

		print_val(c, t->target, &sub, depth + 1);
	}
}

static uint64_t member_off(const struct dw_type *t, const char *name, uint64_t dflt)
{
	const struct dw_member *m = dw_type__member(t, name);

	return m ? m->offset : dflt;
}

static void print_go_string(struct pctx *c, const struct dw_type *t, const struct src *s)
{
	uint64_t p, n;

	if (!src_word(c, s, member_off(t, "str", 0), &p) ||
	    !src_word(c, s, member_off(t, "len", 8), &n)) {
		not_collected(c);
		return;
	}
	if (n && !p) {
		rsp_buf__printf(c->o, "<string of %llu bytes at nil>", (unsigned long long)n);
		return;
	}
	print_str(c, p, (int64_t)(n > INT64_MAX ? INT64_MAX : n));
}

static void print_go_slice(struct pctx *c, const struct dw_type *t, const struct src *s,
			   unsigned depth)
{
	uint64_t p, n, cap;
	char tn[128];

	rsp_buf__printf(c->o, "%s ", dw_type__name(t, tn, sizeof(tn)));
	if (!src_word(c, s, member_off(t, "array", 0), &p) ||
	    !src_word(c, s, member_off(t, "len", 8), &n) ||
	    !src_word(c, s, member_off(t, "cap", 16), &cap)) {
		not_collected(c);
		return;
	}
	rsp_buf__printf(c->o, "len %llu cap %llu ", (unsigned long long)n, (unsigned long long)cap);
	if (!p) {
		rsp_buf__puts(c->o, n ? "<nil array>" : "[]");
		return;
	}
	if (!t->target || depth >= c->depth) {
		rsp_buf__puts(c->o, "[...]");
		return;
	}
	{
		struct src arr = src_at(p);

		print_elems(c, t->target, &arr, n, depth);
	}
}

/* Rust's Vec<T> and &[T], as GDB's Rust printers show them: Vec(size=3) = {1, 2, 3}. */
static void print_rust_vec(struct pctx *c, const struct dw_type *t, const struct src *s,
			   unsigned depth)
{
	uint64_t p, n;

	if (t->name && !strncmp(t->name, "Vec<", 4))
		rsp_buf__puts(c->o, "Vec");
	else if (t->name)
		rsp_buf__puts(c->o, t->name);
	if (!src_word(c, s, t->ptr_off, &p) || !src_word(c, s, t->len_off, &n)) {
		rsp_buf__putc(c->o, ' ');
		not_collected(c);
		return;
	}
	rsp_buf__printf(c->o, "(size=%llu) = ", (unsigned long long)n);
	if (!t->target || depth >= c->depth) {
		rsp_buf__puts(c->o, "{...}");
		return;
	}
	{
		struct src arr = src_at(p);

		print_elems(c, t->target, &arr, n, depth);
	}
}

/* map: len from runtime.hmap.count; chan: len and cap from runtime.hchan. */
static void print_go_ref(struct pctx *c, const struct dw_type *t, const struct src *s)
{
	const struct dw_type *h = t->target ? dw_type__strip(t->target) : NULL;
	uint64_t p, n, cap;
	char tn[128];

	rsp_buf__printf(c->o, "%s ", dw_type__name(t, tn, sizeof(tn)));
	if (!src_word(c, s, 0, &p)) {
		not_collected(c);
		return;
	}
	if (!p) {
		rsp_buf__puts(c->o, "nil");
		return;
	}
	if (t->kind == DWT_GO_MAP) {
		if (!mprint__read(c->f, p + member_off(h, "count", 0), &n, 8))
			rsp_buf__puts(c->o, "<len not collected>");
		else
			rsp_buf__printf(c->o, "len %llu", (unsigned long long)n);
		return;
	}
	if (!mprint__read(c->f, p + member_off(h, "qcount", 0), &n, 8) ||
	    !mprint__read(c->f, p + member_off(h, "dataqsiz", 8), &cap, 8))
		rsp_buf__puts(c->o, "<len not collected>");
	else
		rsp_buf__printf(c->o, "len %llu cap %llu", (unsigned long long)n,
				(unsigned long long)cap);
}

/* Pointer-shaped Go types keep the pointer itself in an interface's data word. */
static bool pointer_shaped(const struct dw_type *t)
{
	return t && (t->kind == DWT_PTR || t->kind == DWT_GO_MAP || t->kind == DWT_GO_CHAN ||
		     t->kind == DWT_FUNC);
}

static void print_go_iface(struct pctx *c, const struct dw_type *t, const struct src *s,
			   unsigned depth)
{
	const struct dw_member *m;
	const struct dw_type *dt = NULL;
	uint64_t w0, data, rtype;
	char name[160] = "";

	if (!src_word(c, s, 0, &w0) || !src_word(c, s, member_off(t, "data", 8), &data)) {
		not_collected(c);
		return;
	}
	if (!w0) {
		rsp_buf__puts(c->o, "nil");
		return;
	}
	rtype = w0;
	if (t->kind == DWT_GO_IFACE) {
		uint64_t off = 8;

		/* iface.tab -> runtime.itab, whose _type is the dynamic type */
		m = dw_type__member(t, "tab");
		if (m && m->type && dw_type__strip(m->type)->kind == DWT_PTR)
			off = member_off(dw_type__strip(dw_type__strip(m->type)->target), "_type",
					 8);
		if (!mprint__read(c->f, w0 + off, &rtype, 8)) {
			rsp_buf__printf(c->o, "<itab at 0x%llx not collected>",
					(unsigned long long)w0);
			return;
		}
	}
	if (c->f->go_type)
		dt = c->f->go_type(c->f->ctx, rtype, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "no type lookup");
	if (!dt) {
		rsp_buf__printf(c->o, "<dynamic type at 0x%llx unknown: %s> data 0x%llx",
				(unsigned long long)rtype, name, (unsigned long long)data);
		return;
	}
	rsp_buf__printf(c->o, "(%s) ", name);
	if (pointer_shaped(dw_type__strip(dt))) {
		struct src v = {.len = 8};

		memcpy(v.buf, &data, 8);
		print_val(c, dt, &v, depth);
	} else {
		struct src v = src_at(data);

		print_val(c, dt, &v, depth);
	}
}

static void print_val(struct pctx *c, const struct dw_type *t, const struct src *s, unsigned depth)
{
	const struct dw_type *st = dw_type__strip(t);
	char tn[128];

	if (!st) {
		rsp_buf__puts(c->o, "<no type>");
		return;
	}
	switch (st->kind) {
	case DWT_BASE:
		print_base(c, st, s);
		break;
	case DWT_ENUM:
		print_enum(c, st, s);
		break;
	case DWT_PTR:
		print_ptr(c, st, s, depth);
		break;
	case DWT_STRUCT:
	case DWT_UNION:
	case DWT_CLASS:
		print_struct(c, st, s, depth);
		break;
	case DWT_ARRAY:
		print_array(c, st, s, depth);
		break;
	case DWT_GO_STRING:
		print_go_string(c, st, s);
		break;
	case DWT_RUST_STR:
		print_rust_str(c, st, s);
		break;
	case DWT_RUST_VEC:
		print_rust_vec(c, st, s, depth);
		break;
	case DWT_RUST_ENUM:
		print_rust_enum(c, st, s, depth);
		break;
	case DWT_GO_SLICE:
		print_go_slice(c, st, s, depth);
		break;
	case DWT_GO_MAP:
	case DWT_GO_CHAN:
		print_go_ref(c, st, s);
		break;
	case DWT_GO_IFACE:
	case DWT_GO_EFACE:
		print_go_iface(c, st, s, depth);
		break;
	case DWT_VOID:
		rsp_buf__puts(c->o, "<void>");
		break;
	default:
		rsp_buf__printf(c->o, "<unknown type %s>", dw_type__name(t, tn, sizeof(tn)));
		break;
	}
}

static void pctx_init(struct pctx *c, struct rsp_buf *out, const struct mprint_frame *f, bool go)
{
	c->o = out;
	c->f = f;
	c->go = go;
	c->depth = MPRINT_DEPTH;
	c->elems = MPRINT_ELEMS;
}

/* The value at loc, or why there is none. */
static void print_loc(struct pctx *c, const struct dw_type *t, const struct dw_loc *loc)
{
	const struct dw_type *st = dw_type__strip(t);
	char why[128] = "";
	struct src s;
	int err = src_of_loc(c->f, loc, st ? st->size : 0, &s, why, sizeof(why));

	if (err == -ENOENT)
		not_collected(c);
	else if (err == -EINVAL)
		rsp_buf__printf(c->o, "<optimized out: %s>", why);
	else if (err)
		rsp_buf__puts(c->o, "<value in registers too large to print>");
	else
		print_val(c, t, &s, 0);
}

int mprint__value(struct rsp_buf *out, const struct dw_type *t, const struct dw_loc *loc,
		  const struct mprint_frame *f, bool go)
{
	struct pctx c;

	pctx_init(&c, out, f, go);
	print_loc(&c, t, loc);
	return out->oom ? -ENOMEM : 0;
}

int mprint__value_at(struct rsp_buf *out, const struct dw_type *t, uint64_t addr,
		     const struct mprint_frame *f, bool go)
{
	struct pctx c;
	struct src s = src_at(addr);

	pctx_init(&c, out, f, go);
	print_val(&c, t, &s, 0);
	return out->oom ? -ENOMEM : 0;
}

int mprint__args_summary(struct rsp_buf *out, const struct dw_scope *sc,
			 const struct mprint_frame *f, size_t max)
{
	struct rsp_buf v;
	struct pctx c;
	size_t i, start = out->len, shown = 0;

	rsp_buf__init(&v);
	for (i = 0; i < sc->nvars; i++) {
		const struct dw_var *d = &sc->vars[i];

		if (!d->param)
			continue;
		if (out->len - start >= max) {
			rsp_buf__puts(out, ", ...");
			break;
		}
		rsp_buf__reset(&v);
		pctx_init(&c, &v, f, sc->go);
		c.depth = 1;
		c.elems = 3;
		print_loc(&c, d->type, &d->loc);
		if (v.len > 40) {
			v.len = 37;
			v.data[v.len] = '\0';
			rsp_buf__puts(&v, "...");
		}
		rsp_buf__printf(out, "%s%s=%s", shown++ ? ", " : "", d->name, v.data ? v.data : "");
	}
	rsp_buf__free(&v);
	return out->oom || v.oom ? -ENOMEM : 0;
}

/* ---- expressions -------------------------------------------------------- */

struct place {
	const struct dw_type *t;
	struct src s;
};

static int eval(const struct mx_expr *e, int i, const struct dw_scope *sc,
		const struct mprint_frame *f, struct place *p, char *msg, size_t mlen);

/* Through a pointer: the place it points to. */
static int deref(const struct mprint_frame *f, struct place *p, const char *what, char *msg,
		 size_t mlen)
{
	struct pctx c = {.f = f};
	const struct dw_type *st = dw_type__strip(p->t);
	uint64_t a;

	if (!st || st->kind != DWT_PTR || !st->target) {
		rsp_buf__msgf(msg, mlen, "%s is not a pointer", what);
		return -EINVAL;
	}
	if (!src_word(&c, &p->s, 0, &a)) {
		rsp_buf__msgf(msg, mlen, "%s: <not collected>", what);
		return -ENOENT;
	}
	if (!a) {
		rsp_buf__msgf(msg, mlen, "%s is a null pointer", what);
		return -EINVAL;
	}
	p->t = st->target;
	p->s = src_at(a);
	return 0;
}

static int eval_member(const struct mx_node *n, const struct mx_expr *e, const struct dw_scope *sc,
		       const struct mprint_frame *f, struct place *p, char *msg, size_t mlen)
{
	const struct dw_type *st;
	const struct dw_member *m;
	int err = eval(e, n->a, sc, f, p, msg, mlen);

	if (err)
		return err;
	st = dw_type__strip(p->t);
	if (st && st->kind == DWT_PTR && (n->arrow || sc->go)) {
		err = deref(f, p, "the left of the member", msg, mlen);
		if (err)
			return err;
		st = dw_type__strip(p->t);
	} else if (n->arrow) {
		rsp_buf__msgf(msg, mlen, "'->%s' on something that is not a pointer", n->name);
		return -EINVAL;
	}
	m = st ? dw_type__member(st, n->name) : NULL;
	if (!m) {
		char tn[96];

		rsp_buf__msgf(msg, mlen, "%s has no member '%s'",
			      dw_type__name(p->t, tn, sizeof(tn)), n->name);
		return -ENOENT;
	}
	p->s = src_sub(&p->s, m->offset);
	p->t = m->type;
	return 0;
}

static int eval_index(const struct mx_node *n, const struct mx_expr *e, const struct dw_scope *sc,
		      const struct mprint_frame *f, struct place *p, char *msg, size_t mlen)
{
	struct pctx c = {.f = f};
	const struct dw_type *st, *et;
	uint64_t base, len = UINT64_MAX, es;
	int err = eval(e, n->a, sc, f, p, msg, mlen);

	if (err)
		return err;
	st = dw_type__strip(p->t);
	if (!st || !st->target) {
		rsp_buf__msgf(msg, mlen,
			      "[%lld] on something that is not an array, pointer or slice",
			      (long long)n->ival);
		return -EINVAL;
	}
	et = st->target;
	es = dw_type__strip(et) ? dw_type__strip(et)->size : 0;
	if (st->kind == DWT_ARRAY) {
		if (st->count >= 0)
			len = (uint64_t)st->count;
		if (n->ival < 0 || (uint64_t)n->ival >= len) {
			rsp_buf__msgf(msg, mlen, "index %lld out of range", (long long)n->ival);
			return -ERANGE;
		}
		p->s = src_sub(&p->s, (uint64_t)n->ival * es);
		p->t = et;
		return 0;
	}
	if (st->kind == DWT_GO_SLICE) {
		if (!src_word(&c, &p->s, member_off(st, "array", 0), &base) ||
		    !src_word(&c, &p->s, member_off(st, "len", 8), &len)) {
			rsp_buf__msgf(msg, mlen, "the slice header: <not collected>");
			return -ENOENT;
		}
	} else if (st->kind == DWT_PTR) {
		if (!src_word(&c, &p->s, 0, &base)) {
			rsp_buf__msgf(msg, mlen, "the pointer: <not collected>");
			return -ENOENT;
		}
	} else {
		rsp_buf__msgf(msg, mlen,
			      "[%lld] on something that is not an array, pointer or slice",
			      (long long)n->ival);
		return -EINVAL;
	}
	if (n->ival < 0 || (uint64_t)n->ival >= len) {
		rsp_buf__msgf(msg, mlen, "index %lld out of range (len %llu)", (long long)n->ival,
			      (unsigned long long)len);
		return -ERANGE;
	}
	p->s = src_at(base + (uint64_t)n->ival * es);
	p->t = et;
	return 0;
}

static int eval(const struct mx_expr *e, int i, const struct dw_scope *sc,
		const struct mprint_frame *f, struct place *p, char *msg, size_t mlen)
{
	const struct mx_node *n;
	char why[128] = "";
	size_t k;
	int err;

	if (i < 0 || i >= e->nn) {
		rsp_buf__msgf(msg, mlen, "malformed expression");
		return -EINVAL;
	}
	n = &e->n[i];
	switch (n->kind) {
	case MX_NAME:
		for (k = 0; k < sc->nvars; k++)
			if (!strcmp(sc->vars[k].name, n->name))
				break;
		if (k == sc->nvars) {
			rsp_buf__msgf(msg, mlen, "'%s' is not in scope in %s", n->name, sc->func);
			return -ENOENT;
		}
		p->t = sc->vars[k].type;
		err = src_of_loc(f, &sc->vars[k].loc,
				 dw_type__strip(p->t) ? dw_type__strip(p->t)->size : 0, &p->s, why,
				 sizeof(why));
		if (err == -ENOENT)
			rsp_buf__msgf(msg, mlen, "<not collected>");
		else if (err == -EINVAL)
			rsp_buf__msgf(msg, mlen, "<optimized out: %s>", why);
		else if (err)
			rsp_buf__msgf(msg, mlen, "<value in registers too large to print>");
		return err;
	case MX_DEREF:
		err = eval(e, n->a, sc, f, p, msg, mlen);
		return err ? err : deref(f, p, "the operand of '*'", msg, mlen);
	case MX_MEMBER:
		return eval_member(n, e, sc, f, p, msg, mlen);
	case MX_INDEX:
		return eval_index(n, e, sc, f, p, msg, mlen);
	default:
		rsp_buf__msgf(msg, mlen, "not a value");
		return -EINVAL;
	}
}

static void print_reg(struct rsp_buf *out, const struct mprint_frame *f, unsigned r)
{
	uint64_t v;

	if (mprint__reg(f, (int)r, &v))
		rsp_buf__printf(out, "$%s = 0x%llx\n", regs_desc(r)->name, (unsigned long long)v);
	else
		rsp_buf__printf(out, "$%s = <not collected>\n", regs_desc(r)->name);
}

int mprint__expr(struct rsp_buf *out, const struct mx_expr *e, const char *src,
		 const struct dw_scope *sc, const struct mprint_frame *f)
{
	const struct mx_node *n = e->root >= 0 && e->root < e->nn ? &e->n[e->root] : NULL;
	struct pctx c;
	struct place p;
	char msg[200] = "";
	size_t k;
	unsigned r;

	if (!n)
		return rsp_buf__puts(out, "<malformed expression>\n");
	switch (n->kind) {
	case MX_ARGS:
		for (k = 0; k < sc->nvars; k++) {
			if (!sc->vars[k].param)
				continue;
			rsp_buf__printf(out, "%s = ", sc->vars[k].name);
			mprint__value(out, sc->vars[k].type, &sc->vars[k].loc, f, sc->go);
			rsp_buf__putc(out, '\n');
		}
		break;
	case MX_REGS:
		for (r = 0; r <= AMD64_EFLAGS; r++)
			print_reg(out, f, r);
		break;
	case MX_REG:
		for (r = 0; r <= AMD64_EFLAGS; r++)
			if (!strcmp(regs_desc(r)->name, n->name))
				break;
		if (r > AMD64_EFLAGS)
			rsp_buf__printf(out, "$%s = <not a register BPF collects>\n", n->name);
		else
			print_reg(out, f, r);
		break;
	default:
		rsp_buf__printf(out, "%.*s = ", (int)n->len, src + n->at);
		memset(&p, 0, sizeof(p));
		if (eval(e, e->root, sc, f, &p, msg, sizeof(msg))) {
			rsp_buf__printf(out, "%s\n", msg);
			break;
		}
		pctx_init(&c, out, f, sc->go);
		print_val(&c, p.t, &p.s, 0);
		rsp_buf__putc(out, '\n');
		break;
	}
	return out->oom ? -ENOMEM : 0;
}
